import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixture, request, Server, startServer, waitFor } from '../helpers/server.ts';

test('an exported ready promise is awaited before the worker accepts and counts as booted', async (t) => {
  const server = await startServer(['-w', '1', '-b', '127.0.0.1:0', fixture('ready-export.mjs')]);
  t.after(() => server.kill());
  const first = await waitFor(
    () =>
      request({ port: server.port }).then(
        (r) => r.body,
        () => false,
      ),
    'the first answer',
  );
  assert.equal(first, 'ready');
});

test('a rejected ready export is an app load error: exit 4 with the reason', async (t) => {
  const server = new Server(['-w', '1', '-b', '127.0.0.1:0', fixture('ready-rejects.mjs')]);
  t.after(() => server.kill());
  assert.equal((await server.exited()).code, 4);
  assert.match(server.log, /the ready export of .*ready-rejects\.mjs rejected:\n.*database unreachable/);
});
