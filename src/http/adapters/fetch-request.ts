import { type IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { LeanRequest } from '../lean/exchange.js';

const utf8 = new TextDecoder();

/**
 * The whole body of a request, from its 'data' events. node:stream/consumers' buffer() does the same through
 * an async iterator, which measured 0.63× node cluster on the bench's JSON echo against 1.01× this way.
 */
function collect(req: IncomingMessage): Promise<Buffer> {
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
    };
    const settle = (err?: Error) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', settle);
      if (err) reject(err);
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onEnd = () => settle();
    // After 'end' the listeners are gone: a 'close' seen here is a client that left mid-body.
    const onClose = () =>
      settle(Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
    req.on('error', settle);
    if (req.destroyed) onClose();
  });
}

/**
 * Host values seen recently, normalised as the URL parser would (lower case, default port dropped). Hosts
 * come from clients, so the map is bounded: it is cleared when full rather than evicted piecemeal.
 */
const origins = new Map<string, string>();
const ORIGINS_MAX = 256;
/** Hosts the cache takes: name or address and port, nothing the URL parser could read as a path or query. */
const plainHost = /^[A-Za-z0-9.\-:[\]]+$/;
/**
 * Origin-form targets the URL parser leaves exactly as they are: no character it percent-encodes, no `\`
 * (a `/` in http URLs), no `#`, no dot segment (`/.`, `%2e`) it would resolve.
 */
const plainTarget = /^\/[A-Za-z0-9\-_~!$&()*+,;=:@/%?.]*$/;
const dotSegment = /\/\.|%2e/i;

/** The last origin served: most requests to a worker name the same host, which a comparison finds. */
let last = { scheme: '', host: '', origin: '' };

function originOf(scheme: string, host: string): string | undefined {
  if (host === last.host && scheme === last.scheme) return last.origin;
  const key = `${scheme}://${host}`;
  let origin = origins.get(key);
  if (origin === undefined) {
    if (!plainHost.test(host)) return undefined;
    origin = new URL(key).origin;
    if (origins.size >= ORIGINS_MAX) origins.clear();
    origins.set(key, origin);
  }
  last = { scheme, host, origin };
  return origin;
}

/**
 * The Request URL for a request target, serialised exactly as `new Request(url)` would; throws the URL
 * parser's TypeError for a target or host it rejects. The common case is a string concatenation.
 */
export function requestUrl(scheme: string, host: string | undefined, target: string): string {
  const origin = originOf(scheme, host || 'localhost');
  if (origin !== undefined && plainTarget.test(target) && !dotSegment.test(target)) return origin + target;
  const base = `${scheme}://${host || 'localhost'}`;
  // An origin-form target is appended as text: `new URL('//x', base)` would read `//x` as a host.
  const url = new URL(target.startsWith('/') ? `${base}${target}` : target === '*' ? `${base}/` : target);
  // Userinfo in an absolute-form target is deprecated (RFC 9110 §4.2.4) and a Request may not carry it: the
  // Fetch standard throws on a URL with credentials.
  url.username = '';
  url.password = '';
  return url.href;
}

/**
 * Whether the response was closed before it was finished: the client went away, or the connection was
 * destroyed. HTTP/2's compatibility response has no `destroyed`; its stream has.
 */
export function closedEarly(res: ServerResponse): boolean {
  return (
    !res.writableFinished &&
    (res.destroyed || (res as { stream?: { destroyed: boolean } }).stream?.destroyed === true)
  );
}

/**
 * The `Request` a fetch app receives. Building undici's Request costs more than many handlers (two
 * AbortSignals, a URL parse, a copy of every header, a web stream for the body), while most handlers read
 * only `method`, `url` and a header or two. This object answers those itself, creates `headers` and `signal`
 * on first use, and builds the real Request, from which it answers everything else, only when asked for
 * anything more (the body, `clone()`, `new Request(request)`, `fetch(request)`). It is an `instanceof
 * Request` once `supportsLazyRequests()`, called before the first is built, has checked that undici accepts
 * it where it expects a real one. Its signal aborts when the response is closed before it is finished; the
 * listener that does so is added only once the signal is asked for.
 */
