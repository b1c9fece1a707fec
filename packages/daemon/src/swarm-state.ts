import { mkdir, open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';

/** What a node remembers about its swarm between restarts (beside its certificates). */
export interface SwarmState {
  clusterId: string;
  nodeId: string;
  role: 'manager' | 'worker';
  /** Cluster-port address this node listens on (managers) e.g. 0.0.0.0:2377. */
  listenAddr: string;
  /** Address others dial to reach this node's cluster port, e.g. 192.168.1.10:2377. */
  advertiseAddr: string;
  /** Managers' cluster-port addresses, refreshed from sessions, for the agent to reconnect. */
  managers: string[];
  dataPathPort: number;
}

export const SWARM_STATE_FILE = 'swarm.json';

export async function loadSwarmState(dataDir: string): Promise<SwarmState | null> {
  try {
    return JSON.parse(await readFile(path.join(dataDir, SWARM_STATE_FILE), 'utf8')) as SwarmState;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`cannot read ${path.join(dataDir, SWARM_STATE_FILE)}: ${(e as Error).message}; remove it and join the swarm again`);
  }
}

/** Written atomically (temp file, fsync, rename) so a crash leaves the old or the new state. */
export async function saveSwarmState(dataDir: string, s: SwarmState): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, SWARM_STATE_FILE);
  const fh = await open(`${file}.tmp`, 'w', 0o600);
  try {
    await fh.writeFile(JSON.stringify(s, null, 2) + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(`${file}.tmp`, file);
}
