import * as grpc from '@grpc/grpc-js';
import { Cluster, Node, NodeAvailability, NodeCAServer, NodeRole, NodeState } from '@tswarm/api';
import { issueNodeCert, NodeRole as CertRole, requireRole, tokenGrantsRole } from '@tswarm/ca';
import type { Store } from '@tswarm/store';
import { clusterTable, nodesTable } from './tables.js';

export interface NodeCADeps {
  store: Store;
  nowMs(): number;
  newId(): string;
  clusterId: string;
}

type Cb<T> = grpc.sendUnaryData<T>;
const fail = (cb: Cb<never>, code: grpc.status, details: string) => cb({ code, details } as grpc.ServiceError);

const DAY_MS = 24 * 60 * 60 * 1000;

/** The cluster's node certificate validity (swarm update --cert-expiry), in issueNodeCert's days. */
function validityDays(c: Cluster): number | undefined {
  const ms = c.spec?.nodeCertExpiryMs;
  return ms && ms > 0 ? ms / DAY_MS : undefined;
}

export const INVALID_TOKEN_MESSAGE =
  "invalid join token: it is neither this swarm's worker nor its manager token (tokens change when rotated); " +
  "get the current one with 'tswarm swarm join-token worker' on a manager";

/**
 * The NodeCA service on the cluster port. A joining node first fetches the root CA
 * (no credentials), pins it against its token's digest, then sends the token with a
 * CSR; the CA decides the node ID and the role from the token, records the node, and
 * signs. Renewal is authenticated by the node's current certificate and keeps its
 * identity, taking the role the node is meant to have now (promote/demote).
 */
export function nodeCAService(deps: NodeCADeps): NodeCAServer {
  const cluster = (): Cluster => {
    const c = deps.store.view((tx) => tx.get(clusterTable, deps.clusterId))?.object;
    if (!c?.rootCa) throw new Error('the swarm has no root CA yet; retry in a moment');
    return c;
  };
  return {
    getRootCaCertificate: (_call, cb) => {
      try {
        cb(null, { certificatePem: cluster().rootCa!.caCertPem });
      } catch (e) {
        fail(cb, grpc.status.UNAVAILABLE, (e as Error).message);
      }
    },
    issueNodeCertificate: (call, cb) => {
      void (async () => {
        const c = await deps.store.linearizableView((tx) => tx.get(clusterTable, deps.clusterId)?.object);
        if (!c?.rootCa || !c.joinTokens) return fail(cb, grpc.status.UNAVAILABLE, 'the swarm is not ready to accept nodes yet; retry in a moment');
        const role = tokenGrantsRole(call.request.token, c.joinTokens);
        if (!role) return fail(cb, grpc.status.INVALID_ARGUMENT, INVALID_TOKEN_MESSAGE);
        const nodeId = deps.newId();
        const now = deps.nowMs();
        const certificatePem = await issueNodeCert({
          ca: { certPem: c.rootCa.caCertPem, keyPem: c.rootCa.caKeyPem }, csrPem: call.request.csrPem,
          nodeId, role, clusterId: deps.clusterId, now: new Date(now), validityDays: validityDays(c),
        });
        const wireRole = role === 'manager' ? NodeRole.NODE_ROLE_MANAGER : NodeRole.NODE_ROLE_WORKER;
        const node: Node = {
          id: nodeId,
          meta: { version: 0, createdAtMs: now, updatedAtMs: now },
          spec: { desiredRole: wireRole, availability: call.request.availability ?? NodeAvailability.NODE_AVAILABILITY_ACTIVE, labels: {} },
          description: call.request.description,
          status: { state: NodeState.NODE_STATE_UNKNOWN, message: 'joined; waiting for its first session', addr: call.request.advertiseAddr.split(':')[0] ?? '' },
          managerStatus: undefined,
          role: wireRole,
          attachments: [],
        };
        await deps.store.update((tx) => tx.create(nodesTable, node));
        cb(null, { nodeId, certificatePem, role: wireRole, clusterId: deps.clusterId });
      })().catch((e: Error) => fail(cb, grpc.status.INVALID_ARGUMENT, e.message));
    },
    renewNodeCertificate: (call, cb) => {
      void (async () => {
        const id = requireRole(call as never, ['manager', 'worker'], { clusterId: deps.clusterId });
        const c = cluster();
        const node = deps.store.view((tx) => tx.get(nodesTable, id.nodeId))?.object;
        if (!node) return fail(cb, grpc.status.PERMISSION_DENIED, `node ${id.nodeId} is no longer part of the swarm; join it again`);
        const role: CertRole = node.spec?.desiredRole === NodeRole.NODE_ROLE_MANAGER ? 'manager' : 'worker';
        const certificatePem = await issueNodeCert({
          ca: { certPem: c.rootCa!.caCertPem, keyPem: c.rootCa!.caKeyPem }, csrPem: call.request.csrPem,
          nodeId: id.nodeId, role, clusterId: deps.clusterId, now: new Date(deps.nowMs()), validityDays: validityDays(c),
        });
        cb(null, { certificatePem });
      })().catch((e: { code?: number; details?: string; message: string }) => fail(cb, e.code ?? grpc.status.INVALID_ARGUMENT, e.details ?? e.message));
    },
  };
}
