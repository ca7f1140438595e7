import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fixture, request, root, Server, startServer, waitFor, waitServing } from '../helpers/server.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tsunicorn-hooks-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');

describe('config-file hooks', () => {
  test('a hook that throws is logged and the server keeps serving', async (t) => {
    const config = join(tmp, 'throwing.config.mjs');
    writeFileSync(
      config,
      `export default {
  onStarting() { throw new Error('starting boom'); },
  async onReady() { throw new Error('ready boom'); },
  beforeFork() { throw new Error('fork boom'); },
  afterWorkerBoot() { throw new Error('boot boom'); },
  beforeRequest(worker, req) { if (req.url === '/boom') throw new Error('request boom'); },
  afterRequest() { throw new Error('after boom'); },
  onChildExit() { throw new Error('child boom'); },
};
`,
    );
    const server = await startServer(['-c', config, '-w', '2', '-b', '127.0.0.1:0', fixture('pid.mjs')], {
      workers: 2,
    });
    t.after(() => server.kill());
    await waitServing({ port: server.port });
    for (let i = 0; i < 4; i++) assert.equal((await request({ port: server.port }, '/boom')).status, 200);
    for (const name of [
      'onStarting',
      'onReady',
      'beforeFork',
      'afterWorkerBoot',
      'beforeRequest',
      'afterRequest',
    ]) {
      await server.waitForLog(new RegExp(`\\[ERROR\\] Hook ${name} failed\\nError: \\w+ boom`));
    }
    // A worker that dies runs onChildExit in the master, which throws too; the master replaces the worker.
    const [first] = server.workers();
    process.kill(first!, 'SIGKILL');
    await server.waitForLog(/Hook onChildExit failed/);
    await waitFor(() => server.workers().length === 2 && !server.workers().includes(first!), 'a replacement');
    await waitServing({ port: server.port });
  });

  test('a logger in the config file receives the error log of master and workers', async (t) => {
    const lines = join(tmp, 'custom-logger.jsonl');
    const config = join(tmp, 'logger.config.mjs');
    writeFileSync(
      config,
      `import { appendFileSync } from 'node:fs';
const write = (level) => (msg) => appendFileSync(${JSON.stringify(lines)}, JSON.stringify({ level, pid: process.pid, msg }) + '\\n');
export default {
  logger: { info: write('info'), warn: write('warn'), error: write('error') },
  afterWorkerBoot() { throw new Error('boot boom'); },
};
`,
    );
    const server = new Server(['-c', config, '-w', '1', '-b', '127.0.0.1:0', fixture('pid.mjs')]);
    t.after(() => server.kill());
    const entries = () =>
      read(lines)
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { level: string; pid: number; msg: string });
    await waitFor(
      () => entries().some((e) => e.level === 'error' && e.msg.startsWith('Hook afterWorkerBoot failed')),
      "the worker's error",
    );
    const starting = entries().find((e) => e.msg.startsWith('Starting tsunicorn'));
    assert.equal(starting?.pid, server.pid);
    assert.notEqual(entries().find((e) => e.level === 'error')?.pid, server.pid);
    assert.doesNotMatch(server.log, /Starting tsunicorn/);
  });

  test('hooks run in master and workers, and HUP re-reads the config file', async (t) => {
    const trace = join(tmp, 'trace.log');
    // Inside the package, so the config imports it by name as an app's config would.
    const dir = mkdtempSync(join(root, 'test', '.tsunicorn-test-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const copy = (workers: number) =>
      writeFileSync(
        join(dir, 'tsunicorn.config.ts'),
        `import { appendFileSync } from 'node:fs';
import { defineConfig } from 'tsunicorn';
const note = (line: string) => appendFileSync(${JSON.stringify(trace)}, line + '\\n');
export default defineConfig({
  workers: ${workers},
  onStarting: (s) => note('onStarting master=' + (s.pid === process.pid)),
  onReady: () => note('onReady'),
  onReload: (s) => note('onReload workers=' + s.config.workers),
  beforeFork: (_s, w) => note('beforeFork ' + w.id),
  afterFork: (w) => note('afterFork ' + w.id + ' ' + (w.pid === process.pid)),
  afterWorkerBoot: (w) => note('afterWorkerBoot ' + w.id),
  beforeRequest: (_w, req) => note('beforeRequest ' + req.url),
  afterRequest: (_w, req, res, ms) => note('afterRequest ' + req.url + ' ' + res.statusCode + ' ' + (ms >= 0)),
  onWorkerCountChange: (_s, now, old) => note('onWorkerCountChange ' + old + '->' + now),
  onWorkerExit: (w) => note('onWorkerExit ' + w.generation),
  onChildExit: (_s, w, exit) => note('onChildExit ' + w.generation + ' ' + exit.code),
  onExit: () => note('onExit'),
});
`,
      );
    copy(1);
    const server = await startServer(['-b', '127.0.0.1:0', fixture('pid.mjs')], { cwd: dir, workers: 1 });
    t.after(() => server.kill());
    await waitServing({ port: server.port });
    await request({ port: server.port }, '/traced');
    await waitFor(() => read(trace).includes('afterRequest /traced 200 true'), 'afterRequest');
    copy(2);
    server.signal('SIGHUP');
    await server.waitForLog(/Reload complete/);
    await waitFor(() => read(trace).includes('onChildExit 1 0'), 'the old worker reaped');
    server.signal('SIGTERM');
    assert.equal((await server.exited()).code, 0);
    const text = read(trace);
    for (const line of [
      'onStarting master=true',
      'onReady',
      'beforeFork 0',
      'afterFork 0 true',
      'afterWorkerBoot 0',
      'beforeRequest /traced',
      'onReload workers=2',
      'onWorkerCountChange 1->2',
      'beforeFork 1',
      'onWorkerExit 1',
      'onWorkerExit 2',
      'onExit',
    ]) {
      assert.ok(text.includes(`${line}\n`), `${line} missing from:\n${text}`);
    }
  });
});
