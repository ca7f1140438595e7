/**
 * Raw HTTP/1.1 over TCP, for tests that must put exact bytes on the wire: the request corpus's method
 * (whole, byte by byte, or random splits; then half-close; read until the server closes) and helpers for
 * slow and stalled clients.
 */
import { connect, type Socket } from 'node:net';

export type SendMode = 'whole' | 'bytes' | 'split';

export interface Exchange {
  readonly data: Buffer;
  /** How the exchange ended: nothing listened, the server closed (FIN or reset), or we gave up waiting. */
  readonly ended: 'refused' | 'closed' | 'reset' | 'timeout';
  readonly statuses: number[];
}

/** Deterministic pieces for split mode, so a failure can be replayed with its seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pieces(data: Buffer, mode: SendMode, rng: () => number): Buffer[] {
  if (mode === 'whole' || data.length === 0) return [data];
  if (mode === 'bytes') return Array.from({ length: data.length }, (_, i) => data.subarray(i, i + 1));
  const max = Math.max(1, Math.round(data.length / 10));
  const out: Buffer[] = [];
  for (let pos = 0; pos < data.length; ) {
    const n = 1 + Math.floor(rng() * max);
    out.push(data.subarray(pos, pos + n));
    pos += n;
  }
  return out;
}

/**
 * Status codes of the final responses in a byte stream (1xx skipped). Status lines are found anywhere, not
 * only after a CRLF: a response body need not end with one. Test bodies never contain a status line.
 */
export function statusesOf(data: Buffer): number[] {
  return [...data.toString('latin1').matchAll(/HTTP\/1\.[01] (\d{3}) [^\r\n]*\r\n/g)]
    .map((m) => Number(m[1]))
    .filter((s) => s >= 200);
}

/** Sends `data` the corpus's way and reads until the server closes or `timeoutMs` passes. */
export function exchange(
  port: number,
  data: Buffer,
  opts: { mode?: SendMode; seed?: number; timeoutMs?: number } = {},
): Promise<Exchange> {
  const mode = opts.mode ?? 'whole';
  const rng = mulberry32(opts.seed ?? 1);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let ended: Exchange['ended'] | undefined;
    let timer: NodeJS.Timeout | undefined;
    let connected = false;
    const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const finish = (how: Exchange['ended']) => {
      if (ended) return;
      ended = how;
      clearTimeout(timer);
      socket.destroy();
      const all = Buffer.concat(chunks);
      resolve({ data: all, ended: how, statuses: statusesOf(all) });
    };
    // A final non-2xx answer stops the sending, as a real client would.
    let refused = false;
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      refused ||= statusesOf(Buffer.concat(chunks)).some((s) => s >= 300);
    });
    socket.on('end', () => finish('closed'));
    socket.on('error', () => finish(connected ? 'reset' : 'refused'));
    socket.on('close', () => finish('closed'));
    socket.on('connect', async () => {
      connected = true;
      socket.setNoDelay(true);
      for (const p of pieces(data, mode, rng)) {
        if (ended || refused || !socket.writable) break;
        await new Promise<void>((r) => socket.write(p, () => r()));
        if (mode !== 'whole') await new Promise((r) => setImmediate(r));
      }
      if (ended) return;
      if (socket.writable) socket.end();
      timer = setTimeout(() => finish('timeout'), opts.timeoutMs ?? 4000);
    });
  });
}

/** Opens a connection and resolves once it is established. */
export function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * A GET with `Connection: close`, written in the same instant as the connect: `open` resolves once
 * connected, `reply` with everything the server sent when it closes.
 */
export function getAndClose(port: number, path: string): { open: Promise<void>; reply: Promise<string> } {
  const socket = connect({ host: '127.0.0.1', port });
  const open = new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { open, reply: getOn(socket, path) };
}

/** A GET with `Connection: close` on a connection: everything the server sent, once it closes. */
export function getOn(socket: Socket, path: string): Promise<string> {
  const reply = new Promise<string>((resolve, reject) => {
    let text = '';
    socket.on('data', (d) => {
      text += d;
    });
    socket.once('end', () => resolve(text));
    socket.once('error', reject);
  });
  socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  return reply;
}
