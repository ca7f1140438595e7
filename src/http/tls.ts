/**
 * TLS termination in the worker (`--certfile` and friends, as Gunicorn's). Each worker reads the files when
 * it starts, so after a HUP the new generation serves whatever certificate is on disk then, while the old
 * one finishes its connections with the certificate it had.
 */
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { createSecureContext, type SecureVersion, TLSSocket } from 'node:tls';

export type CertReqs = 'none' | 'optional' | 'required';

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
}

export const defaultTlsSettings: TlsSettings = Object.freeze({
  certfile: '',
  keyfile: '',
  caCerts: '',
  certReqs: 'none',
  ciphers: '',
  sslVersion: 'TLSv1.2',
});

const transports = new WeakMap<Socket, Socket>();

/** The accepted TCP socket under a TLS one, for bookkeeping keyed on what the worker class accepted. */
export function transportOf(socket: Socket): Socket {
  return transports.get(socket) ?? socket;
}

export const tlsVersions: readonly SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/**
 * Returns what wraps each accepted connection in server-side TLS, or undefined when TLS is off. Throws, at
 * worker start, when a file cannot be read or the key does not match the certificate.
 */
export function tlsWrapper(settings: Partial<TlsSettings>): ((socket: Socket) => TLSSocket) | undefined {
  const s = { ...defaultTlsSettings, ...settings };
  if (!s.certfile) return undefined;
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
      ALPNProtocols: ['http/1.1'],
    });
    transports.set(secure, socket);
    // A failed handshake concerns that client only; the HTTP server sees the connection close.
    secure.on('error', () => secure.destroy());
    return secure;
  };
}
