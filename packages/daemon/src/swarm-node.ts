import * as grpc from '@grpc/grpc-js';
import {
  InitRequest, InitResponse, JoinRequest, JoinResponse, Logger, NodeCAClient, NodeDescription, NodeRole,
  RaftMembershipClient, SwarmInfo,
} from '@tswarm/api';
import {
  bootstrapCredentials, clientCredentials, createNodeKeyAndCSR, createRootCA, issueNodeCert, joinCredentials,
  NODE_CHANNEL_OPTIONS, NodeKeyStore, parseJoinToken, pinRootCA, TlsIdentity,
} from '@tswarm/ca';
import { createCluster, Manager, newObjectId } from '@tswarm/manager';
import { loadSwarmState, saveSwarmState, SwarmState } from './swarm-state.js';

/** The cluster port, as Docker's. */
export const DEFAULT_CLUSTER_PORT = 2377;
/** How long init waits for its one-member Raft group to elect itself. */
const SELF_ELECTION_TIMEOUT_MS = 10_000;
/** How many leader redirects a joining manager follows before giving up. */
const MAX_JOIN_REDIRECTS = 3;

/** A user-facing failure of init/join/leave: gRPC code + one line. */
export class SwarmError extends Error {
  constructor(readonly code: grpc.status, message: string) {
    super(message);
  }
}

/** Starts this node's agent once it has a certificate; returns a way to stop it. */
export type AgentStarter = (opts: { nodeId: string; managers: string[]; tls: TlsIdentity; logger: Logger }) => { stop(): Promise<void> };

/** Wires a started manager's control API, dispatcher and leader roles; owned by the daemon. */
export type ManagerWiring = (m: Manager) => Promise<void>;

export interface SwarmNodeDeps {
  dataDir: string;
  nodeName: string;
  describe(): Promise<NodeDescription>;
  addresses(): string[];
  startAgent: AgentStarter;
  wireManager: ManagerWiring;
  logger: Logger;
  /** Raft timing, for tests that want faster elections. */
  tickMs?: number;
}

/**
 * This node's membership in a swarm: none, a worker, or a manager. Owns the state file,
 * the certificates, the Manager (when a manager) and the agent. init/join/leave change
 * it; `resume` restores it after a restart.
 */
export class SwarmNode {
  private state: SwarmState | null = null;
  private manager: Manager | undefined;
  private agent: { stop(): Promise<void> } | undefined;
  private busy = false;
  private readonly keys: NodeKeyStore;

  constructor(private readonly d: SwarmNodeDeps) {
    this.keys = new NodeKeyStore(d.dataDir);
  }

  get currentManager(): Manager | undefined {
    return this.manager;
  }

  get role(): 'manager' | 'worker' | undefined {
    return this.state?.role;
  }

  info(): SwarmInfo {
    const s = this.state;
    return {
      localNodeState: s ? 'active' : 'inactive', nodeId: s?.nodeId ?? '', nodeAddr: s?.advertiseAddr.split(':')[0] ?? '',
      isManager: s?.role === 'manager', clusterId: s?.clusterId ?? '', error: '',
    };
  }

  /** After a restart: picks up the swarm this node belonged to, if any. */
  async resume(): Promise<void> {
    const state = await loadSwarmState(this.d.dataDir);
    if (!state) return;
    const tls = await this.keys.load();
    if (!tls) throw new Error(`${this.d.dataDir} has swarm state but no certificates; leave the swarm (tswarm swarm leave --force) and join again`);
    this.state = state;
    if (state.role === 'manager') await this.startManager(state, tls, false, undefined);
    this.agent = this.d.startAgent({ nodeId: state.nodeId, managers: state.managers, tls, logger: this.d.logger.child('agent') });
    this.d.logger.info('rejoined the swarm', { node: state.nodeId, role: state.role });
  }

