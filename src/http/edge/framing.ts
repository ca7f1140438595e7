import type { IncomingMessage } from 'node:http';
import type { Limits } from './limits.js';
import { quote, type Refusal, refusal } from './refusal.js';

/**
 * Fields that must appear once: two `Host`s let a proxy and the app route by different values, two
 * `Content-Type`s let them parse the body differently (Gunicorn rejects both; Node keeps the first).
 * Node itself already refuses a second `Content-Length`.
 */
const SINGLETON_FIELDS = new Set(['host', 'content-type', 'content-length']);

/** Codings Gunicorn knows; anything else is 501, as RFC 9112 §6.1 asks. */
const KNOWN_CODINGS = new Set(['chunked', 'identity', 'gzip', 'x-gzip', 'deflate', 'compress', 'x-compress']);

const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/**
 * What Node's parser lets through and Gunicorn refuses, checked once the head is parsed and before the app
 * runs. Order follows Gunicorn's parser: request line, then fields, then framing. Returns undefined to admit.
 */
export function checkHead(req: IncomingMessage, limits: Limits): Refusal | undefined {
  const method = req.method ?? '';
  const target = req.url ?? '';
  // `METHOD SP target SP HTTP/x.y`, without CRLF, as Gunicorn measures it.
  const lineLength = method.length + target.length + 10;
  if (limits.requestLine > 0 && lineLength > limits.requestLine) {
    return refusal(414, `Request Line is too large (${lineLength} > ${limits.requestLine})`);
  }
  if (req.httpVersionMajor !== 1 || (req.httpVersionMinor !== 0 && req.httpVersionMinor !== 1)) {
    return refusal(400, `Invalid HTTP Version: ${quote(`HTTP/${req.httpVersion}`)}`);
  }
  const targetProblem = checkTarget(method, target);
  if (targetProblem) return refusal(400, `Invalid request target ${quote(target)}: ${targetProblem}`);

  const raw = req.rawHeaders;
  if (raw.length / 2 > limits.fields) {
    return refusal(431, `Request header fields exceed the limit of ${limits.fields}`);
  }
  const seen = new Set<string>();
  const codings: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    // Node hands values back without the whitespace around them; `Name: value\r\n` is the line a client
    // writes, so this is the size Gunicorn would count for it.
    const size = name.length + value.length + 4;
    if (size > limits.fieldSize) {
      return refusal(
        431,
        `Request header field ${quote(name, 32)} is too large (${size} > ${limits.fieldSize})`,
      );
    }
    const lower = name.toLowerCase();
    if (SINGLETON_FIELDS.has(lower)) {
      if (seen.has(lower)) return refusal(400, `Invalid header: duplicate ${name.toUpperCase()}`);
      seen.add(lower);
    }
    if (lower === 'transfer-encoding') {
      for (const c of value.split(',')) codings.push(c.trim().toLowerCase());
    }
  }
  if (codings.length > 0) return checkCodings(req, codings, seen.has('content-length'));
  return undefined;
}

const AUTHORITY_FORM = /^(?:\[[0-9A-Fa-f:.]+\]|[^\s/?#@[\]:]+):\d{1,5}$/;

function checkTarget(method: string, target: string): string | undefined {
  if (method === 'CONNECT') return AUTHORITY_FORM.test(target) ? undefined : 'CONNECT needs host:port';
  if (target.startsWith('/')) return undefined;
  if (target === '*') return method === 'OPTIONS' ? undefined : 'asterisk-form is only for OPTIONS';
  if (ABSOLUTE_FORM.test(target)) {
    if (!URL.canParse(target)) return 'not a URL';
    return undefined;
  }
  return 'not origin-form, absolute-form or asterisk-form';
}

/**
 * Transfer codings stack, and every disagreement between two parsers about where a body ends is a
 * request-smuggling vector: only a single, final `chunked` frames a request body we trust.
 */
function checkCodings(req: IncomingMessage, codings: string[], hasLength: boolean): Refusal | undefined {
  let chunked = false;
  for (const coding of codings) {
    if (!KNOWN_CODINGS.has(coding)) return refusal(501, `Unsupported transfer coding ${quote(coding, 32)}`);
    if (chunked) return refusal(400, 'Invalid header: TRANSFER-ENCODING has a coding after chunked');
    if (coding === 'chunked') chunked = true;
  }
  if (!chunked) return refusal(400, 'Invalid header: TRANSFER-ENCODING does not end in chunked');
  if (req.httpVersionMinor === 0) return refusal(400, 'Invalid header: TRANSFER-ENCODING in HTTP/1.0');
  if (hasLength) return refusal(400, 'Invalid header: CONTENT-LENGTH with TRANSFER-ENCODING');
  return undefined;
}

/**
 * Fields a sender must not put in a trailer (RFC 9110 §6.5.1): framing, routing, authentication and
 * request modifiers. An app reading trailers after the body must not learn a new Host or length there.
 */
const FORBIDDEN_TRAILERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'trailer',
  'te',
  'expect',
  'authorization',
  'proxy-authorization',
  'cookie',
  'range',
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
  'if-range',
  'max-forwards',
  'content-encoding',
  'content-range',
]);

export function checkTrailers(rawTrailers: readonly string[]): Refusal | undefined {
  for (let i = 0; i < rawTrailers.length; i += 2) {
    const name = rawTrailers[i]!;
    if (FORBIDDEN_TRAILERS.has(name.toLowerCase())) {
      return refusal(400, `Invalid header name in trailer: ${name.toUpperCase()}`);
    }
  }
  return undefined;
}
