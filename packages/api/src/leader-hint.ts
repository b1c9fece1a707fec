/**
 * Trailing metadata with which a manager that is not the leader names the leader's cluster
 * address (host:port) when it refuses a dispatcher call. The agent reconnects there: the
 * message says the same for people, the metadata for programs — an agent that knows only the
 * manager beside it (a restarted manager node's) would otherwise never find the leader.
 */
export const LEADER_HINT_KEY = 'tswarm-leader';