  async init(req: InitRequest): Promise<InitResponse> {
    return this.exclusive(async () => {
      this.refuseIfMember();
      if (req.forceNewCluster) throw new SwarmError(grpc.status.UNIMPLEMENTED, '--force-new-cluster is not supported yet: restore the managers\' data directories instead');
      if (req.dispatcherHeartbeatMs && (req.dispatcherHeartbeatMs < 100 || req.dispatcherHeartbeatMs > 3_600_000)) {
        throw new SwarmError(grpc.status.INVALID_ARGUMENT, `invalid --dispatcher-heartbeat ${req.dispatcherHeartbeatMs} ms: use between 100ms and 1h`);
      }
      const advertiseAddr = this.advertiseAddress(req.advertiseAddr);
      const listenAddr = req.listenAddr || `0.0.0.0:${advertiseAddr.split(':')[1]}`;
      const clusterId = newObjectId();
      const nodeId = newObjectId();
      const now = new Date();
      const ca = await createRootCA({ clusterId, now });
      const { keyPem, csrPem } = await createNodeKeyAndCSR();
      const certPem = await issueNodeCert({ ca, csrPem, nodeId, role: 'manager', clusterId, now });
      const tls: TlsIdentity = { caPem: ca.certPem, certPem, keyPem };
      const state: SwarmState = { clusterId, nodeId, role: 'manager', listenAddr, advertiseAddr, managers: [advertiseAddr], dataPathPort: req.dataPathPort || 4789 };
      const manager = await this.startManager(state, tls, true, undefined);
      await waitFor(() => manager.isLeader(), SELF_ELECTION_TIMEOUT_MS, 'the new swarm did not elect its first manager in time');
      const cluster = await createCluster(manager.group.store, {
        clusterId, nodeId, rootCA: ca, advertiseAddr, description: await this.d.describe(),
        defaultAddrPool: req.defaultAddrPool, subnetSize: req.subnetSize, dataPathPort: req.dataPathPort, nowMs: Date.now(),
        heartbeatPeriodMs: req.dispatcherHeartbeatMs || undefined,
      });
      await this.keys.save(tls);
      await saveSwarmState(this.d.dataDir, state);
      this.state = state;
      this.agent = this.d.startAgent({ nodeId, managers: state.managers, tls, logger: this.d.logger.child('agent') });
      this.d.logger.info('swarm initialized', { cluster: clusterId, node: nodeId, advertise: advertiseAddr });
      return { nodeId, clusterId, workerJoinToken: cluster.joinTokens!.worker, managerJoinToken: cluster.joinTokens!.manager, advertiseAddr };
    });
  }

  async join(req: JoinRequest): Promise<JoinResponse> {
    return this.exclusive(async () => {
      this.refuseIfMember();
      try {
        parseJoinToken(req.joinToken);
      } catch (e) {
        throw new SwarmError(grpc.status.INVALID_ARGUMENT, (e as Error).message);
      }
      const remote = withPort(req.remoteAddr, DEFAULT_CLUSTER_PORT);
      const advertiseAddr = this.advertiseAddress(req.advertiseAddr);
      const listenAddr = req.listenAddr || `0.0.0.0:${advertiseAddr.split(':')[1]}`;
      // 1. The root CA over TLS without verifying the server, pinned by the token's digest:
      //    nothing secret is sent until the CA matches.
      const presented = await unary<{ certificatePem: string }>(new NodeCAClient(remote, bootstrapCredentials(), NODE_CHANNEL_OPTIONS), 'getRootCaCertificate', {}, remote);
      let caPem: string;
      try {
        caPem = pinRootCA(req.joinToken, presented.certificatePem);
      } catch (e) {
        throw new SwarmError(grpc.status.PERMISSION_DENIED, (e as Error).message);
      }
      // 2. Token + CSR to a server verified against the pinned CA; the manager decides our ID and role.
      const { keyPem, csrPem } = await createNodeKeyAndCSR();
      const issued = await unary<{ nodeId: string; certificatePem: string; role: NodeRole; clusterId: string }>(
        new NodeCAClient(remote, joinCredentials(caPem), NODE_CHANNEL_OPTIONS), 'issueNodeCertificate',
        { csrPem, token: req.joinToken, availability: req.availability, description: await this.d.describe(), advertiseAddr }, remote);
      const tls: TlsIdentity = { caPem, certPem: issued.certificatePem, keyPem };
      const role = issued.role === NodeRole.NODE_ROLE_MANAGER ? 'manager' : 'worker';
      const state: SwarmState = { clusterId: issued.clusterId, nodeId: issued.nodeId, role, listenAddr, advertiseAddr, managers: [remote], dataPathPort: 4789 };
      await this.keys.save(tls);
      await saveSwarmState(this.d.dataDir, state);
      this.state = state;
      if (role === 'manager') await this.startManager(state, tls, false, remote);
      this.agent = this.d.startAgent({ nodeId: state.nodeId, managers: state.managers, tls, logger: this.d.logger.child('agent') });
      this.d.logger.info('joined the swarm', { node: state.nodeId, role, via: remote });
      return { nodeId: state.nodeId, manager: role === 'manager' };
    });
  }

