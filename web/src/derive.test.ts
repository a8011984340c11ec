import { describe, expect, it } from 'vitest';

import type { ModelsStats, PerformanceStats, SystemMetrics, Timer } from './api';
import { derivePoint, describeCacheBackends, hitRate, History, intervalMean, ratePerSecond, secondsUntil, windowValue } from './derive';
import type { Snapshot } from './derive';

const timer = (count: number, p50: number): Timer => ({
  avg_ms: p50,
  min_ms: p50,
  max_ms: p50,
  p50_ms: p50,
  p95_ms: 2 * p50,
  p99_ms: 3 * p50,
  count,
  success_rate: 1,
});

function snapshot(at: number, requests: number, tokens: number, steps: number, avgBatch: number): Snapshot {
  const perf: PerformanceStats = {
    counters: { llm_requests_total: requests, generated_tokens_total: tokens },
    gauges: { running_requests: 1, waiting_requests: 2, kv_cache_usage: 0.25, loaded_models: 1 },
    histograms: {
      batch_tokens: { avg: avgBatch, min: 1, max: 9, p50: 1, p95: 9, p99: 9, count: steps },
    },
    window: { seconds: 300, llm_inference: timer(requests, 40) },
    system: { cpu_percent: 10, memory_percent: 50, gpu_memory_allocated_gb: null, gpu_memory_reserved_gb: null },
    uptime_seconds: at,
  };
  const sys = {
    cpu_percent: 10,
    process_cpu_percent: 5,
    memory_percent: 50,
    gpu_memory_reserved_gb: null,
    gpu_memory_total_gb: null,
    gpu_utilization_percent: null,
  } as unknown as SystemMetrics;
  return { at, perf, sys, models: {} as ModelsStats };
}

describe('derive', () => {
  it('turns counter deltas into per-second rates', () => {
    expect(ratePerSecond(10, 16, 2)).toBe(3);
    expect(ratePerSecond(undefined, 16, 2)).toBeNull();
    expect(ratePerSecond(16, 10, 2)).toBeNull(); // server restarted
    expect(ratePerSecond(1, 2, 0)).toBeNull();
  });

  it('takes the mean of the samples a histogram got between polls', () => {
    // 4 steps averaging 2, then 2 more steps of 8 each: (4*2 + 16) / 6 = 4.
    const prev = { avg: 2, min: 1, max: 3, p50: 2, p95: 3, p99: 3, count: 4 };
    const cur = { ...prev, avg: 4, count: 6 };
    expect(intervalMean(prev, cur)).toBeCloseTo(8);
    expect(intervalMean(cur, cur)).toBe(0);
    expect(intervalMean(undefined, cur)).toBeNull();
  });

  it('computes hit rates and window values', () => {
    expect(hitRate(3, 1)).toBe(0.75);
    expect(hitRate(0, 0)).toBeNull();
    expect(windowValue(timer(0, 0), 'p50_ms')).toBeNull();
    expect(windowValue(timer(5, 12), 'p99_ms')).toBe(36);
  });

  it('derives one chart point from two polls', () => {
    const a = snapshot(100, 10, 200, 50, 3);
    const b = snapshot(102, 14, 260, 60, 4); // 10 new steps: (60*4 - 50*3) / 10 = 9 tokens/step
    const p = derivePoint(a, b, 1700000000);
    expect(p.requestsPerSecond).toBe(2);
    expect(p.tokensPerSecond).toBe(30);
    expect(p.batchTokens).toBeCloseTo(9);
    expect(p.latencyP95).toBe(80);
    expect(p.kvPercent).toBe(25);
    expect(p.gpuUtil).toBeNull();
    expect(derivePoint(undefined, b, 0).requestsPerSecond).toBeNull();
  });

  it('counts keep-alive down from the server time', () => {
    const now = Date.parse('2025-01-31T12:00:00.000Z');
    expect(secondsUntil('2025-01-31T12:01:30.000Z', now)).toBe(90);
    expect(secondsUntil('2025-01-31T11:00:00.000Z', now)).toBe(0);
    expect(secondsUntil(null, now)).toBeNull();
  });

  it('keeps a bounded history in uPlot column order', () => {
    const h = new History(2);
    for (let i = 0; i < 3; ++i) h.push(derivePoint(undefined, snapshot(i, 0, 0, 0, 0), i));
    expect(h.columns(['running', 'queued'])).toEqual([
      [1, 2],
      [1, 1],
      [2, 2],
    ]);
  });
});

describe('describeCacheBackends', () => {
  it('says nothing for the local cache alone', () => {
    expect(describeCacheBackends(undefined)).toBe('');
    expect(describeCacheBackends({ local: { hits: 1, misses: 2, errors: 0 } })).toBe('');
  });
  it('lists each level with its hits and trouble', () => {
    expect(
      describeCacheBackends({
        local: { hits: 3, misses: 2, errors: 0 },
        redis: { hits: 1, misses: 1, errors: 4, connected: false, endpoint: 'redis://h:6379/0' },
      }),
    ).toBe('local 3/5 hits · redis 1/2 hits (down, 4 errors)');
    expect(describeCacheBackends({ local: { hits: 0, misses: 1, errors: 0 }, redis: { hits: 1, misses: 0, errors: 0, connected: true } })).toBe(
      'local 0/1 hits · redis 1/1 hits',
    );
  });
});
