// The one table of tswarm's packages and which others each may import.
// Dependencies point down DESIGN.md's list only; scripts/check-layers.mjs and
// scripts/sync-packages.mjs both read this table so it cannot drift.
export const PACKAGES = {
  api: [],
  raft: ['api'],
  store: ['api', 'raft'],
  ca: ['api'],
  dns: ['api'],
  agent: ['api', 'ca'],
  'executor-docker': ['api', 'agent'],
  network: ['api', 'agent'],
  manager: ['api', 'raft', 'store', 'ca'],
  daemon: ['api', 'raft', 'store', 'ca', 'manager', 'agent', 'executor-docker', 'network', 'dns'],
  cli: ['api'],
};

// Workspaces outside packages/: the lab and benchmarks may use anything.
export const TOOLS = {
  e2e: ['api', 'raft', 'store', 'ca', 'cli'],
  bench: ['api', 'raft', 'store', 'ca', 'e2e', 'network'],
};

export function dirOf(name) {
  return name in PACKAGES ? `packages/${name}` : name;
}
