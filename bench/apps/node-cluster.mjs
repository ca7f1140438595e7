// node:cluster with BENCH_WORKERS workers. The scheduling policy comes from NODE_CLUSTER_SCHED_POLICY
// ("rr": the primary accepts and hands connections round-robin; "none": workers accept on a shared
// handle), which node reads when the cluster module loads.
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import app from './listener.mjs';

if (cluster.isPrimary) {
  const workers = Number(process.env.BENCH_WORKERS ?? 2);
  for (let i = 0; i < workers; i++) cluster.fork();
} else {
  createServer(app).listen(Number(process.env.BENCH_PORT), process.env.BENCH_HOST ?? '127.0.0.1');
}