export class IncomingRequest {
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #url: string;
  #headers: Headers | undefined;
  #controller: AbortController | undefined;
  #real: Request | undefined;
  /** The body was read by text(), json(), arrayBuffer() or bytes() before any real Request was built. */
  #read = false;

  constructor(req: IncomingMessage, res: ServerResponse, url: string) {
    this.#req = req;
    this.#res = res;
    this.#url = url;
  }

  get method(): string {
    return this.#req.method ?? 'GET';
  }

  get url(): string {
    return this.#url;
  }

  get headers(): Headers {
    if (this.#real) return this.#real.headers;
    if (!this.#headers) {
      const headers = new Headers();
      const raw = this.#req.rawHeaders;
      for (let i = 0; i < raw.length; i += 2) {
        // HTTP/2's pseudo-header fields (`:method`, `:path`, …) are the request line's parts, already in the URL.
        if (raw[i]!.charCodeAt(0) !== 0x3a) headers.append(raw[i]!, raw[i + 1]!);
      }
      this.#headers = headers;
    }
    return this.#headers;
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      const controller = new AbortController();
      const res = this.#res;
      if (closedEarly(res)) controller.abort();
      else
        res.once('close', () => {
          if (!res.writableFinished) controller.abort();
        });
      this.#controller = controller;
    }
    return this.#controller.signal;
  }

  get body(): ReadableStream<Uint8Array> | null {
    return this.#hasBody() ? this.toRequest().body : null;
  }

  get bodyUsed(): boolean {
    return this.#read || !!this.#real?.bodyUsed;
  }

