import type { IncomingMessage, ServerResponse } from 'node:http';

/** The bundled example: `npm start` serves it on http://127.0.0.1:8000. */
export default function hello(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.end(`Hello from tsunicorn worker ${process.env.TSUNICORN_WORKER_ID} (pid ${process.pid}): ${req.method} ${req.url}\n`);
}
