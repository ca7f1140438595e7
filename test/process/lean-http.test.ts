/**
 * The lean HTTP/1.1 path for fetch apps (src/http/lean): it answers byte for byte as node:http does, hands a
 * connection to node:http mid-way without losing or reordering anything, keeps the keep-alive and drain
 * rules, and stays off where Node's own objects are needed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { scrape, sum } from '../helpers/metrics.ts';
import { cpuSeconds, establishedConnections } from '../helpers/proc.ts';
import {
  fixture,
  metricsPortOf,
  request,
  type Server,
  startServer,
  waitFor,
  waitServing,
} from '../helpers/server.ts';
import { exchange, getOn, open } from '../wire/raw.ts';

const APP = fixture('fetch-responses.mjs');

/**
 * A response as text, its Date masked and a chunked body (of a lone response) decoded: where a streamed
 * body's chunks fall is the writer's choice (Node 26's node:http joins the writes of one tick into a chunk).
 */
function normalise(data: Buffer): string {
  const text = data.toString('latin1').replace(/Date: [^\r]*/g, 'Date: -');
  const end = text.indexOf('\r\n\r\n');
  if (end === -1 || !/\r\nTransfer-Encoding: chunked\r\n/i.test(text.slice(0, end + 2))) return text;
  let body = '';
  let at = end + 4;
  for (;;) {
    const eol = text.indexOf('\r\n', at);
    const size = Number.parseInt(text.slice(at, eol), 16);
    if (!(size > 0)) return `${text.slice(0, end + 4)}[chunked] ${body}${text.slice(eol + 2)}`;
    body += text.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}

/** Raw requests, each alone on a connection and half-closed after it, as the request corpus sends them. */
const CASES = [
  'GET /text HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET /bytes HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
  'GET /json HTTP/1.0\r\n\r\n',
  'GET /late HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
  'HEAD /text HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
  'GET /empty HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
  'GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
  'GET /stream HTTP/1.0\r\n\r\n',
  'GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
  'HEAD /text HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
  'GET /late HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
  'GET /nowhere?q=%20 HTTP/1.1\r\nHost: x\r\nX-Pad:  v  \r\nConnection: close\r\n\r\n',
  'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello',
  // Pipelined, and then one the lean path leaves to node:http (chunked), then one more.
  'GET /text HTTP/1.1\r\nHost: x\r\n\r\nGET /json HTTP/1.1\r\nHost: x\r\n\r\n' +
    'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' +
    'GET /bytes HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
  // The client's end is read while a slow answer is in flight, before the connection goes to node:http.
  'GET /slow?ms=200 HTTP/1.1\r\nHost: x\r\n\r\n' +
    'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
  // Refused by the edge: the lean path leaves them to node:http, which answers as for every app.
  'GET /text HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n',
  'GET /text HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n',
  'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\nConnection: close\r\n\r\nshort',
];

describe('the lean HTTP/1.1 path', () => {
  let lean: Server;
  let plain: Server;
  before(async () => {
    [lean, plain] = await Promise.all([
      startServer(['-w', '1', '-b', '127.0.0.1:0', '--keep-alive', '2', APP], { workers: 1 }),
      startServer(['-w', '1', '-b', '127.0.0.1:0', '--keep-alive', '2', '--no-lean-http', APP], {
        workers: 1,
      }),
    ]);
    await Promise.all([
      waitServing({ port: lean.port }, '/json'),
      waitServing({ port: plain.port }, '/json'),
    ]);
  });
  after(() => {
    lean?.kill();
    plain?.kill();
  });

  test('serves fetch apps by default, and --no-lean-http turns it off', async () => {
    assert.equal((await request({ port: lean.port }, '/incoming')).body, 'LeanRequest');
    assert.equal((await request({ port: plain.port }, '/incoming')).body, 'IncomingMessage');
  });

  test('answers byte for byte as node:http does', async () => {
    for (const text of CASES) {
      const data = Buffer.from(text, 'latin1');
      const [ours, theirs] = await Promise.all([
        exchange(lean.port, data, { timeoutMs: 5000 }),
        exchange(plain.port, data, { timeoutMs: 5000 }),
      ]);
      assert.equal(normalise(ours.data), normalise(theirs.data), JSON.stringify(text));
      assert.equal(ours.ended, theirs.ended, JSON.stringify(text));
    }
  });

  test('a client that half-closes after its request still gets a slow answer, on either path', async () => {
    const slow = Buffer.from('GET /slow?ms=300 HTTP/1.1\r\nHost: x\r\n\r\n');
    for (const server of [lean, plain]) {
      // exchange() half-closes once the request is out, and reads until the server closes.
      const got = await exchange(server.port, slow, { timeoutMs: 5000 });
      assert.deepEqual(got.statuses, [200]);
      assert.equal(got.ended, 'closed');
    }
  });

  test('a kept-alive connection serves on after node:http takes it over, and closes when idle', async () => {
    const socket = connect({ host: '127.0.0.1', port: lean.port });
    let received = '';
    socket.on('data', (d) => {
      received += d.toString('latin1');
    });
    const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
    const answers = (n: number) =>
      waitFor(() => (received.match(/HTTP\/1\.1 /g)?.length ?? 0) >= n, `${n} answers`);
    socket.write('GET /text HTTP/1.1\r\nHost: x\r\n\r\n');
    await answers(1);
    // A request split across two writes is not lean: node:http serves it and the rest of the connection.
    socket.write('GET /js');
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.write('on HTTP/1.1\r\nHost: x\r\n\r\n');
    await answers(2);
    socket.write('GET /incoming HTTP/1.1\r\nHost: x\r\n\r\n');
    await answers(3);
    const idleFrom = Date.now();
    assert.match(received, /héllo|h\xc3\xa9llo/);
    assert.match(received, /\{"ok":true\}/);
    assert.match(received, /IncomingMessage/);
    // --keep-alive 2: the idle connection is closed by the server.
    const at = await closed;
    assert.ok(at - idleFrom >= 1500, `closed after ${at - idleFrom} ms idle`);
  });

  test('an idle lean connection is closed after --keep-alive', async () => {
    const socket: Socket = connect({ host: '127.0.0.1', port: lean.port });
    let received = '';
    socket.on('data', (d) => {
      received += d.toString('latin1');
    });
    const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
    socket.write('GET /incoming HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => received.includes('LeanRequest'), 'the answer');
    const idleFrom = Date.now();
    const at = await closed;
    assert.ok(at - idleFrom >= 1500 && at - idleFrom < 6000, `closed after ${at - idleFrom} ms idle`);
    assert.match(received, /Keep-Alive: timeout=2\r\n/);
  });

  test('a connection the master routes from a worker over its share to another is served', {
    timeout: 30_000,
  }, async (t) => {
    // While one worker is blocked the other accepts every connection, and past its share (SHARE_SLACK, 32)
    // passes them to the master for the blocked one. Such a connection arrives read-stopped, and must be
    // started (ipc/handles.ts startReading).
    const server = await startServer(['-w', '2', '--metrics-bind', '127.0.0.1:0', '-b', '127.0.0.1:0', APP], {
      workers: 2,
    });
    t.after(() => server.kill());
    await waitServing({ port: server.port }, '/json');
    const metrics = await metricsPortOf(server);
    const [first, second] = server.workers();
    await waitFor(
      () => establishedConnections(first!) + establishedConnections(second!) === 0,
      'the readiness probes to close',
    );
    const spent = [first!, second!].map(cpuSeconds);
    const blocked = request({ port: server.port }, '/block?ms=2000', { timeoutMs: 10_000 });
    // Blocked, not only accepted: between the two a worker still accepts.
    await waitFor(
      () => [first!, second!].some((pid, i) => cpuSeconds(pid) - spent[i]! >= 0.2),
      'a worker to be blocked',
    );
    const sockets = await Promise.all(Array.from({ length: 48 }, () => open(server.port)));
    t.after(() => {
      for (const s of sockets) s.destroy();
    });
    const handoffs = async () => sum(await scrape(metrics), 'tsunicorn_connection_handoffs_total');
    // Requests only now: connections answered while they are still coming would never add up to a share.
    await waitFor(async () => (await handoffs()) > 0, 'a connection to go through the master');
    const bodies = await Promise.all(
      sockets.map(async (s) => (await getOn(s, '/incoming')).split('\r\n\r\n')[1]),
    );
    assert.deepEqual(new Set(bodies), new Set(['LeanRequest']));
    assert.equal((await blocked).body, 'blocked');
  });

  test('TERM lets a request in flight finish, with Connection: close', async () => {
    const server = await startServer(['-w', '1', '-b', '127.0.0.1:0', APP], { workers: 1 });
    try {
      await waitServing({ port: server.port }, '/json');
      const slow = exchange(server.port, Buffer.from('GET /slow?ms=800 HTTP/1.1\r\nHost: x\r\n\r\n'), {
        timeoutMs: 10_000,
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      server.signal('SIGTERM');
      const got = await slow;
      assert.deepEqual(got.statuses, [200]);
      assert.match(got.data.toString('latin1'), /\r\nConnection: close\r\n(?:[^\r]*\r\n)*\r\nslow$/);
      assert.equal((await server.exited()).code, 0);
    } finally {
      server.kill();
    }
  });

  test('stays off when request hooks are handed each request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsunicorn-lean-'));
    const config = join(dir, 'hooks.config.mjs');
    writeFileSync(config, 'export default { beforeRequest() {} };\n');
    const server = await startServer(['-c', config, '-w', '1', '-b', '127.0.0.1:0', APP], { workers: 1 });
    try {
      await waitServing({ port: server.port }, '/json');
      assert.equal((await request({ port: server.port }, '/incoming')).body, 'IncomingMessage');
    } finally {
      server.kill();
    }
  });
});
