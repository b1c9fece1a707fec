import { Command } from 'commander';
import { Node, NodeAvailability, NodeRole, NodeSpec } from '@tswarm/api';
import { call, Clients } from '../client.js';
import { Context } from '../context.js';
import { CliError } from '../errors.js';
import { flagParser, oneOf, parseKeyValue, parseNonEmpty, repeatable } from '../flags/parse.js';
import { inspectNode } from '../render/node-inspect.js';
import { renderNodeList } from '../render/nodes.js';
import { prettyNode } from '../render/pretty.js';
import { inspectCommand } from './inspect.js';
import { listCommand } from './list.js';

type Ctx = () => Context;

const AVAILABILITY: Record<string, NodeAvailability> = {
  active: NodeAvailability.NODE_AVAILABILITY_ACTIVE,
  pause: NodeAvailability.NODE_AVAILABILITY_PAUSE,
  drain: NodeAvailability.NODE_AVAILABILITY_DRAIN,
};
export const parseAvailability = (v: string) => AVAILABILITY[oneOf(['active', 'pause', 'drain'] as const)(v)]!;

/** `tswarm node …`, Docker's "Manage Swarm nodes". */
export function nodeCommand(ctx: Ctx): Command {
  return new Command('node')
    .description('Manage Swarm nodes')
    .addCommand(nodeDemoteCommand(ctx))
    .addCommand(nodeInspectCommand(ctx))
    .addCommand(nodeListCommand(ctx))
    .addCommand(nodePromoteCommand(ctx))
    .addCommand(nodeRemoveCommand(ctx))
    .addCommand(nodeUpdateCommand(ctx));
}

/** This daemon's node ID, for the "*" in `node ls` and `node inspect self`; "" when unknown. */
async function selfId(clients: Clients): Promise<string> {
  try {
    return (await call(clients, clients.daemon.info, clients.daemon, {})).swarm?.nodeId ?? '';
  } catch {
    return '';
  }
}

function nodeListCommand(ctx: Ctx): Command {
  return listCommand(ctx, {
    description: 'List nodes in the swarm',
    lines: async (clients, o) => {
      const { nodes } = await call(clients, clients.control.listNodes, clients.control, {});
      return renderNodeList(nodes, o.quiet ? '' : await selfId(clients), o);
    },
  });
}

async function getNode(clients: Clients, ref: string): Promise<Node> {
  const nodeId = ref === 'self' ? await selfId(clients) : ref;
  if (!nodeId) throw new CliError('this node is not part of a swarm, so "self" names no node');
  const { node } = await call(clients, clients.control.getNode, clients.control, { nodeId });
  if (!node) throw new CliError(`no such node: ${ref}`);
  return node;
}

function nodeInspectCommand(ctx: Ctx): Command {
  return inspectCommand(ctx, {
    plural: 'nodes',
    argName: 'self|NODE',
    fetch: getNode,
    // Docker's shape, so `docker node inspect` scripts keep working (render/node-inspect.ts).
    json: inspectNode,
    pretty: prettyNode,
  });
}

/** Reads a node, lets `change` edit its spec, writes it back at the version read. */
async function updateNode(clients: Clients, ref: string, change: (spec: NodeSpec, node: Node) => boolean): Promise<Node> {
  const node = await getNode(clients, ref);
  const spec: NodeSpec = structuredClone(node.spec ?? { desiredRole: node.role, availability: NodeAvailability.NODE_AVAILABILITY_ACTIVE, labels: {} });
  if (!change(spec, node)) return node;
  await call(clients, clients.control.updateNode, clients.control, { nodeId: node.id, nodeVersion: node.meta?.version ?? 0, spec });
  return node;
}

function nodeUpdateCommand(ctx: Ctx): Command {
  return new Command('update')
    .description('Update a node')
    .usage('[OPTIONS] NODE')
    .argument('<NODE>')
    .option('--availability <string>', 'Availability of the node ("active", "pause", "drain")', flagParser('--availability', parseAvailability))
    .option('--label-add <list>', 'Add or update a node label ("key=value")', repeatable('--label-add', parseKeyValue), [])
    .option('--label-rm <list>', 'Remove a node label if exists', repeatable('--label-rm', parseNonEmpty), [])
    .option('--role <string>', 'Role of the node ("worker", "manager")', flagParser('--role', oneOf(['worker', 'manager'] as const)))
    .action(async (ref: string, o: { availability?: NodeAvailability; labelAdd: Array<[string, string]>; labelRm: string[]; role?: 'worker' | 'manager' }) => {
      const c = ctx();
      const clients = c.clients();
      await updateNode(clients, ref, (spec) => {
        if (o.availability !== undefined) spec.availability = o.availability;
        if (o.role) spec.desiredRole = o.role === 'manager' ? NodeRole.NODE_ROLE_MANAGER : NodeRole.NODE_ROLE_WORKER;
        for (const [k, v] of o.labelAdd) spec.labels[k] = v;
        for (const k of o.labelRm) delete spec.labels[k];
        return true;
      });
      c.out(`${ref}\n`);
    });
}

function roleCommand(ctx: Ctx, name: 'promote' | 'demote'): Command {
  const role = name === 'promote' ? NodeRole.NODE_ROLE_MANAGER : NodeRole.NODE_ROLE_WORKER;
  return new Command(name)
    .description(name === 'promote' ? 'Promote one or more nodes to manager in the swarm' : 'Demote one or more nodes from manager in the swarm')
    .usage('NODE [NODE...]')
    .argument('<NODE...>')
    .action(async (refs: string[]) => {
      const c = ctx();
      const clients = c.clients();
      for (const ref of refs) {
        let already = false;
        const node = await updateNode(clients, ref, (spec) => {
          already = spec.desiredRole === role;
          spec.desiredRole = role;
          return !already;
        });
        if (already) c.out(`Node ${node.id} is already a ${name === 'promote' ? 'manager' : 'worker'}.\n`);
        else c.out(name === 'promote' ? `Node ${ref} promoted to a manager in the swarm.\n` : `Manager ${ref} demoted in the swarm.\n`);
      }
    });
}

const nodePromoteCommand = (ctx: Ctx) => roleCommand(ctx, 'promote');
const nodeDemoteCommand = (ctx: Ctx) => roleCommand(ctx, 'demote');

function nodeRemoveCommand(ctx: Ctx): Command {
  return new Command('rm')
    .alias('remove')
    .description('Remove one or more nodes from the swarm')
    .usage('[OPTIONS] NODE [NODE...]')
    .argument('<NODE...>')
    .option('-f, --force', 'Force remove a node from the swarm')
    .action(async (refs: string[], o: { force?: boolean }) => {
      const c = ctx();
      const clients = c.clients();
      const errors: string[] = [];
      for (const ref of refs) {
        try {
          await call(clients, clients.control.removeNode, clients.control, { nodeId: ref, force: Boolean(o.force) });
          c.out(`${ref}\n`);
        } catch (e) {
          errors.push((e as Error).message);
        }
      }
      if (errors.length) throw new CliError(errors.join('\n'));
    });
}
