/**
 * O2 and O3, --overload-503 against a CPU-bound fixture (5 ms of loop time a request) on 2 workers, its
 * capacity measured first on a server without shedding. O2: a constant rate at twice that capacity for 20 s
 * still gets at least 90 % of the capacity served as 2xx, the excess answered 503 with a p99 under 50 ms, and
 * no worker restarted; once as a really constant load, and twice as plain `h2load --rps` sends it, in bursts
 * of one request per connection (100 and 200 connections). O3: a normal load (half the capacity) with a spike
 * to ten times the capacity for 5 s in the middle: within 5 s of the spike's end, the normal load is served
 * again without 503s or queueing.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { establishedConnections } from '../helpers/proc.ts';
import { fixture, type Server, startServer, waitFor, waitServing } from '../helpers/server.ts';
import { type H2loadRequest, h2load, latencies, percentile } from './h2load.ts';
import { figure } from './wrk.ts';

const CONNECTIONS = 100;
/** A normal-load request answered slower than this (the default --max-event-loop-delay) still queues. */
const QUEUEING_MS = 100;

/**
 * The constant load is the steady overload, where the admission budget must stay at the limit: its admitted
 * requests are also held to a p99 of `okP99Ms`. The bursts are what `h2load --rps` sends as typed, each tick
 * a burst that the budget grows to serve whole (the admitted ones then wait up to the burst period, 145 and
 * 290 ms here, so their p99 is not bounded by the limit). On 200 fresh connections the first burst waits
 * for the connections to be accepted, one per turn of each worker's loop, 30–150 ms (docs/http.md): that
 * run's 503 p99 is asserted on the requests sent after its first second (`settleS`), and printed for all.
 */
const O2_LOADS = [
  { name: 'constant', connections: CONNECTIONS, bursts: false, okP99Ms: 2.5 * QUEUEING_MS },
  { name: 'bursts c100', connections: CONNECTIONS, bursts: true },
  { name: 'bursts c200', connections: 2 * CONNECTIONS, bursts: true, settleS: 1 },
] as const;

async function serve(extra: string[]): Promise<Server> {
  const server = await startServer(['-w', '2', '-b', '127.0.0.1:0', ...extra, fixture('cpu.mjs')], {
    workers: 2,
  });
  await waitServing({ port: server.port });
  return server;
}

const url = (server: Server) => `http://127.0.0.1:${server.port}/cpu?ms=5`;

/**
 * 2xx a second on a server without shedding, with enough connections to keep both workers busy: about 8 s
 * at the fixture's nominal capacity (2 workers × 1000 / 5 ms). The connections open 25 ms apart: a worker
 * that took all 16 would halve the figure and every later load with it.
 */
async function measureCapacity(): Promise<number> {
  const plain = await serve([]);
  try {
    const run = await h2load(url(plain), {
      connections: 16,
      durationS: 8,
      ramp: { everyMs: 25, expectedRate: 400 },
    });
    const capacity = run.requests.filter((r) => r.status === 200).length / run.seconds;
    assert.ok(capacity > 20, `capacity measured: ${capacity} req/s\n${run.raw}`);
    return capacity;
  } finally {
    plain.kill();
  }
}

function statusCounts(requests: readonly H2loadRequest[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const r of requests) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}

