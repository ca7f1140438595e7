/**
 * A load check, not part of CI (a goodput ratio on a 2-core box is a measurement, like the bench): with
 * --overload-503, a constant rate at twice the measured capacity of a CPU-bound
 * fixture (5 ms a request) for 20 s still gets at least 90 % of that capacity served, the excess answered 503
 * with p99 under 50 ms, and no worker restarted.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixture, startServer, waitServing } from '../helpers/server.ts';
import { h2load, percentile } from './h2load.ts';

const CONNECTIONS = 100;
const DURATION_S = 20;

async function serve(extra: string[]) {
  const server = await startServer(['-w', '2', '-b', '127.0.0.1:0', ...extra, fixture('cpu.mjs')], {
    workers: 2,
  });
  await waitServing({ port: server.port });
  return server;
}

test('overload at twice capacity: capacity still served, the excess shed fast, no restart', async () => {
  const plain = await serve([]);
  let capacity: number;
  try {
    // Enough connections to keep both workers busy, few enough that nothing waits long.
    const run = await h2load(`http://127.0.0.1:${plain.port}/cpu?ms=5`, { connections: 16, durationS: 10 });
    capacity = (run.statuses.get(200) ?? 0) / 10;
  } finally {
    plain.kill();
  }
  assert.ok(capacity > 20, `capacity measured: ${capacity} req/s`);

  const server = await serve(['--overload-503']);
  try {
    const workers = server.workers().sort();
    const run = await h2load(`http://127.0.0.1:${server.port}/cpu?ms=5`, {
      connections: CONNECTIONS,
      durationS: DURATION_S,
      rpsPerConnection: (2 * capacity) / CONNECTIONS,
    });
    const ok = run.statuses.get(200) ?? 0;
    const shed = run.latencies.get(503) ?? [];
    const others = [...run.statuses].filter(([s]) => s !== 200 && s !== 503);
    const report =
      `capacity ${capacity.toFixed(0)} req/s; served ${(ok / DURATION_S).toFixed(0)} req/s 2xx; ` +
      `${shed.length} shed, p99 ${percentile(shed, 99).toFixed(1)} ms\n${run.raw}`;
    console.log(report);
    assert.deepEqual(others, [], report);
    assert.ok(ok / DURATION_S >= 0.9 * capacity, report);
    assert.ok(shed.length > 0, report);
    assert.ok(percentile(shed, 99) < 50, report);
    assert.deepEqual(server.workers().sort(), workers, 'no worker was replaced');
    assert.equal(server.count(/Booting worker/), 2, report);
  } finally {
    server.kill();
  }
});
