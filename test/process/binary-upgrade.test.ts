import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  childPids,
  clientLoop,
  fixture,
  isAlive,
  killTree,
  readPid,
  request,
  startServer,
  waitFor,
  waitServing,
} from '../helpers/server.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tsunicorn-upgrade-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** `connections` clients sending requests back to back, half on kept-alive connections; failures recorded. */
function load(port: number, connections: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: connections / 2 });
  const loop = clientLoop(port, { connections, agentFor: (i) => (i % 2 ? agent : undefined) });
  const stopLoop = loop.stop;
  return Object.assign(loop, {
    async stop() {
      await stopLoop();
      agent.destroy();
    },
  });
}

describe('binary upgrade (USR2, WINCH)', () => {
  test('USR2, WINCH and TERM to the old master under 200 connections: no failed request, the pid file names the new master', async (t) => {
    const pidfile = join(tmp, 'upgrade.pid');
    const sock = join(tmp, 'upgrade.sock');
    const server = await startServer(
      ['-w', '2', '-b', '127.0.0.1:0', '-b', `unix:${sock}`, '-p', pidfile, fixture('pid.mjs')],
      { workers: 2 },
    );
    let newMaster = 0;
    t.after(() => {
      server.kill();
      if (newMaster) killTree(newMaster);
    });
    await waitServing({ port: server.port });
    assert.equal(readPid(pidfile), server.pid);
    const oldWorkers = new Set(server.workers());

    const traffic = load(server.port, 200);
    await waitFor(() => traffic.sent > 400, 'traffic before the upgrade');

    server.signal('SIGUSR2');
    newMaster = Number((await server.waitForLog(/Started a new master \(pid: (\d+)\)/))[1]);
    await waitFor(() => existsSync(`${pidfile}.2`) && readPid(`${pidfile}.2`) === newMaster, 'pidfile.2');
    await waitFor(() => childPids(newMaster).length === 2, "the new master's workers");
    const newWorkers = childPids(newMaster);
    await waitFor(() => newWorkers.some((p) => traffic.pids.has(p)), 'answers from the new workers');
    assert.ok(
      [...oldWorkers].some((p) => traffic.pids.has(p)),
      'the old workers served too',
    );

    server.signal('SIGUSR2');
    await server.waitForLog(/USR2 ignored: an upgrade is already in progress/);

    server.signal('SIGWINCH');
    await server.waitForLog(/Stopping all workers; the listeners stay open/);
    await waitFor(() => [...oldWorkers].every((p) => !isAlive(p)), 'the old workers to exit');
    const sentAfterWinch = traffic.sent;
    await waitFor(() => traffic.sent > sentAfterWinch + 400, 'traffic with only the new workers');

    server.signal('SIGTERM');
    assert.deepEqual(await server.exited(), { code: 0, signal: null });
    await server.waitForLog(/this master \(pid: \d+\) takes over/);
    await waitFor(
      () => existsSync(pidfile) && readPid(pidfile) === newMaster,
      'the pid file to name the new master',
    );
    assert.ok(!existsSync(`${pidfile}.2`));
    const cmdline = readFileSync(`/proc/${newMaster}/cmdline`, 'utf8');
    assert.match(cmdline, /^tsunicorn: master \[[^\]]*pid\.mjs\]/, 'the title lost its .2');
    const sentAfterTerm = traffic.sent;
    await waitFor(() => traffic.sent > sentAfterTerm + 400, 'traffic after the old master left');
    await traffic.stop();
    assert.deepEqual(traffic.failures, []);
    // The old master handed the unix socket over: it is still there and served by the new master.
    assert.equal((await request({ socketPath: sock })).status, 200);

    process.kill(newMaster, 'SIGTERM');
    await waitFor(() => !isAlive(newMaster), 'the new master to exit');
    assert.ok(!existsSync(pidfile), 'the promoted master removed its pid file');
  });

  test('USR2 with an app that now fails to load: the new master exits and the old one keeps serving', async (t) => {
    const app = join(tmp, 'broken-later.mjs');
    const pidfile = join(tmp, 'broken.pid');
    copyFileSync(fixture('pid.mjs'), app);
    const server = await startServer(
      ['-w', '2', '-b', '127.0.0.1:0', '-p', pidfile, '--log-level', 'debug', app],
      { workers: 2 },
    );
    t.after(() => server.kill());
    // Both workers must have imported the app before it is broken on disk.
    await waitFor(() => server.count(/Worker \(pid:\d+\) booted/) === 2, 'both workers booted');
    const workers = server.workers().sort();

    writeFileSync(app, "throw new Error('broken release');\n");
    server.signal('SIGUSR2');
    const newMaster = Number((await server.waitForLog(/Started a new master \(pid: (\d+)\)/))[1]);
    await server.waitForLog(
      new RegExp(
        `New master \\(pid:${newMaster}\\) exited with code 4 \\(App failed to load\\.\\); this master keeps serving`,
      ),
    );
    assert.equal((await request({ port: server.port })).status, 200);
    assert.deepEqual(server.workers().sort(), workers);
    assert.equal(readPid(pidfile), server.pid);
    assert.ok(!existsSync(`${pidfile}.2`), 'the failed master removed its pid file');

    // The failed upgrade no longer counts as pending: a fixed release can be tried again.
    copyFileSync(fixture('pid.mjs'), app);
    server.signal('SIGUSR2');
    await waitFor(() => server.count(/Started a new master/) === 2, 'a second new master');
    const second = Number([...server.log.matchAll(/Started a new master \(pid: (\d+)\)/g)][1]![1]);
    t.after(() => killTree(second));
    await waitFor(() => childPids(second).length === 2, "the second new master's workers");
  });

  test('WINCH then HUP on the old master rolls back: it starts workers again', async (t) => {
    const server = await startServer(['-w', '2', '-b', '127.0.0.1:0', fixture('pid.mjs')], { workers: 2 });
    t.after(() => server.kill());
    await waitServing({ port: server.port });
    server.signal('SIGWINCH');
    await waitFor(() => server.workers().length === 0, 'no workers');
    server.signal('SIGHUP');
    await waitFor(() => server.workers().length === 2, 'workers again');
    await waitServing({ port: server.port });
  });
});
