import { choice, float, int } from '../kinds.js';
import { setting } from '../setting.js';
import { defaultWorkerCount, type WorkerClassName, workerClassNames } from '../worker-classes.js';

export const workerSettings = [
  // Before workerClass, whose default reads it.
  setting({
    key: 'threads',
    section: 'workers',
    flags: ['--threads'],
    metavar: 'INT',
    kind: int(1, 1024),
    default: 1,
    doc: 'App threads per worker for `-k threads`, each running one request at a time. More than 1 without `-k` selects `threads`.',
  }),
  setting({
    key: 'workerClass',
    section: 'workers',
    flags: ['-k', '--worker-class'],
    metavar: 'CLASS',
    kind: choice(() => workerClassNames),
    // As Gunicorn: asking for threads without naming a class means the class that has them.
    default: ({ resolved }) => ((resolved.threads as number) > 1 ? 'threads' : 'async') as WorkerClassName,
    defaultDoc: '`async`, or `threads` when `--threads` is more than 1',
    doc:
      'How each worker gets concurrency: `sync` (one request at a time), `threads` (`--threads` app threads), ' +
      '`async` (one event loop, up to `--worker-connections`). See docs/concurrency.md.',
  }),
  setting({
    key: 'workers',
    section: 'workers',
    flags: ['-w', '--workers'],
    metavar: 'INT',
    kind: int(1, 4096),
    default: ({ env, resolved }) => {
      const fromEnv = env.WEB_CONCURRENCY;
      if (fromEnv && /^\d+$/.test(fromEnv) && Number(fromEnv) > 0) return Number(fromEnv);
      return defaultWorkerCount(resolved.workerClass as WorkerClassName);
    },
    defaultDoc: '`WEB_CONCURRENCY`, else the CPUs available (honouring the cgroup quota)',
    doc: 'Number of worker processes.',
  }),
  setting({
    key: 'workerConnections',
    section: 'workers',
    flags: ['--worker-connections'],
    metavar: 'INT',
    kind: int(1, 1_000_000),
    default: 1000,
    doc:
      'Connections an `async` worker serves at once. Beyond it, new connections wait (for another worker, ' +
      'or until one closes); none is refused, unless `--overload-503` is on: once every worker is full, new ' +
      'connections get a 503.',
  }),
  setting({
    key: 'gracefulTimeout',
    section: 'workers',
    flags: ['--graceful-timeout'],
    metavar: 'SECONDS',
    kind: float(0),
    default: 30,
    doc: 'How long workers may take to finish in-flight requests on TERM or reload before they are killed.',
  }),
] as const;
