/**
 * Write batching (src/http/write-batch.ts) on real loopback sockets: what a turn of the event loop corks
 * and uncorks is held until the turn ends, then goes out whole and in order.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { setImmediate as turnEnd } from 'node:timers/promises';
import { batchWrites, unbatchWrites } from '../../src/http/write-batch.ts';

let server: Server;
let port: number;
before(async () => {
  server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as { port: number }).port;
});
after(() => server.close());

/** A connected pair: `ours` is the server's side, `received` what the client has read so far. */
async function pair(): Promise<{ ours: Socket; client: Socket; received: () => string }> {
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const client = connect(port, '127.0.0.1');
  let text = '';
  client.on('data', (d) => {
    text += d.toString('latin1');
  });
  const [ours] = await accepted;
  return { ours, client, received: () => text };
}

/** What a response writer does: cork, write, uncork. */
function respond(socket: Socket, ...parts: string[]): void {
  socket.cork();
  for (const part of parts) socket.write(part);
  socket.uncork();
}

test('responses written in one turn are held until it ends, then go out in order', async () => {
  const { ours, client, received } = await pair();
  batchWrites(ours);
  respond(ours, 'a', 'b');
  respond(ours, 'c');
  // Unbatched, each uncork would have handed its bytes to the kernel before returning.
  assert.equal(ours.writableLength, 3);
  await turnEnd();
  assert.equal(ours.writableLength, 0);
  while (received().length < 3) await once(client, 'data');
  assert.equal(received(), 'abc');
  client.destroy();
  ours.destroy();
});

test('nested corks are held as one, and a write without a cork queues behind what is held', async () => {
  const { ours, client, received } = await pair();
  batchWrites(ours);
  ours.cork();
  respond(ours, 'x');
  ours.uncork();
  ours.write('y');
  assert.equal(ours.writableLength, 2);
  await turnEnd();
  while (received().length < 2) await once(client, 'data');
  assert.equal(received(), 'xy');
  client.destroy();
  ours.destroy();
});

test('unbatching sends what is held and gives the socket back its own uncork', async () => {
  const { ours, client, received } = await pair();
  batchWrites(ours);
  respond(ours, 'held');
  unbatchWrites(ours);
  assert.equal(ours.writableLength, 0);
  respond(ours, '!');
  assert.equal(ours.writableLength, 0);
  while (received().length < 5) await once(client, 'data');
  assert.equal(received(), 'held!');
  client.destroy();
  ours.destroy();
});

test('a socket destroyed while its writes are held is skipped at the end of the turn', async () => {
  const { ours, client } = await pair();
  const other = await pair();
  batchWrites(ours);
  batchWrites(other.ours);
  respond(ours, 'lost');
  respond(other.ours, 'kept');
  ours.destroy();
  await turnEnd();
  while (other.received().length < 4) await once(other.client, 'data');
  assert.equal(other.received(), 'kept');
  client.destroy();
  other.client.destroy();
  other.ours.destroy();
});
