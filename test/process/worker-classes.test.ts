import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, test } from 'node:test';
import { establishedConnections } from '../helpers/proc.ts';
import {
  fixture,
  type Reply,
  request,
  Server,
  startServer,
  waitFor,
  waitServing,
} from '../helpers/server.ts';
import { getAndClose, getOn, open } from '../wire/raw.ts';

const app = fixture('concurrency.mjs');

interface Served {
  pid: number;
  thread: number;
  start: number;
  end: number;
  max: number;
}

interface Timed {
  reply: Reply;
  ms: number;
  served: Served;
}

/** One request on a new connection, timed from the moment it is sent. */
async function timed(port: number, path: string): Promise<Timed> {
  const sent = Date.now();
  const reply = await request({ port }, path, { timeoutMs: 20_000 });
  assert.equal(reply.status, 200, `${path}: ${reply.body}`);
  return { reply, ms: Date.now() - sent, served: JSON.parse(reply.body) };
}

/** The most requests whose [start, end) intervals overlap, per key. */
function maxOverlap(served: Served[], key: (s: Served) => string): number {
  const events = new Map<string, [number, number][]>();
  for (const s of served) {
    const list = events.get(key(s)) ?? [];
    list.push([s.start, 1], [s.end, -1]);
    events.set(key(s), list);
  }
  let most = 0;
  for (const list of events.values()) {
    let current = 0;
    // An end at the same millisecond as a start counts first: the app saw one after the other.
    for (const [, delta] of list.sort((a, b) => a[0] - b[0] || a[1] - b[1])) {
      current += delta;
      most = Math.max(most, current);
    }
  }
  return most;
}

async function serve(args: string[], workers: number): Promise<Server> {
  const server = await startServer([...args, '-b', '127.0.0.1:0', app], { workers });
  await server.waitForLog(new RegExp(`(Booting worker[\\s\\S]*){${workers}}`));
  await waitServing({ port: server.port });
  return server;
}

describe('sync', () => {
  test('-w 2: a held 2 s request never delays 20 sequential requests; one request per worker at a time', async (t) => {
    const server = await serve(['-k', 'sync', '-w', '2'], 2);
    t.after(() => server.kill());
    const port = server.port;
    const slow = timed(port, '/sleep?ms=2000');
    // The slow request is inside a worker once that worker reports it in flight; the other answers /stats.
    await waitFor(
      async () => JSON.parse((await request({ port }, '/stats')).body).inFlight === 0,
      'an idle worker answering',
    );
    await new Promise((r) => setTimeout(r, 200));
    const fast: Timed[] = [];
    for (let i = 0; i < 20; i++) fast.push(await timed(port, '/'));
    const held = await slow;
    assert.ok(held.served.end >= fast.at(-1)!.served.end, 'the slow request was held throughout');
    for (const f of fast) assert.ok(f.ms < 300, `a request took ${f.ms} ms while another worker was idle`);
    for (const r of [held, ...fast]) assert.equal(r.reply.headers.connection, 'close');
    const all = [held, ...fast].map((r) => r.served);
    assert.equal(
      maxOverlap(all, (s) => String(s.pid)),
      1,
    );
    assert.ok(
      all.every((s) => s.max === 1),
      'no worker ever had 2 requests in the app',
    );
  });

  test('10 concurrent requests on -w 2 are served two at a time, none refused', async (t) => {
    const server = await serve(['-k', 'sync', '-w', '2'], 2);
    t.after(() => server.kill());
    const replies = await Promise.all(Array.from({ length: 10 }, () => timed(server.port, '/sleep?ms=200')));
    const served = replies.map((r) => r.served);
    assert.equal(
      maxOverlap(served, (s) => String(s.pid)),
      1,
    );
    assert.equal(new Set(served.map((s) => s.pid)).size, 2, 'both workers served');
  });
});

