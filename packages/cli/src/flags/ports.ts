import { PortConfig, PortProtocol, PublishMode } from '@tswarm/api';
import { BadValue, parsePort } from './parse.js';

/**
 * --publish in Docker's forms, into wire PortConfigs:
 *   `8080:80`, `8080:80/udp`, `80` (published port picked by the cluster), ranges
 *   `8080-8081:80-81`; long form `published=8080,target=80,protocol=udp,mode=host`;
 *   and the short form behind a mode, `mode=host,8080:80/tcp`.
 * A host IP (`127.0.0.1:8080:80`) is refused: the routing mesh listens on every address.
 */
export function parsePublish(v: string): PortConfig[] {
  const parts = v.split(',').map((p) => p.trim());
  const fields = new Map<string, string>();
  const bare: string[] = [];
  for (const p of parts) {
    const i = p.indexOf('=');
    if (i < 0) bare.push(p);
    else fields.set(p.slice(0, i).toLowerCase(), p.slice(i + 1));
  }
  if (bare.length > 1 || (bare.length === 1 && (fields.has('target') || fields.has('published')))) {
    throw new BadValue('mix of short and long port syntax; use PUBLISHED:TARGET[/PROTOCOL] or published=…,target=…');
  }
  for (const k of fields.keys()) {
    if (!['mode', 'target', 'published', 'protocol'].includes(k)) throw new BadValue(`unknown field "${k}" (expected mode, target, published, protocol)`);
  }
  const mode = publishMode(fields.get('mode') ?? 'ingress');
  let ports: PortConfig[];
  if (bare.length === 1) {
    if (fields.has('protocol')) throw new BadValue('give the protocol as PUBLISHED:TARGET/udp in the short form');
    ports = parseShort(bare[0]!);
  } else {
    const target = fields.get('target');
    if (target === undefined) throw new BadValue('missing mandatory field "target"');
    const published = fields.get('published');
    ports = [port(protocol(fields.get('protocol') ?? 'tcp'), parsePort(target), published === undefined ? 0 : parsePort(published, true))];
  }
  return ports.map((p) => ({ ...p, publishMode: mode }));
}

function parseShort(s: string): PortConfig[] {
  const [spec, proto, extra] = s.split('/');
  if (extra !== undefined || spec === undefined || spec === '') throw new BadValue('expected PUBLISHED:TARGET[/tcp|udp], e.g. 8080:80');
  const prot = protocol(proto ?? 'tcp');
  const pieces = spec.split(':');
  if (pieces.length > 2) throw new BadValue('a host IP cannot be given for a service port; the port is published on every node');
  const targets = range(pieces[pieces.length - 1]!, false);
  const published = pieces.length === 2 ? range(pieces[0]!, true) : targets.map(() => 0);
  if (published.length !== targets.length) {
    if (published.length !== 1 || published[0] !== 0) throw new BadValue('published and target port ranges differ in size');
  }
  return targets.map((t, i) => port(prot, t, published[i] ?? 0));
}

function range(s: string, allowZero: boolean): number[] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw new BadValue(`"${s}" is not a port or port range`);
  const lo = parsePort(m[1]!, allowZero);
  const hi = m[2] === undefined ? lo : parsePort(m[2], allowZero);
  if (hi < lo) throw new BadValue(`invalid port range ${s}`);
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
}

function port(protocol: PortProtocol, targetPort: number, publishedPort: number): PortConfig {
  return { name: '', protocol, targetPort, publishedPort, publishMode: PublishMode.PUBLISH_MODE_INGRESS };
}

function protocol(s: string): PortProtocol {
  switch (s.toLowerCase()) {
    case 'tcp': return PortProtocol.PORT_PROTOCOL_TCP;
    case 'udp': return PortProtocol.PORT_PROTOCOL_UDP;
    default: throw new BadValue(`unsupported protocol "${s}" (expected tcp or udp)`);
  }
}

function publishMode(s: string): PublishMode {
  switch (s.toLowerCase()) {
    case 'ingress': return PublishMode.PUBLISH_MODE_INGRESS;
    case 'host': return PublishMode.PUBLISH_MODE_HOST;
    default: throw new BadValue(`unsupported publish mode "${s}" (expected ingress or host)`);
  }
}

/** `*:8080->80/tcp`, Docker's PORTS notation (host-mode ports too, as `service ps` shows them). */
export function formatPort(p: PortConfig): string {
  return `*:${p.publishedPort}->${p.targetPort}/${p.protocol === PortProtocol.PORT_PROTOCOL_UDP ? 'udp' : 'tcp'}`;
}

/**
 * The target of --publish-rm: `80`, `80/udp` or any --publish form (its target port and
 * protocol are what count, as in Docker).
 */
export function parsePublishRemove(v: string): Array<{ targetPort: number; protocol: PortProtocol }> {
  if (/^\d+(\/\w+)?$/.test(v)) {
    const [t, p] = v.split('/');
    return [{ targetPort: parsePort(t!), protocol: protocol(p ?? 'tcp') }];
  }
  return parsePublish(v).map((p) => ({ targetPort: p.targetPort, protocol: p.protocol }));
}
