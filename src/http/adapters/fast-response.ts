import { inspect } from 'node:util';
import { FIELD_TEXT } from '../edge/grammar.js';

/**
 * A `Response` that costs what its arguments cost, installed as the global `Response` in a process (or app
 * thread) serving a fetch app.
 *
 * undici's constructor builds a ReadableStream for every body, even a string the server will write in one
 * piece: on Node 20 `new Response('hello')` takes about 25 µs, half of a whole hello-world request served by
 * node:http. A FastResponse made from a string, bytes or nothing keeps its arguments, and the server writes
 * them as they are. Anything else an app may do with it (read `body`, call `text()`, `clone()` it, pass it
 * to undici) builds the real Response from the same arguments first and goes to it, so the app sees the
 * standard object. `instanceof Response` holds for both kinds. @hono/node-server replaces the global the
 * same way, so Hono and the apps written for it already run against such a Response.
 *
 * Bodies of other kinds (streams, Blob, FormData, URLSearchParams), and arguments the real constructor
 * would reject, build the real Response at once, so its errors are thrown where the standard throws them.
 * One difference remains: bytes are kept, not copied (a copy of a 64 KiB body costs what the stream did), so
 * an app that changes a Uint8Array after making a Response of it, before returning it, sends the change.
 */

/**
 * undici's Response, resolved the first time something needs it (a body read, a real Response built, an
 * instanceof check on a value that is not a FastResponse), not when FastResponse is installed: reading
 * `globalThis.Response` loads undici and, with it, crypto, tls, http2, zlib and web streams, 4 MB of a
 * worker's memory and 20 ms of its start that a fetch app answering with strings and bytes never needs.
 */
let Native: typeof Response | undefined;
/** Node's lazy getter of the global Response, kept when FastResponse replaces the global. */
let nativeGetter: (() => typeof Response) | undefined;

/** undici's Response, whether or not FastResponse has replaced the global. */
export function nativeResponse(): typeof Response {
  if (Native) return Native;
  if (!nativeGetter) return globalThis.Response;
  // Node's getter defines the global as what it loaded: whatever the global is now is put back.
  const current = Object.getOwnPropertyDescriptor(globalThis, 'Response')!;
  const native = nativeGetter();
  Object.defineProperty(globalThis, 'Response', current);
  return link(native);
}

/**
 * Real Responses and FastResponses are both `instanceof Response`, and code holding undici's constructor
 * accepts a FastResponse too; the statics are the real ones where not overridden below.
 */
function link(native: typeof Response): typeof Response {
  Native = native;
  Object.setPrototypeOf(FastResponse.prototype, native.prototype);
  Object.setPrototypeOf(FastResponse, native);
  return native;
}

const isPlain = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;

type FastBody = string | Uint8Array;

/** Statuses that have no body: the real constructor refuses one, and builds them itself. */
const nullBodyStatus = new Set([101, 103, 204, 205, 304]);

function fastBody(body: unknown): body is FastBody | null | undefined {
  return body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array;
}

function plainInit(init: ResponseInit | undefined): boolean {
  if (init === undefined) return true;
  if (typeof init !== 'object' || init === null) return false;
  const { status, statusText, headers } = init;
  if (status !== undefined && !(Number.isInteger(status) && status >= 200 && status <= 599)) return false;
  if (statusText !== undefined && !(typeof statusText === 'string' && FIELD_TEXT.test(statusText)))
    return false;
  return headers === undefined || Array.isArray(headers) || isPlain(headers) || headers instanceof Headers;
}

/** A response's status line and headers, as the server writes them. */
export interface ResponseHead {
  readonly status: number;
  readonly statusText: string;
  /** Flat [name, value, …], names in lower case, as writeHead takes them. */
  readonly headers: string[];
  readonly hasLength: boolean;
}

/**
 * What the server writes for a FastResponse that nothing has turned into a real one; its headers have the
 * Content-Type the real Response would add.
 */
export interface FastParts extends ResponseHead {
  readonly body: FastBody | null;
}

/** The Content-Type the real constructor gives a string body. */
const TEXT_TYPE = 'text/plain;charset=UTF-8';

export class FastResponse {
  #body: FastBody | null;
  #status = 200;
  #statusText = '';
  /** The init's headers, copied as the real constructor copies them: later changes to the init do not count. */
  #source: ConstructorParameters<typeof Headers>[0];
  #headers: Headers | undefined;
  #real: Response | undefined;

  constructor(body?: ConstructorParameters<typeof Response>[0], init?: ResponseInit) {
    const status = init?.status ?? 200;
    if (!fastBody(body) || !plainInit(init) || (body != null && nullBodyStatus.has(status))) {
      this.#body = null;
      this.#real = new (nativeResponse())(body, init);
      return;
    }
    this.#body = body ?? null;
    if (init) {
      this.#status = status;
      this.#statusText = init.statusText ?? '';
      const { headers } = init;
      this.#source = Array.isArray(headers)
        ? headers.map((pair) => [...pair])
        : isPlain(headers)
          ? { ...headers }
          : headers && new Headers(headers);
    }
  }