describe('threads', () => {
  test('-w 2 --threads 4: 8 blocking requests run in parallel, a 9th waits, never more than 8 in the app', async (t) => {
    const server = await serve(['-k', 'threads', '-w', '2', '--threads', '4'], 2);
    t.after(() => server.kill());
    const port = server.port;
    const eight = await Promise.all(Array.from({ length: 8 }, () => timed(port, '/block?ms=1000')));
    for (const r of eight)
      assert.ok(r.ms < 1800, `took ${r.ms} ms: ${JSON.stringify(eight.map((x) => x.ms))}`);
    const nine = (await Promise.all(Array.from({ length: 9 }, () => timed(port, '/block?ms=1000')))).sort(
      (a, b) => a.ms - b.ms,
    );
    for (const r of nine.slice(0, 8)) assert.ok(r.ms < 1800, `took ${r.ms} ms: ${nine.map((x) => x.ms)}`);
    assert.ok(nine[8]!.ms >= 1900, `the 9th took only ${nine[8]!.ms} ms`);
    const served = [...eight, ...nine].map((r) => r.served);
    assert.ok(maxOverlap(served, () => 'all') <= 8, 'at most workers × threads requests in the app');
    assert.equal(
      maxOverlap(served, (s) => `${s.pid}:${s.thread}`),
      1,
      'one request per thread at a time',
    );
    assert.equal(new Set(served.map((s) => `${s.pid}:${s.thread}`)).size, 8, 'every thread served');
  });

  test('--threads 2 with no -k selects threads; a thread that dies is restarted inside its worker', async (t) => {
    const server = await serve(['-w', '1', '--threads', '2'], 1);
    t.after(() => server.kill());
    assert.match(server.log, /Using worker: threads/);
    const [worker] = server.workers();
    const crashed = await request({ port: server.port }, '/crash');
    assert.equal(crashed.status, 500);
    await server.waitForLog(/App thread \d crashed; restarting it/);
    await waitFor(async () => {
      const pair = await Promise.all([
        timed(server.port, '/block?ms=500'),
        timed(server.port, '/block?ms=500'),
      ]);
      return pair.every((r) => r.ms < 950) && new Set(pair.map((r) => r.served.thread)).size === 2;
    }, 'two threads serving in parallel again');
    assert.deepEqual(server.workers(), [worker], 'the same worker process');
  });
  test('a thread stuck longer than --timeout makes its worker a hung worker, which the master replaces', async (t) => {
    const server = await serve(['-k', 'threads', '-w', '1', '--threads', '2', '--timeout', '2'], 1);
    t.after(() => server.kill());
    const [worker] = server.workers();
    // The worker's main loop stays free; only the thread is stuck.
    request({ port: server.port }, '/block?ms=60000', { timeoutMs: 30_000 }).catch(() => {});
    await server.waitForLog(/App thread \d has been stuck for \d+ s \(in GET \/block\?ms=60000\)/);
    await server.waitForLog(new RegExp(`WORKER TIMEOUT \\(pid:${worker}\\)`));
    await waitFor(() => server.workers().length === 1 && server.workers()[0] !== worker, 'a replacement');
    await waitServing({ port: server.port });
  });
});

describe('async', () => {
  test('-w 1: 1000 concurrent 1 s requests all succeed within 4 s', async (t) => {
    const server = await serve(['-k', 'async', '-w', '1', '--worker-connections', '1000'], 1);
    t.after(() => server.kill());
    const started = Date.now();
    const replies = await Promise.all(
      Array.from({ length: 1000 }, () => timed(server.port, '/sleep?ms=1000')),
    );
    const elapsed = Date.now() - started;
    assert.equal(replies.length, 1000);
    assert.ok(elapsed < 4000, `took ${elapsed} ms`);
  });

  test('--worker-connections 10: 50 concurrent requests all succeed, 10 at a time, none reset', async (t) => {
    const server = await serve(['-k', 'async', '-w', '1', '--worker-connections', '10'], 1);
    t.after(() => server.kill());
    const replies = await Promise.all(Array.from({ length: 50 }, () => timed(server.port, '/sleep?ms=500')));
    const served = replies.map((r) => r.served);
    assert.ok(maxOverlap(served, () => 'all') <= 10, 'at most --worker-connections in the app');
    assert.ok(Math.max(...replies.map((r) => r.ms)) >= 2000, 'the rest waited their turn');
  });

  test('a connection handed off while the worker is full loses none of the bytes its client sent first', async (t) => {
    const server = await serve(['-k', 'async', '-w', '1', '--worker-connections', '1'], 1);
    t.after(() => server.kill());
    const held = timed(server.port, '/sleep?ms=500');
    await new Promise((r) => setTimeout(r, 100));
    // Written in the same instant as the connect, before the worker could have handed it on.
    const raw = await getAndClose(server.port, '/sleep?ms=1').reply;
    assert.match(raw, /^HTTP\/1\.1 200 /);
    const start = Number(/"start":(\d+)/.exec(raw)?.[1]);
    assert.ok(start >= (await held).served.end - 5, 'it was served once the slot freed');
  });
});

