/** TLS test tools: self-signed certificates made by openssl, and HTTPS clients over HTTP/1.1 and HTTP/2. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { type ClientHttp2Session, connect, constants } from 'node:http2';
import { type RequestOptions, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';

/** Writes a fresh self-signed certificate for `cn` and its key. */
function selfSigned(cn: string, certPath: string, keyPath: string): void {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${cn}`,
      '-keyout',
      keyPath,
      '-out',
      certPath,
    ],
    { stdio: 'ignore' },
  );
}

export interface CertificateFiles {
  readonly cert: string;
  readonly key: string;
  /** Replaces both files with a new certificate for `cn`, each by a rename, as a deploy would. */
  renew(cn: string): void;
  remove(): void;
}

/** A temporary directory holding a self-signed certificate for `cn` and its key. */
export function certificateFiles(cn: string): CertificateFiles {
  const dir = mkdtempSync(join(tmpdir(), 'tsunicorn-tls-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  selfSigned(cn, cert, key);
  return {
    cert,
    key,
    renew(newCn) {
      selfSigned(newCn, join(dir, 'new-cert.pem'), join(dir, 'new-key.pem'));
      renameSync(join(dir, 'new-key.pem'), key);
      renameSync(join(dir, 'new-cert.pem'), cert);
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface TlsReply {
  status: number;
  /** `1.1` or `2.0`. */
  version: string;
  /** The protocol the TLS handshake chose by ALPN. */
  alpn: string | false | null;
  /** The common name of the certificate the server presented. */
  cn: string;
  headers: Record<string, unknown>;
  body: string;
}

function commonName(socket: TLSSocket): string {
  return String(socket.getPeerCertificate().subject?.CN);
}

/** One HTTPS request on a new connection, offering HTTP/2 and HTTP/1.1 by ALPN as browsers do, or 1.1 only. */
export function httpsGet(
  port: number,
  path = '/',
  options: { alpn?: string[]; timeoutMs?: number } = {},
): Promise<TlsReply> {
  return new Promise((resolve, reject) => {
    // Node's https passes ALPNProtocols on to tls.connect; its types do not list it.
    const tlsOptions: RequestOptions & { ALPNProtocols: string[] } = {
      host: '127.0.0.1',
      port,
      path,
      rejectUnauthorized: false,
      agent: false,
      ALPNProtocols: options.alpn ?? ['http/1.1'],
    };
    const req = request(tlsOptions, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => {
        const socket = res.socket as TLSSocket;
        resolve({
          status: res.statusCode!,
          version: res.httpVersion,
          alpn: socket.alpnProtocol,
          cn: commonName(socket),
          headers: res.headers,
          body,
        });
      });
    });
    req.setTimeout(options.timeoutMs ?? 10_000, () => req.destroy(new Error(`request ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** Opens an HTTP/2 session over TLS (ALPN `h2` only), accepting any certificate. */
export function h2Connect(port: number): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
    session.once('connect', () => {
      session.off('error', reject);
      // Errors after the connection are reported by the streams they end.
      session.on('error', () => {});
      resolve(session);
    });
    session.once('error', reject);
  });
}

/** One request on an HTTP/2 session. */
export function h2Request(
  session: ClientHttp2Session,
  path = '/',
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    timeoutMs?: number;
  } = {},
): Promise<TlsReply> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      [constants.HTTP2_HEADER_METHOD]: options.method ?? 'GET',
      [constants.HTTP2_HEADER_PATH]: path,
      ...options.headers,
    });
    stream.setTimeout(options.timeoutMs ?? 10_000, () => stream.close(constants.NGHTTP2_CANCEL));
    let headers: Record<string, unknown> = {};
    let body = '';
    stream.setEncoding('utf8');
    stream.on('response', (h) => {
      headers = h;
    });
    stream.on('data', (d) => {
      body += d;
    });
    stream.on('end', () => {
      const socket = session.socket as TLSSocket;
      resolve({
        status: Number(headers[constants.HTTP2_HEADER_STATUS]),
        version: '2.0',
        alpn: session.alpnProtocol ?? false,
        cn: commonName(socket),
        headers,
        body,
      });
    });
    stream.on('close', () => {
      if (stream.rstCode) reject(new Error(`stream ${path} reset with code ${stream.rstCode}`));
    });
    stream.on('error', reject);
    stream.end(options.body);
  });
}

/** One HTTP/2 request on its own new session, closed afterwards. */
export async function h2Get(port: number, path = '/', options: Parameters<typeof h2Request>[2] = {}) {
  const session = await h2Connect(port);
  try {
    return await h2Request(session, path, options);
  } finally {
    session.close();
  }
}
