import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { request, startServer, waitFor, waitServing } from '../helpers/server.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tsunicorn-dev-reload-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const app = (word: string) => `export default (req, res) => res.end(${JSON.stringify(word)});\n`;

test('--reload: an edit changes the response within 3 s; a syntax error keeps serving; node_modules and dotfiles are ignored', async (t) => {
  const file = join(tmp, 'app.mjs');
  writeFileSync(file, app('one'));
  mkdirSync(join(tmp, 'node_modules'));
  const server = await startServer(['-w', '1', '-b', '127.0.0.1:0', '--reload', file], {
    workers: 1,
    cwd: tmp,
  });
  t.after(() => server.kill());
  const target = { port: server.port };
  await waitServing(target);
  await server.waitForLog(/--reload: watching/);
  const body = async () => (await request(target, '/')).body;
  assert.equal(await body(), 'one');

  const edited = Date.now();
  writeFileSync(file, app('two'));
  await waitFor(async () => (await body()) === 'two', 'the edited response', 3000, 50);
  assert.ok(Date.now() - edited <= 3000);

  writeFileSync(join(tmp, 'node_modules', 'dep.js'), 'x');
  writeFileSync(join(tmp, '.hidden'), 'x');
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(server.count(/--reload: .* changed; reloading/), 1, server.log);

  writeFileSync(file, 'export default (req, res) => {{{\n');
  await server.waitForLog(/Reload aborted/, 10_000);
  assert.equal(await body(), 'two');
  assert.match(server.log, /SyntaxError/);
});
