import assert from 'node:assert/strict';
import { request } from './server.ts';

/** Checks every line against the Prometheus text exposition format; returns the samples by series. */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const sample =
    /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|[Nn][Aa][Nn]|[+-]Inf)( \d+)?$/;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m = sample.exec(line);
    assert.ok(m, `not a Prometheus sample line: ${JSON.stringify(line)}`);
    samples.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return samples;
}

/** The total of a metric over all its labelled series. */
export function sum(samples: Map<string, number>, name: string): number {
  let total = 0;
  for (const [series, value] of samples) if (series === name || series.startsWith(`${name}{`)) total += value;
  return total;
}

/** The master's /metrics, checked as Prometheus text: the samples by series. */
export async function scrape(port: number): Promise<Map<string, number>> {
  const r = await request({ port }, '/metrics');
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  return parsePrometheus(r.body);
}
