import { PublishMode, Service, ServiceCounts } from '@tswarm/api';
import { formatPort } from '../flags/ports.js';
import { jsonLines, naturalCompare, table, truncateId } from './table.js';

/**
 * `service ls` rows: ID NAME MODE REPLICAS IMAGE PORTS, sorted by name. REPLICAS is
 * running/desired for both modes (Docker prints a global service the same way, "3/3").
 * PORTS lists the routing-mesh (ingress) ports, as Docker does; host-mode ports show in `ps`.
 */
export function renderServiceList(services: Service[], counts: Record<string, ServiceCounts>, opts: { quiet: boolean; format: 'json' | 'table' }): string[] {
  const sorted = [...services].sort((a, b) => naturalCompare(a.spec?.name ?? '', b.spec?.name ?? ''));
  if (opts.quiet) return sorted.map((s) => truncateId(s.id));
  const rows = sorted.map((s) => ({
    ID: truncateId(s.id),
    Name: s.spec?.name ?? '',
    Mode: s.spec?.mode?.$case ?? '',
    Replicas: replicas(s, counts[s.id]),
    Image: displayImage(s.spec?.task?.container?.image ?? ''),
    Ports: servicePorts(s),
  }));
  if (opts.format === 'json') return jsonLines(rows);
  return table([['ID', 'NAME', 'MODE', 'REPLICAS', 'IMAGE', 'PORTS'], ...rows.map((r) => [r.ID, r.Name, r.Mode, r.Replicas, r.Image, r.Ports])]);
}

function replicas(s: Service, c: ServiceCounts | undefined): string {
  const desired = c?.desired ?? (s.spec?.mode?.$case === 'replicated' ? s.spec.mode.value.replicas : 0);
  return `${c?.running ?? 0}/${desired}`;
}

/** The image without its pinned digest, as Docker's tables show it ("nginx:1.25", not "nginx:1.25@sha256:…"). */
export function displayImage(image: string): string {
  return image.replace(/@sha256:[0-9a-f]+$/, '');
}

function servicePorts(s: Service): string {
  const ports = (s.endpoint?.ports.length ? s.endpoint.ports : s.spec?.endpoint?.ports ?? [])
    .filter((p) => p.publishMode === PublishMode.PUBLISH_MODE_INGRESS)
    .sort((a, b) => a.protocol - b.protocol || a.publishedPort - b.publishedPort);
  return ports.map(formatPort).join(', ');
}
