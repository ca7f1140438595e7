/**
 * PROXY protocol: with --proxy-protocol, the v1 or v2 header a load balancer starts a connection with names
 * the client for the access log and the app; a malformed header, or one from a peer not in
 * --proxy-allow-from, closes the connection before any HTTP.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fixture, type Server, startServer, waitFor } from '../helpers/server.ts';
import { exchange as raw, type SendMode } from '../wire/raw.ts';

/**
 * Sends raw bytes and returns everything the server wrote before it closed. The worker closes a refused
 * header before reading the rest, so the close may arrive as a reset: both are a close.
 */
async function exchange(port: number, bytes: Buffer | string, mode: SendMode = 'whole'): Promise<string> {
  const got = await raw(port, typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes, { mode });
  if (got.ended === 'refused' || got.ended === 'timeout') throw new Error(`connection ${got.ended}`);
  return got.data.toString('latin1');
}

const GET = 'GET /who HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n';
const body = (reply: string) => JSON.parse(/\{.*\}/s.exec(reply)?.[0] ?? 'null');

function v2Inet(src: number[], sport: number): Buffer {
  const header = Buffer.alloc(28);
  Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1').copy(header);
  header[12] = 0x21;
  header[13] = 0x11;
  header.writeUInt16BE(12, 14);
  Buffer.from([...src, 127, 0, 0, 1]).copy(header, 16);
  header.writeUInt16BE(sport, 24);
  header.writeUInt16BE(80, 26);
  return header;
}

/** Waits until the worker takes connections; what it answered, for the caller to judge. */
async function serving(server: Server): Promise<string> {
  const { reply } = await waitFor(async () => {
    try {
      return { reply: await exchange(server.port, `PROXY UNKNOWN\r\n${GET}`) };
    } catch {
      return undefined;
    }
  }, 'the worker to take connections');
  return reply;
}

describe('--proxy-protocol', () => {
  let server: Server;
  before(async () => {
    server = await startServer(
      ['-w', '1', '-b', '127.0.0.1:0', '--proxy-protocol', '--access-logfile', '-', fixture('whoami.mjs')],
      { workers: 1 },
    );
    await serving(server);
  });
  after(() => server?.kill());

  test('a v1 header names the client of the app and the access log', async () => {
    const reply = await exchange(server.port, `PROXY TCP4 203.0.113.7 127.0.0.1 40001 80\r\n${GET}`);
    assert.match(reply, /^HTTP\/1\.1 200/);
    assert.equal(body(reply).client, '203.0.113.7');
    await server.waitForLog(/^203\.0\.113\.7 .*"GET \/who HTTP\/1\.1" 200/m);
  });

  test('a v1 TCP6 header, sent apart from the request', async () => {
    // Byte by byte: the header arrives over many reads, each a segment of its own.
    const reply = await exchange(server.port, `PROXY TCP6 2001:db8::7 ::1 4711 80\r\n${GET}`, 'bytes');
    assert.equal(body(reply).client, '2001:db8::7');
  });

  test('a v2 header, in the same segment as the request', async () => {
    const reply = await exchange(
      server.port,
      Buffer.concat([v2Inet([198, 51, 100, 9], 5555), Buffer.from(GET)]),
    );
    assert.equal(body(reply).client, '198.51.100.9');
  });

  test('a malformed header or none closes the connection unanswered', async () => {
    assert.equal(await exchange(server.port, `PROXY TCP4 203.0.113.7 127.0.0.1 40001\r\n${GET}`), '');
    assert.equal(await exchange(server.port, GET), '');
  });
});

describe('--proxy-allow-from', () => {
  let server: Server;
  before(async () => {
    server = await startServer(
      [
        '-w',
        '1',
        '-b',
        '127.0.0.1:0',
        '--proxy-protocol',
        '--proxy-allow-from',
        '10.0.0.0/8',
        fixture('whoami.mjs'),
      ],
      { workers: 1 },
    );
    assert.equal(await serving(server), '');
  });
  after(() => server?.kill());

  test('a peer not in the list is closed, whatever it sends', async () => {
    assert.equal(await exchange(server.port, `PROXY TCP4 203.0.113.7 127.0.0.1 40001 80\r\n${GET}`), '');
  });
});

describe('with an Express app', () => {
  let server: Server;
  before(async () => {
    server = await startServer(
      ['-w', '1', '-b', '127.0.0.1:0', '--proxy-protocol', fixture('peer-express.ts')],
      {
        workers: 1,
      },
    );
    await serving(server);
  });
  after(() => server?.kill());

  test('req.ip and req.socket.remoteAddress are the client the header names', async () => {
    const reply = await exchange(
      server.port,
      `PROXY TCP4 203.0.113.7 127.0.0.1 40001 80\r\n${GET.replace('/who', '/')}`,
    );
    assert.deepEqual(body(reply), { ip: '203.0.113.7', remoteAddress: '203.0.113.7', remotePort: 40001 });
  });
});
