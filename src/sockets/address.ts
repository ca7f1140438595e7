import { isIPv4, isIPv6 } from 'node:net';
import { resolve } from 'node:path';

export type Address =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'fd'; readonly fd: number };

const DEFAULT_PORT = 8000;

function parsePort(raw: string, spec: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) > 65535) {
    throw new Error(
      `invalid port ${JSON.stringify(raw)} in bind address ${JSON.stringify(spec)}: use 0–65535`,
    );
  }
  return Number(raw);
}

/**
 * Parses Gunicorn's bind syntax: `HOST:PORT`, `HOST` (port 8000), `[::1]:PORT`, `unix:PATH`, `fd://N`.
 * Throws a message naming the address and the accepted forms.
 */
export function parseAddress(spec: string, cwd = process.cwd()): Address {
  const s = spec.trim();
  if (s.startsWith('unix:')) {
    const path = s.slice('unix:'.length).replace(/^\/\/(?=\/)/, '');
    if (!path)
      throw new Error(`empty unix socket path in ${JSON.stringify(spec)}: use unix:/path/to/app.sock`);
    return { kind: 'unix', path: resolve(cwd, path) };
  }
  if (s.startsWith('fd://')) {
    const raw = s.slice('fd://'.length);
    if (!/^\d+$/.test(raw) || Number(raw) < 3) {
      throw new Error(`invalid fd in ${JSON.stringify(spec)}: use fd://N with an inherited descriptor N ≥ 3`);
    }
    return { kind: 'fd', fd: Number(raw) };
  }
  let host: string;
  let port = DEFAULT_PORT;
  const v6 = /^\[([^\]]*)\](?::(.*))?$/.exec(s);
  if (v6) {
    host = v6[1] ?? '';
    if (!isIPv6(host)) throw new Error(`invalid IPv6 address in ${JSON.stringify(spec)}: use [::1]:8000`);
    if (v6[2] !== undefined) port = parsePort(v6[2], spec);
  } else if (isIPv6(s)) {
    throw new Error(
      `ambiguous IPv6 bind ${JSON.stringify(spec)}: put the address in brackets, e.g. [${s}]:8000`,
    );
  } else {
    const colon = s.lastIndexOf(':');
    host = colon === -1 ? s : s.slice(0, colon);
    if (colon !== -1) port = parsePort(s.slice(colon + 1), spec);
    if (host === '') host = '0.0.0.0';
    if (!isIPv4(host) && !/^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?$/.test(host)) {
      throw new Error(
        `invalid host in bind address ${JSON.stringify(spec)}: use HOST:PORT, [IPv6]:PORT, unix:PATH or fd://N`,
      );
    }
  }
  return { kind: 'tcp', host, port };
}

/**
 * How an address reads in logs: `http://127.0.0.1:8000` (`https://` when the server speaks TLS, as Gunicorn
 * prints it), `unix:/run/app.sock`, `fd://3`.
 */
export function formatAddress(a: Address, tls = false): string {
  switch (a.kind) {
    case 'tcp':
      return `${tls ? 'https' : 'http'}://${isIPv6(a.host) ? `[${a.host}]` : a.host}:${a.port}`;
    case 'unix':
      return `unix:${a.path}`;
    case 'fd':
      return `fd://${a.fd}`;
  }
}
