import type { EdgeSettings } from './settings.js';

/** Gunicorn's ceilings: a field count of 0 (or above this) means this many, as in `gunicorn/http/message.py`. */
export const MAX_HEADER_FIELDS = 32768;
/** What a field-size limit of 0 falls back to, and the request-line size used to size Node's header buffer. */
export const DEFAULT_FIELD_SIZE = 8190;
export const DEFAULT_REQUEST_LINE = 8190;

/** The limits in force, with Gunicorn's rules for 0 and out-of-range values already applied. */
export interface Limits {
  /** Longest request line without its CRLF; 0 = no limit of its own (the header budget still applies). */
  readonly requestLine: number;
  readonly fields: number;
  /** Longest header line, counted as `Name: value\r\n`. */
  readonly fieldSize: number;
  /** Largest request body in bytes; 0 = unlimited. */
  readonly body: number;
  /**
   * Node's one knob, `maxHeaderSize`, counts the target plus every header name and value. It must hold the
   * largest head the per-line limits allow, or Node would answer 431 before our finer checks could say 414;
   * Gunicorn buffers the same amount (`limit_request_fields * (field_size + 2) + 4`).
   */
  readonly headerBytes: number;
}

export function limitsOf(s: EdgeSettings): Limits {
  const fields =
    s.limitRequestFields <= 0 || s.limitRequestFields > MAX_HEADER_FIELDS
      ? MAX_HEADER_FIELDS
      : s.limitRequestFields;
  const fieldSize = s.limitRequestFieldSize <= 0 ? DEFAULT_FIELD_SIZE : s.limitRequestFieldSize;
  const requestLine = Math.max(0, s.limitRequestLine);
  return {
    requestLine,
    fields,
    fieldSize,
    body: Math.max(0, s.limitRequestBody),
    headerBytes: (requestLine || DEFAULT_REQUEST_LINE) + fields * (fieldSize + 2) + 4,
  };
}
