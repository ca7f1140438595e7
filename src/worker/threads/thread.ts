/**
 * An app thread of the `threads` worker class: loads its own copy of the app and runs the requests the
 * worker's main thread gives it, one at a time. The main thread owns the sockets and parses; here a request
 * is rebuilt as a real IncomingMessage/ServerResponse pair, so every kind of app runs unchanged.
 */
import { IncomingMessage, ServerResponse, STATUS_CODES } from 'node:http';
import { Duplex } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import { TsunicornError } from '../../errors.js';
import type { AppBinding } from '../../http/adapters/adapter.js';
import { keepNativeResponse } from '../../http/adapters/fast-response.js';
import { loadApp } from '../../http/app-loader.js';
import { log, setLogLevel } from '../../logging/logger.js';
import {
  type FromThread,
  type RequestHead,
  type ResponseHead,
  type ThreadBoot,
  type ToThread,
  WINDOW_BYTES,
} from './protocol.js';

const boot = workerData as ThreadBoot;
const port = parentPort!;
setLogLevel(boot.logLevel);

function post(message: FromThread): void {
  port.postMessage(message);
}

interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly socket: Duplex;
  /** Body bytes pushed into `req` that the app has not read yet. */
  unconsumed: number;
  /** Response bytes posted that the main thread has not flushed yet. */
  unflushed: number;
  needsDrain: boolean;
}

const exchanges = new Map<number, Exchange>();

/**
 * Headers the thread's ServerResponse adds for its own stand-in connection. The main thread's response
 * decides framing and persistence for the real one; only an app's explicit `Connection: close` passes.
 */
const ownHeaders = new Set(['keep-alive', 'transfer-encoding', 'date']);

function headersOf(res: ServerResponse): [string, string][] {
  const header = (res as unknown as { _header: string })._header;
  const headers: [string, string][] = [];
  for (const line of header.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    const lower = name.toLowerCase();
    if (ownHeaders.has(lower) || (lower === 'connection' && value.toLowerCase() !== 'close')) continue;
    headers.push([name, value]);
  }
  return headers;
}

/** The stand-in for the connection: what apps read from `req.socket`, and a sink for the serialised bytes. */
function standInSocket(head: RequestHead): Duplex {
  const socket = new Duplex({
    read() {},
    write(_chunk, _encoding, done) {
      done();
    },
  });
  return Object.assign(socket, {
    remoteAddress: head.remoteAddress,
    remotePort: head.remotePort,
    localAddress: head.localAddress,
    localPort: head.localPort,
    setTimeout: () => socket,
    setNoDelay: () => socket,
    setKeepAlive: () => socket,
  });
}

/** Tells the main thread the app has taken the body bytes pushed so far, so it reads more from the client. */
function credit(id: number, exchange: Exchange): void {
  if (exchange.unconsumed === 0) return;
  post({ t: 'consumed', id, bytes: exchange.unconsumed });
  exchange.unconsumed = 0;
}

function toBytes(chunk: unknown, encoding: unknown): Uint8Array {
  if (typeof chunk === 'string') return Buffer.from(chunk, (encoding as BufferEncoding) ?? 'utf8');
  return chunk as Uint8Array;
}

