/**
 * R3: binary upgrades under load. USR2 starts a new master on the same sockets, WINCH stops the old master's
 * workers, TERM ends the old master; five times in a row under wrk at 200 connections (half keep-alive, half
 * a new connection per request), then once with a release that fails to load, which must leave the old master
 * serving.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  childPids,
  fixture,
  isAlive,
  killTree,
  readPid,
  request,
  type Server,
  startServer,
  waitFor,
  waitServing,
} from '../helpers/server.ts';
import { errorCount, figure, type WrkResult, wrk } from './wrk.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tsunicorn-r3-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const UPGRADES = 5;

/**
 * One upgrade from master `old`; resolves to the new master's pid once the old one is gone. Every master
 * of the chain writes to the first one's stdio, so the test's log has them all, each line tagged `[pid]`.
 */
async function upgrade(server: Server, old: number): Promise<number> {
  process.kill(old, 'SIGUSR2');
  const fresh = Number(
    (
      await server.waitForLog(new RegExp(`\\[${old}\\] \\[INFO\\] Started a new master \\(pid: (\\d+)\\)`))
    )[1],
  );
  await waitFor(
    () => server.count(new RegExp(`\\[${fresh}\\] \\[DEBUG\\] Worker \\(pid:\\d+\\) booted`)) >= 2,
    `both workers of the new master ${fresh} booted\n${server.log}`,
  );
  process.kill(old, 'SIGWINCH');
  await waitFor(
    () => childPids(old).every((p) => p === fresh),
    `the workers of the old master ${old} to exit\n${server.log}`,
  );
  process.kill(old, 'SIGTERM');
  await server.waitForLog(
    new RegExp(`\\(pid: ${old}\\) has exited; this master \\(pid: ${fresh}\\) takes over`),
  );
  return fresh;
}

/** wrk at `connections` in total, half on keep-alive connections and half with a new connection per request. */
function mixedLoad(port: number, connections: number, seconds: number) {
  const url = `http://127.0.0.1:${port}/`;
  const runs = [false, true].map((close) =>
    wrk(url, { connections: connections / 2, seconds, threads: 1, close }),
  );
  let ended = false;
  const all = Promise.all(runs);
  void all.then(
    () => {
      ended = true;
    },
    () => {},
  );
  return {
    get ended() {
      return ended;
    },
    async result() {
      const [keepAlive, close] = (await all) as [WrkResult, WrkResult];
      const sum = (f: (r: WrkResult) => number) => f(keepAlive) + f(close);
      return {
        keepAlive,
        close,
        fields: {
          keepAliveRequests: keepAlive.requests,
          closeRequests: close.requests,
          errors: sum(errorCount),
          connect: sum((r) => r.connectErrors),
          read: sum((r) => r.readErrors),
          write: sum((r) => r.writeErrors),
          timeout: sum((r) => r.timeouts),
          non2xx: sum((r) => r.non2xx),
        },
      };
    },
  };
}

describe('R3: USR2 upgrade, WINCH and TERM of the old master under wrk -c200', () => {
  test(`async, ${UPGRADES} upgrades in a row: 0 errors, the pid file names the last master`, async (t) => {
    const pidfile = join(tmp, 'r3.pid');
    const sock = join(tmp, 'r3.sock');
    const server = await startServer(
      [
        '-w',
        '2',
        '--log-level',
        'debug',
        '-b',
        '127.0.0.1:0',
        '-b',
        `unix:${sock}`,
        '-p',
        pidfile,
        fixture('stress.mjs'),
      ],
      { workers: 2 },
    );
    const masters = [server.pid];
    t.after(() => {
      server.kill();
      for (const pid of masters) killTree(pid);
    });
    await waitServing({ port: server.port });
    // Twice what the upgrades take on this box; the test fails if the load ended before the last one.
    const load = mixedLoad(server.port, 200, 40);
    await new Promise((r) => setTimeout(r, 1000));
    const started = Date.now();
    for (let i = 0; i < UPGRADES; i++) masters.push(await upgrade(server, masters.at(-1)!));
    const seconds = (Date.now() - started) / 1000;
    assert.ok(!load.ended, `the load ended before the upgrades did (${seconds.toFixed(1)} s)`);
    const r = await load.result();
    figure('R3 async', {
      upgrades: UPGRADES,
      ...r.fields,
      secondsPerUpgrade: (seconds / UPGRADES).toFixed(1),
    });
    assert.equal(r.fields.errors, 0, `${r.keepAlive.raw}\n${r.close.raw}`);
    assert.equal(readPid(pidfile), masters.at(-1));
    // Handed from master to master five times, the unix socket was never unlinked.
    assert.equal((await request({ socketPath: sock })).status, 200);
    for (const pid of masters.slice(0, -1)) assert.ok(!isAlive(pid), `old master ${pid} still alive`);
  });

  test('async, a new release that fails to load: the old master keeps serving, 0 errors', async (t) => {
    const app = join(tmp, 'release.mjs');
    copyFileSync(fixture('stress.mjs'), app);
    const server = await startServer(['-w', '2', '--log-level', 'debug', '-b', '127.0.0.1:0', app], {
      workers: 2,
    });
    t.after(() => server.kill());
    // Both workers must have imported the app before it is broken on disk.
    await waitFor(() => server.count(/Worker \(pid:\d+\) booted/) === 2, 'both workers booted');
    await waitServing({ port: server.port });
    const workers = server.workers().sort();
    const load = mixedLoad(server.port, 200, 12);
    await new Promise((r) => setTimeout(r, 1000));
    writeFileSync(app, "throw new Error('broken release');\n");
    const started = Date.now();
    server.signal('SIGUSR2');
    const failed = Number((await server.waitForLog(/Started a new master \(pid: (\d+)\)/))[1]);
    await server.waitForLog(
      new RegExp(
        `New master \\(pid:${failed}\\) exited with code 4 \\(App failed to load\\.\\); this master keeps serving`,
      ),
    );
    const seconds = (Date.now() - started) / 1000;
    assert.ok(!load.ended, 'the load ended before the new master failed');
    const r = await load.result();
    figure('R3 async failed-upgrade', { ...r.fields, newMasterFailedAfterS: seconds.toFixed(1) });
    assert.equal(r.fields.errors, 0, `${r.keepAlive.raw}\n${r.close.raw}`);
    assert.deepEqual(server.workers().sort(), workers);
    assert.ok(isAlive(server.pid));
  });
});
