/**
 * The request and response of the lean HTTP/1.1 path: the members of Node's IncomingMessage and
 * ServerResponse that the worker's pipeline (probes, proxy trust, shedding, the access log, metrics) and the
 * fetch adapter use, over a request that arrived whole. A fetch app sees them only as `env.incoming` and
 * `env.outgoing`; docs/performance.md lists what they have.
 */
import { EventEmitter } from 'node:events';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { FIELD_TEXT, TOKEN } from '../edge/grammar.js';
import type { LeanHead } from './parse.js';

/** What a response needs of its connection. */
export interface LeanWire {
  readonly socket: Socket;
  /** `Keep-Alive: timeout=N`, in seconds, as node:http writes it. */
  readonly keepAliveSeconds: number;
  /** Called once the response's last byte is handed to the socket. */
  readonly written: () => void;
}

const NO_TRAILERS: Readonly<Record<string, string>> = Object.freeze({});
const NO_RAW_TRAILERS: readonly string[] = Object.freeze([]);

export class LeanRequest extends EventEmitter {
  readonly method: string;
  readonly url: string;
  readonly httpVersion: string;
  readonly httpVersionMajor = 1;
  readonly httpVersionMinor: 0 | 1;
  readonly headers: Record<string, string>;
  readonly rawHeaders: string[];
  /** A lean request never has trailers: one empty pair serves them all. */
  readonly trailers = NO_TRAILERS;
  readonly rawTrailers = NO_RAW_TRAILERS;
  /** The whole body: the lean path takes a request only once all of it has arrived. */
  readonly body: Buffer;
  readonly socket: Socket;
  readonly complete = true;
  aborted = false;
  #flowing = false;
  #ended = false;

  constructor(head: LeanHead, socket: Socket) {
    super();
    this.method = head.method;
    this.url = head.url;
    this.httpVersionMinor = head.httpVersionMinor;
    this.httpVersion = head.httpVersionMinor === 1 ? '1.1' : '1.0';
    this.headers = head.headers;
    this.rawHeaders = head.rawHeaders;
    this.body = head.body;
    this.socket = socket;
  }

  get connection(): Socket {
    return this.socket;
  }

  get destroyed(): boolean {
    return this.socket.destroyed;
  }

  get readableEnded(): boolean {
    return this.#ended;
  }

  /** The body is already read; there is nothing to discard. */
  resume(): this {
    return this;
  }

  /**
   * Read as a stream: a 'data' listener gets the body, then 'end', on the next tick, as from a flowing
   * IncomingMessage.
   */
  override on(event: string | symbol, listener: (...args: any[]) => void): this {
    super.on(event, listener);
    if (event === 'data' && !this.#flowing) {
      this.#flowing = true;
      process.nextTick(() => {
        if (this.body.length > 0) this.emit('data', this.body);
        this.#ended = true;
        this.emit('end');
      });
    }
    return this;
  }

  override addListener(event: string | symbol, listener: (...args: any[]) => void): this {
    return this.on(event, listener);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    if (this.body.length > 0) yield this.body;
  }
}

const HTTP_DATE_MS = 1000;
let dateText = '';
let dateUntil = 0;

/** The Date header's value, made once a second as node:http makes it. */
function httpDate(): string {
  const now = Date.now();
  if (now >= dateUntil) {
    dateText = new Date(now).toUTCString();
    dateUntil = now - (now % HTTP_DATE_MS) + HTTP_DATE_MS;
  }
  return dateText;
}

/** Node's own errors for a header it would not write: a CR or LF in a value would split the response. */
function checkField(name: string, value: string): void {
  if (!TOKEN.test(name))
    throw Object.assign(new TypeError(`Header name must be a valid HTTP token ["${name}"]`), {
      code: 'ERR_INVALID_HTTP_TOKEN',
    });
  if (!FIELD_TEXT.test(value))
    throw Object.assign(new TypeError(`Invalid character in header content ["${name}"]`), {
      code: 'ERR_INVALID_CHAR',
    });
}

type HeaderValue = string | number | readonly string[];
type Encoding = BufferEncoding | undefined;
type Chunk = string | Uint8Array;
type Callback = (err?: Error | null) => void;

const byteLength = (chunk: Chunk, encoding: Encoding) =>
  typeof chunk === 'string' ? Buffer.byteLength(chunk, encoding ?? 'utf8') : chunk.byteLength;

export class LeanResponse extends EventEmitter {
  statusCode = 200;
  statusMessage = '';
  shouldKeepAlive: boolean;
  sendDate = true;
  headersSent = false;
  writableEnded = false;
  writableFinished = false;
  readonly req: LeanRequest;
  readonly #wire: LeanWire;
  /** Fields given to writeHead as a flat list, written as they are; setHeader() ones are kept apart. */
  #list: string[] | undefined;
  #fields: Map<string, [string, HeaderValue]> | undefined;
  #chunked = false;
  /** HEAD, 204, 304: the head only. */
  #bodyless = false;
  #closed = false;

