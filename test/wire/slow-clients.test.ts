/**
 * Slow and stalled clients: a slowloris cannot hold the server, a client that stops reading is cut off,
 * and idle keep-alive connections are closed after --keep-alive.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { fixture, request, type Server, startServer, waitFor, waitServing } from '../helpers/server.ts';
import { open } from './raw.ts';

const SLOW_CONNECTIONS = 200;

/** A client that keeps sending header lines, slower than the header timeout allows. */
async function slowloris(port: number) {
  const socket = await open(port);
  let closedAt: number | undefined;
  let answer = '';
  socket.on('data', (d) => {
    answer += d.toString('latin1');
  });
  socket.on('error', () => {});
  socket.write('GET / HTTP/1.1\r\nHost: x\r\n');
  let n = 0;
  const drip = setInterval(() => {
    if (socket.writable) socket.write(`X-Drip-${n++}: 1\r\n`);
  }, 300);
  socket.once('close', () => {
    closedAt = Date.now();
    clearInterval(drip);
  });
  return {
    socket,
    get closedAt() {
      return closedAt;
    },
    get answer() {
      return answer;
    },
  };
}

describe('slowloris against --header-timeout', () => {
  let server: Server;
  before(async () => {
    server = await startServer(
      ['-w', '1', '-b', '127.0.0.1:0', '--header-timeout', '1', fixture('counter.mjs')],
      {
        workers: 1,
      },
    );
    await waitServing({ port: server.port }, '/calls');
  });
  after(() => server?.kill());

  test(`${SLOW_CONNECTIONS} slow connections are closed, and a normal client is served meanwhile`, async () => {
    const started = Date.now();
    const slow = await Promise.all(Array.from({ length: SLOW_CONNECTIONS }, () => slowloris(server.port)));
    try {
      const statuses: number[] = [];
      while (slow.some((s) => s.closedAt === undefined) && Date.now() - started < 20_000) {
        statuses.push((await request({ port: server.port }, '/calls', { timeoutMs: 5000 })).status);
      }
      assert.ok(statuses.length > 0);
      assert.deepEqual(new Set(statuses), new Set([200]));
      await waitFor(
        () => slow.every((s) => s.closedAt !== undefined),
        'every slow connection closed',
        20_000,
      );
      // Each one got a 408 (or, when the answer raced the close, nothing) and none outlived the timeout long.
      for (const s of slow) assert.match(s.answer, /^(HTTP\/1\.1 408 |$)/);
      const slowest = Math.max(...slow.map((s) => s.closedAt! - started));
      assert.ok(slowest < 15_000, `last slow connection closed after ${slowest} ms`);
    } finally {
      for (const s of slow) s.socket.destroy();
    }
  });
});

describe('stalled and idle clients', () => {
  let server: Server;
  before(async () => {
    server = await startServer(
      [
        '-w',
        '1',
        '-b',
        '127.0.0.1:0',
        '--log-level',
        'debug',
        '--request-timeout',
        '2',
        '--keep-alive',
        '1',
        fixture('counter.mjs'),
      ],
      { workers: 1 },
    );
    await waitServing({ port: server.port }, '/calls');
  });
  after(() => server?.kill());

  const closed = (socket: Socket) => new Promise<number>((r) => socket.once('close', () => r(Date.now())));

  test('a client that stops reading a large response is disconnected', async () => {
    const socket = await open(server.port);
    socket.on('error', () => {});
    const gone = closed(socket);
    const started = Date.now();
    socket.write('GET /big?mb=256 HTTP/1.1\r\nHost: x\r\n\r\n');
    // Read nothing: the server's output backs up until the stall limit. A paused socket cannot see the
    // server's close, so the server's log tells when it gave up.
    socket.pause();
    await server.waitForLog(/it stopped reading our output/, 30_000);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 1500, `closed after ${elapsed} ms, before the 2 s stall limit`);
    let received = 0;
    socket.on('data', (d: Buffer) => {
      received += d.length;
    });
    socket.resume();
    await gone;
    assert.ok(received < 256 << 20, 'the whole response arrived');
    assert.equal((await request({ port: server.port }, '/calls')).status, 200);
  });

  test('an idle keep-alive connection is closed after --keep-alive', async () => {
    const socket = await open(server.port);
    socket.on('error', () => {});
    const gone = closed(socket);
    let answer = '';
    socket.on('data', (d) => {
      answer += d;
    });
    socket.write('GET /calls HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => answer.includes('"calls"'), 'the answer');
    const answeredAt = Date.now();
    assert.match(answer, /keep-alive: timeout=1/i);
    const at = await Promise.race([gone, new Promise<number>((r) => setTimeout(() => r(-1), 15_000))]);
    socket.destroy();
    assert.notEqual(at, -1, 'the idle connection was never closed');
    assert.ok(at - answeredAt >= 800, `closed after ${at - answeredAt} ms`);
  });
});
