// `npm run demo`: the seed scenario on a 3-host lab (prefix "tsw", so it never collides
// with the e2e tests' labs): a swarm formed with the CLI (init on h1, h2 joins as a
// manager, h3 as a worker), an overlay network "app", a "db" service and a 3-replica "web"
// service on it publishing port 8080, then what a user would look at — service ls, network
// inspect, a cross-host name lookup from a web container, and an HTTP request through the
// published port on every host. The lab stays up for the user to explore.
import { Lab } from './lab.js';
import { containersOn, dockerExec, httpGetFromHost, nodeIds, WHOAMI_ARGS } from './overlay.js';
import { runningTasks, tswarmOk, until } from './swarm.js';

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
  // "db": a stand-in database that answers on 5432 with its name.
  await show(lab, 'h1', 'service', 'create', '--name', 'db', '--network', 'app', 'tswarm/busybox',
    'sh', '-c', 'mkdir -p /www && echo db > /www/index.html && exec httpd -f -p 5432 -h /www');
  // "web": three replicas that answer with their own container ID, published on 8080.
  await show(lab, 'h1', 'service', 'create', '--name', 'web', '--network', 'app', '--replicas', '3', '--publish', '8080:80',
    'tswarm/busybox', ...WHOAMI_ARGS);
  await until('web running', 30_000, async () => ((await runningTasks(lab, 'h1', 'web')).length === 3 ? true : undefined));
  await show(lab, 'h2', 'service', 'ls');
  await show(lab, 'h2', 'service', 'ps', 'web');
  await show(lab, 'h1', 'network', 'inspect', 'app');

  const ids = await nodeIds(lab);
  const hosts = ['h1', 'h2', 'h3'];
  const dbHost = (await Promise.all(hosts.map(async (h) => ((await containersOn(lab, 'db', ids.get(h)!)).length ? h : '')))).find(Boolean);
  const webHost = hosts.find((h) => h !== dbHost)!;
  const [web] = await containersOn(lab, 'web', ids.get(webHost)!);
  banner(`a web container on ${webHost} finds db (running on ${dbHost}) by name`);
  const lookup = await dockerExec(web!, ['nslookup', 'db']);
  process.stdout.write(lookup.stdout);
  const dbAnswer = await dockerExec(web!, ['timeout', '3', 'wget', '-q', '-O-', 'http://db:5432/']);
  console.log(`wget http://db:5432/ → ${dbAnswer.stdout.trim() || dbAnswer.stderr.trim()}`);

  banner('the published port answers on every host (the routing mesh); each reply names the replica');
  for (const h of ['h1', 'h2', 'h3']) {
    const url = `http://${lab.host(h).address}:8080/`;
    const r = await httpGetFromHost(lab, 'h1', url);
    console.log(`  wget ${url} → ${r.code === 0 ? r.stdout.trim() : `failed: ${r.stderr.trim()}`}`);
  }
  await show(lab, 'h3', 'info');

  banner('the cluster stays up; explore it with');
  console.log('  npm run lab -- status');
  console.log('  npm run lab -- exec h1 -- tswarm service scale web=6');
  console.log(`  npm run lab -- exec h1 -- busybox wget -q -O- http://${lab.host('h2').address}:8080/`);
  console.log(`  docker exec -it $(docker ps -q --filter label=com.tswarm.service.name=web | head -1) sh   # then: nslookup tasks.web`);
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
