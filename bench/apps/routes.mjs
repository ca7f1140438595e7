// The routes every contender serves, shared by the listener and fetch apps so both do the same work.
// Paths are matched with string compares, not `new URL`, so that the app costs the same small amount
// everywhere and the server is what the bench measures.

export const HELLO = 'Hello, World!';
// A Uint8Array rather than a Buffer: Deno has no global Buffer.
export const BIG = new Uint8Array(64 * 1024).fill(0x78);

/** The query's `ms`, clamped so a stray request cannot hang a worker for long. */
export function msParam(url) {
  const at = url.indexOf('ms=');
  const ms = at === -1 ? 0 : Number.parseInt(url.slice(at + 3), 10);
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), 2000) : 0;
}

/** Keeps the CPU busy for `ms`: the fixture for CPU-bound handlers. */
export function spin(ms) {
  const until = performance.now() + ms;
  let n = 0;
  while (performance.now() < until) n++;
  return n;
}

const blocker = new Int32Array(new SharedArrayBuffer(4));
/** Blocks the calling thread for `ms` without using CPU: a synchronous driver or file read stands in here. */
export function block(ms) {
  Atomics.wait(blocker, 0, 0, ms);
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
