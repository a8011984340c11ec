import { describe, expect, it } from 'vitest';

import type { LoadedModel } from './api';
import { gpuModelLines } from './gpu_models';

function model(name: string, over: Partial<LoadedModel>): LoadedModel {
  return {
    name,
    size_bytes: 1,
    quantization: 'q4_0',
    state: 'loaded',
    pinned: false,
    unload_requested: false,
    load_ms: 1,
    load_count: 1,
    unload_count: 0,
    loaded_at: null,
    last_used: null,
    expires_at: null,
    keep_alive_seconds: 300,
    active_requests: 0,
    running_requests: 0,
    queued_requests: 0,
    kv_blocks_total: 1,
    kv_blocks_used: 0,
    kv_blocks_cached: 0,
    kv_usage: 0,
    steps: 0,
    prefix_cache_hits: 0,
    prefix_cache_misses: 0,
    prompt_tokens_computed: 0,
    prompt_tokens_cached: 0,
    generated_tokens: 0,
    ...over,
  };
}

describe('gpuModelLines', () => {
  it('lists the models with GPU layers, largest device memory first', () => {
    const lines = gpuModelLines([
      model('cpu-only', { gpu_layers: 0, gpu_bytes: 0, backend: 'cpu (avx2)' }),
      model('small', { gpu_layers: 1, gpu_bytes: 3 * 2 ** 20 }),
      model('big', { gpu_layers: 32, gpu_bytes: 4.5 * 2 ** 30 }),
      model('loading', { state: 'loading', gpu_layers: 0 }),
    ]);
    expect(lines).toEqual([
      { name: 'big', text: '32 layers · 4.5 GiB' },
      { name: 'small', text: '1 layer · 3 MiB' },
    ]);
  });

  it('is empty when nothing runs on a GPU (or the server predates gpu_bytes)', () => {
    expect(gpuModelLines([model('a', {})])).toEqual([]);
    expect(gpuModelLines([])).toEqual([]);
  });
});
