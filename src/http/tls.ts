/**
 * TLS termination in the worker (`--certfile` and friends, as Gunicorn's). Each worker reads the files when
 * it starts, so after a HUP the new generation serves whatever certificate is on disk then, while the old
 * one finishes its connections with the certificate it had.
 */
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { SecureVersion, TLSSocket } from 'node:tls';

export type CertReqs = 'none' | 'optional' | 'required';

/** `--http-protocols` names, as Gunicorn's. */
export type HttpProtocol = 'h1' | 'h2';
export const httpProtocolNames: readonly HttpProtocol[] = ['h1', 'h2'];

/** The ALPN identifier of each protocol (RFC 7301 registry), HTTP/2 first so a client that speaks both gets it. */
const alpnIds: ReadonlyArray<[HttpProtocol, string]> = [
  ['h2', 'h2'],
  ['h1', 'http/1.1'],
];

export interface TlsSettings {
  /** PEM certificate chain; TLS is on when set. */
  readonly certfile: string;
  readonly keyfile: string;
  /** PEM CA certificates that client certificates are checked against. */
  readonly caCerts: string;
  readonly certReqs: CertReqs;
  /** OpenSSL cipher list for TLS 1.2 and below; empty keeps Node's default. */
  readonly ciphers: string;
  readonly sslVersion: SecureVersion;
  /** Offered by ALPN; HTTP/2 needs TLS, as browsers speak it only over TLS. */
  readonly httpProtocols: readonly HttpProtocol[];
}

export const defaultTlsSettings: TlsSettings = Object.freeze<TlsSettings>({
  certfile: '',
  keyfile: '',
  caCerts: '',
  certReqs: 'none',
  ciphers: '',
  sslVersion: 'TLSv1.2',
  httpProtocols: ['h1'],
});

const transports = new WeakMap<Socket, Socket>();

/** The accepted TCP socket under a TLS one, for bookkeeping keyed on what the worker class accepted. */
export function transportOf(socket: Socket): Socket {
  return transports.get(socket) ?? socket;
}

export const tlsVersions: readonly SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

export type TlsWrapper = (socket: Socket) => TLSSocket;

/**
 * Returns what wraps each accepted connection in server-side TLS, offering `protocols` by ALPN, or
 * undefined when TLS is off. Rejects, at worker start, when a file cannot be read or the key does not match
 * the certificate. node:tls, and the crypto it loads, are imported only when TLS is on: about 15 ms of every
 * worker's boot otherwise.
 */
export async function tlsWrapper(
  settings: Partial<TlsSettings>,
  protocols: readonly HttpProtocol[] = ['h1'],
): Promise<TlsWrapper | undefined> {
  const s = { ...defaultTlsSettings, ...settings };
  if (!s.certfile) return undefined;
  const { createSecureContext, TLSSocket } = await import('node:tls');
  const secureContext = createSecureContext({
    cert: readFileSync(s.certfile),
    key: readFileSync(s.keyfile || s.certfile),
    ca: s.caCerts ? readFileSync(s.caCerts) : undefined,
    ciphers: s.ciphers || undefined,
    minVersion: s.sslVersion,
  });
  return (socket) => {
    const secure = new TLSSocket(socket, {
      isServer: true,
      secureContext,
      requestCert: s.certReqs !== 'none',
      rejectUnauthorized: s.certReqs === 'required',
      ALPNProtocols: alpnIds.filter(([p]) => protocols.includes(p)).map(([, id]) => id),
    });
    transports.set(secure, socket);
    // A failed handshake concerns that client only; the HTTP server sees the connection close.
    secure.on('error', () => secure.destroy());
    return secure;
  };
}
