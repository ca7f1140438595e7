import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Called for every request before the app sees it: the worker's access log, metrics and request hooks
 * register here, so every worker class's HTTP server reports requests the same way.
 */
export type RequestObserver = (req: IncomingMessage, res: ServerResponse) => void;

let observer: RequestObserver | undefined;

export function setRequestObserver(next: RequestObserver | undefined): void {
  observer = next;
}

export function observeRequest(req: IncomingMessage, res: ServerResponse): void {
  observer?.(req, res);
}
