import { levels } from '../../logging/logger.js';
import { bool, choice, string } from '../kinds.js';
import { setting } from '../setting.js';

/** Gunicorn's access-log format, atom for atom. */
export const DEFAULT_ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"';

export const loggingSettings = [
  setting({
    key: 'accessLogfile',
    section: 'logging',
    flags: ['--access-logfile'],
    metavar: 'FILE',
    kind: string,
    default: '',
    aliases: ['accesslog'],
    doc: 'Where the access log goes: a file path, or `-` for stdout. No access log when unset.',
  }),
  setting({
    key: 'accessLogformat',
    section: 'logging',
    flags: ['--access-logformat'],
    metavar: 'FORMAT',
    kind: string,
    default: DEFAULT_ACCESS_LOG_FORMAT,
    aliases: ['access_log_format'],
    doc: "The access-log line, with Gunicorn's atoms: `h l u t r m U q H s B b f a T M D L p`, `{header}i`, `{header}o`, `{var}e`, written `%(h)s`.",
  }),
  setting({
    key: 'accessLogJson',
    section: 'logging',
    flags: ['--access-log-json'],
    kind: bool,
    default: false,
    doc: 'Write each access-log entry as one JSON object per line, with the same fields as the atoms.',
  }),
  setting({
    key: 'errorLogfile',
    section: 'logging',
    flags: ['--error-logfile', '--log-file'],
    metavar: 'FILE',
    kind: string,
    default: '-',
    aliases: ['errorlog'],
    doc: 'Where the error log goes: a file path, or `-` for stderr.',
  }),
  setting({
    key: 'logLevel',
    section: 'logging',
    flags: ['--log-level'],
    metavar: 'LEVEL',
    kind: choice(() => levels),
    default: 'info' as (typeof levels)[number],
    aliases: ['loglevel'],
    doc: 'The granularity of the error log: debug, info, warning, error, critical.',
  }),
  setting({
    key: 'errorLogJson',
    section: 'logging',
    flags: ['--error-log-json'],
    kind: bool,
    default: false,
    doc: 'Write the error log as one JSON object per line (`time`, `level`, `pid`, `msg`).',
  }),
  setting({
    key: 'captureOutput',
    section: 'logging',
    flags: ['--capture-output'],
    kind: bool,
    default: false,
    doc: "Send the app's stdout and stderr to the error log file (when --error-logfile is a file).",
  }),
] as const;
