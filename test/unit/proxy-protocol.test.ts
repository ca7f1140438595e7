import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProxyProtocolError, parseProxyHeader } from '../../src/http/proxy-protocol.ts';

const SIG = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1');

function v2(command: number, family: number, address: Buffer, tlvs: Buffer = Buffer.alloc(0)): Buffer {
  const fixed = Buffer.alloc(4);
  fixed[0] = 0x20 | command;
  fixed[1] = family;
  fixed.writeUInt16BE(address.length + tlvs.length, 2);
  return Buffer.concat([SIG, fixed, address, tlvs]);
}

function tlv(type: number, value: string): Buffer {
  const head = Buffer.alloc(3);
  head[0] = type;
  head.writeUInt16BE(Buffer.byteLength(value), 1);
  return Buffer.concat([head, Buffer.from(value)]);
}

function done(buf: Buffer) {
  const r = parseProxyHeader(buf);
  assert.ok(r.done, 'header incomplete');
  return r;
}

describe('PROXY protocol v1', () => {
  test('TCP4, with the request that follows left unread', () => {
    const line = 'PROXY TCP4 192.0.2.7 10.0.0.1 56324 443\r\n';
    const r = done(Buffer.from(`${line}GET / HTTP/1.1\r\n\r\n`));
    assert.equal(r.length, line.length);
    assert.deepEqual(r.header.address, {
      family: 'IPv4',
      sourceAddress: '192.0.2.7',
      sourcePort: 56324,
      destinationAddress: '10.0.0.1',
      destinationPort: 443,
    });
  });

  test('TCP6', () => {
    const r = done(Buffer.from('PROXY TCP6 2001:db8::7 2001:db8::1 4711 80\r\n'));
    assert.equal(r.header.address?.family, 'IPv6');
    assert.equal(r.header.address?.sourceAddress, '2001:db8::7');
    assert.equal(r.header.address?.sourcePort, 4711);
  });

  test('UNKNOWN keeps the peer', () => {
    const r = done(Buffer.from('PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n'));
    assert.equal(r.header.address, undefined);
    assert.equal(done(Buffer.from('PROXY UNKNOWN\r\n')).header.address, undefined);
  });

  test('a header cut anywhere is incomplete, not malformed', () => {
    const line = Buffer.from('PROXY TCP4 192.0.2.7 10.0.0.1 56324 443\r\n');
    for (let i = 0; i < line.length; i++) assert.equal(parseProxyHeader(line.subarray(0, i)).done, false);
  });

  for (const bad of [
    'GET / HTTP/1.1\r\n\r\n',
    'PROXY TCP4 192.0.2.7 10.0.0.1 56324\r\n',
    'PROXY TCP4 2001:db8::7 10.0.0.1 1 2\r\n',
    'PROXY TCP6 192.0.2.7 10.0.0.1 1 2\r\n',
    'PROXY TCP4 192.0.2.7 10.0.0.1 65536 80\r\n',
    'PROXY TCP4 192.0.2.7 10.0.0.1 01 80\r\n',
    'PROXY UDP4 192.0.2.7 10.0.0.1 1 80\r\n',
    'PROXY TCP4  192.0.2.7 10.0.0.1 1 80\r\n',
    `PROXY TCP4 ${'1'.repeat(120)}`,
  ]) {
    test(`refuses ${JSON.stringify(bad.slice(0, 40))}`, () => {
      assert.throws(() => parseProxyHeader(Buffer.from(bad)), ProxyProtocolError);
    });
  }
});

describe('PROXY protocol v2', () => {
  const inet = Buffer.from([192, 0, 2, 7, 10, 0, 0, 1, 0xdc, 0x04, 0x01, 0xbb]);

  test('PROXY over TCP/IPv4, with TLVs', () => {
    const tlvs = Buffer.concat([tlv(0x01, 'h2'), tlv(0x02, 'shop.example'), tlv(0x04, '')]);
    const header = v2(1, 0x11, inet, tlvs);
    const r = done(Buffer.concat([header, Buffer.from('GET / HTTP/1.1\r\n\r\n')]));
    assert.equal(r.length, header.length);
    assert.deepEqual(r.header.address, {
      family: 'IPv4',
      sourceAddress: '192.0.2.7',
      destinationAddress: '10.0.0.1',
      sourcePort: 0xdc04,
      destinationPort: 443,
    });
    assert.deepEqual(
      r.header.tlvs.map((t) => [t.type, t.value.toString()]),
      [
        [0x01, 'h2'],
        [0x02, 'shop.example'],
        [0x04, ''],
      ],
    );
  });

  test('PROXY over TCP/IPv6', () => {
    const a = Buffer.alloc(36);
    a.write('20010db8000000000000000000000007', 0, 'hex');
    a.write('20010db8000000000000000000000001', 16, 'hex');
    a.writeUInt16BE(4711, 32);
    a.writeUInt16BE(80, 34);
    const r = done(v2(1, 0x21, a));
    assert.equal(r.header.address?.sourceAddress, '2001:db8::7');
    assert.equal(r.header.address?.destinationAddress, '2001:db8::1');
    assert.equal(r.header.address?.sourcePort, 4711);
  });

  test('LOCAL (a health check) and UNSPEC keep the peer', () => {
    assert.equal(done(v2(0, 0x11, inet)).header.address, undefined);
    assert.equal(done(v2(1, 0x00, Buffer.alloc(0))).header.address, undefined);
  });

  test('a header cut anywhere is incomplete', () => {
    const header = v2(1, 0x11, inet, tlv(0x05, 'id'));
    for (let i = 0; i < header.length; i++) assert.equal(parseProxyHeader(header.subarray(0, i)).done, false);
  });

  test('refuses a wrong version, command, family, short address or truncated TLV', () => {
    const wrongVersion = v2(1, 0x11, inet);
    wrongVersion[12] = 0x11;
    for (const bad of [
      wrongVersion,
      v2(2, 0x11, inet),
      v2(1, 0x41, inet),
      v2(1, 0x21, inet),
      v2(1, 0x11, inet, Buffer.from([0x01, 0x00, 0x05, 0x68])),
    ]) {
      assert.throws(() => parseProxyHeader(bad), ProxyProtocolError);
    }
  });
});
