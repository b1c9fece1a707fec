// An in-process Dispatcher for agent tests: gRPC on 127.0.0.1 with insecure credentials.
// Several FakeDispatchers share one FakeCluster (the "store"), so a status reported to one
// manager is in the complete set another manager sends after a reconnect.
import * as grpc from '@grpc/grpc-js';
import {
  AssignmentChange_Action,
  AssignmentsMessage_Type,
  DispatcherService,
  LEADER_HINT_KEY,
  TaskState,
  silentLogger,
  type AssignmentsMessage,
  type NetworkView,
  type LogSubscription,
  type PublishLogsMessage,
  type SessionMessage,
  type Task,
  type UpdateTaskStatusRequest,
} from '@tswarm/api';
import type { AgentOptions } from '../src/index.js';

export class FakeCluster {
  readonly tasks = new Map<string, Task>();
  readonly dispatchers: FakeDispatcher[] = [];
  heartbeatPeriodMs = 1_000;
  /** The network view sent with the complete set (and by sendView). */
  view: NetworkView | undefined;
}

export function makeTask(id: string, fields: Partial<Task> & { image?: string } = {}): Task {
  const { image, ...rest } = fields;
  return {
    id, meta: undefined, serviceId: 'svc1', serviceName: 'web', slot: 1, nodeId: 'node-1',
    spec: {
      container: {
        image: image ?? 'tswarm/busybox:latest', command: [], args: [], env: [], labels: {},
        stopGracePeriodMs: 0, stopSignal: '', hostname: '',
      },
      resources: undefined, restart: undefined, placement: undefined, networks: [], forceUpdate: 0,
    },
    specVersion: 1, desiredState: TaskState.TASK_STATE_RUNNING,
    status: { state: TaskState.TASK_STATE_ASSIGNED, timestampMs: 0, message: 'assigned', err: '', container: undefined, receive: [] },
    networks: [], endpoint: undefined, restartCount: 0,
    ...rest,
  };
}

export class FakeDispatcher {
  readonly server = new grpc.Server();
  addr = '';
  sessions = 0;
  heartbeats = 0;
  readonly statusCalls: UpdateTaskStatusRequest[] = [];
  readonly published: PublishLogsMessage[] = [];
  /** Acknowledge status updates without recording them (a leader that lost them). */
  dropStatus = false;
  /** Answer heartbeats with UNAVAILABLE. */
  failHeartbeats = false;
  /** Refuse sessions as a follower does, naming this address as the leader (LEADER_HINT_KEY). */
  followerOf: string | undefined;
  private readonly sessionStreams = new Set<grpc.ServerWritableStream<unknown, SessionMessage>>();
  private readonly assignmentStreams = new Set<grpc.ServerWritableStream<unknown, AssignmentsMessage>>();
  private nextSession = 1;

