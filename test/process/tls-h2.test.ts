/**
 * HTTP/2 by ALPN (`--http-protocols h1,h2`): fetch and listener apps answer over HTTP/2 and HTTP/1.1 on one
 * port with the edge's limits, proxy trust and access log; Express stays on HTTP/1.1 without crashing; a HUP
 * with a new certificate fails no request; TERM lets streams in flight finish after a GOAWAY.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { cli, fixture, type Server, startServer, waitFor } from '../helpers/server.ts';
import { certificateFiles, h2Connect, h2Get, h2Request, httpsGet } from '../helpers/tls.ts';

const { cert, key, remove } = certificateFiles('first.test');
after(remove);

const tls = ['--certfile', cert, '--keyfile', key, '--http-protocols', 'h1,h2'];

async function serve(app: string, extra: string[] = [], workers = 1): Promise<Server> {
  const server = await startServer(
    ['-w', String(workers), '-b', '127.0.0.1:0', ...tls, ...extra, fixture(app)],
    {
      workers,
    },
  );
  await waitFor(
    () =>
      httpsGet(server.port).then(
        (r) => r.status === 200,
        () => false,
      ),
    `HTTPS to answer\n${server.log}`,
  );
  return server;
}

test('--http-protocols h2 without --certfile is one clear error, exit 2', () => {
  const run = spawnSync(process.execPath, [cli, '--http-protocols', 'h1,h2', fixture('whoami.mjs')], {
    encoding: 'utf8',
  });
  assert.equal(run.status, 2);
  assert.equal(
    run.stderr,
    'tsunicorn: error: --http-protocols h2 needs TLS: add --certfile (and --keyfile), or serve h1 only\n',
  );
});

describe('a fetch app', () => {
  let server: Server;
  before(async () => {
    server = await serve('whoami.mjs', [
      '--access-logfile',
      '-',
      '--health-path',
      '/healthz',
      '--limit-request-body',
      '1024',
      '--header-timeout',
      '3',
    ]);
  });
  after(() => server?.kill());

  test('answers over HTTP/2, with the https URL built from :authority, and logs HTTP/2.0', async () => {
    const reply = await h2Get(server.port, '/over-h2?x=1');
    assert.equal(reply.alpn, 'h2');
    assert.equal(reply.status, 200);
    assert.deepEqual(JSON.parse(reply.body), {
      url: `https://127.0.0.1:${server.port}/over-h2?x=1`,
      client: '127.0.0.1',
    });
    // The body's bytes counted once: HTTP/2's response passes end()'s chunk through its own write().
    await server.waitForLog(
      new RegExp(`"GET /over-h2\\?x=1 HTTP/2\\.0" 200 ${Buffer.byteLength(reply.body)} `),
    );
  });

  test('answers HTTP/1.1 clients on the same port', async () => {
    const reply = await httpsGet(server.port, '/over-h1');
    assert.equal(reply.alpn, 'http/1.1');
    assert.equal(reply.version, '1.1');
    assert.equal(JSON.parse(reply.body).url, `https://127.0.0.1:${server.port}/over-h1`);
  });

  test('a client offering both gets HTTP/2', async () => {
    const session = await h2Connect(server.port);
    try {
      assert.equal(session.alpnProtocol, 'h2');
    } finally {
      session.close();
    }
  });

  test('many streams at once on one session', async () => {
    const session = await h2Connect(server.port);
    try {
      const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => h2Request(session, `/s${i}`)));
      assert.deepEqual(
        replies.map((r) => [r.status, JSON.parse(r.body).url]),
        replies.map((_, i) => [200, `https://127.0.0.1:${server.port}/s${i}`]),
      );
    } finally {
      session.close();
    }
  });

  test('the health path and proxy trust apply to HTTP/2 requests', async () => {
    const health = await h2Get(server.port, '/healthz');
    assert.equal(health.status, 200);
    assert.equal(health.body, 'ok\n');
    const proxied = await h2Get(server.port, '/', { headers: { 'x-forwarded-for': '203.0.113.7' } });
    assert.equal(JSON.parse(proxied.body).client, '203.0.113.7');
  });

  test('the edge limits refuse HTTP/2 streams without closing the session', async () => {
    // whoami answers 200 to anything: these statuses can only come from the edge.
    const session = await h2Connect(server.port);
    try {
      const declared = await h2Request(session, '/', {
        method: 'POST',
        headers: { 'content-length': '2048' },
        body: Buffer.alloc(2048, 97),
      });
      assert.equal(declared.status, 413);
      const fields = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`x-field-${i}`, 'v']));
      assert.equal((await h2Request(session, '/', { headers: fields })).status, 431);
      const line = await h2Request(session, `/${'a'.repeat(9 * 1024)}`);
      assert.equal(line.status, 414);
      // The session still serves.
      assert.equal((await h2Request(session, '/after')).status, 200);
    } finally {
      session.close();
    }
    await server.waitForLog(/Invalid request from ip=\S+: Request header fields exceed the limit of 100/);
  });

  test('a session that opens no stream is closed after the header timeout', async () => {
    const session = await h2Connect(server.port);
    const started = Date.now();
    await new Promise((resolve) => session.once('close', resolve));
    const waited = Date.now() - started;
    assert.ok(waited >= 2500 && waited < 10_000, `closed after ${waited} ms`);
  });
});

test('plain (req, res) listener apps answer over HTTP/2, body limit included', async () => {
  const server = await serve('echo.mjs', ['--limit-request-body', '1024']);
  const other = await serve('listener.ts');
  try {
    assert.equal((await h2Get(other.port)).body, 'listener-ts');
    await other.waitForLog(/Serving HTTP\/2 and HTTP\/1\.1 over TLS \(ALPN h2, http\/1\.1\)/);
    const session = await h2Connect(server.port);
    try {
      const reply = await h2Request(session, '/echo?x=1', { method: 'POST', body: 'hello' });
      assert.equal(reply.alpn, 'h2');
      assert.equal(reply.status, 200);
      const echoed = JSON.parse(reply.body);
      assert.equal(echoed.method, 'POST');
      assert.equal(echoed.url, '/echo?x=1');
      assert.equal(echoed.version, '2.0');
      assert.equal(Buffer.from(echoed.bodyBase64, 'base64').toString(), 'hello');
      // No content-length: the body is counted as it streams in, and refused once past the limit.
      const big = await h2Request(session, '/', { method: 'POST', body: Buffer.alloc(4096, 97) });
      assert.equal(big.status, 413);
      assert.equal((await h2Request(session, '/after')).status, 200);
    } finally {
      session.close();
    }
    await server.waitForLog(/Invalid request from ip=\S+: Request body exceeds the limit of 1024 bytes/);
  } finally {
    server.kill();
    other.kill();
  }
});

test('Hono, Koa, Fastify and http.Server apps answer over HTTP/2', async () => {
  const plainServer = await serve('server.mjs');
  const hono = await serve('hono.ts');
  const koa = await serve('koa.ts');
  const fastify = await serve('fastify.ts');
  const post = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' };
  try {
    const fromKoa = await h2Get(koa.port);
    assert.deepEqual([fromKoa.alpn, fromKoa.status, fromKoa.body], ['h2', 200, 'koa']);
    const fromServer = await h2Get(plainServer.port);
    assert.deepEqual([fromServer.alpn, fromServer.status, fromServer.body], ['h2', 200, 'server-mjs']);
    for (const [server, greeting] of [
      [hono, 'hono'],
      [fastify, 'fastify'],
    ] as const) {
      const session = await h2Connect(server.port);
      try {
        assert.equal((await h2Request(session, '/')).body, greeting);
        // Reading a JSON body goes through the request's headers, where HTTP/2's pseudo-headers must not be.
        const posted = await h2Request(session, '/echo', post);
        assert.deepEqual([posted.status, JSON.parse(posted.body)], [200, { a: 1 }]);
      } finally {
        session.close();
      }
    }
    const cookies = await h2Get(hono.port, '/cookies');
    assert.deepEqual(cookies.headers['set-cookie'], [
      'a=1; Path=/',
      'b=2; Expires=Wed, 21 Oct 2099 07:28:00 GMT',
    ]);
  } finally {
    plainServer.kill();
    hono.kill();
    koa.kill();
    fastify.kill();
  }
});

for (const app of ['express.ts', 'express-server.ts']) {
  test(`an Express app (${app}) behind the same flags stays on HTTP/1.1 and does not crash`, async () => {
    const server = await serve(app);
    try {
      await server.waitForLog(/WARNING\] Serving HTTP\/1\.1 only over TLS, not HTTP\/2 .*Express/);
      const workers = server.workers();
      for (let i = 0; i < 5; i++) {
        // Offered both, as a browser offers them, the handshake picks HTTP/1.1.
        const reply = await httpsGet(server.port, '/', { alpn: ['h2', 'http/1.1'] });
        assert.equal(reply.alpn, 'http/1.1');
        assert.equal(reply.status, 200);
        assert.equal(reply.body, 'express');
      }
      // A client that speaks only HTTP/2 is refused in the handshake, never handed to Express.
      await assert.rejects(h2Get(server.port));
      assert.equal((await httpsGet(server.port)).status, 200);
      assert.deepEqual(server.workers(), workers, 'a worker was replaced');
      assert.doesNotMatch(server.log, /Error|TypeError/);
    } finally {
      server.kill();
    }
  });
}

test('the sync worker class stays on HTTP/1.1 and says why', async () => {
  const server = await serve('whoami.mjs', ['-k', 'sync']);
  try {
    await server.waitForLog(/Serving HTTP\/1\.1 only over TLS, not HTTP\/2 .*sync worker class/);
    const reply = await httpsGet(server.port, '/', { alpn: ['h2', 'http/1.1'] });
    assert.equal(reply.alpn, 'http/1.1');
    assert.equal(reply.status, 200);
  } finally {
    server.kill();
  }
});

test('a HUP serves a replaced certificate over HTTP/2 and HTTP/1.1, with no failed request', async () => {
  const hup = certificateFiles('first.test');
  const server = await startServer(
    [
      '-w',
      '2',
      '-b',
      '127.0.0.1:0',
      '--certfile',
      hup.cert,
      '--keyfile',
      hup.key,
      '--http-protocols',
      'h1,h2',
      fixture('whoami.mjs'),
    ],
    { workers: 2 },
  );
  try {
    await waitFor(
      () =>
        h2Get(server.port).then(
          (r) => r.status === 200,
          () => false,
        ),
      'HTTP/2 to answer',
    );
    hup.renew('second.test');
    const failures: string[] = [];
    let sent = 0;
    let stop = false;
    const count = (p: Promise<{ status: number }>) =>
      p.then(
        (r) => r.status === 200 || failures.push(`status ${r.status}`),
        (err: Error) => failures.push(err.message),
      );
    // A new connection per request, over each protocol, and one client that keeps its session as browsers
    // do and reconnects once the server says GOAWAY.
    const loops = [
      (async () => {
        while (!stop) {
          sent++;
          await count(h2Get(server.port));
        }
      })(),
      (async () => {
        while (!stop) {
          sent++;
          await count(httpsGet(server.port));
        }
      })(),
      (async () => {
        while (!stop) {
          const session = await h2Connect(server.port);
          let goaway = false;
          session.once('goaway', () => {
            goaway = true;
          });
          while (!stop && !goaway && !session.closed) {
            sent++;
            await count(h2Request(session, '/kept'));
          }
          session.close();
        }
      })(),
    ];
    server.signal('SIGHUP');
    await waitFor(
      () => h2Get(server.port).then((r) => r.cn === 'second.test'),
      'the new certificate',
      20_000,
    );
    await waitFor(
      () => server.count(/Booting worker/) >= 4 && server.workers().length === 2,
      'the old generation to leave',
      20_000,
    );
    stop = true;
    await Promise.all(loops);
    assert.ok(sent > 20, `only ${sent} requests sent`);
    assert.deepEqual(failures, []);
  } finally {
    server.kill();
    hup.remove();
  }
});

test('a session whose client stopped reading is cut after the keep-alive time', async () => {
  const server = await serve('stress.mjs', ['--keep-alive', '1']);
  try {
    const session = await h2Connect(server.port);
    const closed = new Promise((resolve) => session.once('close', resolve));
    const stream = session.request({ ':path': '/big' });
    stream.on('error', () => {});
    // 1 MiB answer, never read: flow control stops it after the first 64 KiB.
    stream.on('response', () => stream.pause());
    stream.end();
    const started = Date.now();
    await waitFor(() => session.closed || session.destroyed, 'the session to be cut', 8000);
    await closed;
    assert.ok(Date.now() - started >= 900, `cut after ${Date.now() - started} ms`);
    assert.equal((await h2Get(server.port)).status, 200);
  } finally {
    server.kill();
  }
});

test('TERM sends GOAWAY and lets HTTP/2 streams in flight finish', async () => {
  const server = await serve('stress.mjs', ['--graceful-timeout', '20']);
  try {
    const session = await h2Connect(server.port);
    const goaway = new Promise((resolve) => session.once('goaway', resolve));
    assert.equal((await h2Request(session, '/')).status, 200);
    const slow = Array.from({ length: 5 }, () => h2Request(session, '/?sleep=1500'));
    // The server answers a PING after every frame sent before it: the five requests are in the worker.
    await new Promise((resolve, reject) => session.ping((err) => (err ? reject(err) : resolve(undefined))));
    server.signal('SIGTERM');
    const replies = await Promise.all(slow);
    assert.deepEqual(
      replies.map((r) => r.status),
      [200, 200, 200, 200, 200],
    );
    for (const r of replies) assert.match(r.body, /^gen \d+ pid \d+ bytes 0\n$/);
    await goaway;
    session.close();
    assert.equal((await server.exited(20_000)).code, 0);
  } finally {
    server.kill();
  }
});
