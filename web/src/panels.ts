// The numbers around the charts: summary tiles, the latency and scheduler
// figures, cache meters, GPU state and the server facts. Pure rendering of
// one Snapshot (plus its derived Point); nothing here fetches.
import type { Timer } from './api';
import { describeCacheBackends, hitRate } from './derive';
import type { History, Point, Snapshot } from './derive';
import { byId, h, setMeter, setText } from './dom';
import { embeddingTile } from './embeddings';
import { gpuModelLines } from './gpu_models';
import {
  fmtBytes,
  fmtDuration,
  fmtMs,
  fmtNumber,
  fmtPercent,
  fmtRatio,
  fmtSig,
  kDash,
} from './format';

function peak(history: History, key: keyof Point): number | null {
  let m: number | null = null;
  for (const p of history.points) {
    const v = p[key];
    if (typeof v === 'number' && (m === null || v > m)) m = v;
  }
  return m;
}

function windowTimer(s: Snapshot, name: string): Timer | undefined {
  const t = s.perf.window[name];
  return typeof t === 'object' ? t : undefined;
}

function renderKpis(s: Snapshot, p: Point, history: History): void {
  const c = s.perf.counters;
  setText('kpi-requests', fmtNumber(c.llm_requests_total ?? 0));
  // "7 ok", then only the outcomes that happened: "7 ok · 1 failed".
  const outcomes: [string, number][] = [
    ['failed', c.llm_requests_failed ?? 0],
    ['cancelled', c.llm_requests_cancelled ?? 0],
    ['rejected', c.llm_requests_rejected ?? 0],
  ];
  const parts = [`${fmtNumber(c.llm_requests_ok ?? 0)} ok`];
  for (const [name, n] of outcomes) if (n > 0) parts.push(`${fmtNumber(n)} ${name}`);
  setText('kpi-requests-sub', parts.join(' · '));
  setText('kpi-rps', fmtSig(p.requestsPerSecond));
  setText('kpi-rps-sub', `peak ${fmtSig(peak(history, 'requestsPerSecond'))} in 5 min`);
  setText('kpi-tps', fmtSig(p.tokensPerSecond));
  setText('kpi-tps-sub', `${fmtNumber(c.generated_tokens_total ?? 0)} generated`);
  setText('kpi-running', `${p.running} · ${p.queued}`);
  setText('kpi-running-sub', `${fmtNumber(s.perf.gauges.loaded_models)} model(s) loaded`);
  setText('kpi-kv', fmtPercent(p.kvPercent));
  let used = 0;
  let total = 0;
  for (const m of s.models.loaded) {
    used += m.kv_blocks_used;
    total += m.kv_blocks_total;
  }
  setText('kpi-kv-sub', `${fmtNumber(used)} of ${fmtNumber(total)} blocks`);
  const embed = embeddingTile(s.perf);
  setText('kpi-embed', embed.value);
  setText('kpi-embed-sub', embed.sub);
  setText('kpi-uptime', fmtDuration(s.sys.uptime_seconds));
  setText('kpi-uptime-sub', `RSS ${fmtBytes(s.sys.process_rss_bytes)}`);
}

function renderSystem(s: Snapshot): void {
  const sys = s.sys;
  setText(
    'sys-sub',
    `${sys.cpu_count} CPUs · RAM ${fmtBytes(sys.memory_total_bytes)} · process ${fmtPercent(sys.process_cpu_percent)} CPU`,
  );
  // Per model: its offloaded layers and their device memory (weights + KV).
  // A model on the GPU means there is one, even where NVML is not loaded.
  const lines = gpuModelLines(s.models.loaded);
  const list = byId('gpu-models');
  list.hidden = lines.length === 0;
  list.replaceChildren(
    ...lines.map((l) => h('li', {}, h('span', { class: 'name', text: l.name }), h('span', { text: l.text }))),
  );
  const noNvml = !sys.gpu_available || (sys.gpu_utilization_percent === null && sys.gpu_memory_total_gb === null);
  const none = noNvml && lines.length === 0;
  byId('gpu-none').hidden = !none;
  byId('chart-gpu').hidden = noNvml;
  byId('card-gpu').dataset.gpu = none ? 'none' : 'present';
  if (noNvml) {
    setText('gpu-sub', none ? 'not available' : 'NVML not loaded');
  } else {
    const names = sys.gpus.map((g) => g.name).join(', ');
    setText(
      'gpu-sub',
      `${names} · ${fmtSig(sys.gpu_memory_reserved_gb)} / ${fmtSig(sys.gpu_memory_total_gb)} GiB` +
        (sys.gpu_memory_allocated_gb !== null ? ` (jarvis ${fmtSig(sys.gpu_memory_allocated_gb)} GiB)` : ''),
    );
  }
}

