import {
  type HttpProtocol,
  httpProtocolNames,
  defaultTlsSettings as t,
  tlsVersions,
} from '../../http/tls.js';
import { choice, type Kind, string } from '../kinds.js';
import { setting } from '../setting.js';

/** Gunicorn's comma list (`h1,h2`); a config file may give the list as an array too. */
const protocolList: Kind<HttpProtocol[]> = {
  describe: `a comma-separated list of ${httpProtocolNames.join(', ')}`,
  fromString: (raw) => protocolList.check(raw.split(',').map((p) => p.trim())),
  check(value) {
    const items = typeof value === 'string' ? value.split(',').map((p) => p.trim()) : value;
    if (!Array.isArray(items))
      throw new Error(`expected ${protocolList.describe}, got ${JSON.stringify(value)}`);
    const name = choice(() => httpProtocolNames);
    const protocols = [...new Set(items.map((p) => name.check(p)))];
    // HTTP/1.1 stays on: clients without HTTP/2 and apps that cannot run on it (docs/http.md) need it.
    if (!protocols.includes('h1')) throw new Error('h1 must stay in the list; use h1,h2 to add HTTP/2');
    return protocols;
  },
};

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
  setting({
    key: 'httpProtocols',
    section: 'tls',
    flags: ['--http-protocols'],
    metavar: 'LIST',
    kind: protocolList,
    default: [...t.httpProtocols],
    defaultDoc: 'h1',
    doc: '`h1,h2` offers HTTP/2 by ALPN beside HTTP/1.1 (needs --certfile). Apps that cannot run on HTTP/2 (Express) and the sync and threads worker classes stay on HTTP/1.1; the worker logs which protocols it offers and why.',
  }),
] as const;
