import assert from 'node:assert/strict';
import { test } from 'node:test';
// The built package, as a user imports it.
import { run } from '../../dist/index.js';
import { fixture, request, waitFor } from '../helpers/server.ts';

test('run() starts the server from code and its handle reloads, scales, reports and stops it', async (t) => {
  const server = await run({ app: fixture('pid.mjs'), workers: 2, bind: ['127.0.0.1:0'], onLog: () => {} });
  t.after(() => {
    try {
      process.kill(server.pid, 'SIGKILL');
    } catch {}
  });
  const port = Number(/:(\d+)$/.exec(server.addresses[0]!)![1]);
  assert.equal((await request({ port })).status, 200);
  const before = await server.stats();
  assert.equal(before.workers.length, 2);
  await server.reload();
  const after = await server.stats();
  assert.ok(after.master.generation > before.master.generation);
  await server.scale(3);
  await waitFor(
    async () => (await server.stats()).workers.filter((w) => w.state === 'ready').length === 3,
    '3 workers',
  );
  assert.equal(await server.stop(), 0);
});
