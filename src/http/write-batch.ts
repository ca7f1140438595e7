/**
 * Write batching: the responses a worker finishes in one turn of the event loop go to their sockets together,
 * at the end of that turn, instead of each at once.
 *
 * Every write to a loopback or LAN peer wakes the peer's thread if it sleeps (on loopback the sender's own
 * system call runs the receiver's TCP input and wake-up: `sock_def_readable`, 15–17 % of a node:http worker's
 * CPU under wrk on 2 cores). A worker that writes each response the moment the app ends it wakes the client
 * (or the proxy in front) once per response; written together after the turn, the first write wakes it and
 * the others land while it runs. Redis writes its replies the same way, before it next waits for events.
 *
 * The mechanism is a connection's cork: node:http's `end()` and the lean path cork the socket, write, and
 * uncork. On a batched connection the outermost uncork is deferred to a `setImmediate`, which runs once the
 * turn's I/O callbacks (and the microtasks they started) are done, so nothing waits longer than the turn that
 * produced it. Order is kept, as corked writes are queued in the socket's own stream. Writes made without a
 * cork (a raw refusal, a 408) go at once, behind anything still held.
 */
import { Socket } from 'node:net';

const uncork = Socket.prototype.uncork;

/**
 * Bytes a turn may hold before everything held goes at once. Waiting gains nothing for large bodies (their
 * copy costs more than the wake-up), and without a bound a turn serving a thousand 64 KiB answers would hold
 * them all in memory.
 */
const HOLD_BYTES = 256 * 1024;

/**
 * Connections a turn may hold before everything held goes at once. A held response keeps its objects (the
 * request, the response, node:http's write callbacks) alive until its bytes go, and what is alive when V8
 * scavenges counts towards growing the young generation: unbounded, a worker answering 32 connections a
 * turn grew it to V8's maximum within a second and ran 12–14 MB above a node:http process. The first
 * response held pays the peer's wake-up, so 16 keep 15/16 of what batching saves.
 */
const HOLD_SOCKETS = 16;

/** Sockets with an uncork deferred, and about how many bytes they hold. */
let held = new Set<Socket>();
let heldBytes = 0;

function release(): void {
  const sockets = held;
  held = new Set();
  heldBytes = 0;
  for (const socket of sockets) flush(socket);
}

/** Fully: a writer other than node:http (whose `end()` drops extra levels) may have corked it again. */
function flush(socket: Socket): void {
  while (socket.writableCorked > 0) uncork.call(socket);
}

function uncorkAtTurnEnd(this: Socket): void {
  if (this.writableCorked > 1) {
    uncork.call(this);
    return;
  }
  if (held.size === 0) setImmediate(release);
  held.add(this);
  // A socket held twice in a turn is counted twice: the bound only comes sooner.
  heldBytes += this.writableLength;
  if (heldBytes > HOLD_BYTES || held.size >= HOLD_SOCKETS) release();
}

/** Batches a connection's writes from now on. */
export function batchWrites(socket: Socket): void {
  socket.uncork = uncorkAtTurnEnd;
}

/**
 * Ends batching on a connection the app takes over (an upgrade): what was held goes now, and from then on
 * the socket's uncork is Node's own again, as a library writing frames on it expects.
 */
export function unbatchWrites(socket: Socket): void {
  if (socket.uncork !== uncorkAtTurnEnd) return;
  delete (socket as { uncork?: unknown }).uncork;
  if (held.delete(socket)) flush(socket);
}
