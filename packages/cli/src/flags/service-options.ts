import { Command, Option } from 'commander';
import { NetworkAttachmentConfig, PortConfig, PortProtocol } from '@tswarm/api';
import { parseNanoCpus, parseBytes } from './bytes.js';
import { parseConstraint } from './constraints.js';
import { formatDurationMs, parseDurationMs } from './duration.js';
import { BadValue, flagParser, oneOf, parseEnv, parseKeyValue, parseNonEmpty, parseRatio, parseUint, repeatable, shellSplit } from './parse.js';
import { parsePublish, parsePublishRemove } from './ports.js';

/**
 * The flags of `service create` and `service update`, named, typed and described as in
 * Docker's `cli/command/service/opts.go`. Values are parsed (and so validated) by commander
 * while it reads the command line; defaults are the ones Docker documents, and commander's
 * value source ("cli" vs "default") tells `update` which flags the user actually gave.
 */

export const MODES = ['replicated', 'global'] as const;
export const RESTART_CONDITIONS = ['none', 'on-failure', 'any'] as const;
export const FAILURE_ACTIONS = ['pause', 'continue', 'rollback'] as const;
export const ROLLBACK_FAILURE_ACTIONS = ['pause', 'continue'] as const;
export const ORDERS = ['stop-first', 'start-first'] as const;
export const ENDPOINT_MODES = ['vip', 'dnsrr'] as const;

/** Docker's defaults for the restart policy and update/rollback configs (swarmkit's api/defaults). */
export const DEFAULT_RESTART_DELAY_MS = 5_000;
export const DEFAULT_MONITOR_MS = 5_000;

export interface UpdateFlags {
  parallelism: number;
  delay: number;
  failureAction: (typeof FAILURE_ACTIONS)[number];
  monitor: number;
  maxFailureRatio: number;
  order: (typeof ORDERS)[number];
}

/** Every flag value after parsing; durations in ms, CPUs in nano-CPUs, memory in bytes. */
export interface ServiceFlags {
  detach?: boolean;
  quiet?: boolean;
  hostname?: string;
  stopGracePeriod?: number;
  stopSignal?: string;
  replicas?: number;
  reserveCpu?: number;
  reserveMemory?: number;
  limitCpu?: number;
  limitMemory?: number;
  restartCondition: (typeof RESTART_CONDITIONS)[number];
  restartDelay: number;
  restartMaxAttempts?: number;
  restartWindow: number;
  updateParallelism: number;
  updateDelay: number;
  updateFailureAction: (typeof FAILURE_ACTIONS)[number];
  updateMonitor: number;
  updateMaxFailureRatio: number;
  updateOrder: (typeof ORDERS)[number];
  rollbackParallelism: number;
  rollbackDelay: number;
  rollbackFailureAction: (typeof FAILURE_ACTIONS)[number];
  rollbackMonitor: number;
  rollbackMaxFailureRatio: number;
  rollbackOrder: (typeof ORDERS)[number];
  endpointMode: (typeof ENDPOINT_MODES)[number];
  // create only
  name?: string;
  mode: (typeof MODES)[number];
  env: string[];
  label: Array<[string, string]>;
  containerLabel: Array<[string, string]>;
  constraint: string[];
  network: NetworkAttachmentConfig[];
  networkAlias: string[];
  publish: PortConfig[][];
  // update only
  image?: string;
  args?: string[];
  envAdd: string[];
  envRm: string[];
  labelAdd: Array<[string, string]>;
  labelRm: string[];
  containerLabelAdd: Array<[string, string]>;
  containerLabelRm: string[];
  constraintAdd: string[];
  constraintRm: string[];
  publishAdd: PortConfig[][];
  publishRm: Array<Array<{ targetPort: number; protocol: PortProtocol }>>;
  networkAdd: NetworkAttachmentConfig[];
  networkRm: string[];
  force?: boolean;
  rollback?: boolean;
}

function opt(flags: string, description: string, parse?: (v: string) => unknown): Option {
  const o = new Option(flags, description);
  const long = /--[\w-]+/.exec(flags)![0];
  if (parse) o.argParser(flagParser(long, parse));
  return o;
}

function list(flags: string, description: string, parse: (v: string) => unknown): Option {
  const long = /--[\w-]+/.exec(flags)![0];
  return new Option(flags, description).argParser(repeatable(long, parse)).default([]);
}

function durationOpt(flags: string, description: string, dflt?: number): Option {
  const o = opt(flags, `${description} (ns|us|ms|s|m|h)`, parseDurationMs);
  return dflt === undefined ? o : o.default(dflt, formatDurationMs(dflt));
}

/** --network NAME or Docker's long form `name=NAME,alias=A,alias=B`. */
function parseNetwork(v: string): NetworkAttachmentConfig {
  if (!v.includes('=')) return { target: parseNonEmpty(v), aliases: [] };
  const out: NetworkAttachmentConfig = { target: '', aliases: [] };
  for (const part of v.split(',')) {
    const [k, val = ''] = part.split('=', 2) as [string, string?];
    if (k === 'name' || k === 'target') out.target = val;
    else if (k === 'alias') out.aliases.push(val);
    else throw new BadValue(`unknown field "${k}" (expected name, alias)`);
  }
  if (!out.target) throw new BadValue('missing network name');
  return out;
}

