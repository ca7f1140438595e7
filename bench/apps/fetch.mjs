// The Web fetch app (`export default { fetch }`): tsunicorn serves it, and so do `deno serve` and Bun,
// which take the same shape natively.
import { BIG, block, HELLO, msParam, sleep, spin } from './routes.mjs';

const TEXT = { 'content-type': 'text/plain' };
const BINARY = { 'content-type': 'application/octet-stream' };
const JSON_TYPE = { 'content-type': 'application/json' };

function pathOf(url) {
  // Request.url is absolute: the path starts at the first '/' after "scheme://host".
  const at = url.indexOf('/', url.indexOf('//') + 2);
  return at === -1 ? '/' : url.slice(at);
}

export default {
  async fetch(request) {
    const url = pathOf(request.url);
    if (url === '/') return new Response(HELLO, { headers: TEXT });
    if (url === '/64k') return new Response(BIG, { headers: BINARY });
    if (url === '/echo' && request.method === 'POST') {
      let body;
      try {
        body = JSON.stringify(await request.json());
      } catch {
        return new Response('bad json', { status: 400, headers: TEXT });
      }
      return new Response(body, { headers: JSON_TYPE });
    }
    if (url.startsWith('/cpu')) {
      spin(msParam(url));
      return new Response('cpu', { headers: TEXT });
    }
    if (url.startsWith('/block')) {
      block(msParam(url));
      return new Response('block', { headers: TEXT });
    }
    if (url.startsWith('/sleep')) {
      await sleep(msParam(url));
      return new Response('sleep', { headers: TEXT });
    }
    return new Response('not found', { status: 404, headers: TEXT });
  },
};
