/**
 * Proxy trust: from a peer in --forwarded-allow-ips, X-Forwarded-For, -Proto, -Host and Forwarded set the fetch Request's scheme
 * and host and the client address of the app and the access log; from any other peer they change nothing.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { allowList } from '../../src/http/proxy.ts';
import { fixture, request, type Server, startServer, waitServing } from '../helpers/server.ts';

const whoami = async (server: Server, headers: Record<string, string>) => {
  const reply = await request({ port: server.port }, '/who?x=1', { headers });
  return { status: reply.status, ...(reply.status === 200 ? JSON.parse(reply.body) : {}) };
};

describe('from a trusted proxy (loopback, the default)', () => {
  let server: Server;
  before(async () => {
    server = await startServer(
      ['-w', '1', '-b', '127.0.0.1:0', '--access-logfile', '-', fixture('whoami.mjs')],
      { workers: 1 },
    );
    await waitServing({ port: server.port });
  });
  after(() => server?.kill());

  test('X-Forwarded-Proto, -Host and -For give the URL and the client address', async () => {
    const got = await whoami(server, {
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'shop.example',
      'x-forwarded-for': '203.0.113.7',
    });
    assert.equal(got.url, 'https://shop.example/who?x=1');
    assert.equal(got.client, '203.0.113.7');
    await server.waitForLog(/^203\.0\.113\.7 .*"GET \/who\?x=1 HTTP\/1\.1" 200/m);
  });

  test('Forwarded (RFC 7239) is read as well', async () => {
    const got = await whoami(server, { forwarded: 'for="[2001:db8::1]:4711";proto=https;host=a.example' });
    assert.equal(got.url, 'https://a.example/who?x=1');
    assert.equal(got.client, '2001:db8::1');
  });

  test('addresses a client put left of an untrusted hop are not believed', async () => {
    const got = await whoami(server, { 'x-forwarded-for': '10.9.9.9, 198.51.100.9' });
    assert.equal(got.client, '198.51.100.9');
  });

  test('scheme headers that contradict each other get a 400', async () => {
    const got = await whoami(server, { 'x-forwarded-proto': 'https', 'x-forwarded-ssl': 'off' });
    assert.equal(got.status, 400);
    await server.waitForLog(/Invalid request from ip=127\.0\.0\.1: Contradictory scheme headers/);
  });
});

describe('from an untrusted peer', () => {
  let server: Server;
  before(async () => {
    server = await startServer(
      ['-w', '1', '-b', '127.0.0.1:0', '--forwarded-allow-ips', '10.0.0.0/8', fixture('whoami.mjs')],
      { workers: 1 },
    );
    await waitServing({ port: server.port });
  });
  after(() => server?.kill());

  test('the headers change nothing, contradictory ones included', async () => {
    const got = await whoami(server, {
      'x-forwarded-proto': 'https',
      'x-forwarded-ssl': 'off',
      'x-forwarded-host': 'shop.example',
      'x-forwarded-for': '203.0.113.7',
    });
    assert.equal(got.status, 200);
    assert.equal(got.url, `http://127.0.0.1:${server.port}/who?x=1`);
    assert.equal(got.client, '127.0.0.1');
  });
});

test('the allow list takes IPs, CIDR ranges of both families and *', () => {
  const trusted = allowList('127.0.0.1, 10.0.0.0/8, 2001:db8::/32');
  assert.ok(trusted('127.0.0.1'));
  assert.ok(trusted('::ffff:10.1.2.3'));
  assert.ok(trusted('2001:db8::5'));
  assert.ok(!trusted('11.0.0.1'));
  assert.ok(!trusted('::1'));
  assert.ok(allowList('*')('192.0.2.1'));
  assert.throws(() => allowList('10.0.0.0/x'));
});
