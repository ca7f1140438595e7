import type { IncomingMessage, ServerResponse } from 'node:http';
import { type FastParts, FastResponse, nativeResponse } from './fast-response.js';

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
function bufferedBody(response: Response): { source: string | Uint8Array; length: number } | undefined {
  if (!supportsBufferedBodies()) return undefined;
  const body = (response as unknown as Record<symbol, { body?: BodyState | null }>)[stateKey!]?.body;
  if (!body || typeof body.length !== 'number' || body.stream?.locked || response.bodyUsed) return undefined;
  const { source } = body;
  if (typeof source === 'string' || source instanceof Uint8Array) return { source, length: body.length };
  return undefined;
}

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
  if (fast) return writeFast(req, res, fast);
  const response = FastResponse.real(app);
  // A flat [name, value, …] list: writeHead takes it as is. Iterating Headers yields each Set-Cookie on its
  // own, where get() would join them with commas, which breaks cookies with dates.
  const headers: string[] = [];
  let hasLength = false;
  for (const [name, value] of response.headers) {
    headers.push(name, value);
    if (name === 'content-length') hasLength = true;
  }
  const { status } = response;
  const body = bufferedBody(response);
  const noBody = req.method === 'HEAD' || status === 204 || status === 304;
  if (body && !noBody) {
    if (!hasLength) headers.push('content-length', String(body.length));
    res.writeHead(status, response.statusText || undefined, headers);
    res.end(body.source);
    return;
  }
  res.writeHead(status, response.statusText || undefined, headers);
  const stream = response.body;
  if (!stream || noBody) {
    res.end();
    return stream?.cancel().catch(() => {});
  }
  return pump(res, stream);
}

/** A FastResponse as it was made: its headers and body written with one `end()`. */
function writeFast(
  req: IncomingMessage,
  res: ServerResponse,
  { status, statusText, headers, body }: FastParts,
): undefined {
  if (body !== null && req.method !== 'HEAD' && status !== 204 && status !== 304) {
    if (!headers.includes('content-length'))
      headers.push(
        'content-length',
        String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength),
      );
    res.writeHead(status, statusText || undefined, headers);
    res.end(body);
    return;
  }
  res.writeHead(status, statusText || undefined, headers);
  res.end();
}
