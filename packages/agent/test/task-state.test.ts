import * as assert from 'node:assert/strict';
import { TaskState as S } from '@tswarm/api';
import { exitStatus, failedState, nextStep, reconnectDelayMs, heartbeatDelayMs } from '../src/index.js';

describe('task state machine (pure)', () => {
  it('walks ASSIGNED → ACCEPTED → PREPARING → prepare → READY → STARTING → start → RUNNING → wait', () => {
    const d = S.TASK_STATE_RUNNING;
    assert.deepEqual(nextStep(d, S.TASK_STATE_ASSIGNED, false), { kind: 'advance', state: S.TASK_STATE_ACCEPTED, message: 'accepted' });
    assert.deepEqual(nextStep(d, S.TASK_STATE_ACCEPTED, false), { kind: 'advance', state: S.TASK_STATE_PREPARING, message: 'preparing' });
    assert.deepEqual(nextStep(d, S.TASK_STATE_PREPARING, false), { kind: 'prepare' });
    assert.deepEqual(nextStep(d, S.TASK_STATE_READY, false), { kind: 'advance', state: S.TASK_STATE_STARTING, message: 'starting' });
    assert.deepEqual(nextStep(d, S.TASK_STATE_STARTING, false), { kind: 'start' });
    assert.deepEqual(nextStep(d, S.TASK_STATE_RUNNING, false), { kind: 'wait' });
  });

  it('holds a task at READY when that is what the manager wants (start-first updates)', () => {
    assert.deepEqual(nextStep(S.TASK_STATE_READY, S.TASK_STATE_READY, false), { kind: 'idle' });
    assert.deepEqual(nextStep(S.TASK_STATE_READY, S.TASK_STATE_PREPARING, false), { kind: 'prepare' });
  });

  it('desired SHUTDOWN (or beyond) shuts down any task that is not terminal', () => {
    for (const s of [S.TASK_STATE_ASSIGNED, S.TASK_STATE_PREPARING, S.TASK_STATE_RUNNING]) {
      assert.deepEqual(nextStep(S.TASK_STATE_SHUTDOWN, s, false), { kind: 'shutdown' });
      assert.deepEqual(nextStep(S.TASK_STATE_REMOVE, s, false), { kind: 'shutdown' });
    }
  });

  it('terminal tasks stay put until their assignment is removed', () => {
    for (const s of [S.TASK_STATE_COMPLETE, S.TASK_STATE_SHUTDOWN, S.TASK_STATE_FAILED, S.TASK_STATE_REJECTED]) {
      assert.deepEqual(nextStep(S.TASK_STATE_RUNNING, s, false), { kind: 'idle' });
      assert.deepEqual(nextStep(S.TASK_STATE_RUNNING, s, true), { kind: 'remove', stopFirst: false });
    }
  });

  it('a removed task whose container may run is stopped before removal', () => {
    assert.deepEqual(nextStep(S.TASK_STATE_RUNNING, S.TASK_STATE_RUNNING, true), { kind: 'remove', stopFirst: true });
    assert.deepEqual(nextStep(S.TASK_STATE_RUNNING, S.TASK_STATE_STARTING, true), { kind: 'remove', stopFirst: true });
    assert.deepEqual(nextStep(S.TASK_STATE_RUNNING, S.TASK_STATE_READY, true), { kind: 'remove', stopFirst: false });
  });

  it('errors before STARTING reject the task; from STARTING on they fail it', () => {
    assert.equal(failedState(S.TASK_STATE_PREPARING), S.TASK_STATE_REJECTED);
    assert.equal(failedState(S.TASK_STATE_STARTING), S.TASK_STATE_FAILED);
    assert.equal(failedState(S.TASK_STATE_RUNNING), S.TASK_STATE_FAILED);
  });

  it('exit codes map to COMPLETE or FAILED with Docker\'s message', () => {
    assert.equal(exitStatus(0).state, S.TASK_STATE_COMPLETE);
    assert.deepEqual(exitStatus(2), { state: S.TASK_STATE_FAILED, message: 'started', err: 'task: non-zero exit (2)' });
  });
});

describe('timing', () => {
  it('reconnect backoff doubles from 100 ms to a cap of 8 s, with equal jitter', () => {
    assert.equal(reconnectDelayMs(0, () => 0), 50);
    assert.equal(reconnectDelayMs(0, () => 0.999999), 100);
    assert.equal(reconnectDelayMs(3, () => 0.999999), 800);
    assert.equal(reconnectDelayMs(20, () => 0.999999), 8_000);
    assert.equal(reconnectDelayMs(20, () => 0), 4_000);
  });

  it('heartbeats go out between 50 % and 80 % of the manager\'s period', () => {
    assert.equal(heartbeatDelayMs(1_000, () => 0), 500);
    assert.equal(heartbeatDelayMs(1_000, () => 0.999999), 800);
    assert.equal(heartbeatDelayMs(0, () => 0), 2_500, 'no period yet: Swarm\'s default 5 s');
  });
});
