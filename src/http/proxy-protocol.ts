/**
 * PROXY protocol v1 (text) and v2 (binary), as HAProxy specifies it: a load balancer that passes TCP through
 * starts each connection with a header naming the client it accepted. The header is read and stripped before
 * the HTTP parser sees the connection, and the client it names becomes the socket's remote address, so logs,
 * proxy trust and apps (Express `req.ip`) see the client rather than the balancer.
 */
import { isIP, type Socket } from 'node:net';
import { allowList } from './proxy.js';

export interface ProxyProtocolSettings {
  /** Expect a PROXY header at the start of every connection. */
  readonly proxyProtocol: boolean;
  /** Comma-separated IPs and CIDR ranges allowed to send one; `*` allows every peer. */
  readonly proxyAllowFrom: string;
}

export const defaultProxyProtocolSettings: ProxyProtocolSettings = Object.freeze({
  proxyProtocol: false,
  proxyAllowFrom: '127.0.0.1,::1',
});

export interface ProxyAddress {
  readonly family: 'IPv4' | 'IPv6';
  readonly sourceAddress: string;
  readonly sourcePort: number;
  readonly destinationAddress: string;
  readonly destinationPort: number;
}

export interface Tlv {
  readonly type: number;
  readonly value: Buffer;
}

export interface ProxyHeader {
  readonly version: 1 | 2;
  /** Absent for v1 `UNKNOWN`, v2 `LOCAL` (the balancer's own health checks) and address families we do not map. */
  readonly address?: ProxyAddress;
  readonly tlvs: readonly Tlv[];
}

export type ParseResult =
  | { readonly done: false }
  | { readonly done: true; readonly header: ProxyHeader; readonly length: number };

export class ProxyProtocolError extends Error {}

const V1_PREFIX = Buffer.from('PROXY ');
/** The spec's bound on a v1 line, CRLF included. */
const V1_MAX = 107;
const V2_SIGNATURE = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1');
const V2_FIXED = 16;

const INCOMPLETE: ParseResult = Object.freeze({ done: false });

function isPrefix(buf: Buffer, of: Buffer): boolean {
  const n = Math.min(buf.length, of.length);
  return buf.subarray(0, n).equals(of.subarray(0, n));
}

function port(text: string): number {
  if (!/^(0|[1-9]\d{0,4})$/.test(text) || Number(text) > 65535) {
    throw new ProxyProtocolError(`bad port ${JSON.stringify(text)}`);
  }
  return Number(text);
}

function parseV1(buf: Buffer): ParseResult {
  const end = buf.subarray(0, V1_MAX).indexOf('\r\n');
  if (end < 0) {
    if (buf.length >= V1_MAX) throw new ProxyProtocolError('v1 header longer than 107 bytes');
    return INCOMPLETE;
  }
  const line = buf.toString('latin1', V1_PREFIX.length, end);
  const length = end + 2;
  if (line === 'UNKNOWN' || line.startsWith('UNKNOWN '))
    return { done: true, header: { version: 1, tlvs: [] }, length };
  const parts = line.split(' ');
  if (parts.length !== 5) throw new ProxyProtocolError('v1 header has not 5 fields');
  const [proto, src, dst, sport, dport] = parts as [string, string, string, string, string];
  const family = proto === 'TCP4' ? 4 : proto === 'TCP6' ? 6 : 0;
  if (!family) throw new ProxyProtocolError(`unknown v1 protocol ${JSON.stringify(proto)}`);
  if (isIP(src) !== family || isIP(dst) !== family) throw new ProxyProtocolError(`bad ${proto} address`);
  return {
    done: true,
    length,
    header: {
      version: 1,
      tlvs: [],
      address: {
        family: family === 4 ? 'IPv4' : 'IPv6',
        sourceAddress: src,
        sourcePort: port(sport),
        destinationAddress: dst,
        destinationPort: port(dport),
      },
    },
  };
}

