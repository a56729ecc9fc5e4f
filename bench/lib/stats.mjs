/** Small statistics and text plots for benchmark reports. */

/** Nearest-rank percentile of an ascending array (`p` in 0–100). */
export function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Latency figures in milliseconds, rounded to 0.01 ms. */
export function latencySummary(latencies) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const round = (v) => Math.round(v * 100) / 100;
  const mean = sorted.reduce((sum, v) => sum + v, 0) / (sorted.length || 1);
  return {
    count: sorted.length,
    minMs: round(sorted[0] ?? Number.NaN),
    meanMs: round(mean),
    p50Ms: round(percentile(sorted, 50)),
    p90Ms: round(percentile(sorted, 90)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted.at(-1) ?? Number.NaN),
  };
}

/** A bucket width of 1, 2 or 5 × 10^k giving about `buckets` buckets over `span`. */
function niceWidth(span, buckets) {
  const raw = span / buckets;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 5, 10].find((m) => m * magnitude >= raw) ?? 10) * magnitude;
}

const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/** A bar of `fraction` × `width` characters, to an eighth of a character. */
export function bar(fraction, width) {
  const eighths = Math.round(fraction * width * 8);
  return '█'.repeat(Math.floor(eighths / 8)) + EIGHTHS[eighths % 8];
}

/**
 * A latency histogram as text lines. Buckets span the fastest sample to the 99.5th
 * percentile, and one last bucket gathers the slow tail so it cannot squash the plot.
 * `span` ({ low, high }) sets that range instead, so that two histograms share their buckets.
 */
export function histogram(latencies, { buckets = 12, width = 40, unit = 'ms', span } = {}) {
  const sorted = [...latencies].sort((a, b) => a - b);
  if (sorted.length === 0) return ['  (no samples)'];
  const high = span?.high ?? percentile(sorted, 99.5);
  const first = Math.min(span?.low ?? sorted[0], sorted[0]);
  const step = niceWidth(Math.max(high - first, 1e-3), buckets);
  const low = Math.floor(first / step) * step;
  const count = Math.max(1, Math.ceil((high - low) / step));
  const counts = new Array(count + 1).fill(0);
  for (const v of sorted) counts[Math.min(count, Math.floor((v - low) / step))]++;
  if (counts[count] === 0) counts.pop();
  const digits = step >= 1 ? 0 : Math.ceil(-Math.log10(step));
  const label = (i) =>
    i === count
      ? `≥ ${(low + count * step).toFixed(digits)} ${unit}`
      : `${(low + i * step).toFixed(digits)}–${(low + (i + 1) * step).toFixed(digits)} ${unit}`;
  const labels = counts.map((_, i) => label(i));
  const labelWidth = Math.max(...labels.map((l) => l.length));
  const most = Math.max(...counts);
  return counts.map(
    (n, i) => `  ${labels[i].padStart(labelWidth)} │${bar(n / most, width).padEnd(width)} ${n}`,
  );
}

/** Rows of cells as aligned text: first column left-aligned, the others right-aligned. */
export function table(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => String(row[c]).length)));
  return rows.map((row) =>
    row
      .map((cell, c) => (c === 0 ? String(cell).padEnd(widths[c]) : String(cell).padStart(widths[c])))
      .join('   ')
      .trimEnd(),
  );
}

/**
 * Least-squares line y = intercept + slope·x through `points` ([x, y] pairs). With a single
 * distinct x, or when the best line would start below zero, the line goes through the origin.
 */
export function linearFit(points) {
  const n = points.length;
  const mx = points.reduce((sum, [x]) => sum + x, 0) / n;
  const my = points.reduce((sum, [, y]) => sum + y, 0) / n;
  const sxx = points.reduce((sum, [x]) => sum + (x - mx) ** 2, 0);
  if (sxx > 0) {
    const slope = points.reduce((sum, [x, y]) => sum + (x - mx) * (y - my), 0) / sxx;
    const intercept = my - slope * mx;
    if (intercept >= 0 && slope > 0) return { intercept, slope };
  }
  const slope = points.reduce((sum, [x, y]) => sum + x * y, 0) / points.reduce((sum, [x]) => sum + x * x, 0);
  return { intercept: 0, slope };
}

/** The smallest round number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k) at or above `value`. */
function niceCeil(value) {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const steps = [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10];
  return (steps.find((m) => m * magnitude >= value) ?? 10) * magnitude;
}

/**
 * Several series of points on one text grid, axes from 0. Each series has a `marker` for
 * its points and, when it has a `fit` ({ intercept, slope }), its fitted line drawn with
 * its `line` character. `limit` draws a horizontal rule (such as 100% of a core) when in range.
 */
export function scatterPlot(series, { width = 60, height = 16, xLabel = 'x', yLabel = 'y', limit } = {}) {
  const xs = series.flatMap((s) => s.points.map(([x]) => x));
  const ys = series.flatMap((s) => s.points.map(([, y]) => y));
  if (xs.length === 0) return ['  (no points)'];
  const xMax = niceCeil(Math.max(...xs, 1));
  const yMax = niceCeil(Math.max(...ys, 1) * 1.05);
  const grid = Array.from({ length: height }, () => new Array(width).fill(' '));
  const col = (x) => Math.round((x / xMax) * (width - 1));
  const row = (y) => height - 1 - Math.round((y / yMax) * (height - 1));
  if (limit !== undefined && limit.y <= yMax) grid[row(limit.y)].fill('┄');
  for (const s of series) {
    if (!s.fit) continue;
    for (let c = 0; c < width; c++) {
      const y = s.fit.intercept + s.fit.slope * ((c / (width - 1)) * xMax);
      if (y >= 0 && y <= yMax) grid[row(y)][c] = s.line;
    }
  }
  const markers = series.map((s) => s.marker);
  for (const s of series) {
    for (const [x, y] of s.points) {
      const cell = grid[row(y)];
      cell[col(x)] = markers.includes(cell[col(x)]) && cell[col(x)] !== s.marker ? '*' : s.marker;
    }
  }
  const yLabels = new Map([
    [0, String(yMax)],
    [Math.floor((height - 1) / 2), String(yMax / 2)],
    [height - 1, '0'],
  ]);
  if (limit !== undefined && limit.y <= yMax) yLabels.set(row(limit.y), `${limit.label} ${limit.y}`);
  const labelWidth = Math.max(yLabel.length, ...[...yLabels.values()].map((l) => l.length));
  const xTicks = `0${String(xMax).padStart(width - 1)}`;
  const legend = series.map((s) => `${s.marker} ${s.label}${s.fit ? ` (${s.line} fit)` : ''}`).join('   ');
  return [
    `  ${yLabel.padStart(labelWidth)}`,
    ...grid.map((cells, r) =>
      `  ${(yLabels.get(r) ?? '').padStart(labelWidth)} ┤${cells.join('')}`.trimEnd(),
    ),
    `  ${' '.repeat(labelWidth)} └${'─'.repeat(width)}`,
    `  ${' '.repeat(labelWidth)}  ${xTicks}`,
    `  ${' '.repeat(labelWidth)}  ${xLabel.padStart(Math.floor((width + xLabel.length) / 2))}`,
    `  ${legend}`,
  ];
}
