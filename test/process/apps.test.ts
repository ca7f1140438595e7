import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import { describe, test } from 'node:test';
import { supportsBufferedBodies } from '../../src/http/adapters/fetch-response.ts';
import { fixture, request, startServer, waitServing } from '../helpers/server.ts';

/** Each app kind, served unchanged: [spec, expected body of GET /]. */
const kinds: [string, string][] = [
  ['listener.ts', 'listener-ts'],
  ['listener.cjs', 'listener-cjs'],
  ['server.mjs', 'server-mjs'],
  ['server.cts', 'server-cts'],
  ['express.ts', 'express'],
  ['fastify.ts', 'fastify'],
  ['fastify.ts:build()', 'fastify'],
  ['koa.ts', 'koa'],
  ['hono.ts', 'hono'],
  ['fetch-object.ts', 'fetch-object GET /'],
  ['fetch-object.js', 'fetch-object-js /'],
  ['fetch-fn.mjs', 'fetch-fn GET'],
  ["factory.ts:create('hi', excited=true)", 'hi!'],
  ["factory.ts:createAsync('yo')", 'yo'],
  ['ts-features.ts', 'ts-features happy'],
  ['cjs-ts/app.ts:app', 'cjs-ts helper OK'],
];

async function serve(spec: string) {
  const server = await startServer(['-w', '1', '-b', '127.0.0.1:0', fixture(spec)], { workers: 1 });
  await waitServing({ port: server.port });
  return server;
}

describe('app kinds', () => {
  for (const [spec, body] of kinds) {
    test(`serves ${spec}`, async (t) => {
      const server = await serve(spec);
      t.after(() => server.kill());
      const r = await request({ port: server.port });
      assert.equal(r.status, 200);
      assert.equal(r.body, body);
    });
  }
});

describe('fetch responses', () => {
  for (const args of [[], ['-k', 'threads', '--threads', '2'], ['--no-fast-response']]) {
    test(`what a fetch app's Responses say is what the client gets (${args.join(' ') || 'defaults'})`, async (t) => {
      const server = await startServer(
        ['-w', '1', ...args, '-b', '127.0.0.1:0', fixture('fetch-responses.mjs')],
        {
          workers: 1,
        },
      );
      t.after(() => server.kill());
      await waitServing({ port: server.port }, '/kind');
      const get = (path: string, method = 'GET') => request({ port: server.port }, path, { method });
      assert.equal((await get('/kind')).body, args.includes('--no-fast-response') ? 'native' : 'fast');

      const text = await get('/text');
      assert.deepEqual([text.status, text.body], [201, 'héllo']);
      assert.equal(text.headers['content-type'], 'text/plain;charset=UTF-8');
      // undici's own Response hides what it was built from on Node 26: its body is streamed, chunked.
      const length = args.includes('--no-fast-response') && !supportsBufferedBodies() ? undefined : '6';
      assert.equal(text.headers['content-length'], length);
      assert.equal(text.headers['x-shared'], 'yes');
      const bytes = await get('/bytes');
      assert.deepEqual(
        [bytes.body, bytes.headers['x-bytes'], bytes.headers['content-type']],
        ['hi', '2', undefined],
      );
      const json = await get('/json');
      assert.deepEqual([json.body, json.headers['content-type']], ['{"ok":true}', 'application/json']);
      const late = await get('/late');
      assert.equal(late.headers['content-type'], 'text/html');
      assert.deepEqual(late.headers['set-cookie'], ['a=1', 'b=2']);
      const reread = await get('/reread');
      assert.deepEqual([reread.body, reread.headers['x-first']], ['again', '1']);
      const empty = await get('/empty');
      assert.deepEqual([empty.status, empty.body], [204, '']);
      const head = await get('/text', 'HEAD');
      assert.deepEqual([head.status, head.body], [201, '']);
      assert.equal((await get('/instance')).body, 'true');
    });
  }
});

