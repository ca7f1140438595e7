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

interface Pair {
  /** The server's side. */
  readonly ours: Socket;
  readonly client: Socket;
  /** What the client has read so far. */
  received(): string;
}

/** A connected pair whose server side batches its writes. */
async function batchedPair(): Promise<Pair> {
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const client = connect(port, '127.0.0.1');
  let text = '';
  client.on('data', (d) => {
    text += d.toString('latin1');
  });
  const [ours] = await accepted;
  batchWrites(ours);
  return { ours, client, received: () => text };
}

/** Waits until the client has read `text`'s length, checks it is `text`, and closes both sides. */
async function expectReceived(p: Pair, text: string): Promise<void> {
  while (p.received().length < text.length) await once(p.client, 'data');
  assert.equal(p.received(), text);
  p.client.destroy();
  p.ours.destroy();
}

/** What a response writer does: cork, write, uncork. */
function respond(socket: Socket, ...parts: string[]): void {
  socket.cork();
  for (const part of parts) socket.write(part);
  socket.uncork();
}

test('responses written in one turn are held until it ends, then go out in order', async () => {
  const p = await batchedPair();
  respond(p.ours, 'a', 'b');
  respond(p.ours, 'c');
  // Unbatched, each uncork would have handed its bytes to the kernel before returning.
  assert.equal(p.ours.writableLength, 3);
  await turnEnd();
  assert.equal(p.ours.writableLength, 0);
  await expectReceived(p, 'abc');
});

test('nested corks are held as one, and a write without a cork queues behind what is held', async () => {
  const p = await batchedPair();
  p.ours.cork();
  respond(p.ours, 'x');
  p.ours.uncork();
  p.ours.write('y');
  assert.equal(p.ours.writableLength, 2);
  await turnEnd();
  await expectReceived(p, 'xy');
});

test('a turn that holds more than 256 KiB sends everything it holds at once', async () => {
  const small = await batchedPair();
  const large = await batchedPair();
  respond(small.ours, 'first');
  assert.equal(small.ours.writableLength, 5);
  const body = 'x'.repeat(300 * 1024);
  respond(large.ours, body);
  assert.equal(small.ours.writableLength, 0);
  await expectReceived(small, 'first');
  await expectReceived(large, body);
});

test('the sixteenth connection held in a turn sends what all sixteen hold at once', async () => {
  const pairs: Pair[] = [];
  // One at a time: each pair takes the server's next connection.
  while (pairs.length < 16) pairs.push(await batchedPair());
  for (const [i, p] of pairs.entries()) {
    respond(p.ours, `r${i}`);
    if (i < 15) assert.equal(p.ours.writableLength, `r${i}`.length, 'held');
  }
  // The sixteenth released every one of them.
  assert.deepEqual(
    pairs.map((p) => p.ours.writableLength),
    pairs.map(() => 0),
  );
  for (const [i, p] of pairs.slice(0, 15).entries()) {
    const text = `s${i}`;
    respond(p.ours, text);
    assert.equal(p.ours.writableLength, text.length, 'holding starts again after the release');
  }
  await turnEnd();
  await Promise.all(pairs.map((p, i) => expectReceived(p, i < 15 ? `r${i}s${i}` : `r${i}`)));
});

test('unbatching sends what is held and gives the socket back its own uncork', async () => {
  const p = await batchedPair();
  respond(p.ours, 'held');
  unbatchWrites(p.ours);
  assert.equal(p.ours.writableLength, 0);
  respond(p.ours, '!');
  assert.equal(p.ours.writableLength, 0);
  await expectReceived(p, 'held!');
});

test('a socket destroyed while its writes are held is skipped at the end of the turn', async () => {
  const gone = await batchedPair();
  const other = await batchedPair();
  respond(gone.ours, 'lost');
  respond(other.ours, 'kept');
  gone.ours.destroy();
  await turnEnd();
  await expectReceived(other, 'kept');
  gone.client.destroy();
});
