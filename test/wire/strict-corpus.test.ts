/**
 * The strict-parser corpus (test/fixtures/corpus/strict): framing, Content-Length/Transfer-Encoding,
 * methods, targets, versions and header syntax. Every must-reject case is refused in every send mode, every
 * valid case is served, and plain Node `http` serves no valid case that tsunicorn refuses.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fixture, type Server, startServer, waitServing } from '../helpers/server.ts';
import { type Exchange, exchange, type SendMode } from './raw.ts';

interface Case {
  name: string;
  kind: 'valid' | 'invalid';
  about: string;
  /** The request's bytes, one character per byte. */
  request: string;
  requests?: number;
  status?: (number | 'close')[];
}

const manifest: Case[] = JSON.parse(
  readFileSync(fileURLToPath(new URL('../fixtures/corpus/strict/manifest.json', import.meta.url)), 'utf8'),
);

function judge(c: Case, got: Exchange): boolean {
  const ok = got.statuses.filter((s) => s >= 200 && s < 300).length;
  if (c.kind === 'valid') return ok === c.requests;
  const want = c.status ?? [400];
  return (
    ok === 0 &&
    (got.statuses.some((s) => want.includes(s)) ||
      (want.includes('close') &&
        got.statuses.length === 0 &&
        (got.ended === 'closed' || got.ended === 'reset')))
  );
}

/** Replays one case; an exchange cut by a reset before any answer arrived is tried again, as the corpus does. */
async function replay(port: number, c: Case, mode: SendMode, seed: number): Promise<Exchange> {
  let got: Exchange;
  let tries = 0;
  do got = await exchange(port, Buffer.from(c.request, 'latin1'), { mode, seed });
  while (++tries < 5 && got.ended === 'reset' && got.data.length === 0);
  return got;
}

async function replayAll(port: number, mode: SendMode, seed: number) {
  const results: { c: Case; got: Exchange; pass: boolean }[] = [];
  const queue = [...manifest];
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let c = queue.shift(); c; c = queue.shift()) {
        const got = await replay(port, c, mode, seed);
        results.push({ c, got, pass: judge(c, got) });
      }
    }),
  );
  return results;
}

const show = (r: { c: Case; got: Exchange }) =>
  `${r.c.name} (${r.c.about}): ${r.got.statuses.join(',') || '-'} ${r.got.ended}`;

// The fetch twin's connections start on the lean HTTP/1.1 path (src/http/lean), which must leave every case
// it does not serve exactly as node:http would to node:http.
for (const app of ['echo.mjs', 'echo-fetch.mjs'])
  describe(`strict-parser corpus (${app})`, () => {
    let server: Server;
    let plain: HttpServer;
    let plainPort: number;
    before(async () => {
      server = await startServer(['-w', '1', '-b', '127.0.0.1:0', fixture(app)], { workers: 1 });
      await waitServing({ port: server.port });
      // The baseline: Node's own server with default limits, Host not required, reading every body.
      plain = createServer({ requireHostHeader: false }, (req, res) => {
        req.resume();
        req.on('end', () => res.end('ok'));
      });
      await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
      plainPort = (plain.address() as AddressInfo).port;
    });
    after(() => {
      server?.kill();
      plain?.closeAllConnections();
      plain?.close();
    });

    test('the manifest covers every category', () => {
      const categories = new Set(manifest.map((c) => c.name.split('/')[0]));
      assert.deepEqual([...categories].sort(), ['framing', 'headers', 'methods', 'targets']);
      assert.ok(manifest.filter((c) => c.kind === 'invalid').length >= 40);
    });

    for (const mode of ['whole', 'bytes', 'split'] as const) {
      test(`replayed ${mode}`, async () => {
        const seed = Math.floor(Math.random() * 2 ** 31);
        const ours = await replayAll(server.port, mode, seed);
        // A fetch app answers CONNECT 501: the Fetch standard has no Request for it (docs/http.md).
        const failed = ours
          .filter(
            (r) =>
              !r.pass &&
              !(app === 'echo-fetch.mjs' && r.c.name === 'methods/connect' && r.got.statuses[0] === 501),
          )
          .map(show);
        assert.deepEqual(failed, [], `mode ${mode}, seed ${seed}`);
        const theirs = await replayAll(plainPort, mode, seed);
        const nodeServes = theirs.filter((r) => r.c.kind === 'valid' && r.pass).length;
        const weServe = ours.filter((r) => r.c.kind === 'valid' && r.pass).length;
        assert.ok(weServe >= nodeServes, `we serve ${weServe} valid cases, plain Node ${nodeServes}`);
      });
    }
  });
