import type { Socket } from 'node:net';
import { holdReceivedSocket } from '../ipc/handles.js';
import { type MasterMessage, SHARE_STEP } from '../ipc/messages.js';
import { log } from '../logging/logger.js';
import type { WorkerProcess } from './process-ops.js';

/** What the dispatcher needs of a worker: a way to pass it a connection. */
export interface DispatchTarget {
  readonly pid: number;
  readonly process: Pick<WorkerProcess, 'send'>;
}

/**
 * Routes the connections that full workers hand off. Workers accept on the shared sockets themselves (the
 * fast path, where the master is not involved); a worker that accepts while it has no free capacity passes
 * the connection here, and it goes to a worker that reported free capacity, or waits in FIFO order until
 * one does. A connection is never reset for lack of capacity: it waits, as it would in the kernel queue.
 *
 * It also keeps the workers' shares of the connections even. Every worker waits on the same sockets, and
 * the first to wake takes what is there: when a client opens a hundred keep-alive connections at once, a
 * worker that has the CPU in that millisecond takes nearly all of them (91 of 100 measured on 2 cores, where
 * the client itself holds a core), and holds them for as long as they live, overloaded beside an idle
 * sibling. So each worker knows how many its least loaded sibling holds (`balance`), and one that holds far
 * more decides by itself, as it accepts, to hand off until the others have caught up: a storm is over before
 * a round trip through the master could stop it. node cluster's round-robin default balances for the same
 * reason, at the price of a master hop for every connection.
 */
export class Dispatcher {
  /** Free capacity per worker, as last reported minus what was routed to it since. */
  readonly #free = new Map<DispatchTarget, number>();
  /** Workers that queue fairly beyond their capacity (the capacity message's `queues`). */
  readonly #queueing = new Set<DispatchTarget>();
  /**
   * Draining workers that have not yet asked to stop routing. They take routed connections only while no
   * worker is serving (a graceful stop): a connection handed off just before then must be served by someone.
   */
  readonly #draining = new Set<DispatchTarget>();
  readonly #queue: Socket[] = [];
  /** What workers were last told about the queue. */
  #backlog = false;
  /** What each worker was last told of its siblings' free count. */
  readonly #told = new Map<DispatchTarget, number | null>();

  /** A worker reported its free capacity. */
  capacity(worker: DispatchTarget, free: number, queues = false): void {
    if (!this.#free.has(worker) && this.#backlog) this.#tell(worker, true);
    this.#free.set(worker, free);
    if (queues) this.#queueing.add(worker);
    else this.#queueing.delete(worker);
    this.#flush();
  }

  /** A worker handed off a connection it could not take. */
  handoff(socket: Socket): void {
    holdReceivedSocket(socket);
    // A client that gives up while queued must not be routed later.
    socket.once('close', () => {
      const i = this.#queue.indexOf(socket);
      if (i >= 0) this.#queue.splice(i, 1);
      this.#announce();
    });
    this.#queue.push(socket);
    this.#flush();
  }

  /** The worker is draining: it takes routed connections only as a last resort, until it stops routing. */
  drain(worker: DispatchTarget): void {
    const serving = this.#free.has(worker);
    this.remove(worker);
    if (serving) this.#draining.add(worker);
    this.#flush();
  }

  /** The worker takes no more routed connections (it stopped routing, or is gone). */
  remove(worker: DispatchTarget): void {
    this.#free.delete(worker);
    this.#queueing.delete(worker);
    this.#draining.delete(worker);
    this.#told.delete(worker);
  }

  /**
   * A draining worker asks whether anything routed to it is still on the way. The answer queues behind every
   * connection already sent (a message after a handle waits for the handle's acknowledgement), so once the
   * worker reads it, it holds all of them: exiting earlier would close connections still in the channel.
   */
  stopRouting(worker: DispatchTarget): void {
    this.remove(worker);
    // A closed channel is reported to the callback: then nothing more can reach the worker anyway.
    worker.process.send({ type: 'routing-stopped' }, undefined, {}, () => {});
  }

  #flush(): void {
    while (this.#queue.length) {
      const target = this.#mostFree();
      if (!target) break;
      const socket = this.#queue.shift()!;
      const free = this.#free.get(target);
      if (free !== undefined) this.#free.set(target, free - 1);
      target.process.send({ type: 'connection' }, socket, {}, (err) => {
        if (!err) return;
        // The worker's channel closed before its exit was seen; the handle was not consumed.
        log.debug(`Cannot pass a connection to worker (pid:${target.pid}): ${err.message}`);
        this.remove(target);
        this.#queue.unshift(socket);
        this.#flush();
      });
    }
    this.#announce();
    this.#balance();
  }