function renderTimings(s: Snapshot): void {
  const inf = windowTimer(s, 'llm_inference');
  const has = (t: Timer | undefined) => t !== undefined && t.count > 0;
  setText('lat-p50', has(inf) ? fmtMs(inf!.p50_ms) : kDash);
  setText('lat-p95', has(inf) ? fmtMs(inf!.p95_ms) : kDash);
  setText('lat-p99', has(inf) ? fmtMs(inf!.p99_ms) : kDash);
  setText('lat-success', has(inf) ? fmtRatio(inf!.success_rate) : kDash);
  const ttft = windowTimer(s, 'time_to_first_token');
  const tpot = windowTimer(s, 'time_per_output_token');
  const queue = windowTimer(s, 'queue_wait');
  setText('ttft-p50', has(ttft) ? fmtMs(ttft!.p50_ms) : kDash);
  setText('ttft-p95', has(ttft) ? fmtMs(ttft!.p95_ms) : kDash);
  setText('tpot-p50', has(tpot) ? fmtMs(tpot!.p50_ms) : kDash);
  setText('queue-p95', has(queue) ? fmtMs(queue!.p95_ms) : kDash);
}

function renderScheduler(p: Point): void {
  setText('sch-running', String(p.running));
  setText('sch-queued', String(p.queued));
  setText('sch-batch', fmtSig(p.batchTokens));
  setText('sch-seqs', fmtSig(p.batchSequences));
  setMeter('kv-bar', p.kvPercent / 100);
  setText('kv-text', fmtPercent(p.kvPercent));
}

function renderCaches(s: Snapshot): void {
  const rc = s.models.response_cache;
  const rcRate = hitRate(rc.hits, rc.misses);
  setMeter('rc-bar', rcRate);
  setText('rc-rate', rc.enabled ? fmtRatio(rcRate) : 'off');
  setText(
    'rc-detail',
    rc.enabled
      ? `${fmtNumber(rc.hits)} hits · ${fmtNumber(rc.misses)} misses · ${fmtNumber(rc.entries)} entries · ` +
          `${fmtBytes(rc.bytes)} of ${fmtBytes(rc.capacity_bytes)} · TTL ${fmtDuration(rc.ttl_seconds)}`
      : 'disabled (--cache-ttl 0)',
  );
  setText('rc-backends', describeCacheBackends(rc.backends));
  const c = s.perf.counters;
  const pcRate = hitRate(c.prefix_cache_hits, c.prefix_cache_misses);
  setMeter('pc-bar', pcRate);
  setText('pc-rate', fmtRatio(pcRate));
  const prompt = c.prompt_tokens_total ?? 0;
  const cached = c.prompt_tokens_cached_total ?? 0;
  setText(
    'pc-detail',
    `${fmtNumber(c.prefix_cache_hits ?? 0)} hits · ${fmtNumber(c.prefix_cache_misses ?? 0)} misses · ` +
      `${fmtNumber(cached)} of ${fmtNumber(prompt)} prompt tokens reused` +
      (prompt > 0 ? ` (${fmtPercent((100 * cached) / prompt)})` : ''),
  );
}

let factsKey = '';

function renderServer(s: Snapshot): void {
  const b = s.sys.build;
  const l = s.models.limits;
  const facts: [string, string][] = [
    ['version', b ? `${b.version} (${b.commit})` : kDash],
    ['backend', b ? `${b.backend} · ${b.kernel_isa} kernels` : kDash],
    ['CPU features', b?.cpu_features || kDash],
    ['compiler', b?.compiler ?? kDash],
    ['default model', s.models.default_model],
    ['max loaded models', String(l.max_loaded_models)],
    ['memory budget', l.memory_budget_bytes > 0 ? fmtBytes(l.memory_budget_bytes) : 'none'],
    ['loaded bytes', fmtBytes(l.loaded_bytes)],
    ['keep-alive', l.default_keep_alive_seconds < 0 ? 'forever' : fmtDuration(l.default_keep_alive_seconds)],
    ['model loads', `${fmtNumber(s.perf.counters.model_loads_total ?? 0)} (p50 ${fmtMs(s.perf.model_load?.p50_ms)})`],
  ];
  const key = JSON.stringify(facts);
  if (key !== factsKey) {
    factsKey = key;
    byId('server-facts').replaceChildren(...facts.flatMap(([k, v]) => [h('dt', { text: k }), h('dd', { text: v })]));
  }
  setText('server-sub', s.sys.system_uptime_seconds !== null ? `machine up ${fmtDuration(s.sys.system_uptime_seconds)}` : '');
  setText('build-meta', b ? `${b.version} · ${b.backend}/${b.kernel_isa} · ${s.sys.cpu_count} CPUs` : '');
}

export function renderPanels(s: Snapshot, p: Point, history: History): void {
  renderKpis(s, p, history);
  renderSystem(s);
  renderTimings(s);
  renderScheduler(p);
  renderCaches(s);
  renderServer(s);
  setText(
    'models-sub',
    `${s.models.loaded.length} of max ${s.models.limits.max_loaded_models} resident · most recently used first`,
  );
}
