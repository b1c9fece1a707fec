// Pieces every Docker-shaped inspect JSON shares: times as Go writes them, and the fields a
// swarm object opens with (its ID and the swarm.Meta Docker embeds: Version, CreatedAt, UpdatedAt).
import type { Meta } from '@tswarm/api';

/** Go's zero time.Time, which Docker's JSON holds for a time never set. */
const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

/**
 * A time as Go's encoding/json writes a time.Time: RFC 3339 in UTC, the fraction's trailing
 * zeros dropped ("…:05.12Z", "…:05Z"). tswarm keeps milliseconds, so at most three digits
 * where Docker has nine; 0 (never set) is Go's zero time.
 */
export function goJsonTime(ms: number | undefined): string {
  if (!ms) return GO_ZERO_TIME;
  const [whole, fraction = ''] = new Date(ms).toISOString().slice(0, -1).split('.');
  const digits = fraction.replace(/0+$/, '');
  return `${whole}${digits ? `.${digits}` : ''}Z`;
}

/** `ID`, `Version.Index`, `CreatedAt`, `UpdatedAt`: the head of a swarm object in Docker's JSON. */
export function swarmMeta(id: string, meta: Meta | undefined): Record<string, unknown> {
  return { ID: id, Version: { Index: meta?.version ?? 0 }, CreatedAt: goJsonTime(meta?.createdAtMs), UpdatedAt: goJsonTime(meta?.updatedAtMs) };
}
