// Medians, the printed tables (Markdown, so docs/performance.md can take them as they are) and the SVG chart.

export function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const MB = 1024 * 1024;

/** One row per (scenario, contender) from the per-round samples. */
export function summarise(samples, contenders, scenarios, referenceId) {
  const rows = [];
  for (const scenario of scenarios) {
    const reference = median(
      samples.filter((s) => s.scenario === scenario.name && s.contender === referenceId).map((s) => s.rps),
    );
    for (const contender of contenders) {
      const mine = samples.filter((s) => s.scenario === scenario.name && s.contender === contender.id);
      if (mine.length === 0) continue;
      const ok = mine.filter((s) => !s.failed);
      const rps = median(ok.map((s) => s.rps));
      rows.push({
        scenario: scenario.name,
        contender: contender.id,
        label: contender.label,
        rounds: ok.length,
        failed: mine.length - ok.length,
        failure: mine.find((s) => s.failed)?.failed,
        rps,
        p50Ms: median(ok.map((s) => s.p50Ms)),
        p99Ms: median(ok.map((s) => s.p99Ms)),
        errors: ok.reduce((sum, s) => sum + s.errors, 0),
        requests: ok.reduce((sum, s) => sum + s.requests, 0),
        rssTotalMB: median(ok.map((s) => s.rss.total / MB)),
        rssPerWorkerMB: median(ok.map((s) => perWorker(s.rss) / MB)),
        procs: Math.max(0, ...ok.map((s) => 1 + s.rss.workers.length)),
        split: ok.at(-1)?.split ?? [],
        ratio: Number.isFinite(reference) && reference > 0 ? rps / reference : Number.NaN,
      });
    }
  }
  return rows;
}

/** The workers' mean RSS; a single-process server is its own worker. */
function perWorker(rss) {
  return rss.workers.length > 0 ? rss.workers.reduce((a, b) => a + b, 0) / rss.workers.length : rss.root;
}

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const fmt = {
  rps: (v) => (Number.isFinite(v) ? int.format(v) : '—'),
  ms: (v) =>
    Number.isFinite(v) ? `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ms` : '—',
  mb: (v) => (Number.isFinite(v) ? `${v.toFixed(0)} MB` : '—'),
  ratio: (v) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : '—'),
};

function table(header, rows, align) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) =>
    `| ${cells.map((c, i) => (align[i] === 'r' ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (align[i] === 'r' ? `${'-'.repeat(w + 1)}:` : `:${'-'.repeat(w + 1)}`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

export function renderTables(result) {
  const out = [];
  for (const scenario of result.scenarios) {
    const rows = result.summary.filter((r) => r.scenario === scenario.name);
    if (rows.length === 0) continue;
    out.push(`### ${scenario.name} — ${scenario.describe}`, '');
    out.push(
      table(
        [
          'contender',
          'req/s',
          '× cluster rr',
          'p50',
          'p99',
          'errors',
          'RSS total',
          'RSS/worker',
          'procs',
          'conns',
        ],
        rows.map((r) =>
          r.rounds === 0
            ? [r.label, 'failed', '—', '—', '—', '—', '—', '—', '—', '—']
            : [
                r.label,
                fmt.rps(r.rps),
                fmt.ratio(r.ratio),
                fmt.ms(r.p50Ms),
                fmt.ms(r.p99Ms),
                int.format(r.errors),
                fmt.mb(r.rssTotalMB),
                fmt.mb(r.rssPerWorkerMB),
                String(r.procs),
                r.split.length > 0 ? r.split.join('/') : '—',
              ],
        ),
        ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      ),
      '',
    );
    const single = rows.find((r) => r.contender === 'node-single');
    if (scenario.paceRps && Number.isFinite(single?.p99Ms)) {
      const others = rows.filter((r) => r !== single && r.rounds > 0);
      out.push(
        `p99 against node single process at this rate: ${others.map((r) => `${r.label} ${fmt.ratio(r.p99Ms / single.p99Ms)}`).join(', ')}`,
        '',
      );
    }
    const failed = rows.filter((r) => r.failed > 0);
    for (const r of failed) out.push(`- ${r.label}: ${r.failed} round(s) failed: ${r.failure}`);
    if (failed.length > 0) out.push('');
  }
  const started = result.contenders.filter((c) => c.readyMs.length > 0);
  if (started.length > 0) {
    out.push('### startup — spawn to first 200 answer (median)', '');
    out.push(
      table(
        ['contender', 'first answer'],
        started.map((c) => [c.label, fmt.ms(median(c.readyMs))]),
        ['l', 'r'],
      ),
      '',
    );
  }
  const skipped = result.contenders.filter((c) => c.skipped);
  if (skipped.length > 0) {
    out.push('Skipped:', ...skipped.map((c) => `- ${c.label}: ${c.skipped}`), '');
  }
  return out.join('\n');
}