  /** Leaves the swarm: stops the agent and manager and forgets the swarm's state. */
  async leave(force: boolean): Promise<void> {
    return this.exclusive(async () => {
      if (!this.state) throw new SwarmError(grpc.status.FAILED_PRECONDITION, 'This node is not part of a swarm');
      if (this.state.role === 'manager' && !force) {
        throw new SwarmError(grpc.status.FAILED_PRECONDITION,
          'You are attempting to leave the swarm on a node that is participating as a manager. Leaving it may break the quorum of the swarm; use --force to ignore this message.');
      }
      await this.stopAll();
      const { rm } = await import('node:fs/promises');
      for (const p of ['swarm.json', 'certificates', 'manager']) await rm(`${this.d.dataDir}/${p}`, { recursive: true, force: true });
      this.state = null;
    });
  }

  async stopAll(): Promise<void> {
    await this.agent?.stop();
    this.agent = undefined;
    await this.manager?.stop();
    this.manager = undefined;
  }

  private async startManager(state: SwarmState, tls: TlsIdentity, bootstrap: boolean, joinVia: string | undefined): Promise<Manager> {
    const manager = await Manager.start({
      nodeId: state.nodeId, clusterId: state.clusterId, dataDir: `${this.d.dataDir}/manager`,
      listenAddr: state.listenAddr, advertiseAddr: state.advertiseAddr, tls, bootstrap, tickMs: this.d.tickMs,
      logger: this.d.logger.child('manager'),
    });
    await this.d.wireManager(manager);
    this.manager = manager;
    if (joinVia) await this.joinRaft(manager, joinVia, tls, state.advertiseAddr);
    return manager;
  }

  /** Asks the managers to add us to the Raft group, following leader redirects. */
  private async joinRaft(manager: Manager, via: string, tls: TlsIdentity, advertiseAddr: string): Promise<void> {
    const creds = clientCredentials({ ...tls, expectRole: 'manager' });
    let target = via;
    for (let i = 0; i <= MAX_JOIN_REDIRECTS; i++) {
      const r = await unary<{ members: Array<{ id: string; addr: string }>; leaderAddr: string }>(
        new RaftMembershipClient(target, creds, NODE_CHANNEL_OPTIONS), 'join', { addr: advertiseAddr }, target, 90_000);
      if (!r.leaderAddr) {
        for (const m of r.members) manager.group.node.addPeerAddress(m.id, m.addr);
        this.d.logger.info('joined the raft group as a learner; promoted once caught up', { members: r.members.map((m) => m.id).join(',') });
        return;
      }
      target = r.leaderAddr;
    }
    throw new SwarmError(grpc.status.UNAVAILABLE, 'could not reach the raft leader to join as a manager; retry');
  }

  private advertiseAddress(given: string): string {
    if (given) return withPort(given, DEFAULT_CLUSTER_PORT);
    const addrs = this.d.addresses();
    if (addrs.length === 1) return `${addrs[0]}:${DEFAULT_CLUSTER_PORT}`;
    if (addrs.length === 0) throw new SwarmError(grpc.status.INVALID_ARGUMENT, 'could not find an IP address to advertise; use --advertise-addr');
    throw new SwarmError(grpc.status.INVALID_ARGUMENT, `could not choose an IP address to advertise since this system has multiple addresses (${addrs.join(', ')}); use --advertise-addr`);
  }

  private refuseIfMember(): void {
    if (this.state) {
      throw new SwarmError(grpc.status.FAILED_PRECONDITION, 'This node is already part of a swarm. Use "tswarm swarm leave" to leave this swarm and join another one.');
    }
  }

  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.busy) throw new SwarmError(grpc.status.FAILED_PRECONDITION, 'another swarm operation is in progress on this node; retry when it finishes');
    this.busy = true;
    try {
      return await fn();
    } finally {
      this.busy = false;
    }
  }
}

function withPort(addr: string, port: number): string {
  return /:\d+$/.test(addr) ? addr : `${addr}:${port}`;
}

async function waitFor(cond: () => boolean, timeoutMs: number, message: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new SwarmError(grpc.status.DEADLINE_EXCEEDED, message);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One unary call to another node with a deadline; failures become one-line SwarmErrors. */
function unary<T>(client: grpc.Client, method: string, req: object, target: string, timeoutMs = 20_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const fn = (client as unknown as Record<string, Function>)[method]!;
    fn.call(client, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err: grpc.ServiceError | null, res: T) => {
      client.close();
      if (!err) return resolve(res);
      if (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED) {
        reject(new SwarmError(grpc.status.UNAVAILABLE, `cannot reach a manager at ${target}: ${err.details || err.message}; check the address and that port ${target.split(':').pop()} is open`));
      } else {
        reject(new SwarmError(err.code, err.details || err.message));
      }
    });
  });
}

