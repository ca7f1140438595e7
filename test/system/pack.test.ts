/** The published shape: `npm pack`, installed into an empty project, serves a TypeScript app via `npx tsunicorn`. */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { request, root, waitFor } from '../helpers/server.ts';

test('npm pack tarball installs into an empty folder and serves an app with npx tsunicorn', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsunicorn-pack-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], {
    cwd: root,
    encoding: 'utf8',
  })
    .trim()
    .split('\n')
    .at(-1)!;
  execFileSync('npm', ['init', '-y'], { cwd: dir, stdio: 'ignore' });
  execFileSync('npm', ['install', '--no-audit', '--no-fund', join(dir, tarball)], {
    cwd: dir,
    stdio: 'ignore',
  });
  writeFileSync(
    join(dir, 'app.ts'),
    "enum Greeting { Hi = 'hi from the packed tsunicorn' }\nexport default { fetch: (_r: Request) => new Response(Greeting.Hi) };\n",
  );
  const child = spawn('npx', ['tsunicorn', '-w', '2', '-b', '127.0.0.1:0', 'app.ts'], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  t.after(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {}
  });
  let log = '';
  child.stderr!.on('data', (d) => {
    log += d;
  });
  const port = Number(
    (
      await waitFor(
        () => /Listening at: http:\/\/127\.0\.0\.1:(\d+)/.exec(log),
        `the listen line\n${log}`,
        30_000,
      )
    )[1],
  );
  const body = await waitFor(
    () =>
      request({ port }).then(
        (r) => r.status === 200 && r.body,
        () => false,
      ),
    'a 200 from the packed server',
  );
  assert.equal(body, 'hi from the packed tsunicorn');
});
