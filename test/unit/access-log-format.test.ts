import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { test } from 'node:test';
import { DEFAULT_ACCESS_LOG_FORMAT } from '../../src/config/settings/logging.ts';
import { accessJson, compileFormat, type RequestRecord } from '../../src/logging/access-log.ts';

function record(over: Partial<RequestRecord> = {}): RequestRecord {
  const req = {
    method: 'GET',
    url: '/a/b?x=1',
    httpVersion: '1.1',
    socket: { remoteAddress: '10.0.0.1' },
    headers: {
      referer: 'http://ref/',
      'user-agent': 'curl/8',
      authorization: `Basic ${Buffer.from('ann:secret').toString('base64')}`,
      'x-request-id': 'r1',
    },
  } as unknown as IncomingMessage;
  const res = {
    statusCode: 201,
    getHeader: (name: string) => (name === 'content-type' ? 'text/plain' : undefined),
  } as unknown as ServerResponse;
  return {
    req,
    res,
    startedAt: new Date(Date.UTC(2026, 10, 25, 9, 0, 0)),
    durationMs: 1234.5678,
    bytes: 42,
    ...over,
  };
}

test("Gunicorn's default format gives a combined-log line", () => {
  const line = compileFormat(DEFAULT_ACCESS_LOG_FORMAT)(record());
  assert.match(
    line,
    /^10\.0\.0\.1 - ann \[25\/Nov\/2026:\d\d:00:00 [+-]\d{4}\] "GET \/a\/b\?x=1 HTTP\/1\.1" 201 42 "http:\/\/ref\/" "curl\/8"$/,
  );
});

test('every atom, headers and environment variables', () => {
  process.env.TSU_TEST_VAR = 'v';
  const line = compileFormat(
    '%(m)s %(U)s %(q)s %(H)s %(s)s %(B)s %(b)s %(T)s %(M)s %(D)s %(L)s %(p)s %({x-request-id}i)s %({content-type}o)s %({TSU_TEST_VAR}e)s %({missing}i)s 100%%',
  )(record());
  assert.equal(
    line,
    `GET /a/b x=1 HTTP/1.1 201 42 42 1 1234 1234568 1.234568 <${process.pid}> r1 text/plain v - 100%`,
  );
  assert.equal(compileFormat('%(b)s %(B)s')(record({ bytes: 0 })), '- 0');
});

test('the JSON form carries the same fields', () => {
  const entry = accessJson(record());
  assert.equal(entry.remote_addr, '10.0.0.1');
  assert.equal(entry.request, 'GET /a/b?x=1 HTTP/1.1');
  assert.equal(entry.status, 201);
  assert.equal(entry.bytes, 42);
  assert.equal(entry.user, 'ann');
  assert.equal(entry.ident, null);
  assert.equal(entry.duration_us, 1234568);
});
