import type { OutgoingHttpHeaders } from 'node:http';
import { Http2ServerResponse } from 'node:http2';

/** Fields that describe an HTTP/1.1 connection; RFC 9113 §8.2.2 forbids them on an HTTP/2 stream. */
const CONNECTION_FIELDS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);

type Headers = OutgoingHttpHeaders | ReadonlyArray<string | string[]>;

function withoutConnectionFields(headers: Headers): Headers {
  if (!Array.isArray(headers)) {
    const kept: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(headers)) {
      if (!CONNECTION_FIELDS.has(name.toLowerCase())) kept[name] = value;
    }
    return kept;
  }
  // Node takes a flat [name, value, …] list as well as [[name, value], …].
  if (headers.length > 0 && Array.isArray(headers[0])) {
    return (headers as string[][]).filter(([name]) => !CONNECTION_FIELDS.has(String(name).toLowerCase()));
  }
  const kept: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (!CONNECTION_FIELDS.has(String(headers[i]).toLowerCase()))
      kept.push(...([headers[i], headers[i + 1]] as string[]));
  }
  return kept;
}

/**
 * The response of the HTTP/2 compatibility API, for code written for HTTP/1.1: the edge and many apps say
 * `Connection: close` or `Transfer-Encoding: chunked`, which Node drops with a process warning or refuses
 * with an exception on an HTTP/2 stream. They mean nothing there (a stream ends by itself; a session is
 * drained with GOAWAY), so they are left out quietly, as is the reason phrase HTTP/2 has no place for.
 */
export class H2Response extends Http2ServerResponse {
  override setHeader(name: string, value: number | string | readonly string[]): void {
    if (!CONNECTION_FIELDS.has(name.toLowerCase())) super.setHeader(name, value);
  }

  override appendHeader(name: string, value: string | string[]): void {
    if (!CONNECTION_FIELDS.has(name.toLowerCase())) super.appendHeader(name, value);
  }

  override writeHead(statusCode: number, ...rest: unknown[]): this {
    const headers = rest.find((arg) => typeof arg === 'object' && arg !== null) as Headers | undefined;
    return headers
      ? super.writeHead(statusCode, withoutConnectionFields(headers) as OutgoingHttpHeaders)
      : super.writeHead(statusCode);
  }
}
