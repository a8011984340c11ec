// The System Monitor page: polls the three monitoring documents once a second
// (never two polls at once), keeps 5 minutes of derived points, and redraws
// the charts, panels, models table and playground model list from them.
import './style.css';
import './panels.css';

import { ApiError, getJson, setApiKey } from './api';
import type { ModelsStats, PerformanceStats, SystemMetrics } from './api';
import { TimeChart, kSpanSeconds } from './chart';
import type { ChartSpec } from './chart';
import { derivePoint, History } from './derive';
import type { Snapshot } from './derive';
import { byId, setText } from './dom';
import { fmtMs, fmtSig } from './format';
import { ModelsTable } from './models';
import { renderPanels } from './panels';
import { Playground } from './playground';
import { initTheme } from './theme';

const kPollMs = 1000;

const history = new History(kSpanSeconds + 5);
const pct = (v: number) => `${fmtSig(v)}%`;
const perSecond = (v: number) => `${fmtSig(v)}/s`;

const chartSpecs: [string, ChartSpec][] = [
  [
    'chart-system',
    {
      series: [
        { key: 'cpu', label: 'CPU', color: '--c1', fill: true },
        { key: 'memory', label: 'RAM', color: '--c2' },
        { key: 'processCpu', label: 'jarvis CPU', color: '--c4', dash: [4, 3] },
      ],
      format: pct,
      max: 100,
    },
  ],
  [
    'chart-gpu',
    {
      series: [
        { key: 'gpuUtil', label: 'GPU busy', color: '--c4', fill: true },
        { key: 'gpuMemory', label: 'GPU memory', color: '--c5' },
      ],
      format: pct,
      max: 100,
    },
  ],
  [
    'chart-throughput',
    {
      series: [
        { key: 'tokensPerSecond', label: 'tokens/s', color: '--c1', fill: true },
        { key: 'requestsPerSecond', label: 'requests/s', color: '--c3', scale: 'y2', dash: [5, 3] },
      ],
      format: perSecond,
      format2: perSecond,
    },
  ],
  [
    'chart-latency',
    {
      series: [
        { key: 'latencyP50', label: 'p50', color: '--c1' },
        { key: 'latencyP95', label: 'p95', color: '--c5' },
        { key: 'latencyP99', label: 'p99', color: '--c3' },
      ],
      format: fmtMs,
      emptyText: 'no requests in the last 5 minutes',
    },
  ],
  [
    'chart-tokens',
    {
      series: [
        { key: 'ttftP50', label: 'TTFT p50', color: '--c2' },
        { key: 'ttftP95', label: 'TTFT p95', color: '--c3', dash: [4, 3] },
        { key: 'tpotP50', label: 'per token p50', color: '--c4' },
      ],
      format: fmtMs,
      emptyText: 'no tokens generated in the last 5 minutes',
    },
  ],
  [
    'chart-scheduler',
    {
      series: [
        { key: 'running', label: 'running', color: '--c1' },
        { key: 'queued', label: 'queued', color: '--c3' },
        { key: 'batchTokens', label: 'tokens/step', color: '--c5', scale: 'y2' },
      ],
      format: (v) => fmtSig(v),
      format2: (v) => fmtSig(v),
    },
  ],
];

const charts = chartSpecs.map(([id, spec]) => new TimeChart(byId(id), spec, history));

const conn = byId('conn');
const banner = byId('error-banner');
let bannerTimer = 0;

function showError(message: string): void {
  banner.textContent = message;
  banner.hidden = false;
  window.clearTimeout(bannerTimer);
  bannerTimer = window.setTimeout(() => (banner.hidden = true), 8000);
}

function setConn(state: 'live' | 'offline' | 'paused' | 'auth', text: string): void {
  conn.dataset.state = state;
  setText(conn, text);
}

const models = new ModelsTable(byId<HTMLTableSectionElement>('models-body'), {
  changed: () => void poll(),
  error: showError,
});
const playground = new Playground({ finished: () => void poll() });

let previous: Snapshot | undefined;
let polling = false;
let paused = false;
let needKey = false; // a 401: wait for the key form instead of polling
let timer = 0;
let lastModelList = 0;

async function refreshModelList(): Promise<void> {
  const list = await getJson<{ data: { id: string }[] }>('/v1/models');
  playground.setModels(
    list.data.map((m) => m.id),
    previous?.models.default_model ?? '',
  );
}

async function poll(): Promise<void> {
  if (polling) return;
  polling = true;
  window.clearTimeout(timer);
  const started = performance.now();
  try {
    const [perf, sys, modelStats] = await Promise.all([
      getJson<PerformanceStats>('/api/performance/stats'),
      getJson<SystemMetrics>('/api/system/metrics'),
      getJson<ModelsStats>('/api/models/stats'),
    ]);
    const snap: Snapshot = { at: performance.now() / 1000, perf, sys, models: modelStats };
    const point = derivePoint(previous, snap, Date.now() / 1000);
    previous = snap;
    history.push(point);
    renderPanels(snap, point, history);
    models.render(modelStats, Date.now());
    for (const c of charts) c.update();
    if (Date.now() - lastModelList > 10_000) {
      lastModelList = Date.now();
      await refreshModelList();
    }
    setConn('live', 'live');
    byId('key-form').hidden = true;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      needKey = true;
      setConn('auth', 'API key needed');
      byId('key-btn').hidden = false;
      byId('key-form').hidden = false;
    } else {
      setConn('offline', 'offline');
    }
  } finally {
    polling = false;
    if (!paused && !needKey) {
      timer = window.setTimeout(() => void poll(), Math.max(0, kPollMs - (performance.now() - started)));
    }
  }
}

initTheme(byId<HTMLButtonElement>('theme-btn'), () => {
  for (const c of charts) c.rebuild();
});

byId('pause-btn').addEventListener('click', (e) => {
  paused = !paused;
  const b = e.currentTarget as HTMLButtonElement;
  b.textContent = paused ? 'Resume' : 'Pause';
  b.setAttribute('aria-pressed', String(paused));
  if (paused) {
    window.clearTimeout(timer);
    setConn('paused', 'paused');
  } else {
    void poll();
  }
});

byId('key-btn').addEventListener('click', () => {
  const form = byId('key-form');
  form.hidden = !form.hidden;
  if (!form.hidden) byId('key-input').focus();
});

byId<HTMLFormElement>('key-form').addEventListener('submit', (e) => {
  e.preventDefault();
  setApiKey(byId<HTMLInputElement>('key-input').value.trim());
  needKey = false;
  lastModelList = 0;
  void poll();
});

void poll();
