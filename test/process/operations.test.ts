import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { cli, fixture, request, startServer, waitFor, waitServing } from '../helpers/server.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tsunicorn-operations-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs `tsunicorn ctl …`, optionally as another user. */
function ctl(
  args: string[],
  as?: { uid: number; gid: number },
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, 'ctl', ...args], { timeout: 30_000, ...as }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('health endpoints', () => {
  test('--health-path and --liveness-path are answered by the worker, before the app', async (t) => {
    const server = await startServer(
      [
        '-w',
        '1',
        '-b',
        '127.0.0.1:0',
        '--health-path',
        '/healthz',
        '--liveness-path',
        '/livez',
        fixture('counter.mjs'),
      ],
      { workers: 1 },
    );
    t.after(() => server.kill());
    await waitServing({ port: server.port });
    for (const path of ['/healthz', '/healthz?probe=1', '/livez']) {
      const r = await request({ port: server.port }, path);
      assert.equal(r.status, 200, path);
      assert.equal(r.body, 'ok\n');
    }
    assert.equal((await request({ port: server.port }, '/healthz', { method: 'HEAD' })).status, 200);
    // The app never saw the probes: /calls counts only the one waitServing request.
    assert.deepEqual(JSON.parse((await request({ port: server.port }, '/calls')).body), { calls: 1 });
  });

  test('--drain-delay 3: after TERM /healthz answers 503 while / answers 200 for 3 s, then exit 0 with no failed request', async (t) => {
    const server = await startServer(
      [
        '-w',
        '2',
        '-b',
        '127.0.0.1:0',
        '--health-path',
        '/healthz',
        '--liveness-path',
        '/livez',
        '--drain-delay',
        '3',
        fixture('pid.mjs'),
      ],
      { workers: 2 },
    );
    t.after(() => server.kill());
    const target = { port: server.port };
    await waitServing(target);
    assert.equal((await request(target, '/healthz')).status, 200);
    // Keep-alive clients run through the delay; as a load balancer would, they stop opening connections
    // before it ends (a connection the master's kernel queue takes after the workers stopped accepting is reset
    // when the master exits). Slow requests sent just before the drain must still succeed.
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    t.after(() => agent.destroy());
    let stopLoad = false;
    const failures: string[] = [];
    let served = 0;
    const send = (path: string) =>
      request(target, path, { agent }).then(
        (r) => (r.status === 200 ? served++ : failures.push(`status ${r.status}`)),
        (err: Error) => failures.push(err.message),
      );
    const load = Promise.all(
      [1, 2, 3, 4].map(async () => {
        while (!stopLoad) await send('/?sleep=20');
      }),
    );
    await waitFor(() => served > 20, 'load to run');
    const termAt = Date.now();
    server.signal('SIGTERM');
    await waitFor(
      () =>
        request(target, '/healthz').then(
          (r) => r.status === 503,
          () => false,
        ),
      'readiness 503',
      2000,
      20,
    );
    // Within the delay, new connections are still served and liveness still holds.
    while (Date.now() - termAt < 2300) {
      assert.equal((await request(target, '/')).status, 200);
      assert.equal((await request(target, '/livez')).status, 200);
      assert.equal((await request(target, '/healthz')).status, 503);
      await new Promise((r) => setTimeout(r, 100));
    }
    stopLoad = true;
    await load;
    const slow = Promise.all([send('/?sleep=1500'), send('/?sleep=1500')]);
    assert.doesNotMatch(server.log, /Worker exiting/, 'workers drained before the delay ran out');
    await server.waitForLog(/Worker exiting/, 5000);
    assert.ok(Date.now() - termAt >= 3000, 'the drain began before --drain-delay ran out');
    await slow;
    const { code } = await server.exited(15_000);
    assert.equal(code, 0, server.log);
    assert.deepEqual(failures, []);
    assert.match(server.log, /Received TERM: readiness answers 503 for 3 s/);
  });
});

