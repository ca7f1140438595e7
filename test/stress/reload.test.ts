/**
 * R1, R2: reloads under load. Every error class wrk can see counts: connect refused, read (reset), write,
 * timeout, non-2xx.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fixture, startServer, waitFor, waitServing } from '../helpers/server.ts';
import { classArgs, type StressClass, stressClasses } from './classes.ts';
import { errorCount, errorFields, figure, wrk } from './wrk.ts';

async function hupEverySecond(signal: (s: NodeJS.Signals) => void, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    signal('SIGHUP');
  }
}

/** A Node listener app; for async also the fetch twin, whose connections start on the lean HTTP/1.1 path. */
const r1Runs = stressClasses.flatMap((cls): { cls: StressClass; app: string; label: string }[] =>
  cls === 'async'
    ? [
        { cls, app: 'stress.mjs', label: cls },
        { cls, app: 'stress-fetch.mjs', label: 'async fetch' },
      ]
    : [{ cls, app: 'stress.mjs', label: cls }],
);

describe('R1: HUP once a second, 20 times, under wrk -c200', () => {
  for (const { cls, app, label } of r1Runs) {
    for (const mode of ['keep-alive', 'close'] as const) {
      // sync serves one request at a time and closes every connection: its keep-alive run is the close run.
      if (cls === 'sync' && mode === 'keep-alive') continue;
      test(`${label}, ${mode}: 0 errors, most requests served by a newer generation`, async (t) => {
        const args = [...classArgs(cls, 2), '-b', '127.0.0.1:0'];
        const server = await startServer([...args, fixture(app)], { workers: 2 });
        t.after(() => server.kill());
        await waitServing({ port: server.port });
        const load = wrk(`http://127.0.0.1:${server.port}/`, {
          connections: 200,
          seconds: 23,
          close: mode === 'close',
        });
        await hupEverySecond((s) => server.signal(s), 20);
        const r = await load;
        const initial = r.generations['1'] ?? 0;
        const total = Object.values(r.generations).reduce((a, b) => a + b, 0);
        const newer = total ? (total - initial) / total : 0;
        figure(`R1 ${label} ${mode}`, {
          ...errorFields(r),
          newerGeneration: `${(newer * 100).toFixed(1)}%`,
          reloads: server.count(/Reload complete/),
        });
        assert.equal(errorCount(r), 0, r.raw);
        // HUPs that arrive during a reload make one more reload (a threads generation boots in about 2 s under
        // this load), so fewer than 20 complete; what must hold is that no HUP is lost: a reload completes
        // after the last one.
        await waitFor(
          () => server.log.lastIndexOf('Reload complete') > server.log.lastIndexOf('Handling signal: hup'),
          'a reload completed after the last HUP',
        );
        assert.ok(
          server.count(/Reload complete/) >= 5,
          `reloads completed: ${server.count(/Reload complete/)}`,
        );
        assert.ok(newer >= 0.7, `${(newer * 100).toFixed(1)}% served by a newer generation`);
      });
    }
  }
});

describe('R2: 20 reloads during new-connection POSTs with 16 KiB bodies', () => {
  // The fetch app's bodies arrive whole or in parts: the lean path serves the first and leaves the rest to
  // node:http.
  for (const app of ['stress.mjs', 'stress-fetch.mjs'])
    test(`async (${app}): 0 resets, 0 refused`, async (t) => {
      const server = await startServer(['-w', '2', '-b', '127.0.0.1:0', fixture(app)], { workers: 2 });
      t.after(() => server.kill());
      await waitServing({ port: server.port });
      const load = wrk(`http://127.0.0.1:${server.port}/upload`, {
        connections: 50,
        seconds: 23,
        close: true,
        request: `wrk.method = "POST"\nwrk.body = string.rep("x", 16384)\nwrk.headers["Content-Type"] = "application/octet-stream"`,
      });
      await hupEverySecond((s) => server.signal(s), 20);
      const r = await load;
      figure(`R2 async post-16k ${app}`, errorFields(r));
      assert.equal(errorCount(r), 0, r.raw);
    });
});
