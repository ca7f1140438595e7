/**
 * Write batching (src/http/write-batch.ts) from outside: by default an answer leaves when the turn of the
 * event loop that ended it is over, over TLS too; with --no-write-batching, and under -k sync, it leaves at
 * end().
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixture, request, startServer, waitFor } from '../helpers/server.ts';
import { certificateFiles, httpsGet } from '../helpers/tls.ts';

const APP = fixture('busy-after-end.mjs');
const dir = mkdtempSync(join(tmpdir(), 'tsunicorn-batching-'));

/** Asks for an answer, marks it read as soon as it arrives, and returns what the app saw. */
async function whenRead(extra: string[], name: string, tls = false): Promise<string> {
  const server = await startServer(['-w', '1', '-b', '127.0.0.1:0', ...extra, APP], { workers: 1 });
  const get = (path: string) => (tls ? httpsGet(server.port, path) : request({ port: server.port }, path));
  try {
    await waitFor(
      () =>
        get('/outcome').then(
          (r) => r.status === 200,
          () => false,
        ),
      'the worker to serve',
    );
    const marker = join(dir, name);
    const answer = await get(`/?marker=${encodeURIComponent(marker)}`);
    writeFileSync(marker, '');
    assert.equal(answer.body, 'answered');
    return (await get('/outcome')).body;
  } finally {
    server.kill();
  }
}

test('by default an answer leaves when its turn of the event loop is over, over TLS too', async () => {
  const files = certificateFiles('batching.test');
  try {
    const [plain, tls] = await Promise.all([
      whenRead([], 'default'),
      whenRead(['--certfile', files.cert, '--keyfile', files.key], 'tls', true),
    ]);
    assert.equal(plain, 'read after the turn');
    assert.equal(tls, 'read after the turn');
  } finally {
    files.remove();
  }
});

test('--no-write-batching and -k sync write an answer at end()', async () => {
  const [off, sync] = await Promise.all([
    whenRead(['--no-write-batching'], 'off'),
    whenRead(['-k', 'sync'], 'sync'),
  ]);
  assert.equal(off, 'read during the turn');
  assert.equal(sync, 'read during the turn');
});
