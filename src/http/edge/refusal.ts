import { type ServerResponse, STATUS_CODES } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';

/** Why a request is not served: the status it is answered with and the reason written to the log. */
export interface Refusal {
  readonly status: number;
  readonly reason: string;
}

export function refusal(status: number, reason: string): Refusal {
  return { status, reason };
}

/**
 * Bytes of client input quoted in a log line: bounded, and with control bytes escaped so a request cannot
 * forge log lines.
 */
export function quote(raw: string, max = 64): string {
  const cut = raw.length > max ? `${raw.slice(0, max)}…` : raw;
  // JSON escapes C0 controls; DEL and C1 controls (a terminal reads 0x9b as CSI) are escaped too.
  return JSON.stringify(cut).replace(
    /[\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** The short body of a refusal. It never echoes client input. */
function refusalBody(status: number): string {
  return `${status} ${STATUS_CODES[status] ?? 'Error'}\n`;
}

/**
 * Answers a request with a refusal: its status and short body. `close` (HTTP/1 only; HTTP/2 has no
 * `Connection` header, and a refusal there ends its stream only) closes the connection after it. `done` runs
 * once the body is written.
 */
export function writeRefusal(
  res: ServerResponse | Http2ServerResponse,
  status: number,
  { close, done }: { close: boolean; done?: () => void },
): void {
  const body = refusalBody(status);
  const headers: Record<string, string | number> = {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  };
  if (close) {
    if ('shouldKeepAlive' in res) res.shouldKeepAlive = false;
    headers.connection = 'close';
  }
  res.writeHead(status, headers);
  res.end(body, done);
}

/** A complete refusal for writing straight onto a socket that has no response in progress. */
export function rawRefusal(status: number): string {
  const body = refusalBody(status);
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
    'Content-Type: text/plain; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n' +
    body
  );
}
