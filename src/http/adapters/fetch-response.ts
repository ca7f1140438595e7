import type { IncomingMessage, ServerResponse } from 'node:http';
import { FastResponse, nativeResponse, type ResponseHead } from './fast-response.js';

/**
 * The symbol under which undici keeps a Response's state, found by looking at one: its `body.source` is
 * the string or bytes the Response was made from. Undefined when this Node's undici hides it, and every
 * body is then read through its stream. Looked for on the first response, not at import: touching `Response`
 * loads undici, which a worker serving a Node listener app never needs.
 */
let stateKey: symbol | undefined | null = null;

function findStateKey(): symbol | undefined {
  const probe = new (nativeResponse())('probe') as unknown as Record<symbol, { body?: { source?: unknown } }>;
  return Object.getOwnPropertySymbols(probe).find((key) => probe[key]?.body?.source === 'probe');
}

/**
 * Whether this Node's undici shows what a Response was built from. Node 26's keeps it in private fields:
 * there every body goes through its stream (chunked, without a Content-Length).
 */
export function supportsBufferedBodies(): boolean {
  if (stateKey === null) stateKey = findStateKey();
  return stateKey !== undefined;
}

interface BodyState {
  readonly source: unknown;
  readonly length: number | null;
  readonly stream: ReadableStream<Uint8Array> | null;
}

/**
 * The bytes a Response was built from when they are there unread (`new Response('text')`,
 * `new Response(bytes)`, `Response.json(value)`): written with one `end()` and a Content-Length instead of
 * being pumped through the body's stream.
 */
function bufferedBody(response: Response): string | Uint8Array | undefined {
  if (!supportsBufferedBodies()) return undefined;
  const body = (response as unknown as Record<symbol, { body?: BodyState | null }>)[stateKey!]?.body;
  if (!body || typeof body.length !== 'number' || body.stream?.locked || response.bodyUsed) return undefined;
  const { source } = body;
  if (typeof source === 'string' || source instanceof Uint8Array) return source;
  return undefined;
}

/** Writes the head, with a body that is here whole (a string or bytes) in the same `end()`. */
function writeWhole(res: ServerResponse, head: ResponseHead, body?: string | Uint8Array): void {
  if (body !== undefined && !head.hasLength)
    head.headers.push(
      'content-length',
      String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength),
    );
  res.writeHead(head.status, head.statusText || undefined, head.headers);
  res.end(body);
}

/** Whether a response to this request with this status carries a body. */
const sendsBody = (req: IncomingMessage, status: number) =>
  req.method !== 'HEAD' && status !== 204 && status !== 304;

function waitWritable(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

async function pump(res: ServerResponse, body: ReadableStream<Uint8Array>): Promise<void> {
  const reader = body.getReader();
  let read = false;
  // The client went away, or a draining worker ended the stream: stop the app's stream now rather than at
  // its next chunk.
  const stop = () => {
    if (!read) reader.cancel().catch(() => {});
  };
  res.once('close', stop);
  res.once('finish', stop);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (res.destroyed || res.writableEnded) return;
      // Back-pressure: a slow reader holds the app's stream instead of growing the worker's memory.
      if (!res.write(value)) await waitWritable(res);
    }
    read = true;
    res.end();
  } finally {
    res.off('close', stop);
    res.off('finish', stop);
  }
}

/**
 * Writes a fetch app's Response to Node's response: status, headers (Set-Cookie kept apart), body. Returns
 * a promise only while a body is being streamed or cancelled.
 */
export function writeResponse(
  req: IncomingMessage,
  res: ServerResponse,
  app: Response,
): Promise<void> | undefined {
  const fast = FastResponse.parts(app);
  if (fast) {
    writeWhole(res, fast, fast.body !== null && sendsBody(req, fast.status) ? fast.body : undefined);
    return;
  }
  const response = FastResponse.real(app);
  // A flat [name, value, …] list: writeHead takes it as is. Iterating Headers yields each Set-Cookie on its
  // own, where get() would join them with commas, which breaks cookies with dates.
  const headers: string[] = [];
  let hasLength = false;
  for (const [name, value] of response.headers) {
    headers.push(name, value);
    if (name === 'content-length') hasLength = true;
  }
  const head = { status: response.status, statusText: response.statusText, headers, hasLength };
  const sends = sendsBody(req, head.status);
  const body = bufferedBody(response);
  if (body !== undefined && sends) {
    writeWhole(res, head, body);
    return;
  }
  const stream = response.body;
  if (!stream || !sends) {
    writeWhole(res, head);
    return stream?.cancel().catch(() => {});
  }
  res.writeHead(head.status, head.statusText || undefined, headers);
  return pump(res, stream);
}
