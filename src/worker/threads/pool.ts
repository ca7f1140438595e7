import type { IncomingMessage, ServerResponse } from 'node:http';
import { Worker } from 'node:worker_threads';
import { type ErrorCode, TsunicornError } from '../../errors.js';
import { headerMatcher } from '../../http/edge/header-names.js';
import { log } from '../../logging/logger.js';
import { entries } from '../../paths.js';
import {
  type FromThread,
  type ResponseHead,
  type ThreadBoot,
  type ToThread,
  WINDOW_BYTES,
} from './protocol.js';

/** Pause before starting a replacement for a thread that failed to start, so a broken app cannot spin. */
const RESTART_DELAY_MS = 1000;

const bodyFraming = headerMatcher(['content-length', 'transfer-encoding']);

/** Whether a request carries a body: RFC 9112 frames one only by Content-Length or Transfer-Encoding. */
function hasBody(rawHeaders: readonly string[]): boolean {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = bodyFraming(rawHeaders[i]!);
    if (name === 'transfer-encoding' || (name === 'content-length' && rawHeaders[i + 1]!.trim() !== '0'))
      return true;
  }
  return false;
}

function writeHead(res: ServerResponse, head: ResponseHead): void {
  res.writeHead(head.status, head.statusMessage, head.headers.flat());
}

interface Exchange {
  readonly id: number;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Body bytes sent to the thread that the app has not read yet. */
  unconsumed: number;
}

interface AppThread {
  readonly index: number;
  readonly worker: Worker;
  ready: boolean;
  lastBeat: number;
  current: Exchange | undefined;
}

export interface PoolOptions {
  readonly size: number;
  readonly boot: ThreadBoot;
  /** A thread whose event loop has been silent this long is hung. */
  readonly hungAfterMs: number;
}

/**
 * The app threads of one `threads` worker. Each runs one request at a time; a request goes to an idle
 * thread, or waits in FIFO order for the next one to finish. Threads never accept: handing each thread a
 * whole request is what keeps a free thread from taking a burst of connections it would then serve one
 * after another while other threads sit idle.
 */
export class ThreadPool {
  readonly #options: PoolOptions;
  readonly #threads: AppThread[] = [];
  readonly #idle: AppThread[] = [];
  readonly #waiting: { req: IncomingMessage; res: ServerResponse }[] = [];
  #nextId = 1;
  #closing = false;
  /** Until every first thread is ready, a failure fails the worker's boot instead of restarting a thread. */
  #started = false;
  #reportedHung = false;

  private constructor(options: PoolOptions) {
    this.#options = options;
  }

