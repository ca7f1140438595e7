import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { type MasterMessage, SHARE_STEP } from '../../src/ipc/messages.ts';
import { Dispatcher, type DispatchTarget } from '../../src/master/dispatcher.ts';

/** A worker that records what the master sends it. */
class FakeTarget implements DispatchTarget {
  static nextPid = 1;
  readonly pid = FakeTarget.nextPid++;
  readonly connections: Socket[] = [];
  readonly backlog: boolean[] = [];
  readonly balance: (number | null)[] = [];
  /** Connections received when `routing-stopped` arrived. */
  stoppedAfter: number | undefined;
  readonly process = {
    send: (
      message: MasterMessage,
      handle?: Socket,
      _options?: object,
      done?: (err: Error | null) => void,
    ) => {
      if (message.type === 'connection') this.connections.push(handle!);
      else if (message.type === 'backlog') this.backlog.push(message.waiting);
      else if (message.type === 'balance') this.balance.push(message.siblingFree);
      else if (message.type === 'routing-stopped') this.stoppedAfter = this.connections.length;
      done?.(null);
      return true;
    },
  };
}

/** A connection as the master receives it: here only its close event matters. */
const connection = () => new EventEmitter() as unknown as Socket;

test('a handed-off connection goes to the worker with the most free slots', () => {
  const d = new Dispatcher();
  const [a, b] = [new FakeTarget(), new FakeTarget()];
  d.capacity(a, 1);
  d.capacity(b, 3);
  const sockets = [connection(), connection(), connection()];
  for (const s of sockets) d.handoff(s);
  assert.deepEqual(b.connections, sockets.slice(0, 2), 'b had 3, then 2, while a had 1');
  assert.equal(a.connections.length + b.connections.length, 3);
});

test('with no free slot anywhere connections wait in order, and workers hear of the backlog', () => {
  const d = new Dispatcher();
  const a = new FakeTarget();
  d.capacity(a, 0);
  const [first, second] = [connection(), connection()];
  d.handoff(first);
  d.handoff(second);
  assert.deepEqual(a.connections, []);
  assert.deepEqual(a.backlog, [true]);
  d.capacity(a, 1);
  assert.deepEqual(a.connections, [first]);
  d.capacity(a, 1);
  assert.deepEqual(a.connections, [first, second]);
  assert.deepEqual(a.backlog, [true, false], 'told once when the queue emptied');
});

test('a worker that joins during a backlog is told at once', () => {
  const d = new Dispatcher();
  const a = new FakeTarget();
  d.capacity(a, 0);
  d.handoff(connection());
  const late = new FakeTarget();
  d.capacity(late, 0);
  assert.deepEqual(late.backlog, [true]);
});

test('a connection whose client left while queued is not routed', () => {
  const d = new Dispatcher();
  const a = new FakeTarget();
  d.capacity(a, 0);
  const [gone, kept] = [connection(), connection()];
  d.handoff(gone);
  d.handoff(kept);
  (gone as unknown as EventEmitter).emit('close');
  d.capacity(a, 2);
  assert.deepEqual(a.connections, [kept]);
});

test('a removed (draining) worker gets nothing more; a failed pass is retried elsewhere', () => {
  const d = new Dispatcher();
  const [a, b] = [new FakeTarget(), new FakeTarget()];
  d.capacity(a, 5);
  d.remove(a);
  d.handoff(connection());
  assert.deepEqual(a.connections, []);
  const closing = new FakeTarget();
  closing.process.send = (_m, _h, _o, done) => {
    done?.(new Error('channel closed'));
    return false;
  };
  d.capacity(closing, 5);
  d.capacity(b, 1);
  assert.equal(b.connections.length, 1, 'the connection moved on to b');
});

test('a draining worker that asks is answered behind what was routed to it, and gets nothing more', () => {
  const d = new Dispatcher();
  const [draining, other] = [new FakeTarget(), new FakeTarget()];
  d.capacity(draining, 2);
  const routed = connection();
  d.handoff(routed);
  d.stopRouting(draining);
  assert.equal(draining.stoppedAfter, 1, 'answered after the connection already sent');
  const later = connection();
  d.handoff(later);
  d.capacity(other, 1);
  assert.deepEqual(draining.connections, [routed]);
  assert.deepEqual(other.connections, [later]);
});

test('when every worker queues requests beyond its slots, a connection goes to the least loaded at once', () => {
  const d = new Dispatcher();
  const [busy, busier] = [new FakeTarget(), new FakeTarget()];
  d.capacity(busy, -3, true);
  d.capacity(busier, -9, true);
  const [first, second] = [connection(), connection()];
  d.handoff(first);
  d.handoff(second);
  assert.deepEqual(busy.connections, [first, second], 'its estimate fell to -5, still above -9');
  assert.deepEqual(busy.backlog, [], 'nothing waited in the master');
});

test('a worker exactly full, or one that does not queue, makes connections wait for a free slot', () => {
  for (const [free, queues] of [
    [0, true],
    [0, false],
  ] as const) {
    const d = new Dispatcher();
    const [saturated, other] = [new FakeTarget(), new FakeTarget()];
    d.capacity(saturated, -5, true);
    d.capacity(other, free, queues);
    d.handoff(connection());
    assert.deepEqual([saturated.connections, other.connections], [[], []]);
    d.capacity(other, 1, queues);
    assert.equal(other.connections.length, 1);
  }
});

test('with every worker draining, a connection handed off goes to a draining one until it stops routing', () => {
  const d = new Dispatcher();
  const [a, b] = [new FakeTarget(), new FakeTarget()];
  d.capacity(a, 0);
  d.capacity(b, 0);
  const queued = connection();
  d.handoff(queued);
  d.drain(a);
  assert.deepEqual(a.connections, [], 'b still serves');
  d.drain(b);
  assert.deepEqual([...a.connections, ...b.connections], [queued], 'stopping: no one else will serve it');
  d.stopRouting(a);
  d.stopRouting(b);
  d.handoff(connection());
  assert.equal(a.connections.length + b.connections.length, 1);
});

test("each worker hears of its least loaded sibling's free count when it moved by a step", () => {
  const d = new Dispatcher();
  const [a, b] = [new FakeTarget(), new FakeTarget()];
  d.capacity(a, 1000);
  assert.deepEqual(a.balance, [null], 'no sibling yet');
  d.capacity(b, 1000);
  assert.deepEqual([a.balance, b.balance], [[null, 1000], [1000]]);
  d.capacity(a, 1000 - SHARE_STEP + 1);
  assert.deepEqual(b.balance, [1000], 'less than a step');
  d.capacity(a, 1000 - SHARE_STEP);
  assert.deepEqual(b.balance, [1000, 1000 - SHARE_STEP]);
  // What a hands off goes to b, the most free, and what is routed counts as b's until b reports.
  for (let i = 0; i < SHARE_STEP; i++) d.handoff(connection());
  assert.equal(b.connections.length, SHARE_STEP);
  assert.deepEqual(a.balance, [null, 1000, 1000 - SHARE_STEP]);
  d.remove(b);
  d.capacity(a, 1000);
  assert.deepEqual(a.balance.at(-1), null, 'alone again');
  // Workers that queue beyond their slots (threads) take no part.
  const [t1, t2] = [new FakeTarget(), new FakeTarget()];
  const queueing = new Dispatcher();
  queueing.capacity(t1, 4, true);
  queueing.capacity(t2, -40, true);
  assert.deepEqual([t1.balance, t2.balance], [[], []]);
});
