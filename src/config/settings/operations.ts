import { bool, float, list, string } from '../kinds.js';
import { setting } from '../setting.js';

/** A path the worker answers itself, before the app: absolute, without a query. */
const probePath = {
  ...string,
  describe: 'an absolute path such as /healthz, or empty',
  fromString: (raw: string) => probePath.check(raw),
  check(value: unknown): string {
    const path = string.check(value);
    if (path !== '' && (!path.startsWith('/') || /[?#\s]/.test(path))) {
      throw new Error(`expected a path such as /healthz, got ${JSON.stringify(path)}`);
    }
    return path;
  },
};

export const operationsSettings = [
  setting({
    key: 'healthPath',
    section: 'operations',
    flags: ['--health-path'],
    metavar: 'PATH',
    kind: probePath,
    default: '',
    doc: 'Readiness endpoint (e.g. `/healthz`) answered by every worker before the app: `200` while it serves, `503` once the worker or the master is draining, so a load balancer or Kubernetes stops sending traffic before connections close. Off when empty.',
  }),
  setting({
    key: 'livenessPath',
    section: 'operations',
    flags: ['--liveness-path'],
    metavar: 'PATH',
    kind: probePath,
    default: '',
    doc: "Liveness endpoint (e.g. `/livez`) answered by every worker before the app: `200` whenever the worker's event loop answers, draining or not. Off when empty.",
  }),
  setting({
    key: 'drainDelay',
    section: 'operations',
    flags: ['--drain-delay'],
    metavar: 'SECONDS',
    kind: float(0),
    default: 0,
    doc: 'On TERM (and `ctl drain`), keep serving this long while the readiness endpoint answers `503`, then drain: the load balancer sees the server leave before its connections close (the Kubernetes preStop race).',
  }),
  setting({
    key: 'controlSocket',
    section: 'operations',
    flags: ['--control-socket'],
    metavar: 'PATH',
    kind: string,
    default: '',
    defaultDoc:
      '`$XDG_RUNTIME_DIR/tsunicorn/PID.sock`, else `PID.sock` in a per-user 0700 directory in the temp dir',
    doc: 'The unix socket `tsunicorn ctl` and `tsunicorn top` talk to (mode 0600). A socket that cannot be created is a warning, not a failure.',
  }),
  setting({
    key: 'noControlSocket',
    section: 'operations',
    flags: ['--no-control-socket'],
    kind: bool,
    default: false,
    doc: 'Do not open a control socket.',
  }),
  setting({
    key: 'reload',
    section: 'operations',
    flags: ['--reload'],
    kind: bool,
    default: false,
    doc: "Development: replace the workers (a readiness-gated reload, as HUP) when a file in the app's directory changes. node_modules and dotfiles are ignored; an app that fails to load keeps the old workers serving.",
  }),
  setting({
    key: 'reloadExtraFiles',
    section: 'operations',
    flags: ['--reload-extra-file'],
    metavar: 'FILE',
    kind: list(string),
    default: [],
    repeatable: true,
    aliases: ['reload_extra_files'],
    doc: 'A further file or directory whose changes trigger `--reload`. Repeatable.',
  }),
] as const;
