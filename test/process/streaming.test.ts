/**
 * Long-lived connections through the real CLI: WebSocket upgrades, server-sent events, and how they end when
 * a worker drains (docs/streaming.md).
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { after, test } from 'node:test';
import WebSocket from 'ws';
import { fixture, type Server, startServer, waitFor, waitServing } from '../helpers/server.js';

const started: Server[] = [];
after(() => {
  for (const s of started) s.kill();
});

async function serve(args: string[], workers: number): Promise<Server> {
  const server = await startServer(['-b', '127.0.0.1:0', ...args], { workers });
  started.push(server);
  await waitServing({ port: server.port });
  return server;
}

interface Client {
  ws: WebSocket;
  messages: string[];
  closed: Promise<{ code: number; at: number }>;
}

/** Opens a WebSocket and waits for the server's first message, which names the worker's pid. */
function openClient(port: number, path = '/'): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
    const messages: string[] = [];
    const closed = new Promise<{ code: number; at: number }>((done) =>
      ws.once('close', (code) => done({ code, at: Date.now() })),
    );
    ws.on('message', (data) => {
      messages.push(String(data));
      if (messages.length === 1) resolve({ ws, messages, closed });
    });
    ws.once('error', reject);
    ws.once('close', () => reject(new Error(`closed before its first message: ${path}`)));
  });
}

function pidOf(client: Client): number {
  return Number(/^pid (\d+)$/.exec(client.messages[0]!)![1]);
}

/** Sends one message and waits for the reply. */
function roundTrip(ws: WebSocket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    ws.once('message', (data) => resolve(String(data)));
    ws.once('error', reject);
    ws.send(text);
  });
}

/** GETs an event stream; resolves with the ms from sending to each of the first `count` events. */
function eventTimes(port: number, count: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const times: number[] = [];
    const req = httpRequest({ host: '127.0.0.1', port, path: '/events', agent: false }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        for (const _ of chunk.matchAll(/^data: /gm)) times.push(Date.now() - start);
        if (times.length >= count) {
          req.destroy();
          resolve(times.slice(0, count));
        }
      });
      res.on('error', () => {});
    });
    req.setTimeout(10_000, () => req.destroy(new Error('event stream timed out')));
    req.on('error', (err) => {
      if (times.length < count) reject(err);
    });
    req.end();
  });
}

test('200 concurrent WebSocket clients each get their echoes through -w 2', async () => {
  const server = await serve([fixture('ws-echo.mjs'), '-w', '2'], 2);
  const clients = await Promise.all(Array.from({ length: 200 }, () => openClient(server.port)));
  const replies = await Promise.all(
    clients.map(async (c, i) => [await roundTrip(c.ws, `a${i}`), await roundTrip(c.ws, `b${i}`)]),
  );
  for (const [i, r] of replies.entries()) assert.deepEqual(r, [`a${i}`, `b${i}`]);
  const pids = new Set(clients.map(pidOf));
  assert.ok(
    [...pids].every((p) => server.workers().includes(p)),
    'every client was served by a worker',
  );
  for (const c of clients) c.ws.close();
});

for (const [kind, app] of [
  ['listener', 'ws-echo.mjs'],
  ['fetch', 'sse-fetch.mjs'],
] as const) {
  test(`server-sent events reach the client as they are written (${kind} app)`, async () => {
    const server = await serve([fixture(app), '-w', '1'], 1);
    const [first, , third] = await eventTimes(server.port, 3);
    assert.ok(first! < 300, `first event after ${first} ms`);
    // Not held back and sent together: the third event is two intervals after the first.
    assert.ok(third! - first! >= 300, `events at ${first} and ${third} ms`);
  });
}

test('the fetch adapter cancels the body stream when the client goes away', async () => {
  const server = await serve([fixture('sse-fetch.mjs'), '-w', '1'], 1);
  await eventTimes(server.port, 2);
  await server.waitForLog(/stream cancelled after \d+ events/, 5000);
});

test('TERM with 50 open WebSockets: the app is told at once, each client is closed 1001, the master exits 0', async () => {
  const server = await serve([fixture('ws-echo.mjs'), '-w', '2', '--graceful-timeout', '10'], 2);
  const clients = await Promise.all(Array.from({ length: 50 }, () => openClient(server.port)));
  const termAt = Date.now();
  server.signal('SIGTERM');
  await waitFor(
    () => clients.every((c) => c.messages.some((m) => m.startsWith('draining until '))),
    'the onDrain hook to reach every client',
    5000,
  );
  const closes = await Promise.all(clients.map((c) => c.closed));
  assert.deepEqual(new Set(closes.map((c) => c.code)), new Set([1001]));
  const { code } = await server.exited(12_000 - (Date.now() - termAt));
  assert.equal(code, 0);
  assert.ok(Date.now() - termAt < 12_000, `master exited ${Date.now() - termAt} ms after TERM`);
});

