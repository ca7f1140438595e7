import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fixture, request, Server, startServer, waitFor, waitServing } from '../helpers/server.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tsunicorn-logs-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');
const lines = (text: string) => text.split('\n').filter(Boolean);

/** With the error log in a file the CLI prints nothing: the port is read from the file. */
async function portFromFile(errors: string): Promise<number> {
  const m = await waitFor(
    () => /Listening at: http:\/\/[^\s]*:(\d+) /.exec(read(errors)),
    `listening in ${errors}`,
  );
  return Number(m[1]);
}

describe('access and error logs', () => {
  test('--access-logfile - prints one line per request in the --access-logformat shape', async (t) => {
    const server = await startServer(
      [
        '-w',
        '2',
        '-b',
        '127.0.0.1:0',
        '--access-logfile',
        '-',
        '--access-logformat',
        '%(h)s "%(r)s" %(s)s %(b)s %(D)s',
        fixture('pid.mjs'),
      ],
      { workers: 2 },
    );
    t.after(() => server.kill());
    await waitServing({ port: server.port });
    for (let i = 0; i < 5; i++) await request({ port: server.port }, `/n${i}?q=${i}`);
    for (let i = 0; i < 5; i++) {
      await server.waitForLog(
        new RegExp(`^127\\.0\\.0\\.1 "GET /n${i}\\?q=${i} HTTP/1\\.1" 200 \\d+ \\d+$`, 'm'),
      );
    }
  });

  test('--access-log-json prints one valid JSON object per request', async (t) => {
    const server = await startServer(
      ['-w', '1', '-b', '127.0.0.1:0', '--access-logfile', '-', '--access-log-json', fixture('pid.mjs')],
      { workers: 1 },
    );
    t.after(() => server.kill());
    await waitServing({ port: server.port });
    await request({ port: server.port }, '/json?x=1', { headers: { 'user-agent': 'probe' } });
    const line = await server.waitForLog(/^\{.*\/json\?x=1.*\}$/m);
    const entry = JSON.parse(line[0]);
    assert.equal(entry.method, 'GET');
    assert.equal(entry.path, '/json');
    assert.equal(entry.query, 'x=1');
    assert.equal(entry.status, 200);
    assert.equal(entry.user_agent, 'probe');
    assert.equal(typeof entry.duration_us, 'number');
  });

  test('after mv access.log access.log.1 and USR1, new lines go to a new access.log (and error log)', async (t) => {
    const dir = mkdtempSync(join(tmp, 'rotate-'));
    const access = join(dir, 'access.log');
    const errors = join(dir, 'error.log');
    const server = new Server([
      '-w',
      '2',
      '-b',
      '127.0.0.1:0',
      '--access-logfile',
      access,
      '--error-logfile',
      errors,
      fixture('pid.mjs'),
    ]);
    t.after(() => server.kill());
    const port = await portFromFile(errors);
    await waitServing({ port });
    await request({ port }, '/before');
    await waitFor(() => read(access).includes('/before'), 'first line');
    renameSync(access, `${access}.1`);
    renameSync(errors, `${errors}.1`);
    server.signal('SIGUSR1');
    await waitFor(() => existsSync(errors), 'the master reopening error.log');
    assert.match(read(`${errors}.1`), /Handling signal: usr1/);
    // The master forwards USR1 to the workers right after reopening its own files.
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < 6; i++) await request({ port }, `/after${i}`);
    await waitFor(() => lines(read(access)).length === 6, 'six lines in the new access.log');
    assert.ok(!read(`${access}.1`).includes('/after'));
    assert.ok(read(`${access}.1`).includes('/before'));
  });

  test('lines from several workers never interleave mid-line', async (t) => {
    const dir = mkdtempSync(join(tmp, 'interleave-'));
    const access = join(dir, 'access.log');
    const server = await startServer(
      ['-w', '3', '-b', '127.0.0.1:0', '--access-logfile', access, fixture('pid.mjs')],
      { workers: 3 },
    );
    t.after(() => server.kill());
    await waitServing({ port: server.port });
    const long = 'x'.repeat(1500);
    const total = 300;
    await Promise.all(
      Array.from({ length: 10 }, async (_, c) => {
        for (let i = 0; i < total / 10; i++) await request({ port: server.port }, `/${c}-${i}?${long}`);
      }),
    );
    await waitFor(() => lines(read(access)).length >= total + 1, `${total} access lines`);
    for (const line of lines(read(access))) {
      assert.match(
        line,
        /^127\.0\.0\.1 - - \[[^\]]+\] "GET \/[\d-]+\?x+ HTTP\/1\.1" 200 \d+ "-" "-"$|"GET \/ HTTP/,
      );
    }
  });

  test('--error-log-json writes JSON lines; --capture-output sends app output to the error log', async (t) => {
    const dir = mkdtempSync(join(tmp, 'capture-'));
    const errors = join(dir, 'error.log');
    const server = new Server([
      '-w',
      '1',
      '-b',
      '127.0.0.1:0',
      '--error-logfile',
      errors,
      '--error-log-json',
      '--capture-output',
      fixture('prints.mjs'),
    ]);
    t.after(() => server.kill());
    const listening = await waitFor(
      () => lines(read(errors)).find((l) => l.includes('Listening at')),
      'listening line',
    );
    const entry = JSON.parse(listening);
    assert.equal(entry.level, 'info');
    assert.equal(typeof entry.pid, 'number');
    const port = Number(/:(\d+) /.exec(entry.msg)![1]);
    await waitServing({ port });
    await waitFor(
      () => read(errors).includes('app stdout /') && read(errors).includes('app stderr /'),
      'captured output',
    );
  });
});
