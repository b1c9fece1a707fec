import { Command, Option } from 'commander';
import { API_VERSION, InfoResponse, TSWARM_VERSION, VersionResponse } from '@tswarm/api';
import { call } from '../client.js';
import { checkFormat, Context } from '../context.js';
import { humanBytes, keyValues, section } from '../format.js';

type Ctx = () => Context;

export function versionCommand(ctx: Ctx): Command {
  return new Command('version')
    .description('Show the tswarm version information')
    .addOption(new Option('-f, --format <string>', 'Format output: "json" or "table"'))
    .action(async (opts: { format?: string }) => {
      const format = checkFormat(opts.format);
      const c = ctx();
      const client = { version: TSWARM_VERSION, apiVersion: API_VERSION, nodeVersion: process.version, os: process.platform, arch: process.arch };
      if (format === 'table') c.out(renderClientVersion(client).join('\n') + '\n');
      // Like Docker: the client half is printed even when the daemon cannot be reached.
      const clients = c.clients();
      const server = await call(clients, clients.daemon.version, clients.daemon, {});
      if (format === 'json') c.out(JSON.stringify({ Client: client, Server: server }, null, 2) + '\n');
      else c.out('\n' + renderServerVersion(server).join('\n') + '\n');
    });
}

function renderClientVersion(v: { version: string; apiVersion: string; nodeVersion: string; os: string; arch: string }): string[] {
  return ['Client:', ...section(' ', [['Version', v.version], ['API version', v.apiVersion], ['Node version', v.nodeVersion], ['OS/Arch', `${v.os}/${v.arch}`]])];
}

function renderServerVersion(v: VersionResponse): string[] {
  return ['Server:', ' tswarmd:', ...section('  ', [['Version', v.version], ['API version', v.apiVersion], ['Node version', v.nodeVersion], ['OS/Arch', `${v.os}/${v.arch}`]])];
}

export function infoCommand(ctx: Ctx): Command {
  return new Command('info')
    .description('Display system-wide information')
    .addOption(new Option('-f, --format <string>', 'Format output: "json" or "table"'))
    .action(async (opts: { format?: string }) => {
      const format = checkFormat(opts.format);
      const c = ctx();
      const clients = c.clients();
      const info = await call(clients, clients.daemon.info, clients.daemon, {});
      c.out(format === 'json' ? JSON.stringify(info, null, 2) + '\n' : renderInfo(info, c.debug).join('\n') + '\n');
    });
}

export function renderInfo(i: InfoResponse, debug: boolean): string[] {
  const lines = ['Client:', ...keyValues(' ', [['Version', TSWARM_VERSION], ['Debug Mode', String(debug)]]), '', 'Server:'];
  const e = i.engine;
  const rows: Array<[string, string]> = [];
  if (e && !e.error) rows.push(['Containers', String(e.containers)], ['Images', String(e.images)]);
  rows.push(['Server Version', i.version]);
  rows.push(['Docker Engine', e && !e.error ? `${e.serverVersion} (${i.dockerHost})` : `unreachable at ${i.dockerHost}`]);
  lines.push(...keyValues(' ', rows));
  const s = i.swarm;
  lines.push(` Swarm: ${s?.localNodeState || 'inactive'}`);
  if (s && s.localNodeState === 'active') {
    lines.push(...keyValues('  ', [['NodeID', s.nodeId], ['Is Manager', String(s.isManager)], ['ClusterID', s.clusterId], ['Node Address', s.nodeAddr]]));
  }
  if (s?.error) lines.push(`  Error: ${s.error}`);
  lines.push(...keyValues(' ', [
    ['Kernel Version', i.kernelVersion],
    ['Operating System', i.operatingSystem],
    ['CPUs', String(i.cpus)],
    ['Total Memory', humanBytes(i.memoryBytes)],
    ['Name', i.hostname],
    ['Addresses', i.addresses.join(', ') || '-'],
    ['Data Dir', i.dataDir],
  ]));
  if (e?.error) lines.push('', `WARNING: ${e.error}`);
  return lines;
}