function escapeXml(text) {
  return String(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

const COLORS = { tsunicorn: '#d9480f', node: '#1c7ed6', peer: '#868e96' };

/** Horizontal bars of req/s, one block per scenario, each bar scaled to that scenario's fastest. */
export function renderSvg(result) {
  const width = 960;
  const labelW = 230;
  const valueW = 260;
  const barMax = width - labelW - valueW - 20;
  const barH = 16;
  const gap = 4;
  const parts = [];
  let y = 74;
  for (const scenario of result.scenarios) {
    const rows = result.summary.filter((r) => r.scenario === scenario.name && Number.isFinite(r.rps));
    if (rows.length === 0) continue;
    const top = Math.max(...rows.map((r) => r.rps));
    parts.push(
      `<text x="10" y="${y + 14}" class="h">${escapeXml(`${scenario.name} — ${scenario.describe}`)}</text>`,
    );
    y += 24;
    for (const r of rows) {
      const family = result.contenders.find((c) => c.id === r.contender)?.family ?? 'peer';
      const w = Math.max(1, Math.round((r.rps / top) * barMax));
      parts.push(
        `<text x="${labelW - 8}" y="${y + 12}" class="l">${escapeXml(r.label)}</text>`,
        `<rect x="${labelW}" y="${y}" width="${w}" height="${barH}" fill="${COLORS[family]}"/>`,
        `<text x="${labelW + w + 6}" y="${y + 12}" class="v">${escapeXml(`${fmt.rps(r.rps)} req/s · ${fmt.ratio(r.ratio)} · p99 ${fmt.ms(r.p99Ms)}`)}</text>`,
      );
      y += barH + gap;
    }
    y += 14;
  }
  const s = result.settings;
  const m = result.machine;
  const title = `tsunicorn bench — req/s (median of ${s.rounds}), ${s.connections} connections, ${s.workers} workers, ${s.loadTool}`;
  const subtitle = `${m.cpus} × ${m.cpuModel} · Node ${m.node} · ${m.generatedAt} · × = ratio to node cluster (rr)`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 10}" viewBox="0 0 ${width} ${y + 10}" font-family="system-ui, sans-serif">`,
    '<style>.t{font-size:15px;font-weight:600}.s{font-size:11px;fill:#555}.h{font-size:13px;font-weight:600}.l{font-size:12px;text-anchor:end}.v{font-size:11px;fill:#333}</style>',
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="22" class="t">${escapeXml(title)}</text>`,
    `<text x="10" y="40" class="s">${escapeXml(subtitle)}</text>`,
    ...Object.entries({
      tsunicorn: 'tsunicorn',
      node: 'node (single, cluster, reusePort)',
      peer: 'other servers',
    }).map(
      ([family, text], i) =>
        `<rect x="${10 + i * 260}" y="50" width="12" height="12" fill="${COLORS[family]}"/><text x="${28 + i * 260}" y="60" class="s">${escapeXml(text)}</text>`,
    ),
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
