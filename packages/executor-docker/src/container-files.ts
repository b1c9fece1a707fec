// The /etc/resolv.conf and /etc/hosts every container on this node mounts, written once by the
// node. Containers are created with Docker's networking disabled (see createOptions), so the
// engine writes neither file; tswarm's own, bind-mounted read-only, take their place.
//
// Why not let the engine write them: with networking enabled (even `none`), Docker's start of
// a container runs its libnetwork-setkey hook and a sandbox set-up — two re-executions of the
// engine on every start, ≈ 250 ms of a 450-ms start on the machine this was measured on.
// tswarm's data plane does all the container's networking, so nothing of Docker's is lost.
//
// Read-only and shared by the node's containers: the content is the same for all of them
// (the node's resolver, the localhost names), and a shared file must not be writable by any one
// of them. A process that rewrites either file gets EROFS — the one difference from Swarm,
// whose per-container copies are writable.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** The hosts file Docker writes for a container on networking `none`. */
export const CONTAINER_HOSTS = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
  '',
].join('\n');

/**
 * A container's resolv.conf: the node's resolvers as nameservers, and the host's `search` and
 * `options` lines kept, as Docker keeps them when it is given DNS servers.
 */
export function containerResolvConf(hostResolvConf: string, nameservers: readonly string[]): string {
  const kept = hostResolvConf.split('\n').map((l) => l.trim()).filter((l) => /^(search|options)\s/.test(l));
  return [...nameservers.map((ns) => `nameserver ${ns}`), ...kept, ''].join('\n');
}

/** Where the files are, for createOptions. */
export interface ContainerFiles {
  readonly resolvConfPath: string;
  readonly hostsPath: string;
}

/**
 * Writes both files into `dir` (created if missing), each through a temporary file renamed
 * into place: a container that mounted the previous version keeps its inode, whole.
 */
export async function writeContainerFiles(dir: string, nameservers: readonly string[], hostResolvConf = '/etc/resolv.conf'): Promise<ContainerFiles> {
  if (nameservers.length === 0) throw new Error('containers need a nameserver: the node\'s resolver has no address');
  const host = await readFile(hostResolvConf, 'utf8').catch(() => '');
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const files = { resolvConfPath: path.join(dir, 'resolv.conf'), hostsPath: path.join(dir, 'hosts') };
  await replace(files.resolvConfPath, containerResolvConf(host, nameservers));
  await replace(files.hostsPath, CONTAINER_HOSTS);
  return files;
}

async function replace(file: string, content: string): Promise<void> {
  const tmp = `${file}.tmp`;
  await writeFile(tmp, content, { mode: 0o644 });
  await rename(tmp, file);
}
