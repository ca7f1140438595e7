import type { Section, Setting } from './setting.js';
import { appSettings } from './settings/app.js';
import { configSettings } from './settings/config.js';
import { httpSettings } from './settings/http.js';
import { loggingSettings } from './settings/logging.js';
import { metricsSettings } from './settings/metrics.js';
import { operationsSettings } from './settings/operations.js';
import { processSettings } from './settings/process.js';
import { serverSettings } from './settings/server.js';
import { supervisionSettings } from './settings/supervision.js';
import { tlsSettings } from './settings/tls.js';
import { workerSettings } from './settings/workers.js';

/** Sections in --help and docs order; within the table, a setting's default may read those before it. */
export const sectionTitles: Record<Section, string> = {
  config: 'Config file',
  app: 'App',
  server: 'Server socket',
  http: 'HTTP limits and timeouts',
  tls: 'TLS',
  workers: 'Workers',
  supervision: 'Supervision',
  process: 'Process',
  logging: 'Logging',
  metrics: 'Metrics',
  operations: 'Operations',
};

export const settings = [
  ...configSettings,
  ...appSettings,
  ...serverSettings,
  ...httpSettings,
  ...tlsSettings,
  ...workerSettings,
  ...supervisionSettings,
  ...processSettings,
  ...loggingSettings,
  ...metricsSettings,
  ...operationsSettings,
] as const;

export type AnySetting = (typeof settings)[number];
export type ValueOf<S> = S extends Setting<infer T> ? T : never;

/** The resolved configuration: one property per setting, deep-frozen. */
export type Config = { readonly [S in AnySetting as S['key']]: Readonly<ValueOf<S>> };
export type SettingKey = keyof Config;

export const settingsByKey: ReadonlyMap<string, Setting> = new Map(
  settings.map((s) => [s.key, s as Setting]),
);
