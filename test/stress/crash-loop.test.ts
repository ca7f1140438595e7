/**
 * R8: after a reload, SIGKILLing both workers of an app that now throws at import ends in a clear halt
 * (exit 3) after bounded spawns.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { isAlive, startServer, waitServing } from '../helpers/server.ts';
import { figure } from './wrk.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tsunicorn-crash-loop-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('R8: a crash loop after good boots', () => {
  test('bounded spawns and a clear halt', async (t) => {
    const app = join(tmp, 'crash-later.mjs');
    // Each boot claims the next number with an exclusive create. Two workers import the app at the same
    // moment, and a read-then-write counter gave both the same number: the replacements then booted fine and
    // the master, rightly, kept serving.
    writeFileSync(
      app,
      `import { closeSync, openSync } from 'node:fs';
let boot = 1;
for (;; boot++) {
  try {
    closeSync(openSync(${JSON.stringify(join(tmp, 'boot-'))} + boot, 'wx'));
    break;
  } catch (err) {
    if (err.code !== 'EEXIST') throw err;
  }
}
if (boot > 4) throw new Error('crash at import after 4 good boots');
export default (_req, res) => res.end('ok');
`,
    );
    const server = await startServer(['-w', '2', '--max-boot-failures', '5', '-b', '127.0.0.1:0', app], {
      workers: 2,
    });
    t.after(() => server.kill());
    await waitServing({ port: server.port });
    // Two more good boots, then every boot fails.
    server.signal('SIGHUP');
    await server.waitForLog(/Reload complete/);
    for (const pid of server.workers()) process.kill(pid, 'SIGKILL');
    const { code } = await server.exited(60_000);
    const spawns = server.count(/Booting worker/);
    figure('R8 async', { spawns, code: String(code) });
    assert.equal(code, 3);
    assert.match(server.log, /Reason: Worker failed to boot: 5 failed boots within 60 s/);
    assert.ok(spawns <= 4 + 5 + 2, `${spawns} spawns`);
    assert.ok(!isAlive(server.pid));
  });
});