  /**
   * Tells each worker the free count of its least loaded sibling when that moved by a step, by the counts
   * last reported less what was routed since (workers of one class have the same capacity). Workers that
   * queue beyond their slots (threads) have few slots and balance by their queues instead; they take no part.
   */
  #balance(): void {
    // A worker's least loaded sibling is the most free worker, or, for that worker itself, the runner-up.
    let best: DispatchTarget | undefined;
    let most: number | null = null;
    let second: number | null = null;
    for (const [worker, free] of this.#free) {
      if (this.#queueing.has(worker)) continue;
      if (most === null || free > most) [best, most, second] = [worker, free, most];
      else if (second === null || free > second) second = free;
    }
    for (const worker of this.#free.keys()) {
      if (this.#queueing.has(worker)) continue;
      const siblingFree = worker === best ? second : most;
      const told = this.#told.get(worker);
      const unchanged =
        told !== undefined &&
        (told === null || siblingFree === null
          ? told === siblingFree
          : Math.abs(told - siblingFree) < SHARE_STEP);
      if (unchanged) continue;
      this.#told.set(worker, siblingFree);
      this.#send(worker, { type: 'balance', siblingFree });
    }
  }

  /**
   * Tells workers when connections start or stop waiting here. Without it a worker that frees a slot takes
   * the next new connection from the kernel before the master hears of the slot, and under sustained load
   * the connections waiting here are overtaken again and again (measured in docs/design.md).
   */
  #announce(): void {
    const waiting = this.#queue.length > 0;
    if (waiting === this.#backlog) return;
    this.#backlog = waiting;
    for (const worker of this.#free.keys()) this.#tell(worker, waiting);
  }

  #tell(worker: DispatchTarget, waiting: boolean): void {
    this.#send(worker, { type: 'backlog', waiting });
  }

  #send(worker: DispatchTarget, message: MasterMessage): void {
    try {
      worker.process.send(message);
    } catch {
      // Its channel is closing; its exit removes it.
    }
  }

  /**
   * The worker with the most free capacity, so a burst spreads instead of filling one worker first. When
   * every worker queues fairly (`queues`) and already has requests queued beyond its slots (free below zero),
   * the least loaded: its kept-alive clients would overtake a connection waiting here for ever, while in its
   * queue the connection takes its turn. A worker exactly full has nothing queued and frees a slot soon:
   * while one is, connections wait here (for it, or for a worker still booting). With no worker serving at
   * all, a draining one.
   */
  #mostFree(): DispatchTarget | undefined {
    if (this.#free.size === 0) return this.#draining.values().next().value;
    let best: DispatchTarget | undefined;
    let most = 0;
    for (const [worker, free] of this.#free) if (free > most) [best, most] = [worker, free];
    if (best) return best;
    let leastLoaded: DispatchTarget | undefined;
    let leastFree = Number.NEGATIVE_INFINITY;
    for (const [worker, free] of this.#free) {
      if (free >= 0 || !this.#queueing.has(worker)) return undefined;
      if (free > leastFree) [leastLoaded, leastFree] = [worker, free];
    }
    return leastLoaded;
  }
}
