/**
 * The HTTP edge for HTTP/2 streams. nghttp2 frames every request itself — no request line, no
 * Content-Length/Transfer-Encoding pair to disagree on — so of Gunicorn's checks the limits and the request
 * timeout apply. A refusal ends that stream only: the client's other streams on the connection go on.
 */
import { constants, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { log } from '../../logging/logger.js';
import { type EdgeSettings, type Limits, limitsOf } from '../edge/index.js';
import { quote, type Refusal, refusal, writeRefusal } from '../edge/refusal.js';

export type StreamAdmit = (req: Http2ServerRequest, res: Http2ServerResponse) => boolean;

/** The same measures as the HTTP/1.1 edge, taken on the fields a request line and header lines would hold. */
function checkStreamHead(req: Http2ServerRequest, limits: Limits): Refusal | undefined {
  const target = req.url ?? '';
  // `METHOD SP target SP HTTP/2.0`, the request line an HTTP/1.1 proxy would forward.
  const lineLength = req.method.length + target.length + 10;
  if (limits.requestLine > 0 && lineLength > limits.requestLine) {
    return refusal(414, `Request Line is too large (${lineLength} > ${limits.requestLine})`);
  }
  const raw = req.rawHeaders;
  let fields = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    // Pseudo-header fields are the request line's parts, measured above.
    if (name.startsWith(':')) continue;
    fields++;
    const size = name.length + raw[i + 1]!.length + 4;
    if (size > limits.fieldSize) {
      return refusal(
        431,
        `Request header field ${quote(name, 32)} is too large (${size} > ${limits.fieldSize})`,
      );
    }
  }
  if (fields > limits.fields)
    return refusal(431, `Request header fields exceed the limit of ${limits.fields}`);
  const length = req.headers['content-length'];
  if (limits.body > 0 && length !== undefined && Number(length) > limits.body) {
    return refusal(413, `Request body of ${quote(length, 20)} bytes exceeds the limit of ${limits.body}`);
  }
  return undefined;
}

/** The client has sent all of its request (END_STREAM), whether or not the app has read the body yet. */
function received(req: Http2ServerRequest): boolean {
  const state = req.stream.state.state;
  return (
    req.complete ||
    req.stream.endAfterHeaders ||
    state === constants.NGHTTP2_STREAM_STATE_HALF_CLOSED_REMOTE ||
    state === constants.NGHTTP2_STREAM_STATE_CLOSED
  );
}

/**
 * Answers a refused stream and, if the client is still sending, asks it to stop: RST_STREAM with NO_ERROR
 * after a complete response (RFC 9113 §8.1).
 */
function refuseStream(req: Http2ServerRequest, res: Http2ServerResponse, r: Refusal): void {
  if (r.status === 408) log.debug(`Request timeout from ip=${req.socket.remoteAddress}`);
  else log.warning(`Invalid request from ip=${req.socket.remoteAddress}: ${r.reason}`);
  const stop = () => {
    if (!received(req)) req.stream.close(constants.NGHTTP2_NO_ERROR);
  };
  if (res.headersSent) {
    // The app's answer has begun; only cancelling the stream is left.
    req.stream.close(constants.NGHTTP2_CANCEL);
    return;
  }
  writeRefusal(res, r.status, { close: false, done: stop });
}

/** Counts the body as it arrives and refuses it once it passes the limit; the app sees no more of it. */
function guardBody(req: Http2ServerRequest, res: Http2ServerResponse, limit: number): void {
  const push = req.push;
  let received = 0;
  let refused = false;
  req.push = (chunk: unknown, encoding?: BufferEncoding): boolean => {
    if (refused) return true;
    if (chunk !== null) {
      received += (chunk as Buffer).length;
      if (received > limit) {
        refused = true;
        refuseStream(req, res, refusal(413, `Request body exceeds the limit of ${limit} bytes`));
        return true;
      }
    }
    return push.call(req, chunk, encoding);
  };
}

/** What `admit` is for HTTP/1.1 requests (edge/index.ts), for HTTP/2 streams. */
export function streamAdmission(s: EdgeSettings): StreamAdmit {
  const limits = limitsOf(s);
  const requestTimeoutMs = Math.max(0, Math.round(s.requestTimeout * 1000));
  return (req, res) => {
    const bad = checkStreamHead(req, limits);
    if (bad) {
      refuseStream(req, res, bad);
      return false;
    }
    if (limits.body > 0) guardBody(req, res, limits.body);
    if (requestTimeoutMs > 0 && !received(req)) {
      // The whole request must arrive within --request-timeout, as over HTTP/1.1.
      const timer = setTimeout(() => {
        if (!received(req)) refuseStream(req, res, refusal(408, 'Request timeout'));
      }, requestTimeoutMs);
      timer.unref();
      res.once('close', () => clearTimeout(timer));
    }
    return true;
  };
}
