import { parseAddress } from '../../sockets/address.js';
import type { Kind } from '../kinds.js';
import { string } from '../kinds.js';
import { setting } from '../setting.js';

/** `HOST:PORT` with an explicit port, or empty for "off". */
const hostPort: Kind<string> = {
  describe: 'HOST:PORT',
  fromString(raw) {
    return hostPort.check(raw);
  },
  check(value) {
    if (typeof value !== 'string') throw new Error(`expected HOST:PORT, got ${JSON.stringify(value)}`);
    if (value === '') return value;
    const a = parseAddress(value);
    if (a.kind !== 'tcp' || !/:\d+$/.test(value)) {
      throw new Error(`expected HOST:PORT, e.g. 127.0.0.1:9102, got ${JSON.stringify(value)}`);
    }
    return value;
  },
};

export const metricsSettings = [
  setting({
    key: 'statsdHost',
    section: 'metrics',
    flags: ['--statsd-host'],
    metavar: 'HOST:PORT',
    kind: hostPort,
    default: '',
    doc: "Send statsd metrics over UDP to this address (Gunicorn's names: `tsunicorn.requests`, `tsunicorn.request.duration`, …).",
  }),
  setting({
    key: 'statsdPrefix',
    section: 'metrics',
    flags: ['--statsd-prefix'],
    metavar: 'PREFIX',
    kind: string,
    default: '',
    doc: 'Prefix for every statsd metric name; a trailing dot is added when missing.',
  }),
  setting({
    key: 'dogstatsdTags',
    section: 'metrics',
    flags: ['--dogstatsd-tags'],
    metavar: 'TAGS',
    kind: string,
    default: '',
    doc: 'Comma-separated DogStatsD tags added to every statsd metric, e.g. `env:prod,app:shop`.',
  }),
  setting({
    key: 'metricsBind',
    section: 'metrics',
    flags: ['--metrics-bind'],
    metavar: 'HOST:PORT',
    kind: hostPort,
    default: '',
    doc: 'Serve Prometheus metrics on `http://HOST:PORT/metrics` from the master, summed over all workers. Off when unset.',
  }),
] as const;