  constructor(req: LeanRequest, wire: LeanWire, keepAlive: boolean) {
    super();
    this.req = req;
    this.#wire = wire;
    this.shouldKeepAlive = keepAlive;
  }

  get socket(): Socket {
    return this.#wire.socket;
  }

  get connection(): Socket {
    return this.#wire.socket;
  }

  get destroyed(): boolean {
    return this.#closed && !this.writableFinished;
  }

  get writable(): boolean {
    return !this.writableEnded && !this.#wire.socket.destroyed;
  }

  get finished(): boolean {
    return this.writableEnded;
  }

  setHeader(name: string, value: HeaderValue): this {
    if (this.headersSent)
      throw Object.assign(new Error('Cannot set headers after they are sent to the client'), {
        code: 'ERR_HTTP_HEADERS_SENT',
      });
    this.#fields ??= new Map();
    this.#fields.set(name.toLowerCase(), [name, value]);
    return this;
  }

  getHeader(name: string): HeaderValue | undefined {
    const lower = name.toLowerCase();
    const set = this.#fields?.get(lower);
    if (set) return set[1];
    const list = this.#list;
    if (!list) return undefined;
    // A name the list repeats (Set-Cookie) reads as all its values, as node:http's getHeader gives them.
    const values: string[] = [];
    for (let i = 0; i < list.length; i += 2) if (list[i]!.toLowerCase() === lower) values.push(list[i + 1]!);
    return values.length > 1 ? values : values[0];
  }

