import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { respondAppError } from '../app-error.js';
import { clientOf } from '../client.js';
import { type Adapter, binding, type RequestHandler } from './adapter.js';

type FetchHandler = (
  request: Request,
  env: { incoming: IncomingMessage; outgoing: ServerResponse; clientAddress: string },
) => unknown;

/** Methods the Fetch standard forbids in a Request: they cannot reach a fetch app. */
const forbiddenMethods = new Set(['CONNECT', 'TRACE', 'TRACK']);

function toRequest(req: IncomingMessage, signal: AbortSignal): Request {
  const client = clientOf(req);
  const origin = `${client.scheme}://${client.host || 'localhost'}`;
  const target = req.url ?? '/';
  // An origin-form target is appended as text: `new URL('//x', base)` would read `//x` as a host.
  const url = target.startsWith('/') ? `${origin}${target}` : target === '*' ? `${origin}/` : target;
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    // HTTP/2's pseudo-header fields (`:method`, `:path`, …) are the request line's parts, already in the URL.
    if (raw[i]!.charCodeAt(0) !== 0x3a) headers.append(raw[i]!, raw[i + 1]!);
  }
  const method = req.method ?? 'GET';
  const init: RequestInit & { duplex?: 'half' } = { method, headers, signal };
  if (method !== 'GET' && method !== 'HEAD') {
    init.body = Readable.toWeb(req) as ReadableStream<Uint8Array>;
    init.duplex = 'half';
  }
  return new Request(url, init);
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

async function writeResponse(req: IncomingMessage, res: ServerResponse, response: Response): Promise<void> {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of response.headers) {
    if (name !== 'set-cookie') headers[name] = value;
  }
  // Headers joins Set-Cookie values with commas, which breaks cookies with dates; keep them apart.
  const cookies = response.headers.getSetCookie();
  if (cookies.length) headers['set-cookie'] = cookies;
  res.writeHead(response.status, response.statusText || undefined, headers);

  const body = response.body;
  if (!body || req.method === 'HEAD' || response.status === 204 || response.status === 304) {
    res.end();
    await body?.cancel().catch(() => {});
    return;
  }
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

/** Serves a Web fetch handler: streams bodies both ways, aborts the Request's signal when the client leaves. */
export function fromFetch(handler: FetchHandler): RequestHandler {
  return (req, res) => {
    if (forbiddenMethods.has(req.method ?? '')) {
      res.writeHead(501, { 'content-type': 'text/plain', connection: 'close' }).end('Not Implemented\n');
      return;
    }
    const controller = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    (async () => {
      const response = await handler(toRequest(req, controller.signal), {
        incoming: req,
        outgoing: res,
        clientAddress: clientOf(req).address,
      });
      if (!(response instanceof Response)) {
        throw new TypeError(
          `the fetch handler returned ${Object.prototype.toString.call(response)}, not a Response`,
        );
      }
      await writeResponse(req, res, response);
    })().catch((err: unknown) => {
      if (controller.signal.aborted) return;
      respondAppError(req, res, err);
    });
  };
}

/**
 * Web fetch apps: an object with a `fetch` method (Hono, `export default { fetch }`), or a function of one
 * argument `(request) => Response`.
 */
export const fetchAdapter: Adapter = {
  name: 'fetch',
  matches: (value: any) =>
    (!!value && typeof value.fetch === 'function') || (typeof value === 'function' && value.length === 1),
  bind: (value) =>
    binding(
      'fetch',
      fromFetch(typeof value === 'function' ? value : (value.fetch.bind(value) as FetchHandler)),
    ),
};
