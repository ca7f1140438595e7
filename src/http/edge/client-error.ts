import { quote, type Refusal, refusal } from './refusal.js';

/**
 * What to do with a connection after Node's parser or a timeout gave up on it:
 * - a refusal: answer it (after any response in flight) and close;
 * - `close`: close without an answer — the client ended mid-request (Gunicorn's NoMoreData);
 * - `after-response`: the client sent more after `Connection: close`; serve what is in flight, then close;
 * - `drop`: the socket itself failed (reset, broken pipe): nothing can be sent.
 */
export type Outcome = Refusal | 'close' | 'after-response' | 'drop';

export interface ParserError extends Error {
  code?: string;
  reason?: string;
}

/** Maps Node's `clientError` to an outcome. */
export function classify(err: ParserError): Outcome {
  const code = err.code ?? '';
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return refusal(408, 'request not received within the header or request timeout');
    case 'HPE_CLOSED_CONNECTION':
      return 'after-response';
    case 'HPE_INVALID_EOF_STATE':
      return 'close';
    case 'HPE_HEADER_OVERFLOW':
      return refusal(431, 'request head larger than the header limits allow');
  }
  if (code.startsWith('HPE_')) {
    // llhttp's reasons are fixed strings ("Invalid method encountered"), never client bytes. Node answers a
    // too-long chunk extension with 413; Gunicorn's chunk errors are 400, as here.
    return refusal(400, `${err.reason ?? code} (${code})`);
  }
  return 'drop';
}

export function describe(err: ParserError): string {
  return `${err.code ?? 'error'} ${quote(err.message, 80)}`;
}
