/**
 * A statsd client over UDP with Gunicorn's metric names. Packets are fire-and-forget: a statsd daemon that is
 * down must never slow a request or fill the error log.
 */
import { createSocket, type Socket } from 'node:dgram';
import { parseAddress } from '../sockets/address.js';
import { onLog } from './logger.js';

export interface StatsdOptions {
  /** `HOST:PORT`. */
  readonly host: string;
  readonly prefix: string;
  /** DogStatsD tags, `k:v,k2:v2`; empty for none. */
  readonly tags: string;
}

export class Statsd {
  readonly #socket: Socket;
  readonly #host: string;
  readonly #port: number;
  readonly #prefix: string;
  readonly #suffix: string;
  readonly #stopLogCounting: () => void;

  constructor(options: StatsdOptions) {
    const a = parseAddress(options.host);
    if (a.kind !== 'tcp') throw new Error(`--statsd-host needs HOST:PORT, got ${options.host}`);
    this.#host = a.host;
    this.#port = a.port;
    this.#socket = createSocket(a.host.includes(':') ? 'udp6' : 'udp4');
    this.#socket.on('error', () => {});
    this.#socket.unref();
    // Gunicorn joins the prefix with a dot: `app` and `app.` both give `app.tsunicorn.requests`.
    this.#prefix = options.prefix ? `${options.prefix.replace(/\.+$/, '')}.` : '';
    this.#suffix = options.tags ? `|#${options.tags}` : '';
    this.#stopLogCounting = onLog((level, exception) => {
      if (exception) this.increment('tsunicorn.log.exception');
      else if (level === 'critical' || level === 'error' || level === 'warning') {
        this.increment(`tsunicorn.log.${level}`);
      }
    });
  }

  #send(name: string, value: number, type: 'c' | 'g' | 'ms' | 'h'): void {
    const packet = Buffer.from(`${this.#prefix}${name}:${value}|${type}${this.#suffix}`);
    this.#socket.send(packet, this.#port, this.#host, () => {});
  }

  increment(name: string, value = 1): void {
    this.#send(name, value, 'c');
  }

  gauge(name: string, value: number): void {
    this.#send(name, value, 'g');
  }

  /** Gunicorn sends request durations as timers, in milliseconds. */
  timing(name: string, ms: number): void {
    this.#send(name, Math.round(ms * 1000) / 1000, 'ms');
  }

  /** A finished request: `tsunicorn.requests`, `tsunicorn.request.duration`, `tsunicorn.request.status.NNN`. */
  request(status: number, durationMs: number): void {
    this.timing('tsunicorn.request.duration', durationMs);
    this.increment('tsunicorn.requests');
    this.increment(`tsunicorn.request.status.${status}`);
  }

  close(): void {
    this.#stopLogCounting();
    this.#socket.close();
  }
}
