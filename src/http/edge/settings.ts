/** The edge's knobs, named and defaulted as Gunicorn's (`--keep-alive` excepted, see docs/http.md). */
export interface EdgeSettings {
  /** Longest request line in bytes (414); 0 = unlimited. */
  readonly limitRequestLine: number;
  /** Most header fields in one request (431); 0 = Gunicorn's ceiling, 32768. */
  readonly limitRequestFields: number;
  /** Longest header line in bytes (431); 0 = the default, 8190. */
  readonly limitRequestFieldSize: number;
  /** Largest request body in bytes (413); 0 = unlimited. */
  readonly limitRequestBody: number;
  /** Seconds a client may take to send the whole request head (408, then close); 0 = no limit. */
  readonly headerTimeout: number;
  /** Seconds a client may take to send the whole request, body included; also the stalled-write limit. */
  readonly requestTimeout: number;
  /** Seconds an idle keep-alive connection is kept open; 0 = no keep-alive (close after each response). */
  readonly keepAlive: number;
}

export const defaultEdgeSettings: EdgeSettings = Object.freeze({
  limitRequestLine: 4094,
  limitRequestFields: 100,
  limitRequestFieldSize: 8190,
  limitRequestBody: 0,
  headerTimeout: 10,
  requestTimeout: 60,
  keepAlive: 65,
});
