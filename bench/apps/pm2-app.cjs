// The PM2 cluster-mode entry: PM2 runs it under node:cluster itself, so it only listens.
// CommonJS because PM2's cluster mode requires() the script; the shared app is ESM.
const { createServer } = require('node:http');

import('./listener.mjs').then(({ default: app }) => {
  createServer(app).listen(Number(process.env.BENCH_PORT), process.env.BENCH_HOST || '127.0.0.1');
});
