import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import { TsunicornError } from '../../src/errors.ts';

const cwd = mkdtempSync(join(tmpdir(), 'tsunicorn-protocols-'));
after(() => rmSync(cwd, { recursive: true, force: true }));

async function protocols(argv: string[]): Promise<readonly string[]> {
  return (await loadConfig(['app.mjs', ...argv], {}, cwd)).config.httpProtocols;
}

async function refusal(argv: string[]): Promise<string> {
  const err = await loadConfig(['app.mjs', ...argv], {}, cwd).then(
    () => assert.fail('expected the configuration to be rejected'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof TsunicornError);
  assert.equal(err.exitCode, 2);
  return err.message;
}

test('--http-protocols is a comma list of h1 and h2, h1 by default', async () => {
  assert.deepEqual(await protocols([]), ['h1']);
  assert.deepEqual(await protocols(['--certfile', 'c.pem', '--http-protocols', 'h1, h2']), ['h1', 'h2']);
  assert.deepEqual(await protocols(['--certfile', 'c.pem', '--http-protocols', 'h2,h1,h2']), ['h2', 'h1']);
});

test('a config file may give the list as a string or an array', async () => {
  writeFileSync(join(cwd, 'a.json'), '{ "certfile": "c.pem", "http_protocols": ["h1", "h2"] }');
  writeFileSync(join(cwd, 'b.json'), '{ "certfile": "c.pem", "httpProtocols": "h1,h2" }');
  assert.deepEqual(await protocols(['-c', join(cwd, 'a.json')]), ['h1', 'h2']);
  assert.deepEqual(await protocols(['-c', join(cwd, 'b.json')]), ['h1', 'h2']);
});

test('bad lists are one clear line each', async () => {
  assert.match(
    await refusal(['--http-protocols', 'h1,h3']),
    /--http-protocols: expected one of h1, h2, got "h3"/,
  );
  assert.match(await refusal(['--http-protocols', 'h2']), /--http-protocols: h1 must stay in the list/);
  assert.equal(
    await refusal(['--http-protocols', 'h1,h2']),
    '--http-protocols h2 needs TLS: add --certfile (and --keyfile), or serve h1 only',
  );
});
