import { Server } from 'node:net';
import type { Adapter } from './adapter.js';
import { fromServer } from './server.js';

/** Fastify: boot its plugins (`ready()`), then serve through the http.Server it built but never listened on. */
export const fastifyAdapter: Adapter = {
  name: 'fastify',
  matches: (value: any) =>
    !!value &&
    typeof value.ready === 'function' &&
    typeof value.routing === 'function' &&
    value.server instanceof Server,
  async bind(value) {
    await value.ready();
    return fromServer(value.server, 'fastify');
  },
};