/** One request on an open connection, which then closes: the pid of the process that served it. */
async function servedBy(socket: Socket): Promise<number> {
  const text = await getOn(socket, '/');
  const pid = /^HTTP\/1\.1 200 [\s\S]*"pid":(\d+)/.exec(text)?.[1];
  if (!pid) throw new Error(`no answer: ${text}`);
  return Number(pid);
}

describe('connection balance', () => {
  test('48 connections opened at once while one of 2 async workers is blocked end up on both', async (t) => {
    const server = await serve(['-k', 'async', '-w', '2'], 2);
    t.after(() => server.kill());
    // While one worker is blocked, only the other accepts: left to the accept race, it would hold all 48.
    const blocked = timed(server.port, '/block?ms=1500');
    const [first, second] = server.workers();
    await waitFor(
      () => establishedConnections(first!) + establishedConnections(second!) === 1,
      'the blocking request to be accepted',
    );
    const sockets = await Promise.all(Array.from({ length: 48 }, () => open(server.port)));
    t.after(() => {
      for (const s of sockets) s.destroy();
    });
    const blockedPid = (await blocked).served.pid;
    const pids = await Promise.all(sockets.map(servedBy));
    const onBlocked = pids.filter((pid) => pid === blockedPid).length;
    t.diagnostic(`the blocked worker served ${onBlocked} of 48`);
    assert.deepEqual(new Set(pids), new Set([first, second]));
    // The other worker takes SHARE_SLACK (32) more than the blocked one, then hands the rest off to it.
    assert.ok(onBlocked >= 12, `the blocked worker served ${onBlocked} of 48`);
  });
});

describe('supervision is the same for every class', () => {
  for (const k of ['sync', 'threads', 'async']) {
    test(`-k ${k}: HUP replaces the workers and TERM lets an in-flight request finish`, async (t) => {
      const server = await serve(['-k', k, '-w', '2', '--threads', '2'], 2);
      t.after(() => server.kill());
      const before = server.workers();
      const during = timed(server.port, '/sleep?ms=1000');
      await new Promise((r) => setTimeout(r, 200));
      server.signal('SIGHUP');
      await server.waitForLog(/Reload complete/);
      await waitFor(() => server.workers().every((p) => !before.includes(p)), 'only new workers');
      assert.equal((await during).reply.status, 200);
      assert.ok(!before.includes((await timed(server.port, '/')).served.pid), 'a new worker answers');

      const inFlight = timed(server.port, '/sleep?ms=1000');
      await new Promise((r) => setTimeout(r, 200));
      server.signal('SIGTERM');
      assert.equal((await inFlight).reply.status, 200);
      assert.equal((await server.exited()).code, 0);
    });
  }
});

test('-k nope exits 2 naming the worker classes', async (t) => {
  const server = new Server(['-k', 'nope', app]);
  t.after(() => server.kill());
  assert.equal((await server.exited()).code, 2);
  for (const name of ['sync', 'threads', 'async']) assert.match(server.log, new RegExp(`\\b${name}\\b`));
});
