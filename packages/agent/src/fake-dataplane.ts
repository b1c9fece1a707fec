// An in-memory Dataplane for tests (STYLE.md point 2): records what the agent asked, in
// order, and can be told to refuse an attach.
import type { EndpointReceive, NetworkView, Task } from '@tswarm/api';
import type { Dataplane } from './dataplane.js';

export class FakeDataplane implements Dataplane {
  readonly containerDns = ['172.20.0.1'];
  /** Every call as "attach <task> <pid>", "detach <task>", "view", "sweep <ids>", "close". */
  readonly calls: string[] = [];
  readonly views: NetworkView[] = [];
  /** Tasks currently attached → the pid they were attached with. */
  readonly attached = new Map<string, number>();
  /** attach() of these task IDs rejects with this message. */
  readonly refuse = new Map<string, string>();
  /** What attach() of these task IDs resolves with (default: nothing received directly). */
  readonly receive = new Map<string, EndpointReceive[]>();

  setView(view: NetworkView): void {
    this.calls.push('view');
    this.views.push(view);
  }

  async attach(task: Task, pid: number): Promise<EndpointReceive[]> {
    this.calls.push(`attach ${task.id} ${pid}`);
    const why = this.refuse.get(task.id);
    if (why) throw new Error(why);
    this.attached.set(task.id, pid);
    return this.receive.get(task.id) ?? [];
  }

  async detach(taskId: string): Promise<void> {
    this.calls.push(`detach ${taskId}`);
    this.attached.delete(taskId);
  }

  async sweep(keep: ReadonlySet<string>): Promise<void> {
    this.calls.push(`sweep ${[...keep].sort().join(',')}`);
  }

  async close(opts: { teardown: boolean }): Promise<void> {
    this.calls.push(`close${opts.teardown ? ' teardown' : ''}`);
  }
}