function ipv6(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  // Node prints peers in compressed form; so does the address we report.
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

function parseTlvs(buf: Buffer): Tlv[] {
  const tlvs: Tlv[] = [];
  let at = 0;
  while (at < buf.length) {
    if (at + 3 > buf.length) throw new ProxyProtocolError('truncated v2 TLV');
    const type = buf[at]!;
    const len = buf.readUInt16BE(at + 1);
    if (at + 3 + len > buf.length) throw new ProxyProtocolError('truncated v2 TLV');
    tlvs.push({ type, value: buf.subarray(at + 3, at + 3 + len) });
    at += 3 + len;
  }
  return tlvs;
}

function parseV2(buf: Buffer): ParseResult {
  if (buf.length < V2_FIXED) return INCOMPLETE;
  const versionCommand = buf[12]!;
  if (versionCommand >> 4 !== 2) throw new ProxyProtocolError('unsupported v2 version');
  const command = versionCommand & 0x0f;
  if (command > 1) throw new ProxyProtocolError('unknown v2 command');
  const familyTransport = buf[13]!;
  const bodyLength = buf.readUInt16BE(14);
  const length = V2_FIXED + bodyLength;
  if (buf.length < length) return INCOMPLETE;
  const body = buf.subarray(V2_FIXED, length);
  const family = familyTransport >> 4;
  const addressLength = family === 1 ? 12 : family === 2 ? 36 : family === 3 ? 216 : 0;
  if (family > 3) throw new ProxyProtocolError('unknown v2 address family');
  if (bodyLength < addressLength) throw new ProxyProtocolError('v2 address block too short');
  const tlvs = parseTlvs(body.subarray(addressLength));
  // LOCAL: the balancer speaking for itself; UNIX and UNSPEC name no IP client.
  if (command === 0 || (family !== 1 && family !== 2))
    return { done: true, length, header: { version: 2, tlvs } };
  const address: ProxyAddress =
    family === 1
      ? {
          family: 'IPv4',
          sourceAddress: [...body.subarray(0, 4)].join('.'),
          destinationAddress: [...body.subarray(4, 8)].join('.'),
          sourcePort: body.readUInt16BE(8),
          destinationPort: body.readUInt16BE(10),
        }
      : {
          family: 'IPv6',
          sourceAddress: ipv6(body.subarray(0, 16)),
          destinationAddress: ipv6(body.subarray(16, 32)),
          sourcePort: body.readUInt16BE(32),
          destinationPort: body.readUInt16BE(34),
        };
  return { done: true, length, header: { version: 2, tlvs, address } };
}

/** Parses a PROXY header at the start of `buf`; throws ProxyProtocolError when it is not one. */
export function parseProxyHeader(buf: Buffer): ParseResult {
  if (buf.length === 0) return INCOMPLETE;
  if (isPrefix(buf, V2_SIGNATURE)) return buf.length < V2_SIGNATURE.length ? INCOMPLETE : parseV2(buf);
  if (isPrefix(buf, V1_PREFIX)) return buf.length < V1_PREFIX.length ? INCOMPLETE : parseV1(buf);
  throw new ProxyProtocolError('no PROXY protocol header');
}

/** Makes the socket report the client the header names, for everything that asks it later. */
function adoptPeer(socket: Socket, address: ProxyAddress): void {
  Object.defineProperties(socket, {
    remoteAddress: { value: address.sourceAddress, configurable: true },
    remotePort: { value: address.sourcePort, configurable: true },
    remoteFamily: { value: address.family, configurable: true },
  });
}

/**
 * Returns what each accepted connection goes through before it is served: with `--proxy-protocol`, its
 * PROXY header is read and stripped, and `serve` is called with the socket then reporting the real client;
 * a peer not in `--proxy-allow-from`, a malformed header or none within `timeoutMs` closes the connection.
 */
export function proxyProtocolGate(
  settings: Partial<ProxyProtocolSettings>,
  timeoutMs: number,
): ((socket: Socket, serve: (socket: Socket) => void) => void) | undefined {
  const s = { ...defaultProxyProtocolSettings, ...settings };
  if (!s.proxyProtocol) return undefined;
  const allowed = allowList(s.proxyAllowFrom);
  return (socket, serve) => {
    if (!allowed(socket.remoteAddress ?? '')) {
      socket.destroy();
      return;
    }
    let received: Buffer = Buffer.alloc(0);
    const timer = timeoutMs > 0 ? setTimeout(() => socket.destroy(), timeoutMs) : undefined;
    const finish = () => {
      clearTimeout(timer);
      socket.off('readable', onReadable);
      socket.off('close', finish);
    };
    const onReadable = () => {
      let chunk: Buffer | null;
      // biome-ignore lint/suspicious/noAssignInExpressions: the stream idiom for draining what is buffered
      while ((chunk = socket.read() as Buffer | null) !== null) {
        received = received.length ? Buffer.concat([received, chunk]) : chunk;
        let result: ParseResult;
        try {
          result = parseProxyHeader(received);
        } catch {
          finish();
          socket.destroy();
          return;
        }
        if (!result.done) continue;
        finish();
        if (result.header.address) adoptPeer(socket, result.header.address);
        // What followed the header belongs to the HTTP parser, which reads it from the socket's buffer.
        if (received.length > result.length) socket.unshift(received.subarray(result.length));
        serve(socket);
        return;
      }
    };
    socket.on('readable', onReadable);
    socket.once('close', finish);
  };
}
