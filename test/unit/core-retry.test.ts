import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retrying } from '../../src/core/retry.js';
import { ExponentialBackoff, LinearBackoff } from '../../src/core/backoff.js';
import { AgentError, ChannelFullError } from '../../src/core/errors.js';

/** An attempt refused `n` times with `err`, then accepted. */
function refusing(n: number, err: () => unknown = () => new ChannelFullError('full')) {
  const s = { calls: 0 };
  return Object.assign(s, {
    attempt: async () => {
      s.calls++;
      if (s.calls <= n) throw err();
    },
  });
}

test('retrying: a refused attempt is repeated after each backoff wait until it is accepted', async () => {
  const a = refusing(4);
  const waits: number[] = [];
  const retries: number[] = [];
  const ok = await retrying(a.attempt, {
    backoff: new ExponentialBackoff(100, 300),
    signal: new AbortController().signal,
    onRetry: (_err, attempt, wait) => retries.push(attempt * 1000 + wait),
    sleep: async (ms) => {
      waits.push(ms);
    },
  });
  assert.equal(ok, true);
  assert.equal(a.calls, 5);
  assert.deepEqual(waits, [100, 200, 300, 300]);
  assert.deepEqual(retries, [1100, 2200, 3300, 4300]);
});

test('retrying: accepted at once costs no wait; the backoff restarts with every call (linear timing)', async () => {
  const backoff = new LinearBackoff(1000, 2500);
  const waits: number[] = [];
  const policy = { backoff, signal: new AbortController().signal, sleep: async (ms: number) => void waits.push(ms) };
  assert.equal(await retrying(refusing(0).attempt, policy), true);
  assert.deepEqual(waits, []);
  await retrying(refusing(3).attempt, policy);
  await retrying(refusing(1).attempt, policy);
  assert.deepEqual(waits, [1000, 2000, 2500, 1000]);
});

test('retrying: a refusal that is not retriable is rethrown at once; `retriable` widens what is retried', async () => {
  const sleepless = { backoff: new LinearBackoff(1, 1), signal: new AbortController().signal, sleep: async () => {} };
  const closed = () => new AgentError('FLUME_ERR_CHANNEL_CLOSED', 'closed');
  const a = refusing(2, closed);
  await assert.rejects(retrying(a.attempt, sleepless), /closed/);
  assert.equal(a.calls, 1);
  const b = refusing(2, closed);
  assert.equal(await retrying(b.attempt, { ...sleepless, retriable: () => true }), true);
  assert.equal(b.calls, 3);
  const c = refusing(3);
  const twice = (e: unknown) => e instanceof ChannelFullError && c.calls < 2;
  await assert.rejects(retrying(c.attempt, { ...sleepless, retriable: twice }));
  assert.equal(c.calls, 2);
});

test('retrying: aborting gives up (false); a wait cut short by the abort still gets one more attempt', async () => {
  const ctl = new AbortController();
  const a = refusing(10);
  const done = retrying(a.attempt, { backoff: new LinearBackoff(60_000, 60_000), signal: ctl.signal });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(a.calls, 1, 'waiting the backoff');
  ctl.abort();
  assert.equal(await done, false);
  assert.equal(a.calls, 2);
  const b = refusing(1);
  assert.equal(await retrying(b.attempt, { backoff: new LinearBackoff(60_000, 60_000), signal: ctl.signal }), false);
  assert.equal(b.calls, 1, 'already aborted: one attempt, no retry');
  assert.equal(await retrying(refusing(0).attempt, { backoff: new LinearBackoff(1, 1), signal: ctl.signal }), true);
});

test('retrying: starts from a refusal the caller already got (a pipelined emit)', async () => {
  const a = refusing(0);
  const waits: number[] = [];
  const ok = await retrying(
    a.attempt,
    {
      backoff: new ExponentialBackoff(5, 10),
      signal: new AbortController().signal,
      sleep: async (ms) => void waits.push(ms),
    },
    { error: new ChannelFullError('full') },
  );
  assert.equal(ok, true);
  assert.equal(a.calls, 1);
  assert.deepEqual(waits, [5]);
});
