import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Called for every request before the app sees it: the worker's access log, metrics, request hooks and
 * max-requests recycling register here, so every worker class's HTTP server reports requests the same way.
 */
export type RequestObserver = (req: IncomingMessage, res: ServerResponse) => void;

const observers: RequestObserver[] = [];

export function addRequestObserver(observer: RequestObserver): void {
  observers.push(observer);
}

export function observeRequest(req: IncomingMessage, res: ServerResponse): void {
  for (const observer of observers) observer(req, res);
}
