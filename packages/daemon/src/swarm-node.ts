import * as grpc from '@grpc/grpc-js';
import { rm } from 'node:fs/promises';
import {
  InitRequest, InitResponse, JoinRequest, JoinResponse, Logger, NodeCAClient, NodeDescription, NodeRole,
  RaftMembershipClient, SessionMessage, SwarmInfo,
} from '@tswarm/api';
import {
  bootstrapCredentials, createNodeKeyAndCSR, createRootCA, issueNodeCert, joinCredentials,
  NODE_CHANNEL_OPTIONS, NodeCredentials, NodeKeyStore, parseJoinToken, pinRootCA, TlsIdentity,
} from '@tswarm/ca';
import {
  allocateNetwork, clusterTable, createCluster, DEFAULT_ADDR_POOL, DEFAULT_SUBNET_SIZE, demoteRemovedManagers, Manager, newObjectId,
} from '@tswarm/manager';
import { CertRenewer } from './cert-renewer.js';
import { SwarmError, unary, waitFor, withPort } from './node-rpc.js';
import { LeaderView, leaderView, nextRoleStep } from './role-plan.js';
import { loadSwarmState, saveSwarmState, SwarmState } from './swarm-state.js';

export { SwarmError } from './node-rpc.js';

/** The cluster port, as Docker's. */
export const DEFAULT_CLUSTER_PORT = 2377;
/** How long init waits for its one-member Raft group to elect itself. */
const SELF_ELECTION_TIMEOUT_MS = 10_000;
/** How many leader redirects a joining manager follows before giving up. */
const MAX_JOIN_REDIRECTS = 3;

/** After a failed promotion or demotion step, look again this much later. */
const ROLE_RETRY_MS = 5_000;

/** A running agent, as the swarm node uses it. */
export interface RunningAgent {
  /** `leaving`: the node leaves the swarm, so node-level state (networks) is removed too. */
  stop(leaving?: boolean): Promise<void>;
  /** Managers' cluster addresses the agent would try, in order (refreshed by sessions). */
  knownManagers(): string[];
}

/**
 * Starts this node's agent once it has a certificate. `credentials` follow certificate
 * renewals; `onSessionMessage` gets every message from the leader (node spec, managers).
 */
