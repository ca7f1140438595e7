import type { IncomingMessage, ServerResponse } from 'node:http';
import { log } from '../logging/logger.js';

/**
 * An exception from the app while handling a request: logged with its stack, answered 500 if nothing was
 * sent yet (otherwise the connection is cut, as the response is already broken), and the worker serves on.
 */
export function respondAppError(req: IncomingMessage, res: ServerResponse, err: unknown): void {
  log.exception(`Error handling request ${req.method} ${req.url}`, err);
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const body = 'Internal Server Error\n';
  res.writeHead(500, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  res.end(body);
}
