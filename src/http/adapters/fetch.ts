import type { IncomingMessage, ServerResponse } from 'node:http';
import { respondAppError } from '../app-error.js';
import { clientOf } from '../client.js';
import { type Adapter, binding, type RequestHandler } from './adapter.js';
import { IncomingRequest, requestUrl, supportsLazyRequests } from './fetch-request.js';
import { writeResponse } from './fetch-response.js';

type FetchHandler = (
  request: Request,
  env: { incoming: IncomingMessage; outgoing: ServerResponse; clientAddress: string },
) => unknown;

/** Methods the Fetch standard forbids in a Request: they cannot reach a fetch app. */
const forbiddenMethods = new Set(['CONNECT', 'TRACE', 'TRACK']);

/** Serves a Web fetch handler: streams bodies both ways, aborts the Request's signal when the client leaves. */
export function fromFetch(handler: FetchHandler): RequestHandler {
  const lazy = supportsLazyRequests();
  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    let incoming: IncomingRequest | undefined;
    res.once('close', () => {
      if (!res.writableFinished) incoming?.abort();
    });
    try {
      const client = clientOf(req);
      incoming = new IncomingRequest(req, requestUrl(client.scheme, client.host, req.url ?? '/'));
      const request = lazy ? (incoming as unknown as Request) : incoming.toRequest();
      const response = await handler(request, {
        incoming: req,
        outgoing: res,
        clientAddress: client.address,
      });
      if (!(response instanceof Response)) {
        throw new TypeError(
          `the fetch handler returned ${Object.prototype.toString.call(response)}, not a Response`,
        );
      }
      await writeResponse(req, res, response);
    } catch (err) {
      if (!incoming?.aborted) respondAppError(req, res, err);
    }
  };
  return (req, res) => {
    if (forbiddenMethods.has(req.method ?? '')) {
      res.writeHead(501, { 'content-type': 'text/plain', connection: 'close' }).end('Not Implemented\n');
      return;
    }
    void serve(req, res);
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
