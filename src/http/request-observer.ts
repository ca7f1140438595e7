import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Called for every request before the app sees it: the worker's access log, metrics, request hooks and
 * max-requests recycling register here, so every worker class's HTTP server reports requests the same way.
 */
export type RequestObserver = (req: IncomingMessage, res: ServerResponse) => void;

const observers: RequestObserver[] = [];
/** Why every request must be Node's own IncomingMessage and ServerResponse, when an observer says so. */
let nodeRequests: string | undefined;
/** Requests observed, and those of them whose response has not closed yet (the worker's stats). */
let observed = 0;
let open = 0;

export function addRequestObserver(observer: RequestObserver): void {
  observers.push(observer);
}

/**
 * Said by an observer that hands each request to code outside the server (the request hooks): such code may
 * use anything of Node's objects, so the lean HTTP/1.1 path, whose request and response have only the
 * members the server itself reads, stays off.
 */
export function requireNodeRequests(reason: string): void {
  nodeRequests = reason;
}

export function nodeRequestsNeeded(): string | undefined {
  return nodeRequests;
}

/** The HTTP server calls this for each request, and observeClose() once its response has closed. */
export function observeRequest(req: IncomingMessage, res: ServerResponse): void {
  observed++;
  open++;
  for (const observer of observers) observer(req, res);
}

/** The server already has one `close` listener per response; counting here saves another. */
export function observeClose(): void {
  open--;
}

export function requestCounts(): { readonly requests: number; readonly inFlight: number } {
  return { requests: observed, inFlight: open };
}
