/**
 * R8, outside CI until fixed: after a reload, SIGKILLing both workers of an app that now throws at import
 * should end in a clear halt (exit 3) after bounded spawns. In about one run in three the master logs nothing
 * more after booting the two replacements and never exits: a hang still to be found (docs/reliability.md).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { isAlive, startServer, waitServing } from '../helpers/server.ts';
import { figure } from '../stress/wrk.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tsunicorn-crash-loop-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('R8: a crash loop after good boots', () => {
  test('bounded spawns and a clear halt', async (t) => {
    const counter = join(tmp, 'boots');
    writeFileSync(counter, '0');
    const app = join(tmp, 'crash-later.mjs');
    writeFileSync(
      app,
      `import { readFileSync, writeFileSync } from 'node:fs';
const boots = Number(readFileSync(${JSON.stringify(counter)}, 'utf8')) + 1;
writeFileSync(${JSON.stringify(counter)}, String(boots));
if (boots > 4) throw new Error('crash at import after 4 good boots');
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