  constructor(readonly cluster: FakeCluster, readonly name: string) {
    cluster.dispatchers.push(this);
    this.server.addService(DispatcherService, {
      session: (call: grpc.ServerWritableStream<unknown, SessionMessage>) => {
        if (this.followerOf !== undefined) {
          const metadata = new grpc.Metadata();
          metadata.set(LEADER_HINT_KEY, this.followerOf);
          call.emit('error', { code: grpc.status.UNAVAILABLE, details: `not the leader; the leader is ${this.followerOf}; reconnect to another manager`, metadata });
          return;
        }
        this.sessions++;
        this.sessionStreams.add(call);
        call.on('cancelled', () => this.sessionStreams.delete(call));
        call.write(this.sessionMessage([]));
      },
      heartbeat: (_call: unknown, cb: grpc.sendUnaryData<{ periodMs: number }>) => {
        this.heartbeats++;
        if (this.failHeartbeats) return cb({ code: grpc.status.UNAVAILABLE, details: 'heartbeat refused' });
        cb(null, { periodMs: this.cluster.heartbeatPeriodMs });
      },
      assignments: (call: grpc.ServerWritableStream<unknown, AssignmentsMessage>) => {
        this.assignmentStreams.add(call);
        call.on('cancelled', () => this.assignmentStreams.delete(call));
        call.write({
          type: AssignmentsMessage_Type.TYPE_COMPLETE,
          changes: [...this.cluster.tasks.values()].map((task) => ({ action: AssignmentChange_Action.ACTION_UPDATE, task })),
          networkView: this.cluster.view,
        });
      },
      updateTaskStatus: (call: grpc.ServerUnaryCall<UpdateTaskStatusRequest, unknown>, cb: grpc.sendUnaryData<object>) => {
        this.statusCalls.push(call.request);
        if (!this.dropStatus) {
          for (const u of call.request.updates) {
            const t = this.cluster.tasks.get(u.taskId);
            if (t && u.status && u.status.state >= (t.status?.state ?? 0)) t.status = u.status;
          }
        }
        cb(null, {});
      },
      publishLogs: (call: grpc.ServerReadableStream<PublishLogsMessage, unknown>, cb: grpc.sendUnaryData<object>) => {
        call.on('data', (m: PublishLogsMessage) => this.published.push(m));
        call.on('end', () => cb(null, {}));
        call.on('error', () => {});
      },
    } as grpc.UntypedServiceImplementation);
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
        if (err) return reject(err);
        this.addr = `127.0.0.1:${port}`;
        resolve();
      });
    });
  }

  /** Kills the manager: every stream and connection breaks at once. */
  kill(): void {
    this.server.forceShutdown();
  }

  /** Sets (or replaces) a task in the cluster and sends the change to connected agents. */
  update(task: Task): void {
    this.cluster.tasks.set(task.id, task);
    this.sendChange(AssignmentChange_Action.ACTION_UPDATE, task);
  }

  /** Deletes a task from the cluster and tells connected agents to remove it. */
  remove(taskId: string): void {
    const task = this.cluster.tasks.get(taskId);
    if (!task) throw new Error(`no task ${taskId}`);
    this.cluster.tasks.delete(taskId);
    this.sendChange(AssignmentChange_Action.ACTION_REMOVE, task);
  }

  subscribeLogs(sub: Partial<LogSubscription> & { id: string }): void {
    const full: LogSubscription = { serviceId: '', taskIds: [], follow: false, tail: 0, close: false, ...sub };
    for (const s of this.sessionStreams) s.write(this.sessionMessage([full]));
  }

  private sessionMessage(logSubscriptions: LogSubscription[]): SessionMessage {
    return {
      sessionId: `${this.name}-s${this.nextSession++}`,
      nodeSpec: undefined,
      managers: this.cluster.dispatchers.map((d) => ({ nodeId: d.name, addr: d.addr })),
      heartbeatPeriodMs: this.cluster.heartbeatPeriodMs,
      logSubscriptions,
    };
  }

  /** Sends a network view alone, as the leader does when only the view changed. */
  sendView(view: NetworkView): void {
    this.cluster.view = view;
    for (const s of this.assignmentStreams) s.write({ type: AssignmentsMessage_Type.TYPE_INCREMENTAL, changes: [], networkView: view });
  }

  private sendChange(action: AssignmentChange_Action, task: Task): void {
    for (const s of this.assignmentStreams) {
      s.write({ type: AssignmentsMessage_Type.TYPE_INCREMENTAL, changes: [{ action, task }], networkView: undefined });
    }
  }
}

export { waitUntil as until } from '@tswarm/api';

export function stateOf(cluster: FakeCluster, taskId: string): TaskState | undefined {
  return cluster.tasks.get(taskId)?.status?.state;
}

/** Agent options for tests: insecure credentials, no logs, fast reconnects. */
export function testAgentOptions(managers: string[]): Pick<AgentOptions, 'managers' | 'credentials' | 'logger' | 'backoff' | 'sessionOpenTimeoutMs'> {
  return { managers, credentials: grpc.credentials.createInsecure(), logger: silentLogger, backoff: { initialMs: 20, maxMs: 200 }, sessionOpenTimeoutMs: 1_000 };
}
