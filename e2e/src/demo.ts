// `npm run demo`, stage 1: a 3-host lab (prefix "tsw", so it never collides with the e2e tests'
// "tswt" lab), `tswarm info` on every host, then directions. The lab stays up for exploring.
// Later stages (init/join, services, overlay traffic) will extend this script.
import { Lab } from './lab.js';

const HOSTS = 3;
const PREFIX = 'tsw';

function banner(text: string): void {
  console.log(`\n=== ${text}`);
}

async function main(): Promise<void> {
  banner(`bringing up ${HOSTS} lab hosts (network namespaces ${PREFIX}-h1..${PREFIX}-h${HOSTS}, one tswarmd each)`);
  const t0 = Date.now();
  const lab = await Lab.up(HOSTS, { prefix: PREFIX });
  console.log(`up in ${((Date.now() - t0) / 1000).toFixed(1)} s, underlay ${lab.state.subnet}`);
  for (const s of lab.status()) console.log(`  ${s.name}  ${s.address}  tswarmd pid ${s.pid}`);

  for (const h of lab.hosts) {
    banner(`${h.name}$ tswarm info`);
    const r = await lab.tswarm(h.name, 'info');
    process.stdout.write(r.stdout);
    if (r.code !== 0) throw new Error(`tswarm info on ${h.name} failed: ${r.stderr.trim()}`);
  }

  banner('the lab stays up; explore it with');
  console.log('  npm run lab -- status');
  console.log('  npm run lab -- exec h1 -- tswarm info');
  console.log(`  npm run lab -- exec h2 -- ping -c1 ${lab.host('h1').address}`);
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
