import { type Adapter, binding } from './adapter.js';
import { fromListener } from './listener.js';

/** Koa: `app.callback()` is its Node listener. */
export const koaAdapter: Adapter = {
  name: 'koa',
  matches: (value: any) => !!value && typeof value.callback === 'function' && typeof value.use === 'function',
  bind: (value) => binding('koa', fromListener(value.callback())),
};
