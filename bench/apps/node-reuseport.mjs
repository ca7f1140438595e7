// BENCH_WORKERS independent node processes, each with its own SO_REUSEPORT socket (Node >= 22.12 / 23.1),
// so the kernel spreads connections. The parent only spawns them and never listens.
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import app from './listener.mjs';

if (process.env.BENCH_ROLE === 'worker') {
  createServer(app).listen({
    port: Number(process.env.BENCH_PORT),
    host: process.env.BENCH_HOST ?? '127.0.0.1',
    reusePort: true,
  });
} else {
  const workers = Number(process.env.BENCH_WORKERS ?? 2);
  for (let i = 0; i < workers; i++)
    fork(import.meta.filename, { env: { ...process.env, BENCH_ROLE: 'worker' } });
}
