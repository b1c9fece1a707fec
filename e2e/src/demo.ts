// `npm run demo`: a 3-host lab (prefix "tsw", so it never collides with the e2e tests' labs),
// a swarm formed with the CLI (init on h1, h2 joins as a manager, h3 as a worker), a
// 3-replica service spread over the hosts, and what a user would look at. The lab stays up.
// Overlay networks exist as objects so far; service names and the routing mesh extend this
// scenario when the data plane lands.
import { Lab } from './lab.js';
import { tswarmOk } from './swarm.js';

const HOSTS = 3;
const PREFIX = 'tsw';

function banner(text: string): void {
  console.log(`\n=== ${text}`);
}

async function show(lab: Lab, host: string, ...args: string[]): Promise<string> {
  banner(`${host}$ tswarm ${args.join(' ')}`);
  const out = await tswarmOk(lab, host, ...args);
  process.stdout.write(out);
  return out;
}

async function main(): Promise<void> {
  banner(`bringing up ${HOSTS} lab hosts (network namespaces ${PREFIX}-h1..${PREFIX}-h${HOSTS}, one tswarmd each)`);
  const t0 = Date.now();
  const lab = await Lab.up(HOSTS, { prefix: PREFIX });
  console.log(`up in ${((Date.now() - t0) / 1000).toFixed(1)} s, underlay ${lab.state.subnet}`);
  for (const s of lab.status()) console.log(`  ${s.name}  ${s.address}  tswarmd pid ${s.pid}`);

  await show(lab, 'h1', 'swarm', 'init');
  const addr = `${lab.host('h1').address}:2377`;
  const managerToken = (await tswarmOk(lab, 'h1', 'swarm', 'join-token', '-q', 'manager')).trim();
  const workerToken = (await tswarmOk(lab, 'h1', 'swarm', 'join-token', '-q', 'worker')).trim();
  await show(lab, 'h2', 'swarm', 'join', '--token', managerToken, addr);
  await show(lab, 'h3', 'swarm', 'join', '--token', workerToken, addr);
  await show(lab, 'h1', 'node', 'ls');
  await show(lab, 'h1', 'network', 'create', '-d', 'overlay', 'app');
  await show(lab, 'h1', 'network', 'ls');
  await show(lab, 'h1', 'service', 'create', '--name', 'web', '--replicas', '3', 'tswarm/busybox', 'httpd', '-f', '-p', '80');
  await show(lab, 'h2', 'service', 'ls');
  await show(lab, 'h2', 'service', 'ps', 'web');
  await show(lab, 'h3', 'info');

  banner('the cluster stays up; explore it with');
  console.log('  npm run lab -- status');
  console.log('  npm run lab -- exec h1 -- tswarm service scale web=6');
  console.log('  npm run lab -- exec h2 -- tswarm node update --availability drain h3');
  console.log('  npm run lab -- exec h1 -- tswarm service ps web');
  console.log('take it down with');
  console.log('  npm run lab -- down');
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    console.error(`demo: ${e.message}`);
    process.exit(1);
  },
);
