/**
 * The worker's main thread ⇄ app thread vocabulary (over the Worker's MessagePort). The main thread parses
 * requests and owns the sockets; a thread sees each request as plain data and answers the same way.
 */
import type { Level } from '../../logging/logger.js';

/** What a thread needs to load the app: passed as workerData. */
export interface ThreadBoot {
  readonly app: string;
  readonly cwd: string;
  readonly logLevel: Level;
  readonly unhandledRejection: string;
  readonly noFastResponse: boolean;
}

export interface RequestHead {
  readonly method: string;
  readonly url: string;
  readonly httpVersion: string;
  readonly rawHeaders: readonly string[];
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
}

export type ToThread =
  /** `ended`: the request has no body (neither Content-Length nor Transfer-Encoding), so no 'end' follows. */
  | { readonly t: 'request'; readonly id: number; readonly head: RequestHead; readonly ended: boolean }
  | { readonly t: 'body'; readonly id: number; readonly chunk: Uint8Array }
  | { readonly t: 'end'; readonly id: number }
  /** The client went away before the response finished. */
  | { readonly t: 'abort'; readonly id: number }
  /** Response bytes the main thread has flushed to the client: the thread's write credit. */
  | { readonly t: 'flushed'; readonly id: number; readonly bytes: number };

export type FromThread =
  | { readonly t: 'ready' }
  /** The app failed to load: the error catalogue code (or none) and the message. */
  | { readonly t: 'failed'; readonly code: string | undefined; readonly message: string }
  /** The thread's event loop is turning; sent every second. */
  | { readonly t: 'beat' }
  /** Request body bytes the app has consumed: the main thread's read credit. */
  | { readonly t: 'consumed'; readonly id: number; readonly bytes: number }
  | ({ readonly t: 'head'; readonly id: number } & ResponseHead)
  | { readonly t: 'data'; readonly id: number; readonly chunk: Uint8Array }
  /**
   * The response is complete. A response the app ended before anything was sent (most) comes whole in this
   * one message, its head and its body with it: each message costs both threads a wake-up.
   */
  | { readonly t: 'done'; readonly id: number; readonly head?: ResponseHead; readonly chunk?: Uint8Array };

export interface ResponseHead {
  readonly status: number;
  readonly statusMessage: string;
  readonly headers: readonly [string, string][];
}

/** Bytes in flight each way before the sender waits: back-pressure across the thread boundary. */
export const WINDOW_BYTES = 256 * 1024;
