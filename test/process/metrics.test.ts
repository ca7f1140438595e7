import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { describe, type TestContext, test } from 'node:test';
import { scrape, sum } from '../helpers/metrics.ts';
import { fixture, metricsPortOf, request, startServer, waitFor, waitServing } from '../helpers/server.ts';
import { getAndClose } from '../wire/raw.ts';

describe('statsd and Prometheus', () => {
  test('a UDP statsd listener receives tsunicorn.requests and tsunicorn.request.duration', async (t) => {
    const udp = createSocket('udp4');
    const packets: string[] = [];
    udp.on('message', (m) => packets.push(...m.toString().split('\n')));
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
    t.after(() => udp.close());
    const server = await startServer(
      [
        '-w',
        '2',
        '-b',
        '127.0.0.1:0',
        '--statsd-host',
        `127.0.0.1:${udp.address().port}`,
        '--statsd-prefix',
        'shop',
        '--dogstatsd-tags',
        'env:test',
        fixture('pid.mjs'),
      ],
      { workers: 2 },
    );
    t.after(() => server.kill());
    await waitServing({ port: server.port });
    await request({ port: server.port }, '/missing-is-still-200');
    await waitFor(
      () =>
        packets.includes('shop.tsunicorn.requests:1|c|#env:test') &&
        packets.some((p) => /^shop\.tsunicorn\.request\.duration:[\d.]+\|ms\|#env:test$/.test(p)) &&
        packets.includes('shop.tsunicorn.request.status.200:1|c|#env:test') &&
        packets.some((p) => /^shop\.tsunicorn\.workers:2\|g\|#env:test$/.test(p)),
      `statsd packets, got ${JSON.stringify(packets)}`,
    );
  });

  /** Starts one worker of a class with metrics; `handoffs` counts connections passed to the master so far. */
  async function oneWorker(t: TestContext, args: string[]) {
    const server = await startServer(
      [...args, '-w', '1', '-b', '127.0.0.1:0', '--metrics-bind', '127.0.0.1:0', fixture('concurrency.mjs')],
      { workers: 1 },
    );
    t.after(() => server.kill());
    const metricsPort = await metricsPortOf(server);
    await waitServing({ port: server.port });
    const handoffs = async () => sum(await scrape(metricsPort), 'tsunicorn_connection_handoffs_total');
    return { server, handoffs };
  }

  /** A slow request, then three fast ones while it is served: the status of each. */
  async function slowThenFast(port: number): Promise<string[]> {
    const first = getAndClose(port, '/sleep?ms=1000');
    await first.open;
    const rest = [1, 2, 3].map(() => getAndClose(port, '/'));
    await Promise.all(rest.map((r) => r.open));
    const replies = await Promise.all([first, ...rest].map((r) => r.reply));
    return replies.map((r) => r.split(' ')[1]!);
  }

  test('a busy sync worker leaves new connections in the kernel queue; none passes through the master', async (t) => {
    const { server, handoffs } = await oneWorker(t, ['-k', 'sync']);
    const before = await handoffs();
    assert.deepEqual(await slowThenFast(server.port), ['200', '200', '200', '200']);
    assert.equal((await handoffs()) - before, 0);
  });

  test('a busy threads worker passes the connections it accepts to the master, counted', async (t) => {
    // Its kept-alive clients would overtake connections left in the kernel queue, so it accepts and passes on.
    const { server, handoffs } = await oneWorker(t, ['-k', 'threads', '--threads', '1']);
    const before = await handoffs();
    assert.deepEqual(await slowThenFast(server.port), ['200', '200', '200', '200']);
    assert.equal((await handoffs()) - before, 3);
  });

  test('/metrics counts every request across workers and never goes down across a HUP', async (t) => {
    const server = await startServer(
      ['-w', '2', '-b', '127.0.0.1:0', '--metrics-bind', '127.0.0.1:0', fixture('pid.mjs')],
      { workers: 2 },
    );
    t.after(() => server.kill());
    const metricsPort = await metricsPortOf(server);
    await waitServing({ port: server.port });
    const first = await scrape(metricsPort);
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
    ]) {
      assert.ok(sum(first, name) > 0, `${name} missing`);
    }
    // At least 40 requests, and on until both workers (the second may still be booting) have served.
    const pids = new Set<number>();
    let sent = 0;
    await waitFor(
      async () => {
        pids.add(JSON.parse((await request({ port: server.port }, `/r${sent++}`)).body).pid);
        return sent >= 40 && pids.size === 2;
      },
      'both workers serving',
      15_000,
      0,
    );
    // waitServing's own requests count too: everything the server answered with 200. Workers report about
    // once a second, so the counter is read once two reports in a row agree.
    const before = await waitFor(async () => {
      const a = await scrape(metricsPort);
      await new Promise((r) => setTimeout(r, 1200));
      const b = await scrape(metricsPort);
      const total = sum(b, 'tsunicorn_requests_total');
      return total >= sent && total === sum(a, 'tsunicorn_requests_total') ? b : undefined;
    }, 'a settled request counter');
    const counted = sum(before, 'tsunicorn_requests_total');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(
      sum(await scrape(metricsPort), 'tsunicorn_requests_total'),
      counted,
      'no request counted twice',
    );
    assert.equal(sum(before, 'tsunicorn_workers{state="ready"}'), 2);
    assert.ok(sum(before, 'tsunicorn_request_duration_seconds_count') >= sent);

    server.signal('SIGHUP');
    let lowest = Number.POSITIVE_INFINITY;
    const watch = setInterval(() => {
      scrape(metricsPort).then(
        (s) => {
          lowest = Math.min(lowest, sum(s, 'tsunicorn_requests_total'));
        },
        () => {},
      );
    }, 50);
    t.after(() => clearInterval(watch));
    await server.waitForLog(/Reload complete/);
    await waitFor(() => server.count(/Worker exiting/) >= 2, 'the old workers gone');
    await new Promise((r) => setTimeout(r, 1500));
    clearInterval(watch);
    assert.ok(lowest >= counted, `the counter went down to ${lowest} from ${counted}`);
    for (let i = 0; i < 10; i++) await request({ port: server.port }, `/after${i}`);
    await waitFor(
      async () => sum(await scrape(metricsPort), 'tsunicorn_requests_total') === counted + 10,
      'the counter after the reload',
    );
    assert.equal(sum(await scrape(metricsPort), 'tsunicorn_worker_restarts_total{reason="reload"}'), 2);
  });
});
