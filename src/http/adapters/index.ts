import type { Adapter } from './adapter.js';
import { fastifyAdapter } from './fastify.js';
import { fetchAdapter } from './fetch.js';
import { koaAdapter } from './koa.js';
import { listenerAdapter } from './listener.js';
import { serverAdapter } from './server.js';

/** Tried in order: the framework shapes first, then the generic ones they would also match. */
export const adapters: readonly Adapter[] = [
  fastifyAdapter,
  koaAdapter,
  serverAdapter,
  fetchAdapter,
  listenerAdapter,
];

export type { AppBinding } from './adapter.js';

export function findAdapter(value: unknown): Adapter | undefined {
  return adapters.find((a) => a.matches(value));
}
