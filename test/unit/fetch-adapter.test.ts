import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request as httpRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Socket } from 'node:net';
import { before, describe, test } from 'node:test';
import { nativeResponse } from '../../src/http/adapters/fast-response.ts';
import { fromFetch } from '../../src/http/adapters/fetch.ts';
import { IncomingRequest, requestUrl, supportsLazyRequests } from '../../src/http/adapters/fetch-request.ts';
import { supportsBufferedBodies } from '../../src/http/adapters/fetch-response.ts';
import { waitFor } from '../helpers/server.ts';

/** What undici's own Request makes of the URL the adapter used to build by concatenation. */
function eager(scheme: string, host: string, target: string): string | Error {
  const base = `${scheme}://${host || 'localhost'}`;
  try {
    return new Request(target.startsWith('/') ? `${base}${target}` : target === '*' ? `${base}/` : target)
      .url;
  } catch (err) {
    return err as Error;
  }
}

/** The response to a request, for a stand-in Request that watches it. */
const responseTo = (req: IncomingMessage) => new ServerResponse(req);

function incoming(method: string, url: string, rawHeaders: string[], body?: string): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  req.method = method;
  req.url = url;
  req.rawHeaders = rawHeaders;
  if (body !== undefined) req.push(body);
  req.push(null);
  return req;
}

