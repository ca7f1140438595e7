/**
 * The access log: Gunicorn's format atoms (`%(h)s "%(r)s" %(s)s …`) or one JSON object per request, written
 * through a batched sink in each worker.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { clientOf } from '../http/client.js';
import { batched, openSink } from './sink.js';

/** One finished request, as the access log, statsd and hooks see it. */
export interface RequestRecord {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly startedAt: Date;
  readonly durationMs: number;
  /** Body bytes sent. */
  readonly bytes: number;
}

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Common Log Format time: `[25/Nov/2026:09:00:00 +0000]`. */
function clfTime(d: Date): string {
  const off = -d.getTimezoneOffset();
  const abs = Math.abs(off);
  return (
    `[${pad(d.getDate())}/${months[d.getMonth()]}/${d.getFullYear()}:` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ` +
    `${off >= 0 ? '+' : '-'}${pad(Math.floor(abs / 60))}${pad(abs % 60)}]`
  );
}

function basicAuthUser(req: IncomingMessage): string | undefined {
  const m = /^Basic\s+(\S+)/i.exec(req.headers.authorization ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? undefined : decoded.slice(0, colon);
}

function headerValue(value: string | number | readonly string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(', ') : String(value);
}

type Atom = (r: RequestRecord) => string | number | undefined;

function splitUrl(url: string | undefined): [string, string] {
  const u = url ?? '';
  const q = u.indexOf('?');
  return q === -1 ? [u, ''] : [u.slice(0, q), u.slice(q + 1)];
}

/** Gunicorn's atoms, with the names the JSON form uses for them. */
const atoms: Record<string, { name: string; get: Atom }> = {
  h: { name: 'remote_addr', get: (r) => clientOf(r.req).address },
  l: { name: 'ident', get: () => undefined },
  u: { name: 'user', get: (r) => basicAuthUser(r.req) },
  t: { name: 'time', get: (r) => clfTime(r.startedAt) },
  r: { name: 'request', get: (r) => `${r.req.method} ${r.req.url} HTTP/${r.req.httpVersion}` },
  m: { name: 'method', get: (r) => r.req.method },
  U: { name: 'path', get: (r) => splitUrl(r.req.url)[0] },
  q: { name: 'query', get: (r) => splitUrl(r.req.url)[1] || undefined },
  H: { name: 'protocol', get: (r) => `HTTP/${r.req.httpVersion}` },
  s: { name: 'status', get: (r) => r.res.statusCode },
  B: { name: 'bytes', get: (r) => r.bytes },
  b: { name: 'bytes_clf', get: (r) => r.bytes || undefined },
  f: { name: 'referer', get: (r) => headerValue(r.req.headers.referer) },
  a: { name: 'user_agent', get: (r) => headerValue(r.req.headers['user-agent']) },
  T: { name: 'duration_s', get: (r) => Math.floor(r.durationMs / 1000) },
  M: { name: 'duration_ms', get: (r) => Math.floor(r.durationMs) },
  D: { name: 'duration_us', get: (r) => Math.round(r.durationMs * 1000) },
  L: { name: 'duration', get: (r) => (r.durationMs / 1000).toFixed(6) },
  p: { name: 'pid', get: () => `<${process.pid}>` },
};

export const atomNames = Object.keys(atoms);

function atom(name: string): Atom {
  const known = atoms[name];
  if (known) return known.get;
  const m = /^\{(.+)\}([ioe])$/.exec(name);
  if (m) {
    const key = m[1]!.toLowerCase();
    if (m[2] === 'i') return (r) => headerValue(r.req.headers[key]);
    if (m[2] === 'o') return (r) => headerValue(r.res.getHeader(key));
    const variable = m[1]!;
    return () => process.env[variable];
  }
  return () => undefined;
}

/** Compiles a Gunicorn access-log format; a missing value prints `-`, as in Gunicorn. */
export function compileFormat(format: string): (r: RequestRecord) => string {
  const parts: (string | Atom)[] = [];
  let last = 0;
  for (const m of format.matchAll(/%\(([^)]+)\)[sd]|%%/g)) {
    parts.push(format.slice(last, m.index));
    parts.push(m[0] === '%%' ? '%' : atom(m[1]!));
    last = m.index! + m[0].length;
  }
  parts.push(format.slice(last));
  return (r) => {
    let line = '';
    for (const p of parts) {
      if (typeof p === 'string') line += p;
      else {
        const v = p(r);
        line += v === undefined || v === '' ? '-' : String(v);
      }
    }
    return line;
  };
}

/** The JSON form: every atom by name, plus the request and response headers the format names. */
export function accessJson(r: RequestRecord): Record<string, string | number | null> {
  const entry: Record<string, string | number | null> = {};
  for (const { name, get } of Object.values(atoms)) {
    if (name === 'bytes_clf') continue;
    const v = get(r);
    entry[name] = v === undefined ? null : v;
  }
  return entry;
}

export interface AccessLogOptions {
  /** `-` for stdout, else a file path. */
  readonly file: string;
  readonly format: string;
  readonly json: boolean;
}

/** A worker's access log; `reopen` follows the file to its name again (USR1). */
export function openAccessLog(options: AccessLogOptions) {
  const sink = batched(openSink(options.file, 'stdout'));
  const line = options.json
    ? (r: RequestRecord) => JSON.stringify(accessJson(r))
    : compileFormat(options.format);
  return {
    log(r: RequestRecord): void {
      sink.write(`${line(r)}\n`);
    },
    flush: () => sink.flush(),
    reopen: () => sink.reopen(),
    close: () => sink.close(),
  };
}
export type AccessLog = ReturnType<typeof openAccessLog>;
