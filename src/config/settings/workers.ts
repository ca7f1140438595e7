import { choice, float, int } from '../kinds.js';
import { setting } from '../setting.js';
import { defaultWorkerCount, type WorkerClassName, workerClassNames } from '../worker-classes.js';

export const workerSettings = [
  setting({
    key: 'workerClass',
    section: 'workers',
    flags: ['-k', '--worker-class'],
    metavar: 'CLASS',
    kind: choice(() => workerClassNames),
    default: 'async' as WorkerClassName,
    doc: 'How each worker gets concurrency: `async` (one event loop).',
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
    key: 'gracefulTimeout',
    section: 'workers',
    flags: ['--graceful-timeout'],
    metavar: 'SECONDS',
    kind: float(0),
    default: 30,
    doc: 'How long workers may take to finish in-flight requests on TERM or reload before they are killed.',
  }),
] as const;