function start(app: AppBinding, id: number, head: RequestHead, bodiless: boolean): void {
  const socket = standInSocket(head);
  const req = new IncomingMessage(socket as never);
  req.method = head.method;
  req.url = head.url;
  req.httpVersion = head.httpVersion;
  const [major, minor] = head.httpVersion.split('.').map(Number);
  req.httpVersionMajor = major ?? 1;
  req.httpVersionMinor = minor ?? 1;
  req.rawHeaders = [...head.rawHeaders];
  const res = new ServerResponse(req);
  res.assignSocket(socket as never);
  const exchange: Exchange = { req, res, socket, unconsumed: 0, unflushed: 0, needsDrain: false };
  exchanges.set(id, exchange);

  req._read = () => credit(id, exchange);
  if (bodiless) {
    req.complete = true;
    req.push(null);
  }

  let headSent = false;
  /** The response head, once: the first time it is asked for. */
  const takeHead = (): ResponseHead | undefined => {
    if (headSent) return undefined;
    headSent = true;
    const status = res.statusCode;
    const statusMessage = res.statusMessage || STATUS_CODES[status] || '';
    return { status, statusMessage, headers: headersOf(res) };
  };
  const sendHead = () => {
    const taken = takeHead();
    if (taken) post({ t: 'head', id, ...taken });
  };
  /** A copy: the app may reuse its buffer, and a pooled Buffer's memory cannot be handed over. */
  const bodyBytes = (bytes: Uint8Array): Uint8Array | undefined =>
    bytes.byteLength === 0 || head.method === 'HEAD' ? undefined : new Uint8Array(bytes);
  const sendData = (bytes: Uint8Array) => {
    const chunk = bodyBytes(bytes);
    if (!chunk) return;
    post({ t: 'data', id, chunk });
    exchange.unflushed += chunk.byteLength;
  };

  const write = res.write;
  res.write = function (this: ServerResponse, chunk: unknown, encoding?: unknown, done?: unknown) {
    write.call(this, chunk as never, encoding as never, done as never);
    sendHead();
    sendData(toBytes(chunk, typeof encoding === 'string' ? encoding : undefined));
    if (exchange.unflushed < WINDOW_BYTES) return true;
    exchange.needsDrain = true;
    return false;
  } as typeof res.write;

  const flushHeaders = res.flushHeaders;
  res.flushHeaders = function (this: ServerResponse) {
    flushHeaders.call(this);
    sendHead();
  };

  const end = res.end;
  let ended = false;
  res.end = function (this: ServerResponse, chunk?: unknown, encoding?: unknown, done?: unknown) {
    if (typeof chunk === 'function') [done, chunk] = [chunk, undefined];
    else if (typeof encoding === 'function') [done, encoding] = [encoding, undefined];
    // Node's own end() sets Content-Length for a body given whole, so the main thread can send it unchunked.
    end.call(this, chunk as never, encoding as never, done as never);
    if (ended) return this;
    ended = true;
    const body = chunk === undefined || chunk === null ? undefined : bodyBytes(toBytes(chunk, encoding));
    post({ t: 'done', id, head: takeHead(), chunk: body });
    exchanges.delete(id);
    return this;
  } as typeof res.end;
  // The stand-in connection closes once the response is complete, which emits the response's 'close' as a
  // real server would: on the next tick, after the stream has run the callbacks of its last writes (destroyed
  // under them, it would build an error for each).
  res.once('finish', () => process.nextTick(() => socket.destroy()));

  app.handle(req, res);
}

function onMessage(app: AppBinding, message: ToThread): void {
  const exchange = exchanges.get(message.id);
  switch (message.t) {
    case 'request':
      start(app, message.id, message.head, message.ended);
      return;
    case 'body': {
      if (!exchange) return;
      exchange.unconsumed += message.chunk.byteLength;
      const { buffer, byteOffset, byteLength } = message.chunk;
      if (exchange.req.push(Buffer.from(buffer, byteOffset, byteLength))) credit(message.id, exchange);
      return;
    }
    case 'end':
      if (!exchange) return;
      exchange.req.complete = true;
      exchange.req.push(null);
      return;
    case 'abort':
      if (!exchange) return;
      exchanges.delete(message.id);
      exchange.req.destroy();
      exchange.socket.destroy();
      return;
    case 'flushed':
      if (!exchange) return;
      exchange.unflushed -= message.bytes;
      if (exchange.needsDrain && exchange.unflushed < WINDOW_BYTES) {
        exchange.needsDrain = false;
        exchange.res.emit('drain');
      }
      return;
    default:
      message satisfies never;
  }
}

process.on('unhandledRejection', (reason) => {
  if (boot.unhandledRejection === 'fatal') throw reason;
  log.exception('Unhandled promise rejection in an app thread', reason);
});

let app: AppBinding | undefined;
// Requests come only after 'ready'. Listening from the start keeps a thread whose app failed to load alive
// until the main thread has read why and ends it.
port.on('message', (message: ToThread) => onMessage(app!, message));
try {
  if (boot.noFastResponse) keepNativeResponse();
  app = await loadApp(boot.app, boot.cwd);
  setInterval(() => post({ t: 'beat' }), 1000);
  post({ t: 'ready' });
} catch (err) {
  const code = err instanceof TsunicornError ? err.code : undefined;
  post({ t: 'failed', code, message: err instanceof Error ? err.message : String(err) });
}
