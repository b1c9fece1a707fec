// The package's native addons (binding.gyp; node-gyp builds them at `npm ci`): where each one
// is and how a missing one is reported. A machine without build tools still installs; what
// needs an addon then says so in one line.
import { join } from 'node:path';

/** build/Release of this package, from this file's compiled location (dist/src). */
const RELEASE = join(__dirname, '..', '..', 'build', 'Release');

/** The compiled addon `name` (a binding.gyp target). */
export function addonPath(name: string): string {
  return join(RELEASE, `${name}.node`);
}

/** The one-line error for addon `name` (`what` it does) when it is missing or not loadable. */
export function addonMissing(name: string, what: string, cause?: unknown): Error {
  const why = cause instanceof Error ? `: ${cause.message.split('\n')[0]}` : '';
  return new Error(`the ${what} addon is not built (${addonPath(name)}${why}); run npm ci (needs python3, make, g++)`);
}

/** Loads addon `name`; throws addonMissing's error when it cannot. */
export function loadAddon<T>(name: string, what: string): T {
  try {
    return require(addonPath(name)) as T;
  } catch (e) {
    throw addonMissing(name, what, e);
  }
}