  static json(data: unknown, init?: ResponseInit): Response {
    const text = JSON.stringify(data);
    if (typeof text !== 'string' || !plainInit(init)) return nativeResponse().json(data, init);
    let headers: ConstructorParameters<typeof Headers>[0] = { 'content-type': 'application/json' };
    if (init?.headers !== undefined) {
      headers = new Headers(init.headers);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    }
    return new FastResponse(text, {
      status: init?.status,
      statusText: init?.statusText,
      headers,
    }) as unknown as Response;
  }

  static error(): Response {
    return nativeResponse().error();
  }

  static redirect(...args: Parameters<typeof Response.redirect>): Response {
    return nativeResponse().redirect(...args);
  }

  static [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null) return false;
    return #real in value || value instanceof nativeResponse();
  }

  /** The parts to write, or undefined once the response is a real one (or when `value` is not ours). */
  static parts(value: unknown): FastParts | undefined {
    // A brand check, not instanceof: that answers for real Responses too.
    if (typeof value !== 'object' || value === null || !(#real in value) || value.#real) return undefined;
    return {
      status: value.#status,
      statusText: value.#statusText,
      ...value.#flatHeaders(),
      body: value.#body,
    };
  }

  /** The real Response, for code that needs undici's own object. */
  static real(value: Response): Response {
    return #real in value ? value.#response : value;
  }

  get #response(): Response {
    if (!this.#real) {
      const init = {
        status: this.#status,
        statusText: this.#statusText,
        headers: this.#headers ?? this.#source,
      };
      this.#real = new (nativeResponse())(this.#body, init);
      this.#body = null;
    }
    return this.#real;
  }

  #flatHeaders(): { headers: string[]; hasLength: boolean } {
    const headers: string[] = [];
    let hasType = false;
    let hasLength = false;
    const add = (name: string, value: string) => {
      const lower = name.toLowerCase();
      if (lower === 'content-type') hasType = true;
      else if (lower === 'content-length') hasLength = true;
      headers.push(lower, value);
    };
    const source = this.#headers ?? this.#source;
    // Without instanceof Headers, which would load undici: a source is a Headers, an array or a plain object.
    if (Array.isArray(source)) for (const [name, value] of source) add(name!, String(value));
    else if (isPlain(source)) for (const name in source) add(name, String(source[name]));
    else if (source) for (const [name, value] of source as Headers) add(name, value);
    if (!hasType && typeof this.#body === 'string') headers.push('content-type', TEXT_TYPE);
    return { headers, hasLength };
  }

  get status(): number {
    return this.#real ? this.#real.status : this.#status;
  }

  get ok(): boolean {
    const { status } = this;
    return status >= 200 && status <= 299;
  }

  get statusText(): string {
    return this.#real ? this.#real.statusText : this.#statusText;
  }

  get headers(): Headers {
    if (this.#real) return this.#real.headers;
    if (!this.#headers) {
      this.#headers = new Headers(this.#source);
      if (typeof this.#body === 'string' && !this.#headers.has('content-type'))
        this.#headers.set('content-type', TEXT_TYPE);
    }
    return this.#headers;
  }

  get type(): Response['type'] {
    return this.#response.type;
  }

  get url(): string {
    return this.#response.url;
  }

  get redirected(): boolean {
    return this.#response.redirected;
  }

  get body(): ReadableStream<Uint8Array> | null {
    return this.#response.body;
  }

  get bodyUsed(): boolean {
    return this.#real ? this.#real.bodyUsed : false;
  }

  text(): Promise<string> {
    return this.#response.text();
  }

  json(): Promise<unknown> {
    return this.#response.json();
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    return this.#response.arrayBuffer();
  }

  blob(): Promise<Blob> {
    return this.#response.blob();
  }

  formData(): Promise<FormData> {
    return this.#response.formData();
  }

  bytes(): Promise<Uint8Array> {
    return (this.#response as unknown as { bytes(): Promise<Uint8Array> }).bytes();
  }

  clone(): Response {
    return this.#response.clone();
  }

  [inspect.custom](depth: number, options: object): string {
    return inspect(this.#response, { ...options, depth });
  }
}

/** --no-fast-response: the global Response stays undici's. */
let kept = false;

export function keepNativeResponse(): void {
  kept = true;
}

/** Makes FastResponse the global Response of this process or thread (once; fetch apps only). */
export function installFastResponse(): void {
  if (nativeGetter || Native || kept) return;
  const own = Object.getOwnPropertyDescriptor(globalThis, 'Response');
  if (own?.get) nativeGetter = own.get.bind(globalThis);
  else link(globalThis.Response);
  // Code that checks `constructor.name` (some frameworks do, instead of instanceof) sees the standard name,
  // and Object.prototype.toString the standard tag, before undici is loaded as after.
  Object.defineProperty(FastResponse, 'name', { value: 'Response' });
  Object.defineProperty(FastResponse.prototype, Symbol.toStringTag, {
    value: 'Response',
    configurable: true,
  });
  globalThis.Response = FastResponse as unknown as typeof Response;
}
