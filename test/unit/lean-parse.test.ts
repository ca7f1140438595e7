/**
 * The lean HTTP/1.1 path's parser: what it serves, and that everything else (incomplete, chunked, folded,
 * repeated, over a limit) is left to node:http rather than guessed at.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultEdgeSettings, limitsOf } from '../../src/http/edge/index.ts';
import { LEAN_BODY_MAX, parseLean } from '../../src/http/lean/parse.ts';

const limits = limitsOf(defaultEdgeSettings);
const parse = (text: string, l = limits) => parseLean(Buffer.from(text, 'latin1'), l);

describe('lean request parser', () => {
  test('a complete GET, with its fields as node:http hands them over', () => {
    const head = parse('GET /a?b=1 HTTP/1.1\r\nHost: x\r\nX-Pad: \t v a \t\r\nAccept: */*\r\n\r\n');
    assert.ok(head);
    assert.equal(head.method, 'GET');
    assert.equal(head.url, '/a?b=1');
    assert.equal(head.httpVersionMinor, 1);
    assert.deepEqual(head.rawHeaders, ['Host', 'x', 'X-Pad', 'v a', 'Accept', '*/*']);
    assert.deepEqual(head.headers, { host: 'x', 'x-pad': 'v a', accept: '*/*' });
    assert.equal(head.keepAlive, true);
    assert.equal(head.body.length, 0);
  });

  test('keep-alive follows the version and the Connection options', () => {
    assert.equal(parse('GET / HTTP/1.1\r\nConnection: close\r\n\r\n')?.keepAlive, false);
    assert.equal(parse('GET / HTTP/1.1\r\nConnection: foo, Close\r\n\r\n')?.keepAlive, false);
    assert.equal(parse('GET / HTTP/1.0\r\n\r\n')?.keepAlive, false);
    assert.equal(parse('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n')?.keepAlive, true);
  });

  test('a body is taken whole, and a pipelined request after it is left in the buffer', () => {
    const text = 'POST /e HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\n\r\n';
    const head = parse(text);
    assert.equal(head?.body.toString(), 'hello');
    assert.equal(head?.length, text.indexOf('GET'));
  });

  test('whatever is incomplete, or outside the subset, is left to node:http', () => {
    const notLean = {
      'head still arriving': 'GET / HTTP/1.1\r\nHost: x\r\n',
      'body still arriving': 'POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nhello',
      chunked: 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      upgrade: 'GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
      expect: 'POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx',
      'a repeated field': 'GET / HTTP/1.1\r\nAccept: a\r\naccept: b\r\n\r\n',
      'an obs-fold': 'GET / HTTP/1.1\r\nX-A: 1\r\n  2\r\n\r\n',
      'a bare LF': 'GET / HTTP/1.1\r\nX-A: 1\nX-B: 2\r\n\r\n',
      'a space before the colon': 'GET / HTTP/1.1\r\nHost : x\r\n\r\n',
      'a control byte in a value': 'GET / HTTP/1.1\r\nX-A: a\x01b\r\n\r\n',
      'a signed length': 'POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\nx',
      'HTTP/2.0': 'GET / HTTP/2.0\r\n\r\n',
      'an unknown method': 'BLARGH / HTTP/1.1\r\n\r\n',
      CONNECT: 'CONNECT h:443 HTTP/1.1\r\n\r\n',
      'asterisk-form': 'OPTIONS * HTTP/1.1\r\n\r\n',
      'absolute-form': 'GET http://h/ HTTP/1.1\r\n\r\n',
      'a raw non-ASCII target': 'GET /\xe9 HTTP/1.1\r\n\r\n',
      'two spaces in the request line': 'GET  / HTTP/1.1\r\n\r\n',
      'a __proto__ field': 'GET / HTTP/1.1\r\n__proto__: x\r\n\r\n',
    };
    for (const [what, text] of Object.entries(notLean)) assert.equal(parse(text), undefined, what);
  });

  test('the edge limits hold: a request they refuse goes to node:http, which refuses it', () => {
    const tight = limitsOf({
      ...defaultEdgeSettings,
      limitRequestFields: 2,
      limitRequestLine: 20,
      limitRequestBody: 3,
    });
    assert.ok(parse('GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n', tight));
    assert.equal(parse('GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n', tight), undefined);
    assert.equal(parse('GET /0123456789 HTTP/1.1\r\n\r\n', tight), undefined);
    assert.equal(parse('POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd', tight), undefined);
    const big = `POST / HTTP/1.1\r\nContent-Length: ${LEAN_BODY_MAX + 1}\r\n\r\n${'x'.repeat(LEAN_BODY_MAX + 1)}`;
    assert.equal(parse(big), undefined);
  });

  test('only SP and HTAB are trimmed from a value: NBSP is part of it, as for llhttp', () => {
    assert.deepEqual(parse('GET / HTTP/1.1\r\nX-A: \xa0v\xa0 \r\n\r\n')?.rawHeaders, ['X-A', '\xa0v\xa0']);
  });
});
