import * as assert from 'node:assert/strict';
import { TaskState as S, silentLogger, type TaskStatusUpdate } from '@tswarm/api';
import { StatusReporter, STATUS_FLUSH_MS, makeStatus } from '../src/index.js';
import { ManualClock } from './manual-clock.js';

describe('StatusReporter', () => {
  let clock: ManualClock;
  let sent: TaskStatusUpdate[][];
  let fail: boolean;
  let reporter: StatusReporter;

  beforeEach(() => {
    clock = new ManualClock();
    sent = [];
    fail = false;
    reporter = new StatusReporter({ clock, logger: silentLogger });
    reporter.setSender(async (u) => {
      if (fail) throw new Error('UNAVAILABLE');
      sent.push(u);
    });
  });

  it('sends the first report after a quiet period at once, with the rest of that turn, newest state per task', async () => {
    for (let i = 0; i < 50; i++) reporter.report(`t${i}`, makeStatus(S.TASK_STATE_ACCEPTED, clock.now()));
    for (let i = 0; i < 50; i++) reporter.report(`t${i}`, makeStatus(S.TASK_STATE_RUNNING, clock.now()));
    await clock.advance(0);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.length, 50);
    assert.ok(sent[0]!.every((u) => u.status?.state === S.TASK_STATE_RUNNING));
  });

  it('gathers what is reported within STATUS_FLUSH_MS of a call into the next one, sent when the period ends', async () => {
    reporter.report('t0', makeStatus(S.TASK_STATE_ACCEPTED, clock.now()));
    await clock.advance(0);
    assert.equal(sent.length, 1);
    await clock.advance(30);
    for (let i = 1; i <= 20; i++) reporter.report(`t${i}`, makeStatus(S.TASK_STATE_RUNNING, clock.now()));
    await clock.advance(STATUS_FLUSH_MS - 31);
    assert.equal(sent.length, 1, 'nothing more before the period since the last call ends');
    await clock.advance(1);
    assert.equal(sent.length, 2);
    assert.equal(sent[1]!.length, 20);
    // Quiet for a period again: the next report goes at once.
    await clock.advance(STATUS_FLUSH_MS);
    reporter.report('t0', makeStatus(S.TASK_STATE_RUNNING, clock.now()));
    await clock.advance(0);
    assert.equal(sent.length, 3);
  });

  it('an older state never replaces a newer one still queued', async () => {
    reporter.report('t1', makeStatus(S.TASK_STATE_RUNNING, 1));
    reporter.report('t1', makeStatus(S.TASK_STATE_STARTING, 2));
    await clock.advance(STATUS_FLUSH_MS);
    assert.equal(sent[0]![0]!.status?.state, S.TASK_STATE_RUNNING);
  });

  it('retries a failed batch, merged under anything newer reported meanwhile', async () => {
    fail = true;
    reporter.report('t1', makeStatus(S.TASK_STATE_RUNNING, 1));
    reporter.report('t2', makeStatus(S.TASK_STATE_RUNNING, 1));
    await clock.advance(STATUS_FLUSH_MS);
    assert.equal(reporter.pendingCount, 2);
    reporter.report('t1', makeStatus(S.TASK_STATE_FAILED, 2));
    fail = false;
    await clock.advance(1_000);
    const last = new Map(sent.flat().map((u) => [u.taskId, u.status?.state]));
    assert.equal(last.get('t1'), S.TASK_STATE_FAILED);
    assert.equal(last.get('t2'), S.TASK_STATE_RUNNING);
    assert.equal(reporter.pendingCount, 0);
  });

  it('holds updates while there is no session and sends them when one opens', async () => {
    reporter.setSender(undefined);
    reporter.report('t1', makeStatus(S.TASK_STATE_RUNNING, 1));
    await clock.advance(10 * STATUS_FLUSH_MS);
    assert.equal(sent.length, 0);
    reporter.setSender(async (u) => { sent.push(u); });
    await clock.advance(0);
    assert.equal(sent.length, 1);
  });
});
