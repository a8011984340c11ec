// The Embeddings tile: requests served by /v1/embeddings, /api/embed and
// /api/embeddings (response-cache hits included), and below them the inputs
// and tokens embedded and the median latency of the last 5 minutes.
import type { PerformanceStats, Timer } from './api';
import { fmtMs, fmtNumber, kDash } from './format';

export interface EmbeddingTile {
  value: string;
  sub: string;
}

export function embeddingTile(perf: PerformanceStats): EmbeddingTile {
  const c = perf.counters;
  const requests = c.embedding_requests_total ?? 0;
  if (requests === 0) return { value: '0', sub: 'none yet' };
  const w = perf.window.embedding_request;
  const p50 = typeof w === 'object' && (w as Timer).count > 0 ? fmtMs((w as Timer).p50_ms) : kDash;
  return {
    value: fmtNumber(requests),
    sub: `${fmtNumber(c.embedding_inputs_total ?? 0)} inputs · ${fmtNumber(c.embedding_tokens_total ?? 0)} tokens · p50 ${p50}`,
  };
}
