// When Docker started a service's containers, from `docker events`: the overlay benchmark splits a
// scale-up's programming latency into Docker's part (create and start) and tswarm's (plumbing,
// the task's RUNNING, every host's rules). The lab's nodes share the host's engine.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export class ContainerStarts {
  /** performance.now() of each start, in order. */
  private readonly starts: number[] = [];

  private constructor(private readonly child: ChildProcess) {
    // Docker's nanosecond wall-clock time, moved onto performance.now()'s clock.
    createInterface({ input: child.stdout! }).on('line', (line) => this.starts.push(Number(line) / 1e6 - performance.timeOrigin));
  }

  /** Follows the starts of containers with these labels (`key=value`). */
  static open(labels: readonly string[]): ContainerStarts {
    const filters = ['type=container', 'event=start', ...labels.map((l) => `label=${l}`)].flatMap((f) => ['--filter', f]);
    return new ContainerStarts(spawn('docker', ['events', ...filters, '--format', '{{.TimeNano}}'], { stdio: ['ignore', 'pipe', 'ignore'] }));
  }

  /** The first start at or after `t` (performance.now()), if one was seen. */
  firstAfter(t: number): number | undefined {
    return this.starts.find((s) => s >= t);
  }

  close(): void {
    this.child.kill();
  }
}
