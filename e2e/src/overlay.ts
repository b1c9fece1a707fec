// Helpers for driving containers on the overlay from the outside: which container of a
// service runs on which lab host, `docker exec` into it, and counting who answers HTTP.
import { Lab } from './lab.js';
import { run, type RunResult } from './proc.js';
import { jsonLines, labContainers, tswarmOk } from './swarm.js';

/** host name (h1…) → node ID, from `node ls` on a manager. */
export async function nodeIds(lab: Lab, manager = 'h1'): Promise<Map<string, string>> {
  const rows = jsonLines(await tswarmOk(lab, manager, 'node', 'ls', '--format', 'json'));
  return new Map(rows.map((r) => [r['Hostname']!, r['ID']!]));
}

/** The running containers of `service` on the host whose node ID is given. */
export async function containersOn(lab: Lab, service: string, nodeId: string): Promise<string[]> {
  return labContainers(lab, `label=com.tswarm.service.name=${service}`, `label=com.tswarm.node.id=${nodeId}`);
}

/** `docker exec CONTAINER ARGV…` with a time limit; the result whatever the exit code. */
export function dockerExec(container: string, argv: string[], timeoutMs = 10_000): Promise<RunResult> {
  return run(['docker', 'exec', container, ...argv], { timeoutMs });
}

/** The IPv4 addresses in a busybox `nslookup` answer (skipping the server's own lines). */
export function lookupAddresses(out: string): string[] {
  const body = out.split(/\n\s*\n/).slice(1).join('\n'); // the first block names the server
  return [...body.matchAll(/Address(?: \d+)?:\s+(\d+\.\d+\.\d+\.\d+)/g)].map((m) => m[1]!).sort();
}

/** Resolves `name` from inside a container; [] when the name does not resolve. */
export async function resolveIn(container: string, name: string): Promise<string[]> {
  const r = await dockerExec(container, ['nslookup', name]);
  return r.code === 0 ? lookupAddresses(r.stdout) : [];
}

/** `wget -q -O-` from inside a container (busybox wget's own -T is broken here: use timeout). */
export async function httpGetIn(container: string, url: string, timeoutS = 3): Promise<RunResult> {
  return dockerExec(container, ['timeout', String(timeoutS), 'wget', '-q', '-O-', url], (timeoutS + 5) * 1000);
}

/** `wget -q -O-` from a lab host's namespace, with the host's busybox. */
export async function httpGetFromHost(lab: Lab, host: string, url: string, timeoutS = 3): Promise<RunResult> {
  return lab.exec(host, ['timeout', String(timeoutS), 'busybox', 'wget', '-q', '-O-', url]);
}

/** Who answered `count` sequential requests (each response body, trimmed), from inside a container. */
export async function responders(container: string, url: string, count: number): Promise<Map<string, number>> {
  const script = `i=0; while [ $i -lt ${count} ]; do timeout 3 wget -q -O- ${url}; echo; i=$((i+1)); done`;
  const r = await dockerExec(container, ['sh', '-c', script], count * 4000 + 5000);
  const seen = new Map<string, number>();
  for (const line of r.stdout.split('\n').map((l) => l.trim()).filter(Boolean)) seen.set(line, (seen.get(line) ?? 0) + 1);
  return seen;
}

/**
 * A web server replica that answers with its own hostname (the container ID), so a client
 * can count distinct responders, and at /cgi-bin/ip with the address the connection came
 * from (busybox httpd's CGI REMOTE_ADDR), so a test can see whether the client's source
 * address survived load balancing. Busybox httpd serves /www.
 */
export const WHOAMI_ARGS = [
  'sh', '-c',
  'mkdir -p /www/cgi-bin && hostname > /www/index.html'
  + ' && printf \'#!/bin/sh\\nprintf "Content-Type: text/plain\\\\r\\\\n\\\\r\\\\n%%s\\\\n" "$REMOTE_ADDR"\\n\' > /www/cgi-bin/ip'
  + ' && chmod +x /www/cgi-bin/ip && exec httpd -f -p 80 -h /www',
];

/** Network namespaces (by name) whose name starts with `prefix`. */
export async function netnsWithPrefix(prefix: string): Promise<string[]> {
  const r = await run(['ip', 'netns', 'list']);
  return r.stdout.split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(prefix));
}