  /**
   * The body read straight from Node's stream, without the web stream and the real Request around it (most
   * of the cost of `await request.json()` on a small body); what the standard methods do with the bytes is
   * done the standard way (TextDecoder strips a BOM, as UTF-8 decode does).
   */
  async #bytes(): Promise<Buffer> {
    if (this.#real) return Buffer.from(await this.#real.arrayBuffer());
    // A GET or HEAD has no body, which reads as empty as often as asked.
    if (!this.#hasBody()) return Buffer.alloc(0);
    if (this.#read) throw new TypeError('Body is unusable: Body has already been read');
    this.#read = true;
    return this.#req instanceof LeanRequest ? this.#req.body : collect(this.#req);
  }

  async text(): Promise<string> {
    return utf8.decode(await this.#bytes());
  }

  async json(): Promise<unknown> {
    return JSON.parse(utf8.decode(await this.#bytes()));
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = await this.#bytes();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  async bytes(): Promise<Uint8Array> {
    return new Uint8Array(await this.arrayBuffer());
  }

  #hasBody(): boolean {
    const method = this.method;
    return method !== 'GET' && method !== 'HEAD';
  }

  /** The real Request, built once; headers changed through `headers` before then are carried over. */
  toRequest(): Request {
    if (!this.#real) {
      const init: RequestInit & { duplex?: 'half' } = {
        method: this.method,
        headers: this.headers,
        signal: this.signal,
      };
      if (this.#hasBody()) {
        const req = this.#req;
        init.body =
          req instanceof LeanRequest ? req.body : (Readable.toWeb(req) as ReadableStream<Uint8Array>);
        init.duplex = 'half';
      }
      this.#real = new Request(this.#url, init);
    }
    return this.#real;
  }
}

/**
 * Makes IncomingRequest an `instanceof Request` whose every other member (and undici's symbol-keyed state)
 * answers from the real Request. Done on first use rather than at import: touching `Request` loads undici,
 * which a worker serving a Node listener app never needs.
 */
function installDelegates(): void {
  const proto = IncomingRequest.prototype;
  Object.setPrototypeOf(proto, Request.prototype);
  const own = new Set<PropertyKey>(Reflect.ownKeys(proto));
  const real = (self: IncomingRequest) => self.toRequest() as unknown as Record<PropertyKey, any>;
  const getter = (key: PropertyKey) =>
    Object.defineProperty(proto, key, {
      configurable: true,
      get(this: IncomingRequest) {
        return real(this)[key];
      },
    });
  for (const key of Reflect.ownKeys(Request.prototype)) {
    if (own.has(key) || key === 'constructor' || key === Symbol.toStringTag) continue;
    const { value } = Object.getOwnPropertyDescriptor(Request.prototype, key)!;
    if (typeof value !== 'function') getter(key);
    else
      Object.defineProperty(proto, key, {
        configurable: true,
        writable: true,
        value(this: IncomingRequest, ...args: unknown[]) {
          return real(this)[key](...args);
        },
      });
  }
  // undici reads its own state through symbol-keyed fields when handed a Request (`new Request(request)`,
  // `fetch(request)`): answer those from the real one.
  for (const key of Object.getOwnPropertySymbols(new Request('http://localhost/'))) getter(key);
}

let lazyWorks: boolean | undefined;

/**
 * Whether this Node's undici accepts an IncomingRequest wherever it takes a Request. A version that keeps a
 * Request's state in private fields would not; the adapter then builds the real Request up front.
 */
export function supportsLazyRequests(): boolean {
  if (lazyWorks === undefined) {
    installDelegates();
    try {
      const fake = { method: 'GET', rawHeaders: ['x-probe', '1'] } as unknown as IncomingMessage;
      const copy = new Request(
        new IncomingRequest(fake, new ServerResponse(fake), 'http://localhost/probe') as unknown as Request,
      );
      lazyWorks = copy.url === 'http://localhost/probe' && copy.headers.get('x-probe') === '1';
    } catch {
      lazyWorks = false;
    }
  }
  return lazyWorks;
}

let deferred = false;

/** Whether the adapter may hand the app an IncomingRequest now. */
export function lazyRequests(): boolean {
  return lazyWorks !== false;
}

/**
 * Checks undici (supportsLazyRequests) only when an IncomingRequest can first meet it, rather than when the
 * adapter starts, on a Node whose undici globals are lazy getters (Node 20; later ones have undici from the
 * start, and are probed at once): the probe loads undici, which a fetch app that never touches `Request` or
 * `fetch` does not need (fast-response.ts says what it costs). Until then nothing tells an IncomingRequest
 * from a real Request: `instanceof Request` needs the global, and undici takes requests through
 * `new Request(request)` and `fetch(request)`. So the first read (or write) of the global Request, and the
 * first call of the global fetch, run the probe first. Node 20's undici passes it; a version that did not
 * would see the requests handed out before then as URLs.
 */
export function deferLazyRequests(): void {
  if (deferred) return;
  deferred = true;
  const own = Object.getOwnPropertyDescriptor(globalThis, 'Request');
  if (lazyWorks !== undefined || !own?.get) {
    supportsLazyRequests();
    return;
  }
  Object.defineProperty(globalThis, 'Request', {
    configurable: true,
    enumerable: own.enumerable,
    get(): typeof Request {
      // Node's own getter defines the global as undici's Request, which the probe then uses.
      const native = own.get!.call(globalThis) as typeof Request;
      supportsLazyRequests();
      return native;
    },
    // A polyfill replacing the global before anything read it: the probe still runs first.
    set(value: typeof Request) {
      own.get!.call(globalThis);
      supportsLazyRequests();
      Object.defineProperty(globalThis, 'Request', { configurable: true, writable: true, value });
    },
  });
  const nativeFetch = globalThis.fetch;
  globalThis.fetch = function fetch(input, init) {
    // The first read of the global runs the probe, if nothing has yet.
    if (lazyWorks === undefined) void globalThis.Request;
    return nativeFetch(input, init);
  };
}
