// `node inspect` in Docker's shape (swarm.Node as the Engine API returns it), so scripts written
// against `docker node inspect` — `.Status.Addr`, `.Spec.Role`, `.ManagerStatus.Leader` — keep
// working. Enums are Docker's lower-case words; a field Docker tags omitempty is left out when
// empty (Status.Message, ManagerStatus.Leader when false, Resources when unknown), while
// Spec.Labels is always there, as Docker's Annotations.Labels is. Pure: a wire Node in, a plain
// object out.
//
// Where tswarm and Docker differ:
// - Spec.Role is the desired role (spec.desiredRole), as in Docker. The role the store records
//   once a promoted node votes (node.role, which the last-manager check counts) has no field in
//   Docker's Node and is left out; ManagerStatus, filled from live Raft membership on every
//   read, shows whether a node is a manager now, as in Docker.
// - ManagerStatus.raftId (Docker keeps Raft IDs internal) and the node's attachments (its
//   ingress address; Docker's Node has no field for them either) are left out.
// - Description.TLSInfo and Engine.Plugins/Labels: tswarm's node object has no such data, so
//   they are left out rather than shown empty.
// - CreatedAt/UpdatedAt carry milliseconds (tswarm's precision) where Docker's have nanoseconds.
import { nodeAvailabilityToJSON, nodeRoleToJSON, nodeStateToJSON, type Node } from '@tswarm/api';
import { swarmMeta } from './docker-json.js';
import { enumWord } from './table.js';

export function inspectNode(n: Node): Record<string, unknown> {
  const d = n.description;
  const s = n.status;
  const m = n.managerStatus;
  return {
    ...swarmMeta(n.id, n.meta),
    Spec: {
      Labels: { ...(n.spec?.labels ?? {}) },
      Role: enumWord(nodeRoleToJSON(n.spec?.desiredRole ?? n.role), 'NODE_ROLE_'),
      Availability: enumWord(nodeAvailabilityToJSON(n.spec?.availability ?? 0), 'NODE_AVAILABILITY_'),
    },
    Description: {
      ...(d?.hostname ? { Hostname: d.hostname } : {}),
      Platform: { ...(d?.architecture ? { Architecture: d.architecture } : {}), ...(d?.os ? { OS: d.os } : {}) },
      Resources: {
        ...(d?.resources?.nanoCpus ? { NanoCPUs: d.resources.nanoCpus } : {}),
        ...(d?.resources?.memoryBytes ? { MemoryBytes: d.resources.memoryBytes } : {}),
      },
      Engine: { ...(d?.engineVersion ? { EngineVersion: d.engineVersion } : {}) },
    },
    Status: {
      State: enumWord(nodeStateToJSON(s?.state ?? 0), 'NODE_STATE_'),
      ...(s?.message ? { Message: s.message } : {}),
      ...(s?.addr ? { Addr: s.addr } : {}),
    },
    ...(m
      ? { ManagerStatus: { ...(m.leader ? { Leader: true } : {}), ...(m.reachability ? { Reachability: m.reachability } : {}), ...(m.addr ? { Addr: m.addr } : {}) } }
      : {}),
  };
}
