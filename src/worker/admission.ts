import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { markMasterDraining } from '../http/health.js';
import { holdReceivedSocket } from '../ipc/handles.js';
import { isMasterMessage, SHARE_SLACK, SHARE_STEP, type WorkerMessage } from '../ipc/messages.js';
import { setAccepting } from '../sockets/handle.js';

/**
 * How long a full worker that still accepts (see #pausable) holds a connection it accepted before passing it
 * to the master. A slot that frees meanwhile takes it without a round trip through the master.
 */
const HOLD_MS = 2;
/** How many connections a full worker holds at once; it passes the rest to the master at once. */
const HOLD_MAX = 4;

export interface AdmissionOptions {
  /** Inherited listener fds. */
  readonly fds: readonly number[];
  readonly backlog: number;
  /** How many connections may hold a slot at once: sync 1, threads N, async --worker-connections. */
  readonly capacity: number;
  /**
   * Serves a connection that now holds a slot. The socket has read nothing yet; the callee starts it. The
   * slot is the caller's until it calls release().
   */
  readonly serve: (socket: Socket) => void;
  /**
   * With --overload-503: takes a connection that came while every worker is full, to answer it 503 at once
   * instead of letting it wait for a slot. It holds no slot.
   */
  readonly refuse?: (socket: Socket) => void;
  /**
   * Connections beyond capacity queue here fairly with the worker's own requests (see the capacity
   * message's `queues`); slots are then taken per request, and the count may stay below zero.
   */
  readonly queues?: boolean;
}

/**
 * One admission mechanism for every worker class. The worker accepts straight from the shared sockets while
 * it has a free slot, and stops accepting while it has none (#pauseWhenFull). Where it cannot stop, or must
 * not, Node's event loop accepts whenever it is free; a connection it accepts while full is held for
 * HOLD_MS in case a slot frees, then passed, unread, to the master, which
 * routes it to a worker with a free slot or queues it. A connection the master passes here is always kept:
 * served at once, or queued until a slot frees, never bounced back, so it cannot circulate.
 */
export class Admission {
  readonly #options: AdmissionOptions;
  readonly #listeners: Server[] = [];
  /** Connections the master passed while every slot was taken, served first as slots free. */
  readonly #waiting: Socket[] = [];
  /** Connections this worker accepted while full, for HOLD_MS each, oldest first. */
  readonly #held: Array<{ socket: Socket; timer: NodeJS.Timeout }> = [];
  /** The last slot that freed while the master queued connections went to its queue. */
  #ceded = false;
  #free: number;
  #reported = -1;
  #reportPending = false;
  /** A connection came from the master since the last report, which must answer it. */
  #owesReport = false;
  #draining = false;
  /** Resolves drain()'s wait for the master's `routing-stopped`. */
  #routingStopped: (() => void) | undefined;
  /** Connections are waiting in the master: they go first, so new ones queue behind them there. */
  #backlog = false;
  /** The free count of the least loaded sibling, as the master last told it; null: no sibling. */
  #siblingFree: number | null = null;
  /** This worker holds more than its share of the connections: new ones go to the master for a sibling. */
  #overShare = false;
  /** Whether this worker stops accepting while it has no free slot (see #pauseWhenFull). */
  #pauses = false;
  #accepting = true;

  constructor(options: AdmissionOptions) {
    this.#options = options;
    this.#free = options.capacity;
  }

