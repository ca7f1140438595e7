// One plain node:http process: the baseline for latency and memory.
import { createServer } from 'node:http';
import app from './listener.mjs';

createServer(app).listen(Number(process.env.BENCH_PORT), process.env.BENCH_HOST ?? '127.0.0.1');
