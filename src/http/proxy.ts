/**
 * Proxy trust (`--forwarded-allow-ips`, `--secure-scheme-headers`), as Gunicorn's: only a peer in the allow
 * list may say, with headers, which scheme, host and client address a request really had. From any other
 * peer those headers are the client's own words and change nothing.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { log } from '../logging/logger.js';
import { type Client, clientOf, setClient } from './client.js';
import { headerMatcher } from './edge/header-names.js';
import { type Refusal, refusal, writeRefusal } from './edge/refusal.js';

export interface ProxySettings {
  /** Comma-separated IPs and CIDR ranges whose proxy headers are believed; `*` trusts every peer. */
  readonly forwardedAllowIps: string;
  /** Header → value that marks a request as having reached the proxy over https. */
  readonly secureSchemeHeaders: Readonly<Record<string, string>>;
}

export const defaultProxySettings: ProxySettings = Object.freeze({
  forwardedAllowIps: '127.0.0.1,::1',
  // Gunicorn's defaults.
  secureSchemeHeaders: Object.freeze({
    'X-FORWARDED-PROTOCOL': 'ssl',
    'X-FORWARDED-PROTO': 'https',
    'X-FORWARDED-SSL': 'on',
  }),
});

/** An IPv4 peer on a dual-stack socket reads `::ffff:10.0.0.1`; the allow list speaks of `10.0.0.1`. */
function plain(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** Parses the allow list; throws on an entry that is neither an IP, a CIDR range nor `*`. */
export function allowList(spec: string): (address: string) => boolean {
  const entries = spec
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (entries.includes('*')) return () => true;
  const list = new BlockList();
  for (const entry of entries) {
    const [ip, bits, extra] = entry.split('/');
    const family = isIP(ip ?? '');
    if (!family || extra !== undefined || (bits !== undefined && !/^\d+$/.test(bits))) {
      throw new Error(`not an IP address or CIDR range: ${JSON.stringify(entry)}`);
    }
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) list.addAddress(ip!, type);
    else list.addSubnet(ip!, Number(bits), type);
  }
  // Asked once per request with the same few peer addresses, and BlockList.check builds a SocketAddress
  // each time (a measurable share of a hello-world request): remember answers, boundedly, so a scan from many
  // addresses cannot grow memory.
  const known = new Map<string, boolean>();
  return (address) => {
    let trusted = known.get(address);
    if (trusted === undefined) {
      const a = plain(address);
      const family = isIP(a);
      trusted = family !== 0 && list.check(a, family === 4 ? 'ipv4' : 'ipv6');
      if (known.size >= 4096) known.clear();
      known.set(address, trusted);
    }
    return trusted;
  };
}

/** `for=` of each element of a `Forwarded` header (RFC 7239), left to right, without quotes, brackets or port. */
function forwardedFor(header: string): string[] {
  const out: string[] = [];
  for (const element of header.split(',')) {
    const m = /(?:^|;)\s*for\s*=\s*("?)\[?([^\]";]*)\]?(?::\d+)?\1/i.exec(element);
    if (m) out.push(m[2]!.trim());
  }
  return out;
}

function forwardedParam(header: string, name: string): string | undefined {
  const first = header.split(',')[0] ?? '';
  const m = new RegExp(`(?:^|;)\\s*${name}\\s*=\\s*"?([^";]*)"?`, 'i').exec(first);
  return m?.[1]?.trim() || undefined;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

/**
 * Reads a proxy chain from the right: each hop that is itself trusted passed on what the hop before it said,
 * so the client is the first untrusted address, and a client cannot forge entries to the right of its own.
 */
function clientAddress(chain: string[], trusted: (a: string) => boolean): string | undefined {
  for (let i = chain.length - 1; i >= 0; i--) {
    const a = chain[i]!;
    if (!isIP(plain(a))) return undefined;
    if (i === 0 || !trusted(a)) return a;
  }
  return undefined;
}

export class ProxyTrust {
  readonly #trusted: (address: string) => boolean;
  readonly #schemeHeaders: Array<[string, string]>;
  /** Finds any header resolve() reads. */
  readonly #forwardingField: (name: string) => string | undefined;

  constructor(s: ProxySettings) {
    this.#trusted = allowList(s.forwardedAllowIps);
    this.#schemeHeaders = Object.entries(s.secureSchemeHeaders).map(([h, v]) => [
      h.toLowerCase(),
      v.toLowerCase(),
    ]);
    this.#forwardingField = headerMatcher([
      'forwarded',
      'x-forwarded-for',
      'x-forwarded-host',
      ...this.#schemeHeaders.map(([h]) => h),
    ]);
  }

  /**
   * Whether the request has any header a proxy would have set. Read from `rawHeaders`: Node builds
   * `req.headers` on first use, and a request from a trusted peer that forwards nothing (a local client, a
   * health check) should not pay for them here.
   */
  #forwards(req: IncomingMessage): boolean {
    const raw = req.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) if (this.#forwardingField(raw[i]!) !== undefined) return true;
    return false;
  }

  /**
   * Records the request's client (see client.ts). A refusal means a trusted peer sent scheme headers that
   * contradict each other, which Gunicorn answers with 400 rather than guess.
   */
  resolve(req: IncomingMessage): Refusal | undefined {
    // A trusted peer that forwards nothing is itself the client, which clientOf() answers without a record.
    // Headers first: the peer's address costs a system call (getpeername) on a connection's first request.
    if (!this.#forwards(req) || !this.#trusted(req.socket?.remoteAddress ?? '-')) return undefined;
    const headers = req.headers;
    let scheme: Client['scheme'] | undefined;
    for (const [header, secure] of this.#schemeHeaders) {
      const value = single(headers[header]);
      if (value === undefined) continue;
      const said = value.trim().toLowerCase() === secure ? 'https' : 'http';
      if (scheme && scheme !== said) return refusal(400, 'Contradictory scheme headers');
      scheme = said;
    }
    const forwarded = single(headers.forwarded);
    const xff = single(headers['x-forwarded-for']);
    const peer = clientOf(req);
    const chain = forwarded
      ? forwardedFor(forwarded)
      : (xff
          ?.split(',')
          .map((a) => a.trim())
          .filter(Boolean) ?? []);
    const proto = forwarded && forwardedParam(forwarded, 'proto');
    if (!scheme && (proto === 'https' || proto === 'http')) scheme = proto;
    setClient(req, {
      address: clientAddress(chain, this.#trusted) ?? peer.address,
      scheme: scheme ?? peer.scheme,
      host:
        (forwarded && forwardedParam(forwarded, 'host')) ??
        single(req.headers['x-forwarded-host'])?.split(',')[0]?.trim() ??
        peer.host,
    });
    return undefined;
  }
}

/**
 * Applies proxy trust to each request before the app; false means the request was refused (400, logged,
 * `Connection: close`) and answered.
 */
export function trustProxies(
  settings: Partial<ProxySettings>,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const trust = new ProxyTrust({ ...defaultProxySettings, ...settings });
  return (req, res) => {
    const bad = trust.resolve(req);
    if (!bad) return true;
    log.warning(`Invalid request from ip=${req.socket.remoteAddress}: ${bad.reason}`);
    writeRefusal(res, bad.status, { close: true });
    return false;
  };
}
