/**
 * TLS in the workers: HTTPS over HTTP/1.1 with a self-signed certificate made by openssl, and a HUP after the
 * certificate is replaced serves the new one without a failed request.
 */

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fixture, type Server, startServer, waitFor } from '../helpers/server.ts';
import { certificateFiles, httpsGet } from '../helpers/tls.ts';

const files = certificateFiles('first.test');

let server: Server;
before(async () => {
  server = await startServer(
    ['-w', '2', '-b', '127.0.0.1:0', '--certfile', files.cert, '--keyfile', files.key, fixture('whoami.mjs')],
    { workers: 2 },
  );
  await waitFor(
    () =>
      httpsGet(server.port).then(
        (r) => r.status === 200,
        () => false,
      ),
    'HTTPS to answer',
  );
});
after(() => {
  server?.kill();
  files.remove();
});

test('HTTP/1.1 over TLS, with the https scheme in the fetch URL and the Listening at: line', async () => {
  assert.match(server.log, new RegExp(`Listening at: https://127\\.0\\.0\\.1:${server.port} `));
  const reply = await httpsGet(server.port, '/tls');
  assert.equal(reply.status, 200);
  assert.equal(reply.version, '1.1');
  assert.equal(reply.cn, 'first.test');
  assert.equal(JSON.parse(reply.body).url, `https://127.0.0.1:${server.port}/tls`);
});

test('a HUP serves a replaced certificate, with no failed request', async () => {
  files.renew('second.test');
  let failed = 0;
  let stop = false;
  const load = (async () => {
    while (!stop)
      await httpsGet(server.port).then(
        (r) => r.status === 200 || failed++,
        () => failed++,
      );
  })();
  server.signal('SIGHUP');
  await waitFor(
    () => httpsGet(server.port).then((r) => r.cn === 'second.test'),
    'the new certificate',
    20_000,
  );
  stop = true;
  await load;
  assert.equal(failed, 0);
});
