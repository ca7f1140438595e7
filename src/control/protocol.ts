/**
 * The control socket's wire format, shared by the master (server) and `tsunicorn ctl`/`top` (clients): each
 * message is a 4-byte big-endian length followed by that many bytes of UTF-8 JSON. One request, one response,
 * in order; a connection may carry many.
 */
import { lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const commands = [
  'stats',
  'reload',
  'scale',
  'drain',
  'kill',
  'reopen-logs',
  'shutdown',
  'config',
] as const;
export type Command = (typeof commands)[number];

export interface ControlRequest {
  readonly command: string;
  readonly args: readonly string[];
}

export type ControlResponse =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly error: string };

/** No command or answer comes near this; a bigger frame is a confused peer, not a message. */
export const MAX_FRAME = 1 << 20;

export function encodeFrame(value: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  const frame = Buffer.allocUnsafe(4 + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, 4);
  return frame;
}

/** Splits a byte stream into frames; throws on a frame over MAX_FRAME or that is not JSON. */
export class FrameDecoder {
  #buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): unknown[] {
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    const out: unknown[] = [];
    while (this.#buffer.length >= 4) {
      const length = this.#buffer.readUInt32BE(0);
      if (length > MAX_FRAME) throw new Error(`frame of ${length} bytes is over the ${MAX_FRAME}-byte limit`);
      if (this.#buffer.length < 4 + length) break;
      const body = this.#buffer.subarray(4, 4 + length).toString('utf8');
      this.#buffer = this.#buffer.subarray(4 + length);
      out.push(JSON.parse(body));
    }
    return out;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Where control sockets live by default: a directory only this user can enter, so other non-root users can
 * neither connect nor plant a socket of their own. Never the working directory, which may be read-only or
 * shared.
 */
export function controlDirectory(env: Env): string {
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'tsunicorn');
  return join(tmpdir(), `tsunicorn-${process.getuid?.() ?? 'user'}`);
}

/**
 * Creates the directory 0700, or checks that an existing one is ours, a real directory, and closed to
 * others: in a shared temp dir, someone else may have created the name first.
 */
export function ensurePrivateDirectory(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) throw new Error(`${dir} belongs to uid ${st.uid}, not ${uid}`);
  if (st.mode & 0o077)
    throw new Error(`${dir} is open to other users (mode ${(st.mode & 0o777).toString(8)})`);
}

export function defaultControlSocket(env: Env, pid = process.pid): string {
  return join(controlDirectory(env), `${pid}.sock`);
}

/** The control sockets in the default directory, one per running (or crashed) master. */
export function listControlSockets(env: Env): string[] {
  const dir = controlDirectory(env);
  try {
    return readdirSync(dir)
      .filter((name) => /^\d+\.sock$/.test(name))
      .map((name) => join(dir, name));
  } catch {
    return [];
  }
}

/** One client connection; requests are answered in order. */
export class ControlClient {
  readonly #socket: Socket;
  readonly #decoder = new FrameDecoder();
  readonly #waiting: { resolve: (r: ControlResponse) => void; reject: (e: Error) => void }[] = [];
  #failure: Error | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const message of this.#decoder.push(chunk))
          this.#waiting.shift()?.resolve(message as ControlResponse);
      } catch (err) {
        this.#fail(err as Error);
      }
    });
    socket.on('error', (err) => this.#fail(err));
    socket.on('close', () => this.#fail(new Error('the master closed the control connection')));
  }

  static connect(path: string): Promise<ControlClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(path);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new ControlClient(socket));
      });
      socket.once('error', reject);
    });
  }

  #fail(err: Error): void {
    this.#failure ??= err;
    for (const w of this.#waiting.splice(0)) w.reject(this.#failure);
  }

  request(command: string, args: readonly string[] = []): Promise<ControlResponse> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#socket.write(encodeFrame({ command, args } satisfies ControlRequest));
    });
  }

  close(): void {
    this.#socket.end();
  }
}

/** The answer to `stats`: bytes, counts, milliseconds, seconds. */
export interface StatsView {
  readonly master: {
    readonly pid: number;
    readonly generation: number;
    readonly app: string;
    readonly workerClass: string;
    readonly target: number;
    readonly listeners: readonly string[];
    readonly controlSocket: string | undefined;
    readonly reloads: number;
    readonly draining: boolean;
    readonly uptimeS: number;
  };
  readonly workers: readonly WorkerView[];
}

export interface WorkerView {
  readonly pid: number;
  readonly id: number;
  readonly age: number;
  readonly generation: number;
  readonly class: string;
  readonly state: string;
  readonly requests: number;
  readonly inFlight: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly eventLoopDelayMs: number;
  readonly uptimeS: number;
}