describe('request handling', () => {
  test('Express: JSON bodies, and a throwing route gives 500 and a logged stack while the worker serves on', async (t) => {
    const server = await serve('express.ts');
    t.after(() => server.kill());
    const echo = await request({ port: server.port }, '/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ a: 1 }),
    });
    assert.deepEqual(JSON.parse(echo.body), { a: 1 });
    assert.equal((await request({ port: server.port }, '/boom')).status, 500);
    assert.equal((await request({ port: server.port })).status, 200);
  });

  test('Fastify and Hono echo JSON; Hono keeps two Set-Cookie headers apart', async (t) => {
    for (const spec of ['fastify.ts', 'hono.ts']) {
      const server = await serve(spec);
      t.after(() => server.kill());
      const echo = await request({ port: server.port }, '/echo', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ kind: spec }),
      });
      assert.deepEqual(JSON.parse(echo.body), { kind: spec });
      if (spec === 'hono.ts') {
        const r = await request({ port: server.port }, '/cookies');
        assert.deepEqual(r.headers['set-cookie'], [
          'a=1; Path=/',
          'b=2; Expires=Wed, 21 Oct 2099 07:28:00 GMT',
        ]);
      }
    }
  });

  test('a plain listener that throws: 500 and the stack in the log; an error outside a request replaces the worker', async (t) => {
    const server = await serve('crash.mjs');
    t.after(() => server.kill());
    const r = await request({ port: server.port }, '/throw');
    assert.equal(r.status, 500);
    await server.waitForLog(/Error handling request GET \/throw\n.*Error: request boom/);
    const first = server.workers()[0];
    assert.equal((await request({ port: server.port }, '/async-crash')).status, 200);
    await server.waitForLog(/Uncaught exception in worker[\s\S]*crash outside a request/);
    await server.waitForLog(new RegExp(`Worker \\(pid:${first}\\) exited with code 1`));
    await waitServing({ port: server.port });
    assert.notEqual(server.workers()[0], first);
  });

  test('fetch apps: the response streams as written, HEAD has no body, uploads stream in, errors are 500', async (t) => {
    const server = await serve('fetch-object.ts');
    t.after(() => server.kill());
    const arrivals: number[] = [];
    const started = Date.now();
    const body = await new Promise<string>((resolve, reject) => {
      httpRequest({ host: '127.0.0.1', port: server.port, path: '/stream', agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          arrivals.push(Date.now() - started);
          text += d;
        });
        res.on('end', () => resolve(text));
      })
        .on('error', reject)
        .end();
    });
    assert.equal(body, 'chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n');
    assert.ok(arrivals.length >= 3, `chunks arrived separately (${arrivals.length} reads)`);
    assert.ok(arrivals[0]! < arrivals.at(-1)! - 100, 'the first chunk came well before the last');

    const head = await request({ port: server.port }, '/', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');

    const upload = await request({ port: server.port }, '/upload', {
      method: 'POST',
      body: Buffer.alloc(3 * 1024 * 1024, 1),
    });
    assert.deepEqual(JSON.parse(upload.body), { bytes: 3 * 1024 * 1024 });

    assert.equal((await request({ port: server.port }, '/boom')).status, 500);
    await server.waitForLog(/fetch boom/);
  });
});

describe('responses in parts', () => {
  for (const k of ['async', 'threads'])
    test(`-k ${k}: a response written in two parts on a kept-alive connection is not held for the client's ACK`, async (t) => {
      const server = await startServer(['-k', k, '-w', '1', '-b', '127.0.0.1:0', fixture('two-parts.mjs')], {
        workers: 1,
      });
      t.after(() => server.kill());
      await waitServing({ port: server.port });
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      t.after(() => agent.destroy());
      const times: number[] = [];
      for (let i = 0; i < 11; i++) {
        const start = performance.now();
        const r = await request({ port: server.port }, '/', { agent });
        assert.equal(r.body, 'first part, second part\n');
        times.push(performance.now() - start);
      }
      // With Nagle's algorithm on, the second part waits for the client's delayed ACK: 40 ms or more on Linux,
      // every time. Without it, a local answer takes a few milliseconds even on a loaded machine.
      times.sort((a, b) => a - b);
      assert.ok(times[5]! < 30, `median ${times[5]!.toFixed(1)} ms`);
    });
});
