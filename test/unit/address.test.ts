import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAddress, parseAddress } from '../../src/sockets/address.ts';

test('parses Gunicorn bind forms', () => {
  assert.deepEqual(parseAddress('127.0.0.1:8000'), { kind: 'tcp', host: '127.0.0.1', port: 8000 });
  assert.deepEqual(parseAddress('localhost'), { kind: 'tcp', host: 'localhost', port: 8000 });
  assert.deepEqual(parseAddress(':9000'), { kind: 'tcp', host: '0.0.0.0', port: 9000 });
  assert.deepEqual(parseAddress('[::1]:0'), { kind: 'tcp', host: '::1', port: 0 });
  assert.deepEqual(parseAddress('unix:/run/app.sock'), { kind: 'unix', path: '/run/app.sock' });
  assert.deepEqual(parseAddress('unix:app.sock', '/srv'), { kind: 'unix', path: '/srv/app.sock' });
  assert.deepEqual(parseAddress('fd://3'), { kind: 'fd', fd: 3 });
});

test('rejects bad addresses with the fix in the message', () => {
  assert.throws(() => parseAddress('127.0.0.1:99999'), /invalid port "99999".*0–65535/);
  assert.throws(() => parseAddress('127.0.0.1:http'), /invalid port "http"/);
  assert.throws(() => parseAddress('::1'), /put the address in brackets, e\.g\. \[::1\]:8000/);
  assert.throws(() => parseAddress('[nope]:80'), /invalid IPv6/);
  assert.throws(() => parseAddress('fd://1'), /N ≥ 3/);
  assert.throws(() => parseAddress('unix:'), /empty unix socket path/);
  assert.throws(() => parseAddress('bad host:80'), /invalid host/);
});

test('formats addresses as the log shows them', () => {
  assert.equal(formatAddress({ kind: 'tcp', host: '::1', port: 80 }), 'http://[::1]:80');
  assert.equal(formatAddress({ kind: 'unix', path: '/a.sock' }), 'unix:/a.sock');
});