  #append(name: string, value: string): void {
    const lower = name.toLowerCase();
    const had = this.#fields!.get(lower);
    if (had === undefined) this.#fields!.set(lower, [name, value]);
    else had[1] = [...(Array.isArray(had[1]) ? had[1] : [String(had[1])]), value];
  }

  hasHeader(name: string): boolean {
    return this.getHeader(name) !== undefined;
  }

  removeHeader(name: string): void {
    this.#fields?.delete(name.toLowerCase());
  }

  getHeaderNames(): string[] {
    return [...(this.#fields?.keys() ?? [])];
  }

  getHeaders(): Record<string, HeaderValue> {
    const out: Record<string, HeaderValue> = {};
    for (const [lower, [, value]] of this.#fields ?? []) out[lower] = value;
    return out;
  }

  writeHead(
    status: number,
    reason?: string | Record<string, HeaderValue> | readonly string[],
    headers?: Record<string, HeaderValue> | readonly string[],
  ): this {
    if (this.headersSent)
      throw Object.assign(new Error('Cannot write headers after they are sent to the client'), {
        code: 'ERR_HTTP_HEADERS_SENT',
      });
    if (typeof reason === 'string') this.statusMessage = reason;
    else if (reason !== undefined) headers = reason;
    if (!Number.isInteger(status) || status < 100 || status > 999)
      throw Object.assign(new RangeError(`Invalid status code: ${status}`), {
        code: 'ERR_HTTP_INVALID_STATUS_CODE',
      });
    this.statusCode = status;
    if (Array.isArray(headers)) {
      if (this.#fields) {
        // As node:http: the list's fields replace those set before, and a name it repeats keeps every value.
        for (let i = 0; i < headers.length; i += 2) this.#fields.delete(headers[i]!.toLowerCase());
        for (let i = 0; i < headers.length; i += 2) this.#append(headers[i]!, headers[i + 1]!);
      } else this.#list = headers as string[];
    } else if (headers) {
      for (const name in headers) this.setHeader(name, (headers as Record<string, HeaderValue>)[name]!);
    }
    return this;
  }

  /** The status line and fields; `length` is the whole body's size when end() has it, for Content-Length. */
  #head(length: number | undefined): string {
    const status = this.statusCode;
    this.#bodyless = this.req.method === 'HEAD' || status === 204 || status === 304 || status < 200;
    let head = `HTTP/1.1 ${status} ${this.statusMessage || STATUS_CODES[status] || 'unknown'}\r\n`;
    let hasDate = !this.sendDate;
    let hasLength = false;
    let connection: string | undefined;
    let coding: string | undefined;
    const add = (name: string, value: HeaderValue) => {
      // Only the names whose length matches one node:http acts on are lower-cased.
      const n = name.length;
      if (n === 4 || n === 10 || n === 14 || n === 17) {
        const lower = name.toLowerCase();
        if (lower === 'date') hasDate = true;
        else if (lower === 'connection') connection = String(value);
        else if (lower === 'content-length') hasLength = true;
        else if (lower === 'transfer-encoding') coding = String(value);
      }
      if (Array.isArray(value)) {
        for (const v of value) {
          checkField(name, v);
          head += `${name}: ${v}\r\n`;
        }
      } else {
        const v = typeof value === 'string' ? value : String(value);
        checkField(name, v);
        head += `${name}: ${v}\r\n`;
      }
    };
    const list = this.#list;
    if (list) for (let i = 0; i < list.length; i += 2) add(list[i]!, list[i + 1]!);
    if (this.#fields) for (const [name, value] of this.#fields.values()) add(name, value);
    if (!hasDate) head += `Date: ${httpDate()}\r\n`;
    if (connection !== undefined) {
      if (/close/i.test(connection)) this.shouldKeepAlive = false;
    } else if (this.shouldKeepAlive && (hasLength || this.req.httpVersionMinor === 1)) {
      head += `Connection: keep-alive\r\nKeep-Alive: timeout=${this.#wire.keepAliveSeconds}\r\n`;
    } else {
      // node:http keeps an HTTP/1.0 connection only for a response whose Content-Length was set: one it
      // would frame itself (or could not frame at all, without chunks) ends with the connection.
      this.shouldKeepAlive = false;
      head += 'Connection: close\r\n';
    }
    if (coding !== undefined) {
      this.#chunked = /(?:^|,)\s*chunked\s*$/i.test(coding);
      if (!this.#chunked) this.shouldKeepAlive = false;
    } else if (!hasLength && !this.#bodyless) {
      if (length !== undefined) head += `Content-Length: ${length}\r\n`;
      else if (this.req.httpVersionMinor === 1) {
        head += 'Transfer-Encoding: chunked\r\n';
        this.#chunked = true;
      } else this.shouldKeepAlive = false;
    }
    this.headersSent = true;
    return `${head}\r\n`;
  }

  flushHeaders(): void {
    if (!this.headersSent) this.#wire.socket.write(this.#head(undefined), 'latin1');
  }

  write(chunk: Chunk, encoding?: Encoding | Callback, callback?: Callback): boolean {
    if (typeof encoding === 'function') {
      callback = encoding;
      encoding = undefined;
    }
    if (this.writableEnded) {
      const err = Object.assign(new Error('write after end'), { code: 'ERR_STREAM_WRITE_AFTER_END' });
      process.nextTick(() => callback?.(err));
      return false;
    }
    const socket = this.#wire.socket;
    if (socket.destroyed) return false;
    socket.cork();
    if (!this.headersSent) socket.write(this.#head(undefined), 'latin1');
    let ok = true;
    const size = byteLength(chunk, encoding);
    if (this.#bodyless || size === 0) {
      if (callback) process.nextTick(callback);
    } else if (this.#chunked) {
      socket.write(`${size.toString(16)}\r\n`, 'latin1');
      socket.write(chunk, encoding ?? 'utf8');
      ok = socket.write('\r\n', 'latin1', callback);
    } else ok = socket.write(chunk, encoding ?? 'utf8', callback);
    socket.uncork();
    return ok;
  }

  end(chunk?: Chunk | Callback, encoding?: Encoding | Callback, callback?: Callback): this {
    let data: Chunk | undefined;
    let enc: Encoding;
    if (typeof chunk === 'function') callback = chunk;
    else data = chunk;
    if (typeof encoding === 'function') callback = encoding;
    else enc = encoding;
    if (this.writableEnded) return this;
    this.writableEnded = true;
    if (callback) this.once('finish', callback);
    const socket = this.#wire.socket;
    if (socket.destroyed) return this;
    const size = data === undefined ? 0 : byteLength(data, enc);
    socket.cork();
    if (!this.headersSent) {
      const head = this.#head(size);
      if (data === undefined || size === 0 || this.#bodyless)
        socket.write(head, 'latin1', this.#wire.written);
      // One write for head and body, in the body's encoding, as node:http joins them.
      else if (typeof data === 'string') socket.write(head + data, enc ?? 'utf8', this.#wire.written);
      else {
        socket.write(head, 'latin1');
        socket.write(data, this.#wire.written);
      }
      socket.uncork();
      return this;
    }
    if (data !== undefined && size > 0 && !this.#bodyless) {
      if (this.#chunked) socket.write(`${size.toString(16)}\r\n`, 'latin1');
      socket.write(data, enc ?? 'utf8');
      if (this.#chunked) socket.write('\r\n', 'latin1');
    }
    socket.write(this.#chunked ? '0\r\n\r\n' : '', 'latin1', this.#wire.written);
    socket.uncork();
    return this;
  }

  /** The response is out: 'finish', then 'close', as node:http emits them. */
  sent(): void {
    this.writableFinished = true;
    this.#closed = true;
    this.emit('finish');
    this.emit('close');
  }

  /** The connection closed before the response was out. */
  cut(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.req.aborted = true;
    this.req.emit('aborted');
    this.req.emit('close');
    this.emit('close');
  }

  destroy(err?: Error): this {
    this.#wire.socket.destroy(err);
    return this;
  }
}
