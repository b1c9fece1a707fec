import { convergeBench } from './converge.js';
import { overlayBench } from './overlay.js';
import { overlayAbBench } from './overlay-ab.js';
import { raftBench } from './raft.js';
import { raftAbBench } from './raft-ab.js';
import { raftFloorBench } from './raft-floor.js';

/** `npm run bench -- NAME`: each benchmark prints ratios against its peer, measured in the same run. */
const BENCHES: Record<string, () => Promise<void>> = {
  raft: raftBench,
  'raft-floor': raftFloorBench,
  'raft-ab': raftAbBench,
  converge: convergeBench,
  overlay: overlayBench,
  'overlay-ab': overlayAbBench,
};

async function main(): Promise<void> {
  const name = process.argv[2];
  const run = name ? BENCHES[name] : undefined;
  if (!run) {
    console.error(`usage: npm run bench -- ${Object.keys(BENCHES).join('|')}`);
    process.exit(125);
  }
  await run();
}

main().catch((e: Error) => {
  console.error(`bench: ${e.message}`);
  process.exit(1);
});