export type AgentStarter = (opts: {
  nodeId: string; managers: string[]; credentials: grpc.ChannelCredentials; logger: Logger; onSessionMessage(msg: SessionMessage): void;
}) => RunningAgent;

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
  private agent: RunningAgent | undefined;
  private credentials: NodeCredentials | undefined;
  private renewer: CertRenewer | undefined;
  /** What the leader last said about this node (desired role, Raft members). */
  private leader: LeaderView | undefined;
  /** Role steps run one at a time, in order (promotion and demotion are multi-step). */
  private roleChain: Promise<void> = Promise.resolve();
  private roleQueued = false;
  private roleRetry: NodeJS.Timeout | undefined;
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
    this.credentials = new NodeCredentials(tls);
    if (state.role === 'manager') await this.startManager(state, false, undefined);
    this.startMember(state);
    this.d.logger.info('rejoined the swarm', { node: state.nodeId, role: state.role });
  }

  async init(req: InitRequest): Promise<InitResponse> {
    return this.exclusive(async () => {
      if (req.forceNewCluster) return this.forceNewCluster();
      this.refuseIfMember();
      if (req.dispatcherHeartbeatMs && (req.dispatcherHeartbeatMs < 100 || req.dispatcherHeartbeatMs > 3_600_000)) {
        throw new SwarmError(grpc.status.INVALID_ARGUMENT, `invalid --dispatcher-heartbeat ${req.dispatcherHeartbeatMs} ms: use between 100ms and 1h`);
      }
      // The ingress network is cut from the pool at init; refuse a pool that cannot hold it
      // before anything starts, rather than fail half-way through.
      const pool = allocateNetwork({ requested: undefined, existing: [], pools: req.defaultAddrPool.length ? req.defaultAddrPool : DEFAULT_ADDR_POOL, subnetSize: req.subnetSize || DEFAULT_SUBNET_SIZE });
      if (!pool.ok) throw new SwarmError(grpc.status.INVALID_ARGUMENT, `${pool.message.replace(/;.*$/, '')}; choose --default-addr-pool and --default-addr-pool-mask-length to fit`);
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
      this.credentials = new NodeCredentials(tls);
      const manager = await this.startManager(state, true, undefined);
      await waitFor(() => manager.isLeader(), SELF_ELECTION_TIMEOUT_MS, 'the new swarm did not elect its first manager in time');
      const cluster = await createCluster(manager.group.store, {
        clusterId, nodeId, rootCA: ca, advertiseAddr, description: await this.d.describe(),
        defaultAddrPool: req.defaultAddrPool, subnetSize: req.subnetSize, dataPathPort: req.dataPathPort, nowMs: Date.now(),
        heartbeatPeriodMs: req.dispatcherHeartbeatMs || undefined,
      });
      await this.keys.save(tls);
      await saveSwarmState(this.d.dataDir, state);
      this.state = state;
      this.startMember(state);
      this.d.logger.info('swarm initialized', { cluster: clusterId, node: nodeId, advertise: advertiseAddr });
      return { nodeId, clusterId, workerJoinToken: cluster.joinTokens!.worker, managerJoinToken: cluster.joinTokens!.manager, advertiseAddr };
    });
  }

  /**
   * `swarm init --force-new-cluster` on a manager of a swarm that lost quorum: restarts this
   * node's manager from its own Raft data as the only member (raft-group.ts), keeping the
   * whole store, then records the removed managers as workers. The agent keeps running; its
   * session finds this manager, now the leader. Writes only the lost managers held are lost.
   */
  private async forceNewCluster(): Promise<InitResponse> {
    const state = this.state;
    if (!state) {
      throw new SwarmError(grpc.status.FAILED_PRECONDITION,
        'This node is not part of a swarm; --force-new-cluster restarts a manager of an existing swarm from its own data (to create a new swarm, run "tswarm swarm init" without it)');
    }
    const old = this.manager;
    if (state.role !== 'manager' || !old) {
      throw new SwarmError(grpc.status.FAILED_PRECONDITION, 'This node is not a swarm manager; run "tswarm swarm init --force-new-cluster" on a manager of the swarm that lost its quorum');
    }
    await this.roleChain; // no promotion or demotion step may run while the manager restarts
    this.d.logger.warn('forcing a new cluster: restarting this manager as the only raft member');
    this.manager = undefined;
    await old.stop();
    let manager: Manager;
    try {
      manager = await this.startManager(state, false, undefined, true);
    } catch (e) {
      // Nothing was changed if the forced start failed before writing: come back as we were.
      this.d.logger.error('forcing a new cluster failed; restarting the manager as it was', { error: (e as Error).message });
      await this.startManager(state, false, undefined).catch((e2: Error) => this.d.logger.error('restarting the manager failed', { error: e2.message }));
      throw new SwarmError(grpc.status.FAILED_PRECONDITION, `could not force a new cluster: ${(e as Error).message}`);
    }
    await waitFor(() => manager.isLeader(), SELF_ELECTION_TIMEOUT_MS, 'the forced new cluster did not elect this manager in time; check the daemon log');
    await demoteRemovedManagers(manager.group.store, manager.group.removedByForce, Date.now());
    const cluster = manager.group.store.view((tx) => tx.get(clusterTable, state.clusterId)?.object);
    this.d.logger.info('forced a new cluster', { cluster: state.clusterId, removed: manager.group.removedByForce.join(',') || 'none' });
    return {
      nodeId: state.nodeId, clusterId: state.clusterId, advertiseAddr: state.advertiseAddr,
      workerJoinToken: cluster?.joinTokens?.worker ?? '', managerJoinToken: cluster?.joinTokens?.manager ?? '',
    };
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
      this.credentials = new NodeCredentials(tls);
      if (role === 'manager') await this.startManager(state, false, remote);
      this.startMember(state);
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
      await this.stopAll(true);
      for (const p of ['swarm.json', 'certificates', 'manager']) await rm(`${this.d.dataDir}/${p}`, { recursive: true, force: true });
      this.state = null;
      this.credentials = undefined;
    });
  }

  async stopAll(leaving = false): Promise<void> {
    this.renewer?.stop();
    this.renewer = undefined;
    this.leader = undefined;
    if (this.roleRetry) clearTimeout(this.roleRetry);
    await this.roleChain;
    await this.agent?.stop(leaving);
    this.agent = undefined;
    await this.manager?.stop();
    this.manager = undefined;
  }

  /** The agent and the certificate renewer, which every member runs. */
  private startMember(state: SwarmState): void {
    const credentials = this.credentials!;
    this.agent = this.d.startAgent({
      nodeId: state.nodeId, managers: state.managers, credentials: credentials.client({ expectRole: 'manager' }),
      logger: this.d.logger.child('agent'), onSessionMessage: (msg) => this.sessionMessage(msg),
    });
    this.renewer = new CertRenewer({
      credentials,
      // This manager's own CA first (it answers from its store), then the ones the leader named.
      managers: () => [...(this.manager ? [state.advertiseAddr] : []), ...(this.agent?.knownManagers() ?? state.managers)],
      save: (tls) => this.keys.save(tls),
      onRenewed: () => this.queueRoleStep(),
      logger: this.d.logger.child('certs'),
    });
    this.renewer.start();
  }

  private sessionMessage(msg: SessionMessage): void {
    const view = leaderView(msg);
    if (!view) return;
    this.leader = view;
    this.queueRoleStep();
  }

  /**
   * Runs the next promotion/demotion step (role-plan.ts) after the ones already queued,
   * then looks again, so a promotion goes renew → start manager without a new message.
   */
  private queueRoleStep(): void {
    if (this.roleQueued) return;
    this.roleQueued = true;
    this.roleChain = this.roleChain.then(async () => {
      this.roleQueued = false;
      const again = await this.roleStep().catch((e: Error) => {
        this.d.logger.error('changing this node\'s role failed; retrying', { error: e.message, retryInMs: ROLE_RETRY_MS });
        if (this.roleRetry) clearTimeout(this.roleRetry);
        this.roleRetry = setTimeout(() => this.queueRoleStep(), ROLE_RETRY_MS);
        return false;
      });
      if (again) this.queueRoleStep();
    });
  }

  /** One step; true when another may follow at once. */
  private async roleStep(): Promise<boolean> {
    const state = this.state;
    if (!state || !this.leader || !this.credentials || !this.renewer) return false;
    const step = nextRoleStep({ nodeId: state.nodeId, running: this.manager ? 'manager' : 'worker', certificate: this.credentials.identity.role }, this.leader);
    switch (step?.kind) {
      case undefined:
        return false;
      case 'renew':
        this.renewer.renewNow(`the swarm wants this node to be a ${step.role}`, step.role);
        return false; // the renewal's onRenewed queues the next step
      case 'start-manager': {
        this.d.logger.info('promoted: starting a manager and joining the raft group');
        // A fresh Raft member: a log from an earlier membership must not be replayed.
        await rm(`${this.d.dataDir}/manager`, { recursive: true, force: true });
        const via = this.agent?.knownManagers().find((a) => a !== state.advertiseAddr) ?? state.managers[0]!;
        const next: SwarmState = { ...state, role: 'manager' };
        try {
          await this.startManager(next, false, via);
        } catch (e) {
          await this.manager?.stop().catch(() => undefined);
          this.manager = undefined;
          throw e;
        }
        await saveSwarmState(this.d.dataDir, next);
        this.state = next;
        this.d.logger.info('this node is now a manager', { node: state.nodeId });
        return true;
      }
      case 'stop-manager': {
        this.d.logger.info('demoted and removed from the raft group: stopping the manager, keeping the agent');
        const next: SwarmState = { ...state, role: 'worker' };
        await saveSwarmState(this.d.dataDir, next);
        this.state = next;
        const m = this.manager;
        this.manager = undefined;
        await m?.stop();
        await rm(`${this.d.dataDir}/manager`, { recursive: true, force: true });
        this.d.logger.info('this node is now a worker', { node: state.nodeId });
        return true;
      }
    }
  }

  private async startManager(state: SwarmState, bootstrap: boolean, joinVia: string | undefined, forceNewCluster = false): Promise<Manager> {
    const manager = await Manager.start({
      nodeId: state.nodeId, clusterId: state.clusterId, dataDir: `${this.d.dataDir}/manager`,
      listenAddr: state.listenAddr, advertiseAddr: state.advertiseAddr, credentials: this.credentials!, bootstrap, forceNewCluster, tickMs: this.d.tickMs,
      logger: this.d.logger.child('manager'),
    });
    try {
      await this.d.wireManager(manager);
    } catch (e) {
      await manager.stop().catch(() => undefined);
      throw e;
    }
    this.manager = manager;
    if (joinVia) await this.joinRaft(manager, joinVia, state.advertiseAddr);
    return manager;
  }

  /** Asks the managers to add us to the Raft group, following leader redirects. */
  private async joinRaft(manager: Manager, via: string, advertiseAddr: string): Promise<void> {
    let target = via;
    for (let i = 0; i <= MAX_JOIN_REDIRECTS; i++) {
      const r = await unary<{ members: Array<{ id: string; addr: string }>; leaderAddr: string }>(
        new RaftMembershipClient(target, this.credentials!.client({ expectRole: 'manager' }), NODE_CHANNEL_OPTIONS), 'join', { addr: advertiseAddr }, target, 90_000);
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

