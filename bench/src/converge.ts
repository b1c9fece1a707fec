// `npm run bench -- converge`: how fast a 3-host cluster converges on a service, tswarm against
// Docker Swarm measured in the same run. tswarm runs twice: with its three hosts sharing the
// machine's one Docker Engine (as the e2e lab does), and with one engine per host like Swarm's
// nodes (the like-for-like comparison: the key ratio on the last line). Each step is timed from spawning the user's CLI command
// until the cluster's API shows the end state:
//   create N   `service create -d --replicas N`  → N tasks Running (desired Running)
//   scale 90→0 `service scale -d web=0`          → no container of the service left on any engine
//   rm         `service rm web`                  → the service is no longer listed
import { ConvergeSide, SwarmSide, TswarmSide, SERVICE_NAME } from './converge-sides.js';
import { sleep, until } from './exec.js';

const REPLICA_ROWS = [3, 30, 90];
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
/** Every wait is bounded so the benchmark always stops by itself. */
const STEP_TIMEOUT_MS = 120_000;
/** Both sides are polled at this period, tswarm through gRPC, Swarm through the Engine API. */
const POLL_MS = 100;
/** Quiet time between steps, so one step's tail (task reaping, log flushes) is not billed to the next. */
const SETTLE_MS = 1000;
/** After SIGINT/SIGTERM the process exits at the latest this long after clean-up began. */
const CLEANUP_BOUND_MS = 90_000;

/** Lab prefixes and subnets of their own, so the benchmark never meets a developer's lab. */
const TSWARM_LAB = { prefix: 'tswb', subnet: '192.168.232.0/24' };
const SWARM_LAB = { prefix: 'tswbs', subnet: '192.168.233.0/24' };
const TSWARM_EPH_LAB = { prefix: 'tswbe', subnet: '192.168.234.0/24' };

/** Swarm's figures from shared/MACHINE-NOTES.md, printed only when the peer cannot run here. */
const SWARM_RECORDED: Record<string, number> = { 'create N=3': 1.8, 'create N=30': 5.3, 'create N=90': 17.3, 'scale 90→0': 13.0 };

type Row = string;

const ROWS: Row[] = [...REPLICA_ROWS.map((n) => `create N=${n}`), `scale ${REPLICA_ROWS.at(-1)}→0`, 'rm'];

/** Seconds from spawning the CLI until `settled` resolves, and how much of it the CLI itself took. */
interface Timing {
  total: number;
  cli: number;
}

async function timed(command: () => Promise<void>, settled: () => Promise<void>): Promise<Timing> {
  const t0 = performance.now();
  await command();
  const cli = (performance.now() - t0) / 1000;
  await settled();
  return { total: (performance.now() - t0) / 1000, cli };
}

/** `service create` and wait for N Running tasks. */
async function createStep(side: ConvergeSide, n: number): Promise<Timing & { id: string }> {
  let id = '';
  const t = await timed(
    async () => {
      id = await side.create(n);
    },
    () =>
      until(`${side.name}: ${n} tasks Running`, async () => {
        const r = await side.running(id);
        return r === n || `${r} Running`;
      }, STEP_TIMEOUT_MS, POLL_MS),
  );
  return { ...t, id };
}

function scaleToZeroStep(side: ConvergeSide, id: string): Promise<Timing> {
  return timed(
    () => side.scale(0),
    () =>
      until(`${side.name}: every container of the service removed`, async () => {
        const c = await side.containers(id);
        return c === 0 || `${c} containers left`;
      }, STEP_TIMEOUT_MS, POLL_MS),
  );
}

function removeStep(side: ConvergeSide, id: string): Promise<Timing> {
  return timed(
    () => side.remove(),
    () => until(`${side.name}: service removed`, async () => !(await side.listed(id)), STEP_TIMEOUT_MS, POLL_MS),
  );
}

/** Untimed: removes the service and waits until neither it nor any of its containers is left. */
async function clear(side: ConvergeSide, id: string): Promise<void> {
  await side.remove();
  await until(`${side.name}: service and its containers gone`, async () => {
    const [listed, c] = await Promise.all([side.listed(id), side.containers(id)]);
    return (!listed && c === 0) || `listed=${listed}, ${c} containers`;
  }, STEP_TIMEOUT_MS, POLL_MS);
}

/** Per row, the step times of every round so far, and the CLI's own share of each. */
interface Samples {
  total: Map<Row, number[]>;
  cli: Map<Row, number[]>;
  /** Running tasks per node at the largest N, last round. */
  placement: number[];
}

const newSamples = (): Samples => ({ total: new Map(), cli: new Map(), placement: [] });

/** One round: every row once, on one side. */
async function round(side: ConvergeSide, samples: Samples): Promise<void> {
  const add = (row: Row, t: Timing) => {
    samples.total.set(row, [...(samples.total.get(row) ?? []), t.total]);
    samples.cli.set(row, [...(samples.cli.get(row) ?? []), t.cli]);
  };
  const last = REPLICA_ROWS.at(-1)!;
  for (const n of REPLICA_ROWS) {
    const created = await createStep(side, n);
    add(`create N=${n}`, created);
    await sleep(SETTLE_MS);
    if (n !== last) {
      await clear(side, created.id);
      await sleep(SETTLE_MS);
      continue;
    }
    samples.placement = await side.placement(created.id);
    add(`scale ${last}→0`, await scaleToZeroStep(side, created.id));
    await sleep(SETTLE_MS);
    add('rm', await removeStep(side, created.id));
    await sleep(SETTLE_MS);
  }
}