describe('overload shedding under a constant rate (--overload-503)', () => {
  let capacity: number;

  before(async () => {
    capacity = await measureCapacity();
  });

  /** One 20 s run of `load` on a new server: its figures, and the bounds it broke. */
  async function overload(load: (typeof O2_LOADS)[number]): Promise<{ report: string; broken: string[] }> {
    const server = await serve(['--overload-503']);
    try {
      const workers = server.workers().sort();
      const running = h2load(url(server), {
        connections: load.connections,
        durationS: 20,
        rate: 2 * capacity,
        bursts: load.bursts,
      });
      // Which worker holds how many of the connections (each worker's share of the load), once all are open.
      const split = await waitFor(() => {
        const held = workers.map(establishedConnections);
        return held.reduce((a, b) => a + b) >= load.connections && held.join('/');
      }, 'every connection open');
      const run = await running;
      const counts = statusCounts(run.requests);
      const served = (counts[200] ?? 0) / run.seconds;
      const shed = latencies(run.requests, 503);
      const ok = latencies(run.requests, 200);
      const settledAt = run.requests[0]!.at + 1000 * ('settleS' in load ? load.settleS : 0);
      const settledShed = latencies(
        run.requests.filter((r) => r.at >= settledAt),
        503,
      );
      const fields = {
        capacity: capacity.toFixed(0),
        split,
        offered: (run.requests.length / run.seconds).toFixed(0),
        served2xx: served.toFixed(0),
        goodput: `${((100 * served) / capacity).toFixed(1)}%`,
        shed: shed.length,
        shedP99Ms: percentile(shed, 99).toFixed(1),
        settledShedP99Ms: percentile(settledShed, 99).toFixed(1),
        okP99Ms: percentile(ok, 99).toFixed(1),
        other: run.requests.length - (counts[200] ?? 0) - shed.length,
        restarts: server.count(/Booting worker/) - 2,
      };
      figure(`O2 async ${load.name}`, fields);
      const bounds: Record<string, boolean> = {
        'nothing but 200 and 503': fields.other === 0,
        '90 % of the capacity served': served >= 0.9 * capacity,
        'some requests shed': shed.length > 0,
        '503 p99 under 50 ms': percentile(settledShed, 99) < 50,
        '2xx p99 bounded': !('okP99Ms' in load) || percentile(ok, 99) < load.okP99Ms,
        'no worker replaced': fields.restarts === 0 && server.workers().sort().join() === workers.join(),
      };
      return {
        report: `${JSON.stringify(fields)}\n${run.raw}`,
        broken: Object.keys(bounds).filter((bound) => !bounds[bound]),
      };
    } finally {
      server.kill();
    }
  }

  /**
   * A load that breaks a bound runs once more on a new server, and must meet them all then; both runs'
   * figures are printed. The CI machine is a VM on a shared host: in one CI run the constant load's 503 p99
   * was 71 ms and its 2xx p99 186 ms, against 9–10 ms and 125–129 ms in runs here (12 ms and 158 ms with a
   * CPU-bound process beside it). That is what a worker shows when its CPU is taken from it for ~100 ms a
   * few times in the 20 s: every request that reaches it meanwhile waits that long, and no server can
   * answer them sooner. Two such runs in a row are a failure.
   */
  for (const load of O2_LOADS)
    test(`O2 (${load.name}): twice capacity for 20 s: capacity still served, the excess shed fast, no restart`, async (t) => {
      let run = await overload(load);
      if (run.broken.length > 0) {
        t.diagnostic(`first run broke: ${run.broken.join(', ')}; running it once more\n${run.report}`);
        run = await overload(load);
      }
      assert.deepEqual(run.broken, [], run.report);
    });

  test('O3: a 10× spike, then back to normal: recovered within 5 s', async () => {
    const server = await serve(['--overload-503']);
    try {
      const workers = server.workers().sort();
      const normal = h2load(url(server), { connections: 20, durationS: 20, rate: capacity / 2 });
      await sleep(5000);
      const spike = await h2load(url(server), {
        // Each connection has one request in flight, and an admitted one holds it up to the wait limit: it
        // takes this many for h2load to send at the spike's rate.
        connections: 3 * CONNECTIONS,
        durationS: 5,
        rate: 9.5 * capacity,
      });
      const spikeEnd = Math.max(...spike.requests.map((r) => r.at + r.ms));
      const steady = (await normal).requests;
      // The last normal request that was shed or queued after the spike: from then on, it is recovered.
      const troubled = steady.filter(
        (r) => r.at + r.ms > spikeEnd && (r.status !== 200 || r.ms > QUEUEING_MS),
      );
      const recoveredAt = Math.max(spikeEnd, ...troubled.map((r) => r.at + r.ms));
      const after = steady.filter((r) => r.at > spikeEnd);
      const fields = {
        capacity: capacity.toFixed(0),
        // The rate at which the spike's requests were actually sent.
        spikeOffered: (
          spike.requests.length /
          ((spike.requests.at(-1)!.at - spike.requests[0]!.at) / 1000)
        ).toFixed(0),
        spikeShed: spike.requests.filter((r) => r.status === 503).length,
        normalShed: steady.filter((r) => r.status === 503).length,
        recoveryS: ((recoveredAt - spikeEnd) / 1000).toFixed(2),
        afterP99Ms: percentile(
          after.map((r) => r.ms).sort((a, b) => a - b),
          99,
        ).toFixed(1),
        restarts: server.count(/Booting worker/) - 2,
      };
      figure('O3 async', fields);
      const report = JSON.stringify(fields);
      assert.ok(
        spike.requests.some((r) => r.status === 503),
        `the spike was shed: ${report}`,
      );
      assert.deepEqual(
        [...new Set([...spike.requests, ...steady].map((r) => r.status))].sort(),
        [200, 503],
        report,
      );
      assert.ok(after.length > 0 && after.at(-1)!.at - spikeEnd > 5000, `normal load ran on: ${report}`);
      assert.ok(recoveredAt - spikeEnd <= 5000, report);
      assert.deepEqual(server.workers().sort(), workers, 'no worker was replaced');
    } finally {
      server.kill();
    }
  });
});
