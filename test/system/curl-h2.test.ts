/**
 * The real curl (`curl --http2 -k`) against `--http-protocols h1,h2`: HTTP/2 200 from a fetch app and a plain
 * listener app, HTTP/1.1 from an Express app behind the same flags, and a HUP with a new certificate that
 * curl sees without a failed request.
 */

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { fixture, type Server, startServer, waitFor } from '../helpers/server.ts';
import { certificateFiles } from '../helpers/tls.ts';
import { requireTool } from '../helpers/tools.ts';

const curl = requireTool('curl', 'curl');
const run = promisify(execFile);

const { cert, key, remove } = certificateFiles('first.test');
after(remove);

interface CurlReply {
  version: string;
  status: number;
  body: string;
  /** The certificate subject curl printed, e.g. `CN=first.test`. */
  subject: string;
}

async function curlHttp2(port: number, path = '/'): Promise<CurlReply> {
  const { stdout, stderr } = await run(
    curl,
    [
      '--http2',
      '-k',
      '-sS',
      '-v',
      '--max-time',
      '10',
      '-w',
      '\n%{http_version} %{http_code}',
      `https://127.0.0.1:${port}${path}`,
    ],
    { encoding: 'utf8' },
  );
  const cut = stdout.lastIndexOf('\n');
  const [version, status] = stdout.slice(cut + 1).split(' ');
  return {
    version: version!,
    status: Number(status),
    body: stdout.slice(0, cut),
    subject: /subject: (\S+)/.exec(stderr)?.[1] ?? '',
  };
}

async function serve(app: string, certPath = cert, keyPath = key, workers = 1): Promise<Server> {
  const server = await startServer(
    [
      '-w',
      String(workers),
      '-b',
      '127.0.0.1:0',
      '--certfile',
      certPath,
      '--keyfile',
      keyPath,
      '--http-protocols',
      'h1,h2',
      fixture(app),
    ],
    { workers },
  );
  await waitFor(
    () =>
      curlHttp2(server.port).then(
        (r) => r.status === 200,
        () => false,
      ),
    `curl to get 200\n${server.log}`,
  );
  return server;
}

test('curl --http2 gets HTTP/2 200 from a fetch app and from a plain listener app', async () => {
  const fetchApp = await serve('whoami.mjs');
  const listenerApp = await serve('listener.ts');
  try {
    const fromFetch = await curlHttp2(fetchApp.port, '/x');
    assert.deepEqual([fromFetch.version, fromFetch.status], ['2', 200]);
    assert.equal(JSON.parse(fromFetch.body).url, `https://127.0.0.1:${fetchApp.port}/x`);
    const fromListener = await curlHttp2(listenerApp.port);
    assert.deepEqual(
      [fromListener.version, fromListener.status, fromListener.body],
      ['2', 200, 'listener-ts'],
    );
  } finally {
    fetchApp.kill();
    listenerApp.kill();
  }
});

test('curl --http2 gets HTTP/1.1 200 from an Express app behind the same flags, which keeps running', async () => {
  const server = await serve('express.ts');
  try {
    const workers = server.workers();
    for (let i = 0; i < 3; i++) {
      const reply = await curlHttp2(server.port);
      assert.deepEqual([reply.version, reply.status, reply.body], ['1.1', 200, 'express']);
    }
    assert.deepEqual(server.workers(), workers);
  } finally {
    server.kill();
  }
});

test('curl sees the new certificate after a HUP, with no failed request', async () => {
  const hup = certificateFiles('first.test');
  const server = await serve('whoami.mjs', hup.cert, hup.key, 2);
  try {
    assert.equal((await curlHttp2(server.port)).subject, 'CN=first.test');
    hup.renew('second.test');
    const failures: string[] = [];
    let sent = 0;
    let stop = false;
    const loops = Array.from({ length: 2 }, async () => {
      while (!stop) {
        sent++;
        await curlHttp2(server.port).then(
          (r) => (r.version === '2' && r.status === 200) || failures.push(`HTTP/${r.version} ${r.status}`),
          (err: Error) => failures.push(err.message),
        );
      }
    });
    server.signal('SIGHUP');
    await waitFor(
      () => curlHttp2(server.port).then((r) => r.subject === 'CN=second.test'),
      'the new certificate',
      20_000,
    );
    stop = true;
    await Promise.all(loops);
    assert.ok(sent > 5, `only ${sent} requests sent`);
    assert.deepEqual(failures, []);
  } finally {
    server.kill();
    hup.remove();
  }
});
