import { bool, type Kind, string } from '../kinds.js';
import { setting } from '../setting.js';

/** A umask, always read as octal (`022`, `0o22`, `0022`): nobody writes a file mode in decimal. */
function parseUmask(raw: string): number {
  const digits = raw.trim().replace(/^0o/i, '');
  if (!/^[0-7]{1,4}$/.test(digits) || Number.parseInt(digits, 8) > 0o777) {
    throw new Error(`expected an octal mode from 000 to 777, got ${JSON.stringify(raw)}`);
  }
  return Number.parseInt(digits, 8);
}

const umask: Kind<number | null> = {
  describe: 'an octal mode from 000 to 777',
  fromString: parseUmask,
  check(value) {
    if (value === null) return null;
    if (typeof value === 'string') return parseUmask(value);
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0o777) {
      throw new Error(`expected an octal mode such as 0o022 or "022", got ${JSON.stringify(value)}`);
    }
    return value;
  },
};

/** A user or group: a name, or a numeric id. It is looked up when the master starts. */
const account: Kind<string> = {
  describe: 'a name or a numeric id',
  fromString: (raw) => string.fromString(raw.trim()),
  check(value) {
    if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return String(value);
    return string.check(value);
  },
};

export const processSettings = [
  setting({
    key: 'pidfile',
    section: 'process',
    flags: ['-p', '--pid'],
    metavar: 'FILE',
    kind: string,
    default: '',
    aliases: ['pid'],
    doc: "Write the master's pid to FILE, and remove it at exit. A start is refused while FILE names a running process. During a binary upgrade (USR2) the new master writes `FILE.2` and renames it to FILE when the old master has exited.",
  }),
  setting({
    key: 'daemon',
    section: 'process',
    flags: ['-D', '--daemon'],
    kind: bool,
    default: false,
    doc: 'Detach from the terminal: the master runs in a new session with stdin and stdout on /dev/null and stderr in `--error-logfile` (else /dev/null); the command exits 0 once the workers serve. Ignored under systemd, which must supervise the process it started.',
  }),
  setting({
    key: 'user',
    section: 'process',
    flags: ['-u', '--user'],
    metavar: 'USER',
    kind: account,
    default: '',
    doc: 'Run workers as this user (name or uid); the master keeps its privileges to bind sockets and spawn workers. Unix sockets and log files are handed to the user.',
  }),
  setting({
    key: 'group',
    section: 'process',
    flags: ['-g', '--group'],
    metavar: 'GROUP',
    kind: account,
    default: '',
    defaultDoc: "the `--user`'s primary group",
    doc: 'Run workers with this group (name or gid). Supplementary groups are dropped.',
  }),
  setting({
    key: 'umask',
    section: 'process',
    flags: ['-m', '--umask'],
    metavar: 'MODE',
    kind: umask,
    default: null,
    defaultDoc: 'inherited',
    doc: 'The file mode mask of the master and its workers, in octal (`-m 007`): it sets the mode of unix sockets, the pid file and files the app creates.',
  }),
  setting({
    key: 'procName',
    section: 'process',
    flags: ['-n', '--name'],
    metavar: 'NAME',
    kind: string,
    default: '',
    defaultDoc: 'the APP_SPEC',
    aliases: ['proc_name'],
    doc: 'The name in process titles, as `ps` shows them: `tsunicorn: master [NAME]`, `tsunicorn: worker [NAME]`.',
  }),
] as const;
