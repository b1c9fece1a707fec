// Measures the resolver with dnsperf (Debian package `dnsperf`), loopback only:
//   node packages/dns/dist/test/dnsperf.js [extra dnsperf flags, default: -l 5 -Q 100000]
// Starts a resolver on 127.0.0.1 at a free port with no upstreams (nothing leaves the host),
// declares 127.0.0.1 as a client on both fixture networks, and runs
//   dnsperf -s 127.0.0.1 -p PORT -d FILE <flags>
// over a query file of swarm names (VIP, tasks., dnsrr, alias, task name, AAAA NODATA, NXDOMAIN).
// Not a test (no speed is asserted); the bench/ owner can wrap it.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@tswarm/api';
import { ServiceResolver } from '../src/index.js';
import { BACK, clusterView, FRONT } from './fixtures.js';

export const QUERY_FILE_LINES = [
  'web A', 'tasks.web A', 'db A', 'database A', 'api A', 'www A', 'web.1.aaa A', 'web AAAA', 'nosuch A', 'TASKS.DB A',
];

export interface DnsperfResult {
  queriesPerSecond: number;
  output: string;
}

/** Runs dnsperf against a fresh resolver; `flags` are passed through after -s/-p/-d. */
export async function measureWithDnsperf(flags: readonly string[] = ['-l', '5', '-Q', '100000']): Promise<DnsperfResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tswarm-dnsperf-'));
  const file = join(dir, 'queries.txt');
  writeFileSync(file, QUERY_FILE_LINES.join('\n') + '\n');
  const resolver = await ServiceResolver.start({ host: '127.0.0.1', port: 0, upstreams: [], logger: silentLogger });
  resolver.setView(clusterView());
  resolver.setClients(new Map([['127.0.0.1', [FRONT, BACK]]]));
  try {
    const args = ['-s', '127.0.0.1', '-p', String(resolver.address.port), '-d', file, ...flags];
    // spawn, not spawnSync: the resolver answers on this process's event loop meanwhile.
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn('dnsperf', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
      child.stderr.on('data', (b: Buffer) => { out += b.toString(); });
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`dnsperf exited ${code}:\n${out}`))));
    });
    const m = /Queries per second:\s+([\d.]+)/.exec(output);
    return { queriesPerSecond: m ? Number(m[1]) : NaN, output: `dnsperf ${args.join(' ')}\n${output}\nresolver stats: ${JSON.stringify(resolver.stats())}` };
  } finally {
    await resolver.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const flags = process.argv.slice(2);
  measureWithDnsperf(flags.length ? flags : undefined).then(
    (r) => console.log(r.output),
    (err: Error) => { console.error(err.message); process.exit(1); },
  );
}
