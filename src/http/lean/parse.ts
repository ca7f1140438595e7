/**
 * The request head the lean HTTP/1.1 path serves: a strict subset of HTTP/1.1, parsed from bytes already
 * received. Anything outside the subset is not an error here; it is answered `undefined`, and the connection
 * goes to node:http (with its parser, llhttp), which serves it or refuses it as every other connection.
 */
import type { IncomingMessage } from 'node:http';
import { checkHead } from '../edge/framing.js';
import { FIELD_TEXT, TOKEN } from '../edge/grammar.js';
import type { Limits } from '../edge/limits.js';

/** The largest body the lean path takes whole; a larger one is streamed by node:http. */
export const LEAN_BODY_MAX = 1 << 20;

export interface LeanHead {
  readonly method: string;
  readonly url: string;
  readonly httpVersionMinor: 0 | 1;
  /** Names as sent, values without the whitespace around them, as node:http hands them over. */
  readonly rawHeaders: string[];
  /** Lower-case names; every name appears once (a repeated one is not lean). */
  readonly headers: Record<string, string>;
  /** What the client asked for: HTTP/1.1 unless `Connection: close`, HTTP/1.0 only with `keep-alive`. */
  readonly keepAlive: boolean;
  readonly body: Buffer;
  /** Bytes of the buffer this request took, head and body. */
  readonly length: number;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
/** Origin-form targets made of characters every parser reads the same way (RFC 3986 unreserved, reserved, %). */
const TARGET = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*$/;
const DIGITS = /^\d{1,9}$/;
/**
 * Fields whose meaning the lean path does not implement: a body in chunks, a protocol switch, an interim
 * answer, a request's trailers. node:http serves them.
 */
const NOT_LEAN = new Set([
  'transfer-encoding',
  'upgrade',
  'expect',
  'te',
  'trailer',
  'set-cookie',
  '__proto__',
]);

/** Strips the optional whitespace (SP, HTAB) around a field value, and nothing else (not NBSP, as trim would). */
function ows(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && (value.charCodeAt(start) === 0x20 || value.charCodeAt(start) === 0x09)) start++;
  while (end > start && (value.charCodeAt(end - 1) === 0x20 || value.charCodeAt(end - 1) === 0x09)) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

/**
 * The first request in `buffer` when it is complete there (head and body) and within the subset; else
 * undefined, for node:http. The edge's own checks (limits, duplicate fields) run on it as on every request:
 * a request they would refuse is not lean either, so the refusal comes from the one place that makes them.
 */
export function parseLean(buffer: Buffer, limits: Limits): LeanHead | undefined {
  const end = buffer.indexOf(HEAD_END);
  if (end === -1) return undefined;
  const head = buffer.toString('latin1', 0, end);
  const lineEnd = head.indexOf('\r\n');
  const line = lineEnd === -1 ? head : head.slice(0, lineEnd);
  const sp1 = line.indexOf(' ');
  const sp2 = line.indexOf(' ', sp1 + 1);
  if (sp1 === -1 || sp2 === -1) return undefined;
  const method = line.slice(0, sp1);
  const url = line.slice(sp1 + 1, sp2);
  const version = line.slice(sp2 + 1);
  const minor = version === 'HTTP/1.1' ? 1 : version === 'HTTP/1.0' ? 0 : -1;
  if (minor === -1 || !METHODS.has(method) || !TARGET.test(url)) return undefined;

  const rawHeaders: string[] = [];
  const headers: Record<string, string> = {};
  let close = false;
  let keep = false;
  let bodyLength = 0;
  for (let pos = lineEnd === -1 ? head.length : lineEnd + 2; pos < head.length; ) {
    let eol = head.indexOf('\r\n', pos);
    if (eol === -1) eol = head.length;
    const colon = head.indexOf(':', pos);
    if (colon <= pos || colon > eol) return undefined;
    const name = head.slice(pos, colon);
    const value = ows(head.slice(colon + 1, eol));
    pos = eol + 2;
    if (!TOKEN.test(name) || !FIELD_TEXT.test(value)) return undefined;
    const lower = name.toLowerCase();
    if (NOT_LEAN.has(lower) || Object.hasOwn(headers, lower)) return undefined;
    headers[lower] = value;
    rawHeaders.push(name, value);
    if (lower === 'content-length') {
      if (!DIGITS.test(value)) return undefined;
      bodyLength = Number(value);
    } else if (lower === 'connection') {
      for (const option of value.toLowerCase().split(',')) {
        const token = ows(option);
        if (token === 'close') close = true;
        else if (token === 'keep-alive') keep = true;
        else if (token === 'upgrade') return undefined;
      }
    }
  }
  if (bodyLength > LEAN_BODY_MAX || (limits.body > 0 && bodyLength > limits.body)) return undefined;
  const length = end + HEAD_END.length + bodyLength;
  if (buffer.length < length) return undefined;
  // checkHead reads these members only; a chunked body never gets here (Transfer-Encoding is not lean).
  const asParsed = {
    method,
    url,
    httpVersion: `1.${minor}`,
    httpVersionMajor: 1,
    httpVersionMinor: minor,
    rawHeaders,
  };
  if (checkHead(asParsed as unknown as IncomingMessage, limits) !== undefined) return undefined;
  return {
    method,
    url,
    httpVersionMinor: minor,
    rawHeaders,
    headers,
    keepAlive: !close && (minor === 1 || keep),
    body: buffer.subarray(end + HEAD_END.length, length),
    length,
  };
}
