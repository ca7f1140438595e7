import { bool, string } from '../kinds.js';
import { setting } from '../setting.js';

export const configSettings = [
  setting({
    key: 'config',
    section: 'config',
    flags: ['-c', '--config'],
    metavar: 'FILE',
    kind: string,
    default: '',
    defaultDoc: '`./tsunicorn.config.{ts,mts,js,mjs,cjs,json}`, the first that exists',
    cliOnly: true,
    doc: 'The config file: settings and hooks, e.g. `export default defineConfig({ workers: 4 })`. Re-read on HUP.',
  }),
  setting({
    key: 'printConfig',
    section: 'config',
    flags: ['--print-config'],
    kind: bool,
    default: false,
    cliOnly: true,
    doc: 'Print the resolved settings as JSON and exit.',
  }),
  setting({
    key: 'checkConfig',
    section: 'config',
    flags: ['--check-config'],
    kind: bool,
    default: false,
    cliOnly: true,
    doc: 'Check the settings and that the app loads, then exit: 0 when both hold, 1 when the app fails to load, 2 for a bad setting.',
  }),
] as const;
