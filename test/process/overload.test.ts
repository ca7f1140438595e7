/**
 * --overload-503: a worker whose event loop is delayed past --max-event-loop-delay answers the requests it
 * cannot serve in time with a fast 503 and Retry-After, keeps serving the rest, and recovers once idle; once
 * every worker holds --worker-connections connections, new connections get a 503 and are closed. Shed
 * requests are counted in the metrics.
 */
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { scrape, sum } from '../helpers/metrics.ts';
import {
  fixture,
  metricsPortOf,
  request,
  type Server,
  startServer,
  waitFor,
  waitServing,
} from '../helpers/server.ts';

describe('overload shedding', () => {
  let server: Server;

  before(async () => {
    server = await startServer(
      ['-w', '1', '-b', '127.0.0.1:0', '--overload-503', '--max-event-loop-delay', '20', fixture('cpu.mjs')],
      { workers: 1 },
    );
    await waitServing({ port: server.port });
  });
  after(() => server?.kill());

  test('a burst beyond what the loop can serve in time is partly shed with 503 and Retry-After', async () => {
    // Each request blocks the loop for 50 ms; the burst arrives while the first is running.
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => request({ port: server.port }, '/cpu?ms=50', { timeoutMs: 20_000 })),
    );
    const ok = replies.filter((r) => r.status === 200);
    const shed = replies.filter((r) => r.status === 503);
    assert.equal(ok.length + shed.length, replies.length);
    assert.ok(ok.length >= 1, 'some requests are still served');
    assert.ok(shed.length >= 1, 'some requests are shed');
    for (const r of shed) assert.equal(r.headers['retry-after'], '1');
  });

  test('once the loop is idle again, requests are served', async () => {
    await new Promise((r) => setTimeout(r, 1000));
    for (let i = 0; i < 5; i++) assert.equal((await request({ port: server.port }, '/cpu?ms=1')).status, 200);
  });
});

describe('without --overload-503', () => {
  let server: Server;

  before(async () => {
    server = await startServer(['-w', '1', '-b', '127.0.0.1:0', fixture('cpu.mjs')], { workers: 1 });
    await waitServing({ port: server.port });
  });
  after(() => server?.kill());

  test('the same burst is served whole, however long it queues', async () => {
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => request({ port: server.port }, '/cpu?ms=50', { timeoutMs: 20_000 })),
    );
    assert.deepEqual(
      replies.map((r) => r.status),
      replies.map(() => 200),
    );
  });
});

describe('overload shedding at the connection cap', () => {
  test('with every slot held, new connections get 503 and a close; the one queued first is served once a slot frees', async (t) => {
    const server = await startServer(
      [
        '-w',
        '1',
        '-b',
        '127.0.0.1:0',
        '--overload-503',
        '--worker-connections',
        '2',
        '--metrics-bind',
        '127.0.0.1:0',
        fixture('cpu.mjs'),
      ],
      { workers: 1 },
    );
    t.after(() => server.kill());
    const metricsPort = await metricsPortOf(server);
    await waitServing({ port: server.port });
    // Two idle keep-alive connections hold both slots.
    const holders = [0, 1].map(() => new Agent({ keepAlive: true, maxSockets: 1 }));
    t.after(() => {
      for (const agent of holders) agent.destroy();
    });
    for (const agent of holders)
      assert.equal((await request({ port: server.port }, '/', { agent })).status, 200);
    // The first connection beyond the cap waits in the master, which then tells the worker that all are full.
    const queued = request({ port: server.port }, '/', { timeoutMs: 20_000 });
    const shed = await waitFor(
      () =>
        request({ port: server.port }, '/', { timeoutMs: 1000 }).then(
          (r) => (r.status === 503 ? r : undefined),
          () => undefined,
        ),
      'a 503 for a connection beyond the cap',
    );
    assert.equal(shed.headers['retry-after'], '1');
    assert.equal(shed.headers.connection, 'close');
    holders[0]!.destroy();
    assert.equal((await queued).status, 200);
    await waitFor(
      async () => sum(await scrape(metricsPort), 'tsunicorn_requests_shed_total') >= 1,
      'the shed request counted in tsunicorn_requests_shed_total',
    );
  });
});