/** Flags that `create` and `update` share (Docker's addServiceFlags). */
function addCommonFlags(cmd: Command): void {
  const upd = (prefix: 'update' | 'rollback', what: string) => {
    const actions = prefix === 'update' ? FAILURE_ACTIONS : ROLLBACK_FAILURE_ACTIONS;
    cmd
      .addOption(opt(`--${prefix}-parallelism <uint>`, `Maximum number of tasks ${what} simultaneously (0 to ${prefix === 'update' ? 'update' : 'roll back'} all at once)`, parseUint).default(1))
      .addOption(durationOpt(`--${prefix}-delay <duration>`, prefix === 'update' ? 'Delay between updates' : 'Delay between task rollbacks', 0))
      .addOption(opt(`--${prefix}-failure-action <string>`, `Action on ${prefix} failure (${actions.map((a) => `"${a}"`).join(', ')})`, oneOf(actions)).default('pause'))
      .addOption(durationOpt(`--${prefix}-monitor <duration>`, `Duration after each task ${prefix} to monitor for failure`, DEFAULT_MONITOR_MS))
      .addOption(opt(`--${prefix}-max-failure-ratio <float>`, `Failure rate to tolerate during ${prefix === 'update' ? 'an update' : 'a rollback'}`, parseRatio).default(0))
      .addOption(opt(`--${prefix}-order <string>`, `${prefix === 'update' ? 'Update' : 'Rollback'} order ("start-first", "stop-first")`, oneOf(ORDERS)).default('stop-first'));
  };
  cmd
    .addOption(new Option('-d, --detach', 'Exit immediately instead of waiting for the service to converge'))
    .addOption(opt('--endpoint-mode <string>', 'Endpoint mode (vip or dnsrr)', oneOf(ENDPOINT_MODES)).default('vip'))
    .addOption(opt('--hostname <string>', 'Container hostname'))
    .addOption(opt('--limit-cpu <decimal>', 'Limit CPUs', parseNanoCpus))
    .addOption(opt('--limit-memory <bytes>', 'Limit Memory', parseBytes))
    .addOption(new Option('-q, --quiet', 'Suppress progress output'))
    .addOption(opt('--replicas <uint>', 'Number of tasks', parseUint))
    .addOption(opt('--reserve-cpu <decimal>', 'Reserve CPUs', parseNanoCpus))
    .addOption(opt('--reserve-memory <bytes>', 'Reserve Memory', parseBytes))
    .addOption(opt('--restart-condition <string>', 'Restart when condition is met ("none", "on-failure", "any")', oneOf(RESTART_CONDITIONS)).default('any'))
    .addOption(durationOpt('--restart-delay <duration>', 'Delay between restart attempts', DEFAULT_RESTART_DELAY_MS))
    .addOption(opt('--restart-max-attempts <uint>', 'Maximum number of restarts before giving up', parseUint))
    .addOption(durationOpt('--restart-window <duration>', 'Window used to evaluate the restart policy', 0))
    // No value default: 0 on the wire means Docker's 10 s, applied by the executor.
    .addOption(opt('--stop-grace-period <duration>', 'Time to wait before force killing a container (ns|us|ms|s|m|h) (default 10s)', parseDurationMs))
    .addOption(opt('--stop-signal <string>', 'Signal to stop the container', parseNonEmpty));
  upd('rollback', 'rolled back');
  upd('update', 'updated');
}

/** `service create` flags. Commander keeps them in this order for help; help sorts them. */
export function addCreateFlags(cmd: Command): Command {
  cmd
    .addOption(list('--constraint <list>', 'Placement constraints', parseConstraint))
    .addOption(list('--container-label <list>', 'Container labels', parseKeyValue))
    .addOption(list('-e, --env <list>', 'Set environment variables', parseEnv))
    .addOption(list('-l, --label <list>', 'Service labels', parseKeyValue))
    .addOption(opt('--mode <string>', 'Service mode ("replicated", "global")', oneOf(MODES)).default('replicated'))
    .addOption(opt('--name <string>', 'Service name', parseNonEmpty))
    .addOption(list('--network <network>', 'Network attachments', parseNetwork))
    .addOption(list('--network-alias <list>', 'Add network-scoped aliases for the service (on every --network)', parseNonEmpty))
    .addOption(list('-p, --publish <port>', 'Publish a port as a node port', parsePublish));
  addCommonFlags(cmd);
  return cmd;
}

/** `service update` flags: the common set plus --image, --args and the -add/-rm pairs. */
export function addUpdateFlags(cmd: Command): Command {
  cmd
    .addOption(opt('--args <command>', 'Service command args', shellSplit))
    .addOption(list('--constraint-add <list>', 'Add or update a placement constraint', parseConstraint))
    .addOption(list('--constraint-rm <list>', 'Remove a constraint', parseNonEmpty))
    .addOption(list('--container-label-add <list>', 'Add or update a container label', parseKeyValue))
    .addOption(list('--container-label-rm <list>', 'Remove a container label by its key', parseNonEmpty))
    .addOption(list('--env-add <list>', 'Add or update an environment variable', parseEnv))
    .addOption(list('--env-rm <list>', 'Remove an environment variable', parseNonEmpty))
    .addOption(new Option('--force', 'Force update even if no changes require it'))
    .addOption(opt('--image <string>', 'Service image tag', parseNonEmpty))
    .addOption(list('--label-add <list>', 'Add or update a service label', parseKeyValue))
    .addOption(list('--label-rm <list>', 'Remove a label by its key', parseNonEmpty))
    .addOption(list('--network-add <network>', 'Add a network', parseNetwork))
    .addOption(list('--network-rm <list>', 'Remove a network', parseNonEmpty))
    .addOption(list('--publish-add <port>', 'Add or update a published port', parsePublish))
    .addOption(list('--publish-rm <port>', 'Remove a published port by its target port', parsePublishRemove))
    .addOption(new Option('--rollback', 'Rollback to previous specification'));
  addCommonFlags(cmd);
  return cmd;
}

/** Whether the user gave `key` on the command line (not a default). */
export function given(cmd: Command, key: keyof ServiceFlags): boolean {
  return cmd.getOptionValueSource(key) === 'cli';
}
