import type { IncomingMessage, ServerResponse } from 'node:http';

export interface HealthSettings {
  /** Readiness: 200 while serving, 503 once draining. Empty: off. */
  readonly healthPath: string;
  /** Liveness: 200 whenever the event loop answers. Empty: off. */
  readonly livenessPath: string;
}

/**
 * Set when the master announces it is about to stop (--drain-delay, `ctl drain`): the worker keeps serving
 * while readiness already fails, so a load balancer stops routing here before any connection is closed.
 * Process-wide because it describes the whole worker, whichever class built its HTTP server.
 */
let masterDraining = false;

export function markMasterDraining(): void {
  masterDraining = true;
}

/**
 * Answers the probe paths before the app sees the request; returns whether it answered. Probes are not app
 * requests: they do not reach the access log, metrics or --max-requests.
 */
export function answerProbe(
  settings: Partial<HealthSettings>,
  req: IncomingMessage,
  res: ServerResponse,
  workerDraining: boolean,
): boolean {
  if (!settings.healthPath && !settings.livenessPath) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const url = req.url ?? '';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  let status: number;
  if (path === settings.healthPath) status = workerDraining || masterDraining ? 503 : 200;
  else if (path === settings.livenessPath) status = 200;
  else return false;
  const body = status === 200 ? 'ok\n' : 'draining\n';
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}
