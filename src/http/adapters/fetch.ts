import type { IncomingMessage, ServerResponse } from 'node:http';
import { respondAppError } from '../app-error.js';
import { type Client, clientOf } from '../client.js';
import { type Adapter, binding, type RequestHandler } from './adapter.js';
import { installFastResponse } from './fast-response.js';
import {
  closedEarly,
  deferLazyRequests,
  IncomingRequest,
  lazyRequests,
  requestUrl,
} from './fetch-request.js';
import { writeResponse } from './fetch-response.js';

type FetchHandler = (request: Request, env: FetchEnv) => unknown;

/**
 * The second argument of a fetch app. `clientAddress` is read when asked, as a Request's members are: the
 * peer's address costs a system call per connection, which a new connection per request would pay for
 * every request. (A getter in an object literal cost 30 times a class's per request, measured.)
 */
class FetchEnv {
  readonly incoming: IncomingMessage;
  readonly outgoing: ServerResponse;
  readonly #client: Client;

  constructor(incoming: IncomingMessage, outgoing: ServerResponse, client: Client) {
    this.incoming = incoming;
    this.outgoing = outgoing;
    this.#client = client;
  }

  get clientAddress(): string {
    return this.#client.address;
  }
}

/** Methods the Fetch standard forbids in a Request: they cannot reach a fetch app. */
const forbiddenMethods = new Set(['CONNECT', 'TRACE', 'TRACK']);

/** A failed request: a 500, unless the client is already gone. */
function failed(req: IncomingMessage, res: ServerResponse, err: unknown): void {
  if (!closedEarly(res)) respondAppError(req, res, err);
}

/** Writes what the handler returned; a promise only while a streamed body is being written. */
function respond(req: IncomingMessage, res: ServerResponse, response: unknown): void | Promise<void> {
  if (!(response instanceof Response)) {
    throw new TypeError(
      `the fetch handler returned ${Object.prototype.toString.call(response)}, not a Response`,
    );
  }
  return writeResponse(req, res, response);
}

function settle(req: IncomingMessage, res: ServerResponse, response: unknown): void {
  try {
    respond(req, res, response)?.catch((err) => failed(req, res, err));
  } catch (err) {
    failed(req, res, err);
  }
}

/** Serves a Web fetch handler: streams bodies both ways, aborts the Request's signal when the client leaves. */
export function fromFetch(handler: FetchHandler): RequestHandler {
  installFastResponse();
  deferLazyRequests();
  return (req, res) => {
    if (forbiddenMethods.has(req.method ?? '')) {
      res.writeHead(501, { 'content-type': 'text/plain', connection: 'close' }).end('Not Implemented\n');
      return;
    }
    let result: unknown;
    try {
      const client = clientOf(req);
      const incoming = new IncomingRequest(req, res, requestUrl(client.scheme, client.host, req.url ?? '/'));
      result = handler(
        lazyRequests() ? (incoming as unknown as Request) : incoming.toRequest(),
        new FetchEnv(req, res, client),
      );
    } catch (err) {
      failed(req, res, err);
      return;
    }
    // A handler that answers synchronously is written at once, without a turn of the microtask queue.
    if (result instanceof Response) settle(req, res, result);
    else
      Promise.resolve(result).then(
        (response) => settle(req, res, response),
        (err) => failed(req, res, err),
      );
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
