/** `tsunicorn ctl COMMAND [ARGS] [--json]`: one command to a running master over its control socket. */
import type { StatsView } from '../control/protocol.js';
import { TsunicornError } from '../errors.js';
import { ExitCode } from '../lifecycle/exit-codes.js';
import { connectControl, controlSocketPath } from './control-target.js';
import { masterLine, workerTable } from './stats-table.js';

type Env = Readonly<Record<string, string | undefined>>;

export const ctlUsage = `usage: tsunicorn ctl [--socket PATH | --pid PID|PIDFILE] [--json] COMMAND [ARGS]

commands:
  stats                      the master and every worker (pid, requests, in flight, memory, loop delay)
  reload                     replace every worker (as HUP); waits until the new ones serve
  scale N | +N | -N          set the number of workers
  drain                      readiness 503 for --drain-delay, then stop every worker; the sockets stay open
  kill PID                   stop one worker gracefully; the master starts its replacement
  reopen-logs                reopen log files (as USR1)
  shutdown [graceful|quick]  stop the server (as TERM, or QUIT)
  config                     the running configuration
`;

export async function runCtl(argv: readonly string[], env: Env): Promise<number> {
  const { values, positionals } = parseCtlArgs(argv);
  if (values.help || positionals.length === 0) {
    (values.help ? process.stdout : process.stderr).write(ctlUsage);
    return values.help ? ExitCode.OK : ExitCode.USAGE;
  }
  const [command, ...args] = positionals as [string, ...string[]];
  const path = controlSocketPath(values, env);
  const client = await connectControl(path);
  try {
    const response = await client.request(command, args);
    if (!response.ok) {
      if (values.json) process.stdout.write(`${JSON.stringify(response)}\n`);
      else process.stderr.write(`tsunicorn ctl: ${response.error}\n`);
      return ExitCode.ERROR;
    }
    if (values.json) process.stdout.write(`${JSON.stringify(response.result, null, 2)}\n`);
    else process.stdout.write(`${render(command, response.result)}\n`);
    return ExitCode.OK;
  } finally {
    client.close();
  }
}

function render(command: string, result: unknown): string {
  if (command === 'stats') {
    const stats = result as StatsView;
    return [masterLine(stats), '', ...workerTable(stats.workers)].join('\n');
  }
  if (command === 'config') return JSON.stringify(result, null, 2);
  return Object.entries(result as Record<string, unknown>)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
}

export interface CtlArgs {
  readonly values: { socket?: string; pid?: string; json?: boolean; help?: boolean };
  readonly positionals: string[];
}

/**
 * By hand rather than util.parseArgs: `scale -1` must reach the master as an argument, not be taken for an
 * unknown option.
 */
export function parseCtlArgs(argv: readonly string[]): CtlArgs {
  const values: CtlArgs['values'] = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const [name, inline] =
      arg.startsWith('--') && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new TsunicornError('TSU_ERR_USAGE', `${name} needs a value`);
      return v;
    };
    if (name === '-s' || name === '--socket') values.socket = value();
    else if (name === '-p' || name === '--pid') values.pid = value();
    else if (name === '--json') values.json = true;
    else if (name === '-h' || name === '--help') values.help = true;
    else if (/^-[^\d]/.test(arg) && positionals.length === 0) {
      throw new TsunicornError('TSU_ERR_USAGE', `unknown option ${arg}\n${ctlUsage}`);
    } else positionals.push(arg);
  }
  return { values, positionals };
}
