/** This member is not the leader and could not forward; the caller should retry or go to `leader`. */
export class NotLeaderError extends Error {
  constructor(readonly leader: string, readonly leaderAddress: string | undefined) {
    super(leader ? `this manager is not the raft leader (the leader is ${leader}); retry` : 'there is no raft leader right now (an election is in progress or quorum is lost); retry in a moment');
    this.name = 'NotLeaderError';
  }
}

/** A proposal or read was not completed in time: quorum may be lost, or the leader changed and dropped it. */
export class RaftTimeoutError extends Error {
  constructor(what: 'proposal' | 'read') {
    super(`raft ${what} timed out: no quorum answered in time (are a majority of managers up?); retry`);
    this.name = 'RaftTimeoutError';
  }
}

export class StoppedError extends Error {
  constructor() {
    super('raft node is stopped');
    this.name = 'StoppedError';
  }
}