test('after HUP new WebSockets reach the new generation; old ones stay open until closed', async () => {
  const server = await serve([fixture('ws-echo.mjs'), '-w', '1', '--graceful-timeout', '5'], 1);
  const old = await Promise.all(Array.from({ length: 3 }, () => openClient(server.port)));
  const oldPid = pidOf(old[0]!);
  server.signal('SIGHUP');
  const fresh = await waitFor(async () => {
    const c = await openClient(server.port);
    if (pidOf(c) !== oldPid) return c;
    c.ws.close();
    return undefined;
  }, 'a WebSocket served by the new generation');
  const hupAt = Date.now();
  assert.equal(await roundTrip(fresh.ws, 'new'), 'new');
  for (const c of old) assert.equal(c.ws.readyState, WebSocket.OPEN);
  assert.equal(await roundTrip(old[0]!.ws, 'still here'), 'still here');
  // The app closes one; the server closes the rest near the graceful timeout, not at once.
  old[0]!.ws.send('bye');
  assert.equal((await old[0]!.closed).code, 1000);
  const rest = await Promise.all(old.slice(1).map((c) => c.closed));
  for (const r of rest) {
    assert.equal(r.code, 1001);
    assert.ok(r.at - hupAt > 1500, `closed ${r.at - hupAt} ms after the new generation served`);
  }
  await waitFor(() => !server.workers().includes(oldPid), 'the old worker to exit', 5000);
  assert.equal(fresh.ws.readyState, WebSocket.OPEN);
  fresh.ws.close();
});

test('a Hono app with @hono/node-ws exports injectWebSocket and upgradeWebSocket routes work', async () => {
  const server = await serve([fixture('hono-ws.ts'), '-w', '1'], 1);
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  assert.equal(await roundTrip(ws, 'hi'), 'hono hi');
  const refused = new WebSocket(`ws://127.0.0.1:${server.port}/nope`);
  const err = await new Promise<Error>((resolve) => refused.once('error', resolve));
  assert.match(err.message, /Unexpected server response: 404/);
  ws.close();
});

test('a listener app exporting upgrade() gets the raw socket, ended by the server before the graceful timeout', async () => {
  const server = await serve([fixture('upgrade-export.mjs'), '-w', '1', '--graceful-timeout', '3'], 1);
  const socket = connect(server.port, '127.0.0.1');
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => {
    received += d;
  });
  const ended = new Promise<number>((resolve) => socket.once('end', () => resolve(Date.now())));
  socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
  await waitFor(() => received.includes('101 Switching Protocols'), '101', 5000);
  socket.write('ping\n');
  await waitFor(() => received.endsWith('ping\n'), 'the echo', 5000);
  const termAt = Date.now();
  server.signal('SIGTERM');
  const endedAt = await ended;
  assert.ok(endedAt - termAt < 3000, `ended ${endedAt - termAt} ms after TERM`);
  assert.equal((await server.exited(5000)).code, 0);
  socket.destroy();
});

test('the sync worker class refuses upgrades with 400 and says to use async', async () => {
  const server = await serve([fixture('ws-echo.mjs'), '-w', '1', '-k', 'sync'], 1);
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/`);
  const err = await new Promise<Error>((resolve) => ws.once('error', resolve));
  assert.match(err.message, /Unexpected server response: 400/);
  await server.waitForLog(/Upgrade refused: the sync worker class .*-k async/, 5000);
});

test('upgraded connections count in --worker-connections', async () => {
  const server = await serve([fixture('ws-echo.mjs'), '-w', '1', '--worker-connections', '2'], 1);
  const held = await Promise.all([openClient(server.port), openClient(server.port)]);
  let third: Client | undefined;
  const pending = openClient(server.port).then((c) => {
    third = c;
    return c;
  });
  await new Promise((r) => setTimeout(r, 700));
  assert.equal(third, undefined, 'a third connection is served while two WebSockets hold the slots');
  held[0]!.ws.close();
  const c = await pending;
  assert.equal(await roundTrip(c.ws, 'in'), 'in');
  for (const h of [held[1]!, c]) h.ws.close();
});
