// Bun with BENCH_WORKERS processes sharing the port through SO_REUSEPORT (Bun's documented way to use
// every core). The parent only spawns them and never listens.
import app from './fetch.mjs';

if (process.env.BENCH_ROLE === 'worker') {
  Bun.serve({
    hostname: process.env.BENCH_HOST ?? '127.0.0.1',
    port: Number(process.env.BENCH_PORT),
    reusePort: true,
    fetch: app.fetch,
  });
} else {
  const workers = Number(process.env.BENCH_WORKERS ?? 2);
  for (let i = 0; i < workers; i++) {
    Bun.spawn([process.execPath, import.meta.path], {
      env: { ...process.env, BENCH_ROLE: 'worker' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  }
}
