import { levels } from '../../logging/logger.js';
import { choice } from '../kinds.js';
import { setting } from '../setting.js';

export const loggingSettings = [
  setting({
    key: 'logLevel',
    section: 'logging',
    flags: ['--log-level'],
    metavar: 'LEVEL',
    kind: choice(() => levels),
    default: 'info' as (typeof levels)[number],
    doc: 'The granularity of the error log: debug, info, warning, error, critical.',
  }),
] as const;
