/** The container entrypoint's behaviour, outside a container: tsunicorn as PID 1 of a new PID namespace. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { childPids, cli, fixture, request, waitFor } from '../helpers/server.ts';
import { requireTool } from '../helpers/tools.ts';

test('as PID 1, TERM lets an in-flight request finish and the master exits 0', async (t) => {
  requireTool('unshare', 'util-linux');
  const child = spawn(
    'unshare',
    [
      '--pid',
      '--fork',
      '--mount-proc',
      process.execPath,
      cli,
      '-w',
      '2',
      '-b',
      '127.0.0.1:0',
      fixture('own-sigterm.mjs'),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr!.on('data', (d) => {
    log += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(() => child.kill('SIGKILL'));
  const port = Number(
    (await waitFor(() => /Listening at: http:\/\/127\.0\.0\.1:(\d+) \(1\)/.exec(log), `PID 1\n${log}`))[1],
  );
  await waitFor(
    () =>
      request({ port }).then(
        (r) => r.status === 200,
        () => false,
      ),
    'serving',
  );
  // The master as this namespace sees it: unshare's one child.
  const [master] = childPids(child.pid!);
  const inFlight = request({ port }, '/?sleep=1500');
  await new Promise((r) => setTimeout(r, 200));
  process.kill(master!, 'SIGTERM');
  const reply = await inFlight;
  assert.equal(reply.status, 200);
  assert.equal(await exited, 0);
  assert.match(log, /Shutting down: Master/);
});
