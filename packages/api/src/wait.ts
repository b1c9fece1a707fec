/**
 * Polls `cond` every 5 ms until it holds; rejects after `timeoutMs` naming `what`. For tests
 * that wait on in-process state (a fake peer received, a stream subscribed). The one copy the
 * packages' tests share, like seededRng.
 */
export async function waitUntil(what: string, cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