describe('the Request a fetch app receives', () => {
  let lazy = false;
  before(() => {
    lazy = supportsLazyRequests();
  });

  test('its URL is what new Request() would make of the target, the fast path included', () => {
    const hosts = [
      'example.com',
      'Example.COM:80',
      'example.com:8080',
      '127.0.0.1:8000',
      '127.1',
      '[::1]:80',
      '',
    ];
    const targets = [
      '/',
      '/a/b?c=d&e=%41',
      '//double/slash',
      '/a/../b',
      '/a/./b',
      '/.well-known/x',
      '/a/%2e%2E/b',
      "/it's?q='x'",
      '/a\\b',
      '/a|b[c]',
      '/é',
      '/a#frag',
      '*',
      'http://other.example/x?y',
    ];
    for (const scheme of ['http', 'https']) {
      for (const host of hosts) {
        for (const target of targets) {
          const want = eager(scheme, host, target);
          if (want instanceof Error) assert.throws(() => requestUrl(scheme, host, target), TypeError);
          else assert.equal(requestUrl(scheme, host, target), want, `${scheme} ${host} ${target}`);
        }
      }
    }
    assert.throws(() => requestUrl('http', 'bad host', '/'), TypeError);
  });

  test('userinfo in an absolute-form target does not reach the Request, which would refuse it', () => {
    const url = requestUrl('http', 'example.com', 'http://user:pw@other.example/x?y');
    assert.equal(url, 'http://other.example/x?y');
    assert.equal(new Request(url).url, url);
  });

  test('undici accepts the Request an app receives, lazy or not', async (t) => {
    // Node 26's undici keeps a Request's state in private fields, so there the adapter builds it up front.
    t.diagnostic(`lazy Requests on Node ${process.versions.node}: ${lazy}`);
    const seen: Request[] = [];
    const handler = fromFetch((request) => {
      seen.push(request);
      return new Response(new Request(request).url);
    });
    const server = createServer(handler).listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const reply = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/q?x=1`);
      assert.equal(await reply.text(), `http://127.0.0.1:${(server.address() as AddressInfo).port}/q?x=1`);
    } finally {
      server.close();
    }
    assert.equal(seen.length, 1);
    assert.ok(seen[0] instanceof Request);
    assert.equal(seen[0] instanceof IncomingRequest, lazy, 'lazy exactly where undici accepts it');
  });

  test('reads method, URL and headers without building the real Request, and hands over to it', async (t) => {
    if (!lazy) {
      // What this Node's undici does with the stand-in: refuse it, which is why the adapter does not use it.
      t.diagnostic('this Node builds Requests up front; checking that undici refuses the stand-in');
      const req = incoming('GET', '/', []);
      assert.throws(() => new Request(new IncomingRequest(req, responseTo(req), 'http://h/') as never));
      return;
    }
    const req = incoming('GET', '/p', ['Host', 'h', 'X-A', '1', 'x-a', '2', 'Set-Cookie', 'c=1']);
    const request = new IncomingRequest(req, responseTo(req), 'http://h/p') as unknown as Request;
    assert.ok(request instanceof Request);
    assert.equal(request.method, 'GET');
    assert.equal(request.url, 'http://h/p');
    assert.equal(request.headers.get('x-a'), '1, 2');
    assert.equal(request.body, null);
    assert.equal(request.bodyUsed, false);
    request.headers.set('x-added', 'yes');

    const copy = new Request(request);
    assert.equal(copy.url, 'http://h/p');
    assert.equal(copy.headers.get('x-added'), 'yes', 'headers changed before the hand-over are kept');
    assert.equal(request.cache, 'default');
    assert.equal(request.clone().headers.get('x-a'), '1, 2');
    assert.equal(Object.prototype.toString.call(request), '[object Request]');
  });

  test('a body is read straight from the request stream, once, decoded as the standard decodes it', async () => {
    const read = (body: string, method = 'POST') => {
      const req = incoming(method, '/', ['content-type', 'application/json'], body);
      return new IncomingRequest(req, responseTo(req), 'http://h/') as unknown as Request;
    };
    const request = read('{"a":1}');
    assert.deepEqual(await request.json(), { a: 1 });
    assert.equal(request.bodyUsed, true);
    await assert.rejects(request.text(), TypeError);
    assert.equal(await read('\uFEFFhé').text(), 'hé', 'a BOM is stripped');
    await assert.rejects(read('{nope').json(), SyntaxError);
    assert.deepEqual([...new Uint8Array(await read('ab').arrayBuffer())], [97, 98]);
    const get = read('', 'GET');
    assert.deepEqual([await get.text(), await get.text(), get.bodyUsed], ['', '', false]);
    // Once the real Request exists, it reads the body.
    const handed = read('{"b":2}');
    assert.equal(handed.body instanceof ReadableStream, true);
    assert.deepEqual(await handed.json(), { b: 2 });
    assert.equal(handed.bodyUsed, true);
  });

  test('its signal aborts when the client leaves, whether it was asked for before or after', () => {
    // What node:http does to a response whose connection closes before it is finished.
    const leave = (res: ServerResponse) => {
      res.destroyed = true;
      res.emit('close');
    };
    const req = incoming('GET', '/', []);
    const res = responseTo(req);
    const before = new IncomingRequest(req, res, 'http://h/');
    const signal = before.signal;
    assert.equal(signal.aborted, false);
    leave(res);
    assert.equal(signal.aborted, true);
    const lateReq = incoming('GET', '/', []);
    const lateRes = responseTo(lateReq);
    const after = new IncomingRequest(lateReq, lateRes, 'http://h/');
    leave(lateRes);
    assert.equal(after.signal.aborted, true);
    assert.equal(after.toRequest().signal.aborted, true);
  });

  test('over a real connection: aborted when the client leaves, quiet once the response was sent', async () => {
    const signals: AbortSignal[] = [];
    const server = createServer(
      fromFetch(async (request) => {
        signals.push(request.signal);
        if (new URL(request.url).pathname === '/done') return new Response('done');
        await once(request.signal, 'abort');
        return new Response('never sent');
      }),
    ).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const send = async (path: string) => {
      const socket = new Socket().connect(port, '127.0.0.1');
      await once(socket, 'connect');
      socket.write(`GET ${path} HTTP/1.1\r\nHost: h\r\n\r\n`);
      return socket;
    };
    try {
      const done = await send('/done');
      const [reply] = await once(done, 'data');
      assert.match(String(reply), /^HTTP\/1\.1 200 /);
      done.destroy();
      const connections = () => new Promise<number>((r) => server.getConnections((_, n) => r(n)));
      await waitFor(async () => (await connections()) === 0, 'the server to see the first connection close');
      assert.equal(
        signals[0]!.aborted,
        false,
        'a response already sent is not aborted by the close after it',
      );
      const left = await send('/wait');
      await waitFor(() => signals.length === 2, 'the second request');
      assert.equal(signals[1]!.aborted, false);
      left.destroy();
      await waitFor(() => signals[1]!.aborted, 'the signal to abort when the client leaves');
    } finally {
      server.close();
    }
  });
});

