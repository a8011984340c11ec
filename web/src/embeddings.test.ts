import { describe, expect, it } from 'vitest';

import type { PerformanceStats } from './api';
import { embeddingTile } from './embeddings';

function perf(counters: Record<string, number>, p50: number | null): PerformanceStats {
  const timer = { avg_ms: 1, min_ms: 1, max_ms: 1, p50_ms: p50 ?? 0, p95_ms: 1, p99_ms: 1, count: p50 === null ? 0 : 3, success_rate: 1 };
  return {
    counters,
    gauges: { running_requests: 0, waiting_requests: 0, kv_cache_usage: 0, loaded_models: 1 },
    histograms: {},
    window: { seconds: 300, embedding_request: timer },
    system: { cpu_percent: null, memory_percent: null, gpu_memory_allocated_gb: null, gpu_memory_reserved_gb: null },
    uptime_seconds: 1,
  };
}

describe('embeddingTile', () => {
  it('says none yet before the first request', () => {
    expect(embeddingTile(perf({}, null))).toEqual({ value: '0', sub: 'none yet' });
  });

  it('counts requests, inputs and tokens and shows the window median', () => {
    const t = embeddingTile(
      perf({ embedding_requests_total: 3, embedding_inputs_total: 1200, embedding_tokens_total: 45000 }, 12.5),
    );
    expect(t.value).toBe('3');
    expect(t.sub).toContain('1,200 inputs');
    expect(t.sub).toContain('45,000 tokens');
    expect(t.sub).toContain('p50 12.5 ms');
  });

  it('shows a dash when no request finished in the window', () => {
    expect(embeddingTile(perf({ embedding_requests_total: 2 }, null)).sub).toContain('p50 —');
  });
});
