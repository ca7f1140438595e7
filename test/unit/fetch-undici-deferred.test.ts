/**
 * A fetch adapter loads undici only when the app first needs it (fast-response.ts, fetch-request.ts), on a
 * Node that defines undici's globals as lazy getters (Node 20). A Node that has them from the start (Node 26)
 * has nothing to defer: there the adapter probes undici at once. Each case runs in a fresh process, as what
 * counts is the first touch, and a process has only one. Which cases apply is asked of a fresh process too.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const src = (path: string) => fileURLToPath(new URL(`../../src/${path}`, import.meta.url));

/** Runs `body` after the adapter's set-up in a new process; returns what it printed as JSON. */
async function fresh(body: string): Promise<Record<string, unknown>> {
  const script = `
    import { installFastResponse, FastResponse } from ${JSON.stringify(src('http/adapters/fast-response.ts'))};
    import { deferLazyRequests, IncomingRequest, lazyRequests, supportsLazyRequests } from ${JSON.stringify(src('http/adapters/fetch-request.ts'))};
    import { ServerResponse } from 'node:http';
    const lazyGlobals = Object.getOwnPropertyDescriptor(globalThis, 'Request')?.get !== undefined;
    const undici = () => process.moduleLoadList.includes('NativeModule internal/deps/undici/undici');
    const incoming = (url) => {
      const req = { method: 'GET', rawHeaders: ['x-probe', '1'] };
      return new IncomingRequest(req, new ServerResponse(req), url);
    };
    installFastResponse();
    deferLazyRequests();
    const out = { lazyGlobals };
    ${body}
    console.log(JSON.stringify(out));`;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
  return JSON.parse(stdout);
}

const { lazyGlobals } = await fresh('');
const onLazyNode = lazyGlobals ? {} : { skip: "this Node has undici's globals from the start" };

test('a fetch app answering with strings and plain headers never loads undici', onLazyNode, async () => {
  const out = await fresh(`
    const r = new Response('hi', { status: 201, headers: { 'x-a': '1' } });
    const j = Response.json({ a: 1 });
    out.parts = [FastResponse.parts(r), FastResponse.parts(j)];
    out.instance = r instanceof Response && j instanceof Response;
    out.tag = Object.prototype.toString.call(r);
    out.name = Response.name;
    out.request = incoming('http://localhost/x').url;
    out.undici = undici();
  `);
  assert.equal(out.undici, false);
  assert.deepEqual(out.parts, [
    {
      status: 201,
      statusText: '',
      headers: ['x-a', '1', 'content-type', 'text/plain;charset=UTF-8'],
      hasLength: false,
      body: 'hi',
    },
    {
      status: 200,
      statusText: '',
      headers: ['content-type', 'application/json'],
      hasLength: false,
      body: '{"a":1}',
    },
  ]);
  assert.equal(out.instance, true);
  assert.equal(out.tag, '[object Response]');
  assert.equal(out.name, 'Response');
  assert.equal(out.request, 'http://localhost/x');
});

test(
  'the first read of the global Request makes requests instanceof Request, and undici accepts them',
  onLazyNode,
  async () => {
    const out = await fresh(`
    const lazy = incoming('http://localhost/probe');
    out.before = undici();
    out.instance = lazy instanceof Request;
    const copy = new Request(lazy);
    out.copy = [copy.url, copy.headers.get('x-probe')];
    out.global = Object.getOwnPropertyDescriptor(globalThis, 'Request').value === Request;
  `);
    assert.equal(out.before, false);
    assert.equal(out.instance, true);
    assert.deepEqual(out.copy, ['http://localhost/probe', '1']);
    assert.equal(out.global, true, 'the global is a plain value again');
  },
);

test(
  'fetch(request) as the first touch of undici takes the request as a Request, not as a URL',
  onLazyNode,
  async () => {
    const out = await fresh(`
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => res.end(req.url + ' ' + req.headers['x-probe']));
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    out.before = undici();
    const response = await fetch(incoming('http://127.0.0.1:' + server.address().port + '/probe'));
    out.answer = await response.text();
    server.close();
  `);
    assert.equal(out.before, false);
    assert.equal(out.answer, '/probe 1', "the request's URL and headers went out");
  },
);

test('reaching undici through Response keeps FastResponse the global and both kinds instanceof it', async () => {
  const out = await fresh(`
    const fast = new Response('x');
    const real = Response.error();
    out.loaded = undici();
    out.global = globalThis.Response === FastResponse;
    out.instance = [fast instanceof Response, real instanceof Response, real.type, {} instanceof Response];
    out.body = await new Response('text body').text();
  `);
  assert.equal(out.loaded, true);
  assert.equal(out.global, true);
  assert.deepEqual(out.instance, [true, true, 'error', false]);
  assert.equal(out.body, 'text body');
});

test('where undici is there from the start, the adapter probes it at once', {
  skip: lazyGlobals ? 'this Node loads undici on first use' : false,
}, async () => {
  const out = await fresh(`
    out.decided = [lazyRequests(), supportsLazyRequests()];
    out.parts = FastResponse.parts(new Response('hi'))?.body;
  `);
  const [now, probed] = out.decided as [boolean, boolean];
  assert.equal(now, probed, 'requests are lazy exactly where undici accepts them');
  assert.equal(out.parts, 'hi');
});
