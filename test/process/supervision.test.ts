import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fixture, request, Server, startServer, waitFor, waitServing } from '../helpers/server.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tsunicorn-supervision-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('hung workers', () => {
  test('-t 3: a worker stuck in a loop is logged, aborted and replaced; the other worker serves meanwhile', async (t) => {
    const reports = join(tmp, 'reports');
    const server = await startServer(
      ['-w', '2', '-t', '3', '--timeout-report', reports, '-b', '127.0.0.1:0', fixture('hang.mjs')],
      {
        workers: 2,
      },
    );
    t.after(() => server.kill());
    await waitServing({ port: server.port });
    const sent = Date.now();
    request({ port: server.port }, '/spin', { timeoutMs: 20_000 }).catch(() => {});
    // Answers keep coming from the healthy worker while the other one hangs.
    let answered = 0;
    while (!/WORKER TIMEOUT \(pid:\d+\)/.test(server.log)) {
      assert.ok(Date.now() - sent < 5000, `no WORKER TIMEOUT within 5 s\n${server.log}`);
      // A request accepted by the hung worker in the same burst as /spin fails with it; the rest must not.
      const r = await request({ port: server.port }, '/', { timeoutMs: 2000 }).catch(() => undefined);
      if (r?.status === 200) answered++;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(answered > 3, `${answered} requests answered while a worker hung`);
    const hung = Number(server.log.match(/WORKER TIMEOUT \(pid:(\d+)\)/)![1]);
    assert.match(server.log, /\[CRITICAL\] WORKER TIMEOUT/);
    await server.waitForLog(new RegExp(`Worker \\(pid:${hung}\\) was sent SIG(ABRT|KILL)!`));
    await waitFor(() => server.workers().length === 2 && !server.workers().includes(hung), 'a replacement');
    const [report] = readdirSync(reports);
    assert.ok(report, 'a timeout report was written');
    assert.match(readFileSync(join(reports, report), 'utf8'), /at hang \(file:.*hang\.mjs:5/);
  });

  test('--boot-timeout: a first generation that does not boot in time halts the master with exit 3', async (t) => {
    const server = new Server([
      '-w',
      '1',
      '--boot-timeout',
      '1',
      '-b',
      '127.0.0.1:0',
      fixture('slow-boot.mjs'),
    ]);
    t.after(() => server.kill());
    assert.equal((await server.exited()).code, 3);
    assert.match(server.log, /did not boot within 1 s and was killed/);
    assert.match(server.log, /Reason: Worker failed to boot\./);
  });
});

describe('boot failures', () => {
  test('an app that throws at import: exit 4 within 5 s, at most -w workers started', async (t) => {
    const started = Date.now();
    const server = new Server(['-w', '3', '-b', '127.0.0.1:0', fixture('throws-at-import.mjs')]);
    t.after(() => server.kill());
    assert.equal((await server.exited()).code, 4);
    assert.ok(Date.now() - started < 5000);
    assert.ok(server.count(/Booting worker/) <= 3);
    assert.match(server.log, /Reason: App failed to load\./);
  });

  test('workers that die right after boot: growing back-off, no fork storm, a halt at the limit', async (t) => {
    const server = new Server([
      '-w',
      '2',
      '--max-boot-failures',
      '6',
      '-b',
      '127.0.0.1:0',
      fixture('exits-after-boot.mjs'),
    ]);
    t.after(() => server.kill());
    assert.equal((await server.exited(60_000)).code, 3);
    assert.match(
      server.log,
      /Reason: Worker failed to boot: 6 failed boots within 60 s \(--max-boot-failures 6\)/,
    );
    const delays = [...server.log.matchAll(/next spawn in (\d+) ms/g)].map((m) => Number(m[1]));
    assert.deepEqual(delays, [100, 200, 400, 800, 1600]);
    const spawns = [...server.log.matchAll(/^\[([^\]]+)\] \[\d+\] \[INFO\] Booting worker/gm)].map((m) =>
      Date.parse(m[1]!),
    );
    assert.ok(spawns.length <= 15, `${spawns.length} spawns`);
    const firstTen = spawns.filter((ts) => ts - spawns[0]! <= 10_000);
    assert.ok(firstTen.length <= 15);
  });
});

describe('recycling', () => {
  test('--max-requests 50 --max-requests-jitter 10: workers rotate with no failed request', async (t) => {
    const server = await startServer(
      [
        '-w',
        '2',
        '--max-requests',
        '50',
        '--max-requests-jitter',
        '10',
        '-b',
        '127.0.0.1:0',
        fixture('pid.mjs'),
      ],
      { workers: 2 },
    );
    t.after(() => server.kill());
    await waitServing({ port: server.port });
    const pids = new Set<number>();
    const failures: string[] = [];
    // About 100 requests a second for 8 s, as a steady client would send them.
    await Promise.all(
      [0, 1].map(async () => {
        for (let i = 0; i < 400; i++) {
          await new Promise((r) => setTimeout(r, 15));
          try {
            const r = await request({ port: server.port });
            if (r.status === 200) pids.add(JSON.parse(r.body).pid);
            else failures.push(`status ${r.status}`);
          } catch (err) {
            failures.push((err as Error).message);
          }
        }
      }),
    );
    assert.deepEqual(failures, []);
    // 800 requests at 50–60 per worker: up to fifteen rotations, fewer as a worker serves on until its
    // replacement has booted.
    assert.ok(pids.size >= 8, `${pids.size} worker pids answered`);
    assert.ok(server.count(/recycled \(max-requests\)/) >= 6);
    assert.match(server.log, /Autorestarting worker after current request/);
  });

  test('--max-worker-memory: a leaking worker is recycled with the reason logged, no request fails', async (t) => {
    const server = await startServer(
      ['-w', '1', '--max-worker-memory', '120', '-b', '127.0.0.1:0', fixture('hang.mjs')],
      {
        workers: 1,
      },
    );
    t.after(() => server.kill());
    await waitServing({ port: server.port });
    const first = server.workers()[0];
    for (let i = 0; i < 6; i++) assert.equal((await request({ port: server.port }, '/leak')).status, 200);
    await server.waitForLog(/uses \d+ MiB, over --max-worker-memory 120 MiB for 3 samples; recycling it/);
    await server.waitForLog(new RegExp(`Worker \\(pid:${first}\\) recycled \\(memory\\)`));
    await waitFor(
      () => server.workers().length === 1 && server.workers()[0] !== first,
      'the replacement alone',
    );
    const r = await request({ port: server.port });
    assert.equal(JSON.parse(r.body).kept, 0);
  });
});