describe('the response a fetch app returns', () => {
  // The global Response is the FastResponse fromFetch installed: a string or bytes body goes out with its
  // length on every Node. undici's own shows what it was built from except on Node 26, where such a body is
  // streamed, chunked.
  const buffered = supportsBufferedBodies();
  const lengthOr = (n: string) => (buffered ? [n] : []);
  async function serve(respond: () => Response | Promise<Response>, method = 'GET') {
    const server = createServer(fromFetch(() => respond()));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      return await new Promise<{ raw: string[]; body: string }>((resolve, reject) => {
        httpRequest({ port: (server.address() as AddressInfo).port, method, agent: false }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d) => {
            body += d;
          });
          res.on('end', () => resolve({ raw: res.rawHeaders, body }));
        })
          .on('error', reject)
          .end();
      });
    } finally {
      server.close();
    }
  }
  const header = (raw: string[], name: string) =>
    raw.flatMap((v, i) => (i % 2 === 0 && v.toLowerCase() === name ? [raw[i + 1]] : []));

  test('a buffered body goes out with its length; Set-Cookie headers stay apart', async () => {
    const { raw, body } = await serve(() => {
      const r = new Response('héllo', { headers: { 'x-a': '1' } });
      r.headers.append('set-cookie', 'a=1; Expires=Wed, 21 Oct 2099 07:28:00 GMT');
      r.headers.append('set-cookie', 'b=2');
      return r;
    });
    assert.equal(body, 'héllo');
    assert.deepEqual(header(raw, 'content-length'), ['6']);
    assert.deepEqual(header(raw, 'transfer-encoding'), []);
    assert.deepEqual(header(raw, 'set-cookie'), ['a=1; Expires=Wed, 21 Oct 2099 07:28:00 GMT', 'b=2']);
    assert.deepEqual(header(raw, 'x-a'), ['1']);
  });

  test('bytes and JSON bodies too; a HEAD answer has none', async () => {
    const bytes = await serve(() => new Response(new Uint8Array([104, 105])));
    assert.equal(bytes.body, 'hi');
    assert.deepEqual(header(bytes.raw, 'content-length'), ['2']);
    const json = await serve(() => Response.json({ a: 1 }));
    assert.equal(json.body, '{"a":1}');
    assert.deepEqual(header(json.raw, 'content-length'), ['7']);
    const head = await serve(() => new Response('not sent'), 'HEAD');
    assert.equal(head.body, '');
  });

  test("undici's own Response: buffered where undici shows its source, streamed otherwise", async () => {
    assert.equal(Object.getPrototypeOf(Response), nativeResponse(), 'fromFetch installed FastResponse');
    const Native = nativeResponse();
    const { raw, body } = await serve(() => {
      const r = new Native('héllo', { headers: { 'x-a': '1' } });
      r.headers.append('set-cookie', 'a=1');
      r.headers.append('set-cookie', 'b=2');
      return r;
    });
    assert.equal(body, 'héllo');
    assert.deepEqual(header(raw, 'content-length'), lengthOr('6'));
    assert.deepEqual(header(raw, 'transfer-encoding'), buffered ? [] : ['chunked']);
    assert.deepEqual(header(raw, 'set-cookie'), ['a=1', 'b=2']);
    const json = await serve(() => Native.json({ a: 1 }));
    assert.deepEqual([json.body, header(json.raw, 'content-length')], ['{"a":1}', lengthOr('7')]);
  });

  test('a stream body, or a body the app already started reading, is streamed', async () => {
    const streamed = await serve(
      () =>
        new Response(
          new ReadableStream({
            start(c) {
              c.enqueue(new TextEncoder().encode('a'));
              c.enqueue(new TextEncoder().encode('b'));
              c.close();
            },
          }),
        ),
    );
    assert.equal(streamed.body, 'ab');
    assert.deepEqual(header(streamed.raw, 'transfer-encoding'), ['chunked']);
    const started = await serve(async () => {
      const r = new Response('xyz');
      const reader = r.body!.getReader();
      await reader.read();
      reader.releaseLock();
      return r;
    });
    assert.equal(started.body, '', 'what the app read is not sent again');
  });
});
