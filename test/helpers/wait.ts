/**
 * Polls `cond` until it holds; rejects after `timeoutMs` naming `what`. For tests: wait on conditions, never on fixed
 * sleeps.
 */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 5000, what = ''): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let delay = 1;
  for (;;) {
    if (await cond()) return;
    if (performance.now() >= deadline)
      throw new Error(`waitFor timed out after ${timeoutMs} ms${what ? `: ${what}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 20);
  }
}
