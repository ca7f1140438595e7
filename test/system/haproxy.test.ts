/**
 * HAProxy in front with `send-proxy-v2`: the access log and the app see the address of HAProxy's client, not
 * HAProxy's own. The client binds 127.0.0.2 so its address differs from the 127.0.0.1 HAProxy connects from.
 */

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fixture, type Server, startServer, waitFor } from '../helpers/server.ts';
import { requireTool } from '../helpers/tools.ts';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

function getFrom(
  localAddress: string,
  port: number,
  path: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, localAddress, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.setTimeout(5000, () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

let server: Server;
let haproxy: ChildProcess;
let dir: string;
let frontPort: number;

before(async () => {
  const bin = requireTool('haproxy', 'haproxy');
  server = await startServer(
    ['-w', '1', '-b', '127.0.0.1:0', '--proxy-protocol', '--access-logfile', '-', fixture('whoami.mjs')],
    { workers: 1 },
  );
  await server.waitForLog(/Booting worker/);
  frontPort = await freePort();
  dir = mkdtempSync(join(tmpdir(), 'tsunicorn-haproxy-'));
  const config = join(dir, 'haproxy.cfg');
  writeFileSync(
    config,
    [
      'defaults',
      '  mode tcp',
      '  timeout connect 5s',
      '  timeout client 30s',
      '  timeout server 30s',
      'frontend front',
      `  bind 127.0.0.1:${frontPort}`,
      '  default_backend tsunicorn',
      'backend tsunicorn',
      `  server app 127.0.0.1:${server.port} send-proxy-v2`,
      '',
    ].join('\n'),
  );
  haproxy = spawn(bin, ['-db', '-f', config], { stdio: ['ignore', 'inherit', 'inherit'] });
  await waitFor(
    () =>
      getFrom('127.0.0.1', frontPort, '/').then(
        (r) => r.status === 200,
        () => false,
      ),
    'HAProxy to pass requests through',
  );
});

after(() => {
  haproxy?.kill('SIGKILL');
  server?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the app and the access log see the client HAProxy accepted', async () => {
  const reply = await getFrom('127.0.0.2', frontPort, '/via-haproxy');
  assert.equal(reply.status, 200);
  assert.equal(JSON.parse(reply.body).client, '127.0.0.2');
  await server.waitForLog(/^127\.0\.0\.2 .*"GET \/via-haproxy HTTP\/1\.1" 200/m);
});

test('a connection that bypasses HAProxy without a PROXY header is closed', async () => {
  await assert.rejects(getFrom('127.0.0.1', server.port, '/direct'));
});
