import type { IncomingMessage } from 'node:http';
import { headerMatcher } from './header-names.js';
import type { Limits } from './limits.js';
import { quote, type Refusal, refusal } from './refusal.js';

/**
 * Fields that must appear once, as a bit each: two `Host`s let a proxy and the app route by different values,
 * two `Content-Type`s let them parse the body differently (Gunicorn rejects both; Node keeps the first). Node
 * itself already refuses a second `Content-Length`.
 */
const HOST = 1;
const CONTENT_TYPE = 2;
const CONTENT_LENGTH = 4;

/** The fields checkHead looks at; every other name is passed over without being lower-cased. */
const framingField = headerMatcher(['host', 'content-type', 'content-length', 'transfer-encoding']);

/** Codings Gunicorn knows; anything else is 501, as RFC 9112 §6.1 asks. */
const KNOWN_CODINGS = new Set(['chunked', 'identity', 'gzip', 'x-gzip', 'deflate', 'compress', 'x-compress']);

const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/** checkHead's answer for a request to admit whose body is chunked. */
export const CHUNKED = 'chunked';

/**
 * What Node's parser lets through and Gunicorn refuses, checked once the head is parsed and before the app
 * runs. Order follows Gunicorn's parser: request line, then fields, then framing. Returns undefined to admit,
 * CHUNKED to admit a request with a chunked body. It reads `rawHeaders` only: Node builds `req.headers` on
 * first use, and an app that never reads them should not pay for them here.
 */
export function checkHead(req: IncomingMessage, limits: Limits): Refusal | typeof CHUNKED | undefined {
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
  let seen = 0;
  let codings: string[] | undefined;
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
    const lower = framingField(name);
    if (lower === undefined) continue;
    if (lower === 'transfer-encoding') {
      codings ??= [];
      for (const c of value.split(',')) codings.push(c.trim().toLowerCase());
      continue;
    }
    const bit =
      lower === 'host'
        ? HOST
        : lower === 'content-type'
          ? CONTENT_TYPE
          : lower === 'content-length'
            ? CONTENT_LENGTH
            : 0;
    if (seen & bit) return refusal(400, `Invalid header: duplicate ${name.toUpperCase()}`);
    seen |= bit;
  }
  if (codings === undefined) return undefined;
  return checkCodings(req, codings, (seen & CONTENT_LENGTH) !== 0) ?? CHUNKED;
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
