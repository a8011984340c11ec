// Pure derivations from two consecutive polls of the monitoring API: the
// server reports lifetime counters, histograms and 5-minute-window
// percentiles; the charts want per-second rates and the mean of the last
// interval. No DOM here (unit-tested in derive.test.ts).
import type { CacheBackend, Histogram, ModelsStats, PerformanceStats, SystemMetrics, Timer } from './api';

/** One poll of the three JSON documents; `at` is the client's clock in seconds when all three had arrived. */
export interface Snapshot {
  at: number;
  perf: PerformanceStats;
  sys: SystemMetrics;
  models: ModelsStats;
}

/** One x position of every chart. null: unknown or not measurable (a gap in the line). */
export interface Point {
  t: number; // unix seconds, for the time axis
  cpu: number | null;
  processCpu: number | null;
  memory: number | null;
  gpuUtil: number | null;
  gpuMemory: number | null; // used / total, percent
  latencyP50: number | null; // end-to-end, ms, over the server's 5-minute window
  latencyP95: number | null;
  latencyP99: number | null;
  ttftP50: number | null;
  ttftP95: number | null;
  tpotP50: number | null;
  requestsPerSecond: number | null;
  tokensPerSecond: number | null;
  running: number;
  queued: number;
  batchTokens: number | null; // mean tokens per scheduler step during the interval (0 when idle)
  batchSequences: number | null;
  kvPercent: number;
}

/** "local 3/5 hits · redis 1/2 hits (down, 4 errors)": the response cache per level; '' when it has one level only. */
export function describeCacheBackends(backends: Record<string, CacheBackend> | undefined): string {
  if (!backends || Object.keys(backends).length < 2) return '';
  return Object.entries(backends)
    .map(([name, b]) => {
      const notes = [b.connected === false ? 'down' : '', b.errors > 0 ? `${b.errors} errors` : ''].filter(Boolean);
      return `${name} ${b.hits}/${b.hits + b.misses} hits` + (notes.length ? ` (${notes.join(', ')})` : '');
    })
    .join(' · ');
}

/** Increase per second of a monotonic counter; null on the first poll, a counter reset or no time passed. */
export function ratePerSecond(prev: number | undefined, cur: number | undefined, seconds: number): number | null {
  if (prev === undefined || cur === undefined || !(seconds > 0) || cur < prev) return null;
  return (cur - prev) / seconds;
}

/**
 * Mean of the samples a histogram received between two polls (sum = avg * count).
 * 0 when it received none (an idle scheduler runs no steps), null without a previous poll.
 */
export function intervalMean(prev: Histogram | undefined, cur: Histogram | undefined): number | null {
  if (!prev || !cur) return null;
  const n = cur.count - prev.count;
  if (n < 0) return null; // restarted server
  if (n === 0) return 0;
  const mean = (cur.avg * cur.count - prev.avg * prev.count) / n;
  return Math.max(0, mean);
}

/** hits / (hits + misses); null before the first lookup. */
export function hitRate(hits: number | undefined, misses: number | undefined): number | null {
  const h = hits ?? 0;
  const total = h + (misses ?? 0);
  return total > 0 ? h / total : null;
}

/** A window percentile, or null when the window holds no sample (the server reports 0 then). */
export function windowValue(timer: Timer | number | undefined, field: 'p50_ms' | 'p95_ms' | 'p99_ms'): number | null {
  if (timer === undefined || typeof timer === 'number' || timer.count === 0) return null;
  return timer[field];
}

export function derivePoint(prev: Snapshot | undefined, cur: Snapshot, unixSeconds: number): Point {
  const { perf, sys } = cur;
  const dt = prev ? cur.at - prev.at : 0;
  const counter = (s: Snapshot | undefined, name: string) => s?.perf.counters[name];
  const gpuMemory =
    sys.gpu_memory_reserved_gb !== null && sys.gpu_memory_total_gb !== null && sys.gpu_memory_total_gb > 0
      ? (100 * sys.gpu_memory_reserved_gb) / sys.gpu_memory_total_gb
      : null;
  const w = perf.window;
  return {
    t: unixSeconds,
    cpu: sys.cpu_percent,
    processCpu: sys.process_cpu_percent,
    memory: sys.memory_percent,
    gpuUtil: sys.gpu_utilization_percent,
    gpuMemory,
    latencyP50: windowValue(w.llm_inference, 'p50_ms'),
    latencyP95: windowValue(w.llm_inference, 'p95_ms'),
    latencyP99: windowValue(w.llm_inference, 'p99_ms'),
    ttftP50: windowValue(w.time_to_first_token, 'p50_ms'),
    ttftP95: windowValue(w.time_to_first_token, 'p95_ms'),
    tpotP50: windowValue(w.time_per_output_token, 'p50_ms'),
    requestsPerSecond: ratePerSecond(counter(prev, 'llm_requests_total'), counter(cur, 'llm_requests_total'), dt),
    tokensPerSecond: ratePerSecond(
      counter(prev, 'generated_tokens_total'),
      counter(cur, 'generated_tokens_total'),
      dt,
    ),
    running: perf.gauges.running_requests,
    queued: perf.gauges.waiting_requests,
    batchTokens: intervalMean(prev?.perf.histograms.batch_tokens, perf.histograms.batch_tokens),
    batchSequences: intervalMean(prev?.perf.histograms.batch_sequences, perf.histograms.batch_sequences),
    kvPercent: 100 * perf.gauges.kv_cache_usage,
  };
}

/**
 * Seconds until a keep-alive expiry, from the server's RFC 3339 time and the
 * client's clock; null when the model has no expiry (busy, pinned or kept forever).
 */
export function secondsUntil(iso: string | null, nowMs: number): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return null;
  return Math.max(0, (t - nowMs) / 1000);
}

/** Keeps at most `capacity` points, dropping the oldest. */
export class History {
  readonly points: Point[] = [];
  constructor(readonly capacity: number) {}

  push(p: Point): void {
    this.points.push(p);
    if (this.points.length > this.capacity) this.points.splice(0, this.points.length - this.capacity);
  }

  /** Columns in uPlot's layout: [x values, series 1 values, ...]. */
  columns(keys: readonly (keyof Point)[]): (number | null)[][] {
    return [this.points.map((p) => p.t), ...keys.map((k) => this.points.map((p) => p[k]))];
  }

  clear(): void {
    this.points.length = 0;
  }
}
