// The server's JSON documents as the dashboard reads them (field reference:
// docs/API.md) and one fetch helper that adds the API key when one is set.
// Every figure the server cannot measure is null, so the types say so.

export interface Timer {
  avg_ms: number;
  min_ms: number;
  max_ms: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  count: number;
  success_rate: number;
}

export interface Histogram {
  avg: number;
  min: number;
  max: number;
  p50: number;
  p95: number;
  p99: number;
  count: number;
}

export interface PerformanceStats {
  llm_inference?: Timer;
  time_to_first_token?: Timer;
  time_per_output_token?: Timer;
  queue_wait?: Timer;
  model_load?: Timer;
  scheduler_step?: Timer;
  counters: Record<string, number>;
  gauges: {
    running_requests: number;
    waiting_requests: number;
    kv_cache_usage: number;
    loaded_models: number;
  };
  histograms: Record<string, Histogram | undefined>;
  window: Record<string, Timer | number | undefined> & { seconds: number };
  system: {
    cpu_percent: number | null;
    memory_percent: number | null;
    gpu_memory_allocated_gb: number | null;
    gpu_memory_reserved_gb: number | null;
  };
  uptime_seconds: number;
}

export interface GpuInfo {
  index: number;
  name: string;
  memory_total_gb: number;
  memory_used_gb: number;
  memory_free_gb: number;
  process_memory_gb: number | null;
  utilization_percent: number | null;
  memory_utilization_percent: number | null;
  temperature_c: number | null;
}

export interface SystemMetrics {
  cpu_count: number;
  cpu_percent: number | null;
  process_cpu_percent: number | null;
  memory_percent: number | null;
  memory_total_bytes: number | null;
  memory_available_bytes: number | null;
  process_rss_bytes: number | null;
  uptime_seconds: number;
  system_uptime_seconds: number | null;
  gpu_available: boolean;
  gpu_memory_allocated_gb: number | null;
  gpu_memory_reserved_gb: number | null;
  gpu_memory_total_gb: number | null;
  gpu_utilization_percent: number | null;
  gpus: GpuInfo[];
  build?: {
    version: string;
    commit: string;
    backend: string;
    kernel_isa: string;
    cpu_features: string;
    compiler: string;
  };
}

export interface LoadedModel {
  name: string;
  size_bytes: number;
  quantization: string;
  state: 'loaded' | 'loading';
  pinned: boolean;
  unload_requested: boolean;
  load_ms: number;
  load_count: number;
  unload_count: number;
  loaded_at: string | null;
  last_used: string | null;
  expires_at: string | null;
  keep_alive_seconds: number;
  active_requests: number;
  running_requests: number;
  queued_requests: number;
  kv_blocks_total: number;
  kv_blocks_used: number;
  kv_blocks_cached: number;
  kv_usage: number;
  steps: number;
  prefix_cache_hits: number;
  prefix_cache_misses: number;
  prompt_tokens_computed: number;
  prompt_tokens_cached: number;
  generated_tokens: number;
  // KV pool exhaustion since this load: sequences preempted, tokens recomputed on resuming.
  preemptions?: number;
  recomputed_tokens?: number;
  // Where the model runs: "cpu (amx)" or the GPU offload's description;
  // absent while loading.
  backend?: string | null;
  gpu_layers?: number;
  // Device memory its GPU offload holds (weights + KV); 0 on the CPU.
  gpu_bytes?: number;
}

export interface AvailableModel {
  name: string;
  path: string;
  size_bytes: number;
  digest: string;
  architecture: string;
  quantization: string;
  parameters: number;
  loaded: boolean;
}

export interface ModelsStats {
  loaded: LoadedModel[];
  available: AvailableModel[];
  default_model: string;
  limits: {
    max_loaded_models: number;
    memory_budget_bytes: number;
    loaded_bytes: number;
    over_limit_loads: number;
    default_keep_alive_seconds: number;
  };
  response_cache: {
    enabled: boolean;
    hits: number;
    misses: number;
    hit_rate: number;
    insertions: number;
    evictions: number;
    expirations: number;
    rejected: number;
    entries: number;
    bytes: number;
    capacity_bytes: number;
    ttl_seconds: number;
    // Per level: "local" always, "redis" with --cache-url (servers before it: absent).
    backends?: Record<string, CacheBackend>;
  };
}

/** One level of the response cache; a Redis miss includes lookups skipped while it is down. */
export interface CacheBackend {
  hits: number;
  misses: number;
  errors: number;
  connected?: boolean; // redis only
  endpoint?: string; // redis only, without credentials
}

/** An HTTP answer other than 2xx, with the server's JSON error message when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const kKeyStorage = 'jarvis.apiKey';

export function apiKey(): string {
  try {
    return localStorage.getItem(kKeyStorage) ?? '';
  } catch {
    return ''; // storage disabled (private mode): no key
  }
}

export function setApiKey(key: string): void {
  try {
    if (key) localStorage.setItem(kKeyStorage, key);
    else localStorage.removeItem(kKeyStorage);
  } catch {
    // storage disabled: the key lives only as long as the page
  }
}

export function authHeaders(extra: Record<string, string> = {}): Record<string, string> {
  const key = apiKey();
  return key ? { ...extra, Authorization: `Bearer ${key}` } : extra;
}

/** The server's error message out of {"error":{"message"}}, or the status text. */
export async function errorOf(response: Response): Promise<ApiError> {
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = (await response.json()) as { error?: { message?: string } };
    if (body.error?.message) message = body.error.message;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(response.status, message);
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const response = await fetch(path, { headers: authHeaders(), cache: 'no-store', signal });
  if (!response.ok) throw await errorOf(response);
  return (await response.json()) as T;
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  const response = await fetch(path, {
    method: 'POST',
    headers: authHeaders({ 'Content-Type': 'application/json' }),
    body: JSON.stringify(body),
  });
  if (!response.ok) throw await errorOf(response);
  return (await response.json()) as T;
}
