import { defaultTlsSettings as t, tlsVersions } from '../../http/tls.js';
import { choice, string } from '../kinds.js';
import { setting } from '../setting.js';

/** TLS termination in the workers (docs/http.md), with Gunicorn's names. */
export const tlsSettings = [
  setting({
    key: 'certfile',
    section: 'tls',
    flags: ['--certfile'],
    metavar: 'FILE',
    kind: string,
    default: t.certfile,
    defaultDoc: 'none (plain HTTP)',
    doc: 'PEM certificate (chain) to serve HTTPS with. Each worker reads it when it starts, so a HUP serves a renewed certificate without dropping connections.',
  }),
  setting({
    key: 'keyfile',
    section: 'tls',
    flags: ['--keyfile'],
    metavar: 'FILE',
    kind: string,
    default: t.keyfile,
    defaultDoc: 'none (the key is in --certfile)',
    doc: 'PEM private key of --certfile.',
  }),
  setting({
    key: 'caCerts',
    section: 'tls',
    flags: ['--ca-certs'],
    metavar: 'FILE',
    kind: string,
    default: t.caCerts,
    defaultDoc: 'none',
    doc: 'PEM CA certificates that client certificates are verified against (with --cert-reqs).',
  }),
  setting({
    key: 'certReqs',
    section: 'tls',
    flags: ['--cert-reqs'],
    metavar: 'MODE',
    kind: choice(() => ['none', 'optional', 'required'] as const),
    default: t.certReqs,
    doc: 'Client certificates: `none` asks for none; `optional` asks and lets the app judge (`req.socket.authorized`, `getPeerCertificate()`); `required` refuses the handshake without one that --ca-certs verifies.',
  }),
  setting({
    key: 'ciphers',
    section: 'tls',
    flags: ['--ciphers'],
    metavar: 'LIST',
    kind: string,
    default: t.ciphers,
    defaultDoc: "Node's default",
    doc: 'OpenSSL cipher list (TLS 1.2 and below; TLS 1.3 suites are always enabled).',
  }),
  setting({
    key: 'sslVersion',
    section: 'tls',
    flags: ['--ssl-version'],
    metavar: 'VERSION',
    kind: choice(() => tlsVersions),
    default: t.sslVersion,
    doc: 'The oldest TLS version accepted.',
  }),
] as const;