  /** Starts accepting on every listener and taking connections from the master. */
  async listen(): Promise<void> {
    process.on('message', (message: unknown, handle: unknown) => {
      if (!isMasterMessage(message)) return;
      switch (message.type) {
        case 'connection':
          return this.#fromMaster(handle as Socket);
        case 'backlog':
          this.#backlog = message.waiting;
          // The master's count of a worker that pauses may be stale (see #mustReport).
          if (this.#backlog && this.#pauses) {
            this.#owesReport = true;
            this.#changed();
          }
          return;
        case 'balance':
          this.#siblingFree = message.siblingFree;
          return;
        case 'routing-stopped':
          this.#routingStopped?.();
          return;
        case 'draining':
          return markMasterDraining();
        default:
          message satisfies never;
      }
    });
    for (const fd of this.#options.fds) {
      // pauseOnConnect: a connection handed off must not have been read from.
      const server = createServer({ pauseOnConnect: true }, (socket) => this.#accepted(socket));
      server.listen({ fd, backlog: this.#options.backlog });
      await once(server, 'listening');
      this.#listeners.push(server);
    }
    this.#pauses = this.#pausable() && this.#listeners.every((server) => setAccepting(server, true));
    this.#report();
  }

  /** Slots not held by a connection; negative while serving connections beyond capacity. */
  get free(): number {
    return this.#free;
  }

  /** Takes a slot for a connection that is already here (a new request on a kept-alive connection). */
  acquire(): void {
    this.#free--;
    this.#changed();
  }

  /**
   * Gives a slot back; the longest-waiting connection from the master takes it if there is one, else one held
   * here.
   */
  release(): void {
    const next = this.#waiting.shift() ?? this.#takeHeld();
    if (next) {
      this.#options.serve(next);
      return;
    }
    this.#free++;
    this.#changed();
  }

  /**
   * Stops accepting; resolves once every connection the master routed here has arrived and every handoff has
   * left, so the worker may exit when what it holds is served. Connections passed here are still served as
   * slots free.
   */
  async drain(): Promise<void> {
    // Held connections go to the master ahead of `stop-routing`, for a worker that stays. Otherwise a held one
    // could outlive the worker: with its slot ceded to the master's queue, nothing here would serve it.
    for (const { socket, timer } of this.#held.splice(0)) {
      clearTimeout(timer);
      this.#handOff(socket);
    }
    this.#draining = true;
    for (const server of this.#listeners) server.close();
    if (!process.connected) return;
    // Measured under reloads of sync workers: a worker that exited as soon as its own connections were
    // served lost the handoffs still queued in its channel (Node sends a message after a handle only once
    // the handle is acknowledged), a few connections per reload.
    const stopped = new Promise<void>((resolve) => {
      this.#routingStopped = resolve;
      process.once('disconnect', resolve);
    });
    process.send!({ type: 'stop-routing' } satisfies WorkerMessage);
    await stopped;
  }

  #accepted(socket: Socket): void {
    if (this.#free > 0 && !this.#backlog && !this.#overShared()) {
      this.#free--;
      this.#changed();
      this.#options.serve(socket);
    } else if (this.#options.refuse && this.#free <= 0 && (this.#backlog || !process.connected)) {
      // The master queues connections only while no worker has a free slot; a full worker hands a connection
      // off as usual until then, for a worker that has one.
      this.#options.refuse(socket);
    } else if (this.#free <= 0 && !this.#options.queues && this.#held.length < HOLD_MAX) {
      // Also while the master queues connections: a slot that frees then alternates between the two queues.
      this.#hold(socket);
    } else {
      this.#handOff(socket);
    }
  }

  /** To the master, or, with no master to route it (draining, or the channel gone), kept here. */
  #handOff(socket: Socket): void {
    if (process.connected && !this.#draining) {
      process.send!({ type: 'handoff' } satisfies WorkerMessage, socket);
    } else if (this.#free > 0) {
      this.#free--;
      this.#changed();
      this.#options.serve(socket);
    } else {
      this.#waiting.push(socket);
    }
  }

  /**
   * The oldest held connection, to take a slot that freed. While the master queues connections, every other
   * slot is left to its queue instead: fresh connections held here must not overtake the ones waiting there
   * for good.
   */
  #takeHeld(): Socket | undefined {
    if (this.#held.length === 0) return undefined;
    // The master routes to a draining worker only as a last resort: a slot ceded there would stay empty.
    if (this.#backlog && !this.#draining) {
      this.#ceded = !this.#ceded;
      if (this.#ceded) return undefined;
    }
    const { socket, timer } = this.#held.shift()!;
    clearTimeout(timer);
    return socket;
  }

  #hold(socket: Socket): void {
    const entry = {
      socket,
      timer: setTimeout(() => {
        this.#held.splice(this.#held.indexOf(entry), 1);
        this.#handOff(socket);
      }, HOLD_MS),
    };
    this.#held.push(entry);
  }

  /**
   * Whether this worker holds SHARE_SLACK more connections than its least loaded sibling, or, once it does,
   * still more than half that: judged on its own count as it is now, so a burst of connections stops being
   * taken here at once, not a round trip through the master later.
   */
  #overShared(): boolean {
    if (this.#siblingFree === null || !process.connected) return false;
    const excess = this.#siblingFree - this.#free;
    this.#overShare = excess > (this.#overShare ? SHARE_SLACK / 2 : SHARE_SLACK);
    return this.#overShare;
  }

  #fromMaster(socket: Socket): void {
    holdReceivedSocket(socket);
    // The master counted this connection against the capacity we last reported, while our own count may
    // have risen since without a report: without an answer its estimate only falls, and connections it
    // queues would wait for a zero crossing that may never come.
    this.#owesReport = true;
    if (this.#free > 0) {
      this.#free--;
      this.#changed();
      this.#options.serve(socket);
    } else {
      this.#changed();
      this.#waiting.push(socket);
      socket.once('close', () => {
        const i = this.#waiting.indexOf(socket);
        if (i >= 0) this.#waiting.splice(i, 1);
      });
    }
  }

  /**
   * A full worker stops accepting, leaving new connections in the kernel's queue for a worker with a free
   * slot, as Gunicorn's workers do: a connection accepted while full would otherwise cost two descriptor
   * passes through the master (most connections of a sync worker under load: 1.1k against Gunicorn's 7.8k
   * req/s with `Connection: close`). Not for workers that queue beyond their slots (their kept-alive clients
   * would overtake a waiting connection for ever), nor under --overload-503 (a connection beyond capacity is
   * answered at once); they accept and pass on as before.
   */
  #pausable(): boolean {
    return !this.#options.queues && !this.#options.refuse;
  }

