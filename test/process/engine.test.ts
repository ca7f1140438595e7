import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { establishedConnections } from '../helpers/proc.ts';
import {
  clientLoop,
  fixture,
  isAlive,
  request,
  Server,
  startServer,
  waitFor,
  waitServing,
} from '../helpers/server.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tsunicorn-engine-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function pidOf(port: number, path = '/', agent?: Agent): Promise<number> {
  const r = await request({ port }, path, agent ? { agent } : {});
  assert.equal(r.status, 200, r.body);
  return JSON.parse(r.body).pid;
}

describe('master and workers', () => {
  test('starts one master and N workers; several workers answer; the master holds no client connection', async (t) => {
    const server = await startServer(
      ['-w', '3', '--log-level', 'debug', '-b', '127.0.0.1:0', fixture('pid.mjs')],
      {
        workers: 3,
      },
    );
    t.after(() => server.kill());
    await waitServing({ port: server.port });
    assert.equal(server.workers().length, 3);
    assert.match(server.log, /Starting tsunicorn \d+\.\d+\.\d+/);
    assert.match(server.log, /Using worker: async/);
    assert.equal(server.count(/Booting worker with pid: \d+/), 3);
    // Each worker's time from spawn to accepting, for whoever tunes startup.
    const booted = /Worker \(pid:\d+\) booted in (\d+) ms/g;
    await waitFor(() => server.count(booted) === 3, `three booted lines\n${server.log}`);
    const bootMs = [...server.log.matchAll(booted)].map((m) => Number(m[1]));
    for (const ms of bootMs) assert.ok(ms > 0 && ms < 30_000, `boot time ${ms} ms`);

    const pids = new Set<number>();
    const agents = Array.from({ length: 20 }, () => new Agent({ keepAlive: true }));
    await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        pids.add(await pidOf(server.port));
        if (i < 20) await pidOf(server.port, '/', agents[i]);
      }),
    );
    assert.ok(pids.size >= 2, `answers came from ${pids.size} worker(s)`);
    for (const pid of pids) assert.ok(server.workers().includes(pid), `${pid} is a worker of the master`);
    // Keep-alive connections are open right now; none of them is in the master.
    assert.equal(establishedConnections(server.pid), 0);
    for (const a of agents) a.destroy();
  });

  test('a SIGKILLed worker is replaced while a client keeps sending, with no refused connection', async (t) => {
    const server = await startServer(['-w', '2', '-b', '127.0.0.1:0', fixture('pid.mjs')], { workers: 2 });
    t.after(() => server.kill());
    await waitServing({ port: server.port });
    const loop = clientLoop(server.port);
    const victim = server.workers()[0]!;
    process.kill(victim, 'SIGKILL');
    await server.waitForLog(new RegExp(`Worker \\(pid:${victim}\\) was sent SIGKILL!`));
    await waitFor(
      () => server.workers().length === 2 && !server.workers().includes(victim),
      'a replacement',
      2000,
    );
    await waitFor(() => loop.sent > 50, 'requests after the kill');
    await loop.stop();
    assert.deepEqual(loop.failures, []);
  });

  test('TTIN adds a worker and TTOU removes the oldest, never below one', async (t) => {
    const server = await startServer(['-w', '1', '-b', '127.0.0.1:0', fixture('pid.mjs')], { workers: 1 });
    t.after(() => server.kill());
    const [first] = server.workers();
    server.signal('SIGTTIN');
    await waitFor(() => server.workers().length === 2, '2 workers');
    server.signal('SIGTTOU');
    await waitFor(() => server.workers().length === 1, '1 worker');
    assert.ok(!server.workers().includes(first!), 'the oldest worker was the one drained');
    server.signal('SIGTTOU');
    await server.waitForLog(/Handling signal: ttou[\s\S]*Handling signal: ttou[\s\S]*Number of workers: 1/);
    await waitServing({ port: server.port });
    assert.equal(server.workers().length, 1);
  });

  test('HUP replaces every worker with no failed request under keep-alive and new-connection clients', async (t) => {
    const server = await startServer(['-w', '2', '-b', '127.0.0.1:0', fixture('pid.mjs')], { workers: 2 });
    t.after(() => server.kill());
    await waitServing({ port: server.port });
    const before = new Set(server.workers());
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const loops = [
      clientLoop(server.port),
      clientLoop(server.port),
      clientLoop(server.port, { agentFor: () => agent }),
      clientLoop(server.port, { agentFor: () => agent }),
    ];
    await waitFor(() => loops.every((l) => l.sent > 20), 'traffic before the reload');
    server.signal('SIGHUP');
    await server.waitForLog(/Reload complete/);
    await waitFor(
      () => server.workers().length === 2 && server.workers().every((p) => !before.has(p)),
      'only new workers',
    );
    const sentAtSwap = loops.map((l) => l.sent);
    await waitFor(() => loops.every((l, i) => l.sent > sentAtSwap[i]! + 20), 'traffic after the reload');
    await Promise.all(loops.map((l) => l.stop()));
    agent.destroy();
    assert.deepEqual(
      loops.flatMap((l) => l.failures),
      [],
    );
    assert.match(server.log, /Handling signal: hup/);
  });

  test('HUP with an app that now fails to import keeps the old workers serving', async (t) => {
    const app = join(tmp, 'reloaded.mjs');
    copyFileSync(fixture('pid.mjs'), app);
    const server = await startServer(['-w', '2', '-b', '127.0.0.1:0', app], { workers: 2 });
    t.after(() => server.kill());
    // Both workers must have imported the app before it is broken on disk.
    const seen = new Set<number>([0]);
    await waitFor(
      async () => seen.add(await pidOf(server.port).catch(() => 0)).size === 3,
      'both workers answering',
    );
    const before = server.workers().sort();
    writeFileSync(app, "throw new Error('broken deploy');\n");
    server.signal('SIGHUP');
    await server.waitForLog(/Reload aborted: generation 2 failed to boot \(the app failed to load\)/);
    await waitFor(() => server.workers().length === 2, 'only the old workers left');
    assert.deepEqual(server.workers().sort(), before, server.log);
    await waitServing({ port: server.port });
    assert.match(server.log, /broken deploy/);
  });

  test('TERM lets an in-flight 2 s request finish with 200, then the master exits 0', async (t) => {
    const server = await startServer(['-w', '1', '-b', '127.0.0.1:0', fixture('own-sigterm.mjs')], {
      workers: 1,
    });
    t.after(() => server.kill());
    await waitServing({ port: server.port });
    const workers = server.workers();
    const inFlight = request({ port: server.port }, '/?sleep=2000');
    await new Promise((r) => setTimeout(r, 200));
    server.signal('SIGTERM');
    const reply = await inFlight;
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'done');
    assert.equal((await server.exited()).code, 0);
    assert.match(server.log, /Handling signal: term/);
    assert.match(server.log, /Shutting down: Master/);
    for (const pid of workers) assert.ok(!isAlive(pid), `worker ${pid} is gone`);
  });

  test('TERM answers a kept-alive connection with Connection: close and closes idle ones', async (t) => {
    const server = await startServer(['-w', '1', '-b', '127.0.0.1:0', fixture('pid.mjs')], { workers: 1 });
    t.after(() => server.kill());
    await waitServing({ port: server.port });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    await pidOf(server.port, '/', agent);
    const slow = request({ port: server.port }, '/?sleep=1000', { agent });
    await new Promise((r) => setTimeout(r, 100));
    server.signal('SIGTERM');
    const reply = await slow;
    assert.equal(reply.status, 200);
    assert.equal(reply.headers.connection, 'close');
    const idle = new Agent({ keepAlive: true });
    assert.equal((await server.exited()).code, 0);
    agent.destroy();
    idle.destroy();
  });

  test('INT stops quickly even with a request in flight', async (t) => {
    const server = await startServer(['-w', '2', '-b', '127.0.0.1:0', fixture('pid.mjs')], { workers: 2 });
    t.after(() => server.kill());
    await waitServing({ port: server.port });
    request({ port: server.port }, '/?sleep=20000').catch(() => {});
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    server.signal('SIGINT');
    assert.equal((await server.exited(5000)).code, 0);
    assert.ok(Date.now() - started < 4000);
  });

  test('a worker exits when its master is SIGKILLed', async (t) => {
    const server = await startServer(['-w', '2', '-b', '127.0.0.1:0', fixture('pid.mjs')], { workers: 2 });
    t.after(() => server.kill());
    const workers = server.workers();
    server.signal('SIGKILL');
    await waitFor(() => workers.every((p) => !isAlive(p)), 'orphaned workers to exit', 10_000);
  });

  test('serves on a unix socket, replaces a stale socket file and removes it at exit', async (t) => {
    const path = join(tmp, 'app.sock');
    writeFileSync(path, '');
    rmSync(path);
    // A stale socket: bound once, nobody listening any more.
    const stale = createServer().listen(path);
    await new Promise((r) => stale.once('listening', r));
    stale.close();
    await new Promise((r) => stale.once('close', r));
    const server = await startServer(['-w', '1', '-b', `unix:${path}`, fixture('pid.mjs')], { workers: 1 });
    t.after(() => server.kill());
    await waitServing({ socketPath: path });
    assert.match(server.log, new RegExp(`Listening at: unix:${path}`));
    server.signal('SIGTERM');
    assert.equal((await server.exited()).code, 0);
    assert.ok(!existsSync(path), 'socket file removed at exit');
  });

  test('binds several addresses, IPv4 and IPv6', async (t) => {
    const server = await startServer(['-w', '1', '-b', '127.0.0.1:0', '-b', '[::1]:0', fixture('pid.mjs')], {
      workers: 1,
    });
    t.after(() => server.kill());
    const v6 = Number(server.log.match(/Listening at: http:\/\/\[::1\]:(\d+)/)![1]);
    await waitServing({ port: server.port });
    const r = await new Promise<number>((resolve, reject) => {
      import('node:http').then(({ get }) =>
        get({ host: '::1', port: v6, path: '/', agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        }).on('error', reject),
      );
    });
    assert.equal(r, 200);
  });
});