describe('control socket', () => {
  test('ctl stats --json lists every worker; scale 4 gives 4; reload replaces them; bad commands are errors', async (t) => {
    const server = await startServer(['-w', '2', '-b', '127.0.0.1:0', fixture('pid.mjs')], { workers: 2 });
    t.after(() => server.kill());
    await waitServing({ port: server.port });
    const socket = (await server.waitForLog(/Control socket: (\S+)/))[1]!;
    // A per-user directory only its owner can enter, and a socket only its owner can write.
    assert.equal(statSync(join(socket, '..')).mode & 0o777, 0o700);
    assert.equal(statSync(socket).mode & 0o777, 0o600);
    for (let i = 0; i < 5; i++) await request({ port: server.port }, '/');

    const stats = async () => {
      const r = await ctl(['--socket', socket, 'stats', '--json']);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as {
        master: { pid: number; generation: number; reloads: number };
        workers: { pid: number; requests: number; rss: number; state: string; generation: number }[];
      };
    };
    const first = await waitFor(async () => {
      const s = await stats();
      return s.workers.reduce((n, w) => n + w.requests, 0) >= 6 && s.workers.every((w) => w.rss > 0) && s;
    }, 'worker stats');
    assert.equal(first.master.pid, server.pid);
    assert.deepEqual(first.workers.map((w) => w.pid).sort(), server.workers().sort());

    assert.equal((await ctl(['--socket', socket, 'scale', '4'])).code, 0);
    await waitFor(
      async () => (await stats()).workers.filter((w) => w.state === 'ready').length === 4,
      '4 workers',
    );

    const before = new Set((await stats()).workers.map((w) => w.pid));
    const reload = await ctl(['--socket', socket, 'reload', '--json']);
    assert.equal(reload.code, 0, reload.stderr);
    assert.deepEqual(JSON.parse(reload.stdout), { completed: true });
    const after = await waitFor(async () => {
      const s = await stats();
      return s.workers.length > 0 && s.workers.every((w) => !before.has(w.pid) && w.state === 'ready') && s;
    }, 'a new generation');
    assert.equal(after.master.reloads, 1);

    const bad = await ctl(['--socket', socket, 'frobnicate']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /unknown command "frobnicate"/);
    assert.equal((await ctl(['--socket', socket, 'scale', 'lots'])).code, 1);
    // The master is unharmed.
    assert.equal((await request({ port: server.port }, '/')).status, 200);
  });

  test('the user nobody cannot connect to the control socket', {
    skip: process.getuid?.() !== 0 && 'needs root to run a client as nobody',
  }, async (t) => {
    const server = await startServer(['-w', '1', '-b', '127.0.0.1:0', fixture('pid.mjs')], { workers: 1 });
    t.after(() => server.kill());
    const socket = (await server.waitForLog(/Control socket: (\S+)/))[1]!;
    const asNobody = await ctl(['--socket', socket, 'stats'], { uid: 65534, gid: 65534 });
    assert.notEqual(asNobody.code, 0);
    assert.match(asNobody.stderr, /EACCES/);
    assert.equal((await ctl(['--socket', socket, 'stats'])).code, 0);
  });

  test('--control-socket PATH; a socket that cannot be created is a warning; --no-control-socket', async (t) => {
    const path = join(tmp, 'ctl.sock');
    const server = await startServer(
      ['-w', '1', '-b', '127.0.0.1:0', '--control-socket', path, fixture('pid.mjs')],
      {
        workers: 1,
      },
    );
    t.after(() => server.kill());
    const r = await ctl(['--socket', path, 'config', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).controlSocket, path);

    const unwritable = await startServer(
      [
        '-w',
        '1',
        '-b',
        '127.0.0.1:0',
        '--control-socket',
        join(tmp, 'missing', 'dir', 'x.sock'),
        fixture('pid.mjs'),
      ],
      { workers: 1 },
    );
    t.after(() => unwritable.kill());
    await unwritable.waitForLog(/WARNING\] No control socket at /);
    await waitServing({ port: unwritable.port });

    const none = await startServer(
      ['-w', '1', '-b', '127.0.0.1:0', '--no-control-socket', fixture('pid.mjs')],
      {
        workers: 1,
      },
    );
    t.after(() => none.kill());
    await waitServing({ port: none.port });
    assert.doesNotMatch(none.log, /Control socket/);
  });
});