  #pauseWhenFull(): void {
    const accepting = this.#free > 0;
    if (!this.#pauses || this.#draining || accepting === this.#accepting) return;
    this.#accepting = accepting;
    for (const server of this.#listeners) setAccepting(server, accepting);
  }

  #changed(): void {
    this.#pauseWhenFull();
    // One report per loop turn is enough however many connections came and went in it.
    if (this.#reportPending || !this.#mustReport()) return;
    this.#reportPending = true;
    setImmediate(() => {
      this.#reportPending = false;
      this.#report();
    });
  }

  /**
   * Reaching or leaving zero (for a worker that queues, also going below it) changes where the master
   * routes, and a move by SHARE_STEP the balance of connections (workers that queue take no part in it). A
   * worker that pauses when full is routed to only while the master queues connections: it reports its zero
   * crossings only then, which spares a sync worker two messages per request.
   */
  #mustReport(): boolean {
    if (this.#owesReport) return true;
    if (!this.#options.queues && Math.abs(this.#free - this.#reported) >= SHARE_STEP) return true;
    return this.#sign(this.#free) !== this.#sign(this.#reported) && (!this.#pauses || this.#backlog);
  }

  #sign(free: number): number {
    return Math.sign(this.#options.queues ? free : Math.max(0, free));
  }

  #report(): void {
    if (this.#draining || !process.connected) return;
    const queues = this.#options.queues ?? false;
    const free = queues ? this.#free : Math.max(0, this.#free);
    if (free === this.#reported && !this.#owesReport) return;
    this.#reported = free;
    this.#owesReport = false;
    process.send!({ type: 'capacity', free, queues } satisfies WorkerMessage);
  }
}