function median(xs: number[] | undefined): number {
  if (!xs || xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const f2 = (n: number) => (Number.isNaN(n) ? '-' : n.toFixed(2));

const NOT_MEASURED = NaN;

export async function convergeBench(): Promise<void> {
  const shared = new TswarmSide(TSWARM_LAB.prefix, TSWARM_LAB.subnet, 'shared');
  const perHost = new TswarmSide(TSWARM_EPH_LAB.prefix, TSWARM_EPH_LAB.subnet, 'per-host');
  const swarm = new SwarmSide(SWARM_LAB.prefix, SWARM_LAB.subnet);
  let cleaning: Promise<void> | undefined;
  const cleanUp = () =>
    (cleaning ??= Promise.allSettled([shared.down(), perHost.down(), swarm.down()]).then((rs) => {
      for (const r of rs) if (r.status === 'rejected') console.error(`converge: clean-up: ${(r.reason as Error).message}`);
    }));
  let signalled = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (signalled) return; // clean-up is already under way; a second Ctrl-C must not cut it short
    signalled = true;
    console.error(`\nconverge: ${sig}, removing all three clusters…`);
    // A clean-up that hangs must not keep the process alive forever.
    setTimeout(() => process.exit(130), CLEANUP_BOUND_MS).unref();
    void cleanUp().then(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  console.log(`converge benchmark: ${ROUNDS} round(s), medians; each side is a 3-host lab of network namespaces on its own bridge.`);
  for (const l of [...shared.setup, ...perHost.setup, ...swarm.setup]) console.log(l);
  console.log(`all:   service "${SERVICE_NAME}" of \`sleep 3600\` with --stop-signal KILL (sleep ignores SIGTERM; without KILL every stop`);
  console.log('       waits the 10 s grace period), no networks (Docker\'s default bridge, so Swarm\'s 2 s overlay stop delay does not apply).');
  console.log(`clock: from spawning the CLI (create -d / scale -d / rm, from the root namespace) until the API shows the end state,`);
  console.log(`       polled every ${POLL_MS} ms: tswarm ListTasks/ListServices over gRPC, Swarm /tasks, /services; containers on each engine.`);
  console.log('       rounds run Swarm, tswarm shared-engine, tswarm engine-per-host in turn on the same 2 cores (other work adds noise).');
  console.log(`round lines: ${ROWS.join(' / ')} in s, and Running tasks per node at N=${REPLICA_ROWS.at(-1)}.\n`);

  const ours = newSamples();
  const oursEph = newSamples();
  const theirs = newSamples();
  let swarmError = '';
  let ephError = '';
  try {
    await shared.up();
    try {
      await perHost.up();
    } catch (e) {
      ephError = (e as Error).message;
      console.log(`tswarm engine-per-host could not run here: ${ephError}`);
      await perHost.down().catch(() => undefined);
    }
    try {
      await swarm.up();
    } catch (e) {
      swarmError = (e as Error).message;
      console.log(`Docker Swarm could not run here: ${swarmError}`);
    }
    for (let r = 1; r <= ROUNDS; r++) {
      if (!swarmError) await round(swarm, theirs);
      await round(shared, ours);
      if (!ephError) await round(perHost, oursEph);
      const line = (m: Samples) => `${ROWS.map((row) => f2(m.total.get(row)?.at(-1) ?? NaN)).join(' / ')} s (per node ${m.placement.join('/')})`;
      console.log(`round ${r}: tswarm shared-engine ${line(ours)}`);
      if (!ephError) console.log(`         tswarm engine-per-host ${line(oursEph)}`);
      if (!swarmError) console.log(`         Swarm ${line(theirs)}`);
    }
    const swarmFigure = (row: Row) => (swarmError ? SWARM_RECORDED[row] ?? NaN : median(theirs.total.get(row)));
    const ephFigure = (row: Row) => (ephError ? NOT_MEASURED : median(oursEph.total.get(row)));
    const heads = ['tswarm shared-engine s', 'tswarm engine-per-host s', swarmError ? 'Swarm s (recorded, not measured in this run)' : 'Swarm s'];
    console.log(`\n${'step'.padEnd(12)} | ${heads.join(' | ')} | ratio (engine-per-host / Swarm)`);
    for (const row of ROWS) {
      const cells = [median(ours.total.get(row)), ephFigure(row), swarmFigure(row)];
      console.log(`${row.padEnd(12)} | ${cells.map((c, i) => f2(c).padStart(heads[i]!.length)).join(' | ')} | ${f2(cells[1]! / cells[2]!)}`);
    }
    const cliLine = (m: Samples) => ROWS.map((row) => f2(median(m.cli.get(row)))).join(' / ');
    console.log(`of which the CLI command itself (spawn → exit): tswarm shared-engine ${cliLine(ours)} s` +
      `${ephError ? '' : `, tswarm engine-per-host ${cliLine(oursEph)} s`}${swarmError ? '' : `, Swarm ${cliLine(theirs)} s`}`);
    console.log('  (tswarm\'s CLI is a Node program, docker\'s a Go binary: start-up is most of the rm row)');
    console.log(shared.memory());
    if (!ephError) console.log(perHost.memory());
    if (!swarmError) console.log(swarm.memory());
    else console.log('Swarm peak RSS (recorded, not measured in this run): dockerd 102–130 MiB + containerd 45 MiB per host at 30 tasks');
    const last = REPLICA_ROWS.at(-1)!;
    const key = `create N=${last}`;
    const against = swarmError ? ', against recorded Swarm figure' : '';
    console.log(`converge N=${last} ratio tswarm/Swarm (tswarm on one shared engine, Swarm one engine per host${against}): ${f2(median(ours.total.get(key)) / swarmFigure(key))}`);
    console.log(`converge N=${last} ratio tswarm/Swarm (one engine per host each${against}): ${f2(ephFigure(key) / swarmFigure(key))}`);
  } finally {
    await cleanUp();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
