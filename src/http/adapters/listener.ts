import { respondAppError } from '../app-error.js';
import { type Adapter, binding, http2Obstacle, type RequestHandler } from './adapter.js';

/** Wraps a Node `(req, res)` listener so a throw or a rejected promise becomes a 500. */
export function fromListener(listener: (req: any, res: any) => unknown): RequestHandler {
  return (req, res) => {
    try {
      const result = listener(req, res) as { then?: unknown } | undefined;
      if (result && typeof result.then === 'function') {
        (result as Promise<unknown>).then(undefined, (err: unknown) => respondAppError(req, res, err));
      }
    } catch (err) {
      respondAppError(req, res, err);
    }
  };
}

/** A plain function taking `(req, res)` — plain `http` handlers, Express apps (`(req, res, next)`). */
export const listenerAdapter: Adapter = {
  name: 'listener',
  matches: (value) => typeof value === 'function' && value.length !== 1,
  bind: (value) => ({ ...binding('listener', fromListener(value)), http1Only: http2Obstacle(value) }),
};
