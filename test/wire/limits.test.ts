/**
 * Gunicorn's request limits at the edge: each oversized request gets its status, a WARNING line, and never
 * reaches the app, which counts its calls.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fixture, request, type Server, startServer, waitFor, waitServing } from '../helpers/server.ts';
import { exchange } from './raw.ts';

const head = (lines: string[]) => Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');

describe('request limits', () => {
  let server: Server;
  const calls = async () => JSON.parse((await request({ port: server.port }, '/calls')).body).calls as number;

  before(async () => {
    server = await startServer(
      ['-w', '1', '-b', '127.0.0.1:0', '--limit-request-body', '1024', fixture('counter.mjs')],
      { workers: 1 },
    );
    await waitServing({ port: server.port }, '/calls');
  });
  after(() => server?.kill());

  test('a 9 KiB request line is refused with 414', async () => {
    const got = await exchange(server.port, head([`GET /${'a'.repeat(9 * 1024)} HTTP/1.1`, 'Host: x']));
    assert.ok([400, 414].includes(got.statuses[0]!), `got ${got.statuses}`);
  });

  test('101 header fields are refused with 431', async () => {
    const fields = Array.from({ length: 100 }, (_, i) => `X-Field-${i}: ${i}`);
    const got = await exchange(server.port, head(['GET / HTTP/1.1', 'Host: x', ...fields]));
    assert.deepEqual(got.statuses, [431]);
  });

  test('a header line over 8190 bytes is refused with 431', async () => {
    const got = await exchange(
      server.port,
      head(['GET / HTTP/1.1', 'Host: x', `X-Big: ${'b'.repeat(8190)}`]),
    );
    assert.deepEqual(got.statuses, [431]);
  });

  test('a 2 KiB Content-Length body over --limit-request-body 1024 is refused with 413', async () => {
    const body = 'x'.repeat(2048);
    const got = await exchange(
      server.port,
      Buffer.from(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`),
    );
    assert.deepEqual(got.statuses, [413]);
    assert.match(got.data.toString('latin1'), /\r\nconnection: close\r\n/i);
  });

  test('none of the refused requests reached the app; an admitted one does', async () => {
    assert.equal(await calls(), 0);
    const ok = await request({ port: server.port }, '/', { method: 'POST', body: 'z'.repeat(1024) });
    assert.equal(ok.status, 200);
    assert.equal(await calls(), 1);
  });

  // A chunked body's size is known only as it arrives, after the app was called: the app sees its body cut
  // short, never complete.
  test('a chunked body is refused with 413 as soon as it grows past the limit', async () => {
    const chunk = `${(512).toString(16)}\r\n${'y'.repeat(512)}\r\n`;
    const got = await exchange(
      server.port,
      Buffer.from(
        `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunk.repeat(4)}0\r\n\r\n`,
      ),
    );
    assert.deepEqual(got.statuses, [413]);
  });

  test('each refusal is logged as a WARNING with the client address', async () => {
    const line = /\[WARNING\] Invalid request from ip=127\.0\.0\.1: /;
    await waitFor(() => server.count(line) >= 5, `5 lines matching ${line}\n${server.log}`);
  });
});
