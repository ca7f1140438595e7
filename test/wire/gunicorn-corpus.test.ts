/**
 * Gunicorn's own request fixtures, replayed whole, byte by byte and in random splits against the real CLI
 * with the corpus's replay script. No invalid request may be answered 2xx; valid ones are served at least as
 * well as plain Node serves them, and each one we refuse is listed, with its reason, in docs/http.md.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fixture, type Server, startServer, waitServing } from '../helpers/server.ts';

const replay = fileURLToPath(new URL('../fixtures/corpus/gunicorn/replay.mjs', import.meta.url));
const docs = readFileSync(fileURLToPath(new URL('../../docs/http.md', import.meta.url)), 'utf8');

/** Valid fixtures we refuse on purpose; docs/http.md gives each one's reason. */
const REFUSED_VALID = ['valid/009', 'valid/013', 'valid/027', 'valid/031', 'valid/099'];
/** What plain Node `http` serves of the 50 valid fixtures that apply to a server with default settings. */
const PLAIN_NODE_VALID = 41;

interface Result {
  fixture: string;
  kind: 'valid' | 'invalid';
  na: boolean;
  pass: boolean;
  statuses: number[];
  got: string;
}

function runReplay(port: number, mode: string, seed: number): Promise<Result[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [replay, '--port', String(port), '--mode', mode, '--seed', String(seed), '--echo', '--json'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    const guard = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('exit', (code) => {
      clearTimeout(guard);
      if (code !== 0 && code !== 1) reject(new Error(`replay exited ${code}: ${err}`));
      else resolve(JSON.parse(out).results as Result[]);
    });
  });
}

/**
 * Fetch apps answer CONNECT with 501: the Fetch standard forbids the method in a Request (docs/http.md).
 * Their connections start on the lean HTTP/1.1 path, which hands anything outside its subset to node:http;
 * the corpus shows both together answer as the listener app's node:http does.
 */
const FETCH_REFUSED_VALID = [
  'valid/rfc9112_target_authority_connect_01',
  'valid/rfc9112_target_authority_ipv6_01',
];

for (const { app, refusedValid, minServed } of [
  { app: 'echo.mjs', refusedValid: REFUSED_VALID, minServed: PLAIN_NODE_VALID },
  {
    app: 'echo-fetch.mjs',
    refusedValid: [...REFUSED_VALID, ...FETCH_REFUSED_VALID],
    minServed: PLAIN_NODE_VALID - FETCH_REFUSED_VALID.length,
  },
]) {
  describe(`gunicorn request corpus (${app})`, () => {
    let server: Server;
    before(async () => {
      server = await startServer(['-w', '1', '-b', '127.0.0.1:0', fixture(app)], { workers: 1 });
      await waitServing({ port: server.port });
    });
    after(() => server?.kill());

    test('every refused valid fixture is listed in docs/http.md', () => {
      for (const name of refusedValid)
        assert.ok(docs.includes(`\`${name}\``), `${name} missing from docs/http.md`);
    });

    for (const mode of ['whole', 'bytes', 'split']) {
      test(`replayed ${mode}`, async () => {
        const seed = Math.floor(Math.random() * 2 ** 31);
        const results = (await runReplay(server.port, mode, seed)).filter((r) => !r.na);
        const context = `mode ${mode}, seed ${seed}`;
        const invalid2xx = results.filter(
          (r) => r.kind === 'invalid' && r.statuses.some((s) => s >= 200 && s < 300),
        );
        assert.deepEqual(invalid2xx, [], `invalid fixtures answered 2xx (${context})`);
        const invalidFailed = results.filter((r) => r.kind === 'invalid' && !r.pass);
        assert.deepEqual(invalidFailed, [], `invalid fixtures not refused as expected (${context})`);
        const valid = results.filter((r) => r.kind === 'valid');
        assert.equal(valid.length, 50);
        const served = valid.filter((r) => r.pass).length;
        assert.ok(served >= minServed, `only ${served} valid fixtures served (${context})`);
        const unexpected = valid.filter((r) => !r.pass && !refusedValid.includes(r.fixture));
        assert.deepEqual(unexpected, [], `valid fixtures refused without a documented reason (${context})`);
      });
    }
  });
}
