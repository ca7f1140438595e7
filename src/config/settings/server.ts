import { parseAddress } from '../../sockets/address.js';
import { int, list } from '../kinds.js';
import { setting } from '../setting.js';

const address = {
  describe: 'an address',
  fromString(raw: string) {
    parseAddress(raw);
    return raw;
  },
  check(value: unknown) {
    if (typeof value !== 'string')
      throw new Error(`expected an address string, got ${JSON.stringify(value)}`);
    parseAddress(value);
    return value;
  },
};

export const serverSettings = [
  setting({
    key: 'bind',
    section: 'server',
    flags: ['-b', '--bind'],
    metavar: 'ADDRESS',
    kind: list(address),
    default: ({ env }) => [env.PORT ? `0.0.0.0:${env.PORT}` : '127.0.0.1:8000'],
    defaultDoc: '`127.0.0.1:8000`, or `0.0.0.0:$PORT` when `PORT` is set',
    repeatable: true,
    doc: 'Address to listen on: `HOST:PORT`, `[::1]:PORT`, `unix:PATH` or `fd://N` (repeatable).',
  }),
  setting({
    key: 'backlog',
    section: 'server',
    flags: ['--backlog'],
    metavar: 'INT',
    kind: int(1, 65535),
    default: 2048,
    doc: 'The listen queue length: connections the kernel holds while every worker is busy.',
  }),
] as const;