  /** Starts every thread; rejects, with the app's load error, if any thread cannot load the app. */
  static async start(options: PoolOptions): Promise<ThreadPool> {
    const pool = new ThreadPool(options);
    try {
      await Promise.all(Array.from({ length: options.size }, (_, i) => pool.#spawn(i)));
      pool.#started = true;
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /** Runs a request on an idle thread, or queues it. */
  dispatch(req: IncomingMessage, res: ServerResponse): void {
    const thread = this.#idle.shift();
    if (thread) this.#run(thread, req, res);
    else this.#waiting.push({ req, res });
  }

  /** False once a thread's event loop has been silent for longer than the hang limit. */
  healthy(): boolean {
    const now = Date.now();
    const hung = this.#threads.find((t) => t.ready && now - t.lastBeat > this.#options.hungAfterMs);
    if (hung && !this.#reportedHung) {
      log.critical(
        `App thread ${hung.index} has been stuck for ${Math.round((now - hung.lastBeat) / 1000)} s ` +
          `(${hung.current ? `in ${hung.current.req.method} ${hung.current.req.url}` : 'between requests'}); ` +
          'the worker stops heartbeating so the master replaces it',
      );
    }
    this.#reportedHung = hung !== undefined;
    return !hung;
  }

  async close(): Promise<void> {
    this.#closing = true;
    await Promise.all(this.#threads.map((t) => t.worker.terminate()));
  }

  #spawn(index: number): Promise<void> {
    const worker = new Worker(entries.thread, { workerData: this.#options.boot });
    const thread: AppThread = { index, worker, ready: false, lastBeat: Date.now(), current: undefined };
    this.#threads[index] = thread;
    return new Promise((resolve, reject) => {
      worker.on('message', (message: FromThread) => {
        switch (message.t) {
          case 'ready':
            thread.ready = true;
            thread.lastBeat = Date.now();
            this.#release(thread);
            return resolve();
          case 'failed':
            reject(
              new TsunicornError(
                (message.code as ErrorCode | undefined) ?? 'TSU_ERR_APP_LOAD',
                message.message,
              ),
            );
            void worker.terminate();
            return;
          case 'beat':
            thread.lastBeat = Date.now();
            return;
          default:
            return this.#onResponse(thread, message);
        }
      });
      worker.on('error', (err) => {
        if (thread.ready) log.exception(`App thread ${index} crashed; restarting it`, err);
        reject(
          new TsunicornError('TSU_ERR_WORKER_BOOT', `An app thread failed to start: ${err.stack ?? err}`),
        );
      });
      worker.on('exit', (code) => {
        const wasReady = thread.ready;
        thread.ready = false;
        const i = this.#idle.indexOf(thread);
        if (i >= 0) this.#idle.splice(i, 1);
        if (thread.current) this.#fail(thread.current);
        thread.current = undefined;
        reject(new TsunicornError('TSU_ERR_WORKER_BOOT', `An app thread exited with code ${code}`));
        if (this.#closing || !this.#started) return;
        // A thread that died while serving is replaced at once; one that could not start, after a pause.
        setTimeout(() => this.#restart(index), wasReady ? 0 : RESTART_DELAY_MS);
      });
    });
  }

  #restart(index: number): void {
    if (this.#closing) return;
    this.#spawn(index).catch((err: Error) =>
      log.error(`App thread ${index} failed to restart: ${err.message}`),
    );
  }

  #post(thread: AppThread, message: ToThread): void {
    thread.worker.postMessage(message);
  }

  #run(thread: AppThread, req: IncomingMessage, res: ServerResponse): void {
    const exchange: Exchange = { id: this.#nextId++, req, res, unconsumed: 0 };
    const { id } = exchange;
    thread.current = exchange;
    const socket = req.socket;
    const ended = !hasBody(req.rawHeaders);
    this.#post(thread, {
      t: 'request',
      id,
      ended,
      head: {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        httpVersion: req.httpVersion,
        rawHeaders: req.rawHeaders,
        remoteAddress: socket.remoteAddress,
        remotePort: socket.remotePort,
        localAddress: socket.localAddress,
        localPort: socket.localPort,
      },
    });
    req.on('data', (chunk: Buffer) => {
      if (thread.current !== exchange) return;
      this.#post(thread, { t: 'body', id, chunk });
      exchange.unconsumed += chunk.byteLength;
      if (exchange.unconsumed >= WINDOW_BYTES) req.pause();
    });
    req.once('end', () => {
      if (thread.current === exchange && !ended) this.#post(thread, { t: 'end', id });
    });
    res.once('close', () => {
      if (thread.current !== exchange || res.writableFinished) return;
      // The client left mid-request: the app sees its request aborted, and the thread is free again.
      this.#post(thread, { t: 'abort', id });
      this.#release(thread);
    });
  }

  #onResponse(thread: AppThread, message: Exclude<FromThread, { t: 'ready' | 'failed' | 'beat' }>): void {
    const exchange = thread.current;
    if (!exchange || exchange.id !== message.id) return;
    const { req, res, id } = exchange;
    switch (message.t) {
      case 'consumed':
        exchange.unconsumed -= message.bytes;
        if (exchange.unconsumed < WINDOW_BYTES && req.isPaused()) req.resume();
        return;
      case 'head':
        writeHead(res, message);
        return;
      case 'data': {
        const bytes = message.chunk.byteLength;
        res.write(message.chunk, () => {
          if (thread.current === exchange) this.#post(thread, { t: 'flushed', id, bytes });
        });
        return;
      }
      case 'done':
        if (message.head) writeHead(res, message.head);
        // A body that comes whole is written with the head in one system call.
        res.end(message.chunk);
        this.#release(thread);
        return;
      default:
        message satisfies never;
    }
  }

  /** The thread is free: it takes the longest-waiting request whose client is still there. */
  #release(thread: AppThread): void {
    thread.current = undefined;
    for (let next = this.#waiting.shift(); next; next = this.#waiting.shift()) {
      if (next.res.destroyed || next.req.socket.destroyed) continue;
      this.#run(thread, next.req, next.res);
      return;
    }
    this.#idle.push(thread);
  }

  /** The thread died with this request in it. */
  #fail(exchange: Exchange): void {
    const { res } = exchange;
    if (res.headersSent) res.destroy();
    else
      res
        .writeHead(500, { 'content-type': 'text/plain', connection: 'close' })
        .end('Internal Server Error\n');
  }
}