describe('start-up errors', () => {
  test('a port in use: exits non-zero with "Connection in use"', async (t) => {
    const blocker = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    t.after(() => blocker.close());
    const port = (blocker.address() as { port: number }).port;
    const server = new Server(['-b', `127.0.0.1:${port}`, fixture('pid.mjs')]);
    t.after(() => server.kill());
    const { code } = await server.exited();
    assert.notEqual(code, 0);
    assert.match(server.log, new RegExp(`Connection in use: 127\\.0\\.0\\.1:${port}`));
    assert.equal(server.count(/Booting worker/), 0);
  });

  test('an invalid port: exits 2 with one line naming the address', async (t) => {
    const server = new Server(['-b', '127.0.0.1:99999', fixture('pid.mjs')]);
    t.after(() => server.kill());
    assert.equal((await server.exited()).code, 2);
    const lines = server.log.trim().split('\n');
    assert.equal(lines.length, 1, server.log);
    assert.match(lines[0]!, /invalid port "99999" in bind address "127\.0\.0\.1:99999"/);
  });

  test('a missing app file exits 4', async (t) => {
    const server = new Server(['-b', '127.0.0.1:0', 'nope.ts']);
    t.after(() => server.kill());
    assert.equal((await server.exited()).code, 4);
    assert.match(server.log, /cannot find "nope\.ts"/);
  });

  test('an app that throws at import exits 4 with the reason, having started at most -w workers', async (t) => {
    const server = new Server(['-w', '2', '-b', '127.0.0.1:0', fixture('throws-at-import.mjs')]);
    t.after(() => server.kill());
    assert.equal((await server.exited()).code, 4);
    assert.match(server.log, /this app fails at import/);
    assert.match(server.log, /Reason: App failed to load\./);
    assert.ok(server.count(/Booting worker/) <= 2);
  });

  test('--preload fails fast with exit 4 before any worker starts', async (t) => {
    const server = new Server(['--preload', '-b', '127.0.0.1:0', fixture('throws-at-import.mjs')]);
    t.after(() => server.kill());
    assert.equal((await server.exited()).code, 4);
    assert.equal(server.count(/Booting worker/), 0);
  });

  test('an unknown export names the exports found', async (t) => {
    const server = new Server(['-b', '127.0.0.1:0', `${fixture('factory.ts')}:nope`]);
    t.after(() => server.kill());
    assert.equal((await server.exited()).code, 4);
    assert.match(server.log, /has no export "nope" \(exports found: create, createAsync\)/);
  });

  test('an unknown flag exits 2 with a suggestion', async (t) => {
    const server = new Server(['--wokers', '2', fixture('pid.mjs')]);
    t.after(() => server.kill());
    assert.equal((await server.exited()).code, 2);
    assert.match(server.log, /unknown option --wokers — did you mean --workers\?/);
  });
});

describe('workers environment', () => {
  test('TSUNICORN_WORKER_ID is a stable slot reused by the replacement; -e and --env-file reach workers', async (t) => {
    const envFile = join(tmp, 'app.env');
    writeFileSync(envFile, 'APP_GENERATION=from-file\n');
    const server = await startServer(
      ['-w', '2', '-b', '127.0.0.1:0', '--env-file', envFile, '-e', 'EXTRA=1', fixture('pid.mjs')],
      {
        workers: 2,
      },
    );
    t.after(() => server.kill());
    await waitServing({ port: server.port });
    const ids = new Map<string, number>();
    await waitFor(async () => {
      const r = JSON.parse((await request({ port: server.port })).body);
      ids.set(r.id, r.pid);
      assert.equal(r.generation, 'from-file');
      return ids.size === 2;
    }, 'both slots answering');
    assert.deepEqual([...ids.keys()].sort(), ['0', '1']);
    process.kill(ids.get('0')!, 'SIGKILL');
    await waitFor(async () => {
      const r = JSON.parse((await request({ port: server.port })).body);
      return r.id === '0' && r.pid !== ids.get('0');
    }, 'slot 0 served by a new pid');
  });
});
