import { defaultEdgeSettings as d } from '../../http/edge/settings.js';
import { defaultOverloadSettings as o } from '../../http/overload.js';
import { allowList, defaultProxySettings as p } from '../../http/proxy.js';
import { defaultProxyProtocolSettings as pp } from '../../http/proxy-protocol.js';
import { bool, float, int, type Kind, keyValue, string } from '../kinds.js';
import { setting } from '../setting.js';

const ipList: Kind<string> = {
  describe: 'comma-separated IPs, CIDR ranges or *',
  fromString: (raw) => ipList.check(raw),
  check(value) {
    allowList(string.check(value));
    return value as string;
  },
};

/** The HTTP edge: Gunicorn's request limits, and timeouts against slow clients (docs/http.md). */
export const httpSettings = [
  setting({
    key: 'limitRequestLine',
    section: 'http',
    flags: ['--limit-request-line'],
    metavar: 'INT',
    kind: int(0),
    default: d.limitRequestLine,
    doc: 'The longest request line, in bytes; longer is refused with 414. 0 means unlimited (the total header size still applies).',
  }),
  setting({
    key: 'limitRequestFields',
    section: 'http',
    flags: ['--limit-request-fields'],
    metavar: 'INT',
    kind: int(0),
    default: d.limitRequestFields,
    doc: 'The most header fields in one request; more is refused with 431. 0 means 32768.',
  }),
  setting({
    key: 'limitRequestFieldSize',
    section: 'http',
    flags: ['--limit-request-field_size'],
    metavar: 'INT',
    kind: int(0),
    default: d.limitRequestFieldSize,
    doc: 'The longest header line (`Name: value` and its CRLF), in bytes; longer is refused with 431. 0 means 8190.',
  }),
  setting({
    key: 'limitRequestBody',
    section: 'http',
    flags: ['--limit-request-body'],
    metavar: 'BYTES',
    kind: int(0),
    default: d.limitRequestBody,
    defaultDoc: '0 (unlimited)',
    doc: 'The largest request body, in bytes: a larger Content-Length is refused with 413 before the app runs, a chunked body as soon as it grows past the limit. 0 means unlimited.',
  }),
  setting({
    key: 'headerTimeout',
    section: 'http',
    flags: ['--header-timeout'],
    metavar: 'SECONDS',
    kind: float(0),
    default: d.headerTimeout,
    doc: 'How long a client may take to send the request line and headers; then it gets 408 and is closed. 0 disables it.',
  }),
  setting({
    key: 'requestTimeout',
    section: 'http',
    flags: ['--request-timeout'],
    metavar: 'SECONDS',
    kind: float(0),
    default: d.requestTimeout,
    doc: 'How long a client may take to send a whole request, body included (408, then close); also how long a client may leave our output unread before it is closed. 0 disables both.',
  }),
  setting({
    key: 'keepAlive',
    section: 'http',
    flags: ['--keep-alive'],
    metavar: 'SECONDS',
    kind: float(0),
    default: d.keepAlive,
    doc: 'How long an idle keep-alive connection is kept open; 0 closes each connection after its response. Longer than the idle timeout of the load balancer in front (60 s on AWS ALB), so the balancer, not the server, closes idle connections.',
  }),
  setting({
    key: 'overload503',
    section: 'http',
    flags: ['--overload-503'],
    kind: bool,
    default: o.overload503,
    doc: 'Shed load: a saturated worker answers new requests at once with 503 and `Retry-After: 1` instead of queueing them. Saturated means a request would wait in the worker longer than `--max-event-loop-delay` before its app starts, or every worker holds `--worker-connections` connections (a new connection then gets its 503 with `Connection: close`). Off by default, as in Gunicorn.',
  }),
  setting({
    key: 'maxEventLoopDelay',
    section: 'http',
    flags: ['--max-event-loop-delay'],
    metavar: 'MS',
    kind: float(1),
    default: o.maxEventLoopDelay,
    doc: "With `--overload-503`: the longest, in milliseconds, a request may wait in a worker before its app starts (the app time queued ahead of it, plus how late the worker's event loop runs). A request that would wait longer is answered 503 at once. This is the bound under a steady overload; when requests come in bursts and the worker idles between them, the bound grows (up to ten times) to use that idle time, and falls back as soon as the queue stops draining.",
  }),
  setting({
    key: 'forwardedAllowIps',
    section: 'http',
    flags: ['--forwarded-allow-ips'],
    metavar: 'IPS',
    kind: ipList,
    default: p.forwardedAllowIps,
    doc: 'Peers (IPs, CIDR ranges, or `*` for any) whose `X-Forwarded-For`/`Forwarded`, `X-Forwarded-Host` and secure scheme headers are believed: from them, the client address in the access log and for fetch apps, and the fetch Request URL’s scheme and host, come from those headers. From other peers the headers change nothing.',
  }),
  setting({
    key: 'secureSchemeHeaders',
    section: 'http',
    flags: ['--secure-scheme-headers'],
    metavar: 'HEADER=VALUE',
    kind: keyValue,
    repeatable: true,
    default: p.secureSchemeHeaders,
    defaultDoc: '`X-FORWARDED-PROTOCOL=ssl`, `X-FORWARDED-PROTO=https`, `X-FORWARDED-SSL=on`',
    doc: 'Headers a trusted proxy sets to say the client used https, and the value that says so (as Gunicorn’s). Present headers that disagree get a 400.',
  }),
  setting({
    key: 'proxyProtocol',
    section: 'http',
    flags: ['--proxy-protocol'],
    kind: bool,
    default: pp.proxyProtocol,
    doc: 'Expect a PROXY protocol header (v1 or v2, detected) at the start of every connection, as HAProxy’s `send-proxy`/`send-proxy-v2` and cloud load balancers send it: the client it names is the client address for logs, proxy trust and apps (Node’s `socket.remoteAddress`, Express `req.ip`). A connection without a valid header, or from a peer not in `--proxy-allow-from`, is closed.',
  }),
  setting({
    key: 'proxyAllowFrom',
    section: 'http',
    flags: ['--proxy-allow-from'],
    metavar: 'IPS',
    kind: ipList,
    default: pp.proxyAllowFrom,
    doc: 'With `--proxy-protocol`: the peers (IPs, CIDR ranges, or `*` for any) allowed to connect and send a PROXY header; connections from any other peer are closed.',
  }),
] as const;
