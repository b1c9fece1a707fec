import { randomBytes } from 'node:crypto';

/** IDs like Swarm's: 25 lowercase base-36 characters from 128 random bits. */
export function newObjectId(): string {
  const n = BigInt('0x' + randomBytes(16).toString('hex'));
  return n.toString(36).padStart(25, '0').slice(-25);
}
