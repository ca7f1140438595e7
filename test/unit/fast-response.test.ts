import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspect } from 'node:util';
import { FastResponse, installFastResponse, nativeResponse } from '../../src/http/adapters/fast-response.ts';

installFastResponse();
const Native = nativeResponse();

test('installed as the global Response; both kinds are instanceof Response', () => {
  assert.equal(globalThis.Response, FastResponse);
  assert.notEqual(Native, FastResponse);
  const fast = new Response('hi');
  assert.ok(fast instanceof Response);
  assert.ok(fast instanceof Native, 'code holding the real constructor accepts it too');
  assert.ok(new Native('hi') instanceof Response);
  assert.equal(Object.prototype.toString.call(fast), '[object Response]');
  assert.ok(!({} instanceof Response));
});

test('a string body is written as made, with the Content-Type the real Response adds', () => {
  const r = new Response('héllo', { status: 201, statusText: 'Made', headers: { 'X-One': '1' } });
  assert.deepEqual(FastResponse.parts(r), {
    status: 201,
    statusText: 'Made',
    headers: ['x-one', '1', 'content-type', 'text/plain;charset=UTF-8'],
    hasLength: false,
    body: 'héllo',
  });
  assert.equal(
    FastResponse.parts(new Response('x', { headers: { 'Content-Length': '1' } }))?.hasLength,
    true,
  );
  assert.equal(r.status, 201);
  assert.equal(r.ok, true);
  assert.equal(r.headers.get('content-type'), 'text/plain;charset=UTF-8');
  const bytes = new Uint8Array([1, 2, 3]);
  assert.deepEqual(FastResponse.parts(new Response(bytes, { headers: [['A', 'b']] }))?.headers, ['a', 'b']);
  assert.equal(FastResponse.parts(new Response(null, { status: 204 }))?.body, null);
});

test('headers changed after construction are the ones written', () => {
  const r = new Response('x', { headers: { 'content-type': 'text/html' } });
  r.headers.set('x-late', 'yes');
  r.headers.append('set-cookie', 'a=1');
  r.headers.append('set-cookie', 'b=2');
  assert.deepEqual(FastResponse.parts(r)?.headers, [
    'content-type',
    'text/html',
    'set-cookie',
    'a=1',
    'set-cookie',
    'b=2',
    'x-late',
    'yes',
  ]);
});

test('reading the body, cloning or inspecting goes to the real Response, which is then written', async () => {
  const r = new Response('body text', { status: 202, headers: { 'x-h': '1' } });
  assert.equal(await r.clone().text(), 'body text');
  assert.equal(FastResponse.parts(r), undefined, 'made real by clone()');
  assert.ok(FastResponse.real(r) instanceof Native);
  assert.equal(FastResponse.real(r).headers.get('x-h'), '1');
  assert.equal(await r.text(), 'body text');
  assert.equal(r.bodyUsed, true);
  assert.match(inspect(new Response('i')), /Response/);
  const streamed = new Response('s');
  assert.ok(streamed.body instanceof ReadableStream);
  assert.equal(FastResponse.parts(streamed), undefined);
});

test('Response.json, error and redirect behave as the standard says', async () => {
  const j = Response.json({ a: 1 }, { status: 201 });
  assert.equal(j.status, 201);
  assert.deepEqual(FastResponse.parts(j)?.headers, ['content-type', 'application/json']);
  assert.deepEqual(await j.json(), { a: 1 });
  assert.throws(() => Response.json(undefined), TypeError);
  assert.equal(Response.error().type, 'error');
  const redirect = Response.redirect('http://example.com/next', 307);
  assert.equal(redirect.status, 307);
  assert.equal(redirect.headers.get('location'), 'http://example.com/next');
});

test('what the real constructor rejects is rejected at construction; other bodies are real at once', () => {
  assert.throws(() => new Response('x', { status: 99 }), RangeError);
  assert.throws(() => new Response('x', { status: 204 }), TypeError);
  assert.throws(() => new Response('x', { statusText: 'bad\n' }), TypeError);
  const stream = new Response(new ReadableStream());
  assert.equal(FastResponse.parts(stream), undefined);
  assert.equal(FastResponse.parts(new Response(new URLSearchParams('a=1'))), undefined);
});

test('another Response as the init gives its status, text and headers, also once made real', async () => {
  const base = new Native('y', { status: 203, statusText: 'Other', headers: { 'x-from': 'base' } });
  const r = new Response('x', base as ResponseInit);
  assert.equal(FastResponse.parts(r)?.status, 203);
  r.headers.set('x-more', '1');
  const real = FastResponse.real(r);
  assert.deepEqual([real.status, real.statusText, real.headers.get('x-from')], [203, 'Other', 'base']);
  assert.equal(real.headers.get('x-more'), '1');
  assert.equal(await r.text(), 'x');
});
