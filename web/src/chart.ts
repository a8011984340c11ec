// TimeChart: one live uPlot line chart over the shared History. The x axis
// always spans the last `kSpanSeconds`, so a chart scrolls like a strip chart.
// Colors come from the theme's CSS variables; rebuild() re-reads them after a
// theme change (uPlot bakes colors into its canvas drawing).
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

import type { History, Point } from './derive';
import { cssVar } from './dom';

export const kSpanSeconds = 300;
const kMinSpanSeconds = 30;

/** "15:04:05": 24-hour clock time of a unix time in seconds. */
function clock(t: number): string {
  const d = new Date(t * 1000);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

export interface SeriesSpec {
  key: keyof Point;
  label: string;
  color: string; // a CSS variable name: '--c1'
  fill?: boolean;
  dash?: number[];
  scale?: 'y' | 'y2'; // y2: the right-hand axis
}

export interface ChartSpec {
  series: SeriesSpec[];
  format: (v: number) => string; // axis ticks and legend values
  format2?: (v: number) => string; // right-hand axis, when a series uses y2
  max?: number; // fixed top (percent charts: 100)
  emptyText?: string; // shown while every series is null
  height?: number;
}

export class TimeChart {
  private plot: uPlot | null = null;
  private readonly plotHost: HTMLDivElement;
  private readonly emptyNote: HTMLDivElement;
  private readonly resize: ResizeObserver;

  constructor(
    private readonly host: HTMLElement,
    private readonly spec: ChartSpec,
    private readonly history: History,
  ) {
    host.classList.add('chart');
    this.plotHost = document.createElement('div');
    this.emptyNote = document.createElement('div');
    this.emptyNote.className = 'chart-empty';
    this.emptyNote.textContent = spec.emptyText ?? 'waiting for data';
    host.append(this.plotHost, this.emptyNote);
    this.build();
    this.resize = new ResizeObserver(() => {
      const w = this.width();
      if (this.plot && w > 0 && Math.abs(this.plot.width - w) > 1) this.plot.setSize({ width: w, height: this.height() });
    });
    this.resize.observe(host);
  }

  /** Redraws with the history's current points. */
  update(): void {
    if (!this.plot) return;
    const cols = this.history.columns(this.spec.series.map((s) => s.key));
    this.plot.setData(cols as uPlot.AlignedData);
    // Not hovering: the legend shows the newest values instead of dashes.
    if (cols[0].length > 0 && !(this.plot.cursor.left !== undefined && this.plot.cursor.left >= 0)) {
      this.plot.setLegend({ idx: cols[0].length - 1 });
    }
    // For readers of the page (and the browser test): the largest value of each series.
    const maxima: Record<string, number | null> = {};
    let any = false;
    this.spec.series.forEach((s, i) => {
      let m: number | null = null;
      for (const v of cols[i + 1]) if (v !== null && (m === null || v > m)) m = v;
      maxima[s.key] = m;
      any ||= m !== null;
    });
    this.host.dataset.seriesMax = JSON.stringify(maxima);
    this.host.dataset.points = String(cols[0].length);
    this.emptyNote.hidden = any;
  }

  /** Re-creates the plot (new theme colors), keeping the data. */
  rebuild(): void {
    this.plot?.destroy();
    this.plotHost.replaceChildren();
    this.build();
    this.update();
  }

  private width(): number {
    return Math.max(120, Math.floor(this.host.clientWidth));
  }

  private height(): number {
    return this.spec.height ?? 170;
  }

  private build(): void {
    const text = cssVar('--muted');
    const grid = cssVar('--grid');
    const font = '11px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
    // side: 3 left, 1 right (uPlot's numbering); the grid follows the left axis.
    const axis = (fmt: (v: number) => string, side: 1 | 3): uPlot.Axis => ({
      stroke: text,
      font,
      side,
      size: 58,
      gap: 4,
      grid: { show: side === 3, stroke: grid, width: 1 },
      ticks: { show: false },
      values: (_u, splits) => splits.map((v) => (v === null ? '' : fmt(v))),
    });
    const yRange = (_u: uPlot, _min: number | null, max: number | null): uPlot.Range.MinMax => {
      if (this.spec.max !== undefined) return [0, this.spec.max];
      const top = max === null || !(max > 0) ? 1 : max * 1.15;
      return [0, top];
    };
    // The last kSpanSeconds, but at least kMinSpanSeconds: a fresh page fills from the right.
    const xRange = (_u: uPlot, min: number | null, max: number | null): uPlot.Range.MinMax => {
      const hi = max ?? Date.now() / 1000;
      const lo = min === null ? hi - kMinSpanSeconds : Math.min(min, hi - kMinSpanSeconds);
      return [Math.max(lo, hi - kSpanSeconds), hi];
    };
    const usesY2 = this.spec.series.some((s) => s.scale === 'y2');
    const opts: uPlot.Options = {
      width: this.width(),
      height: this.height(),
      padding: [10, usesY2 ? 0 : 26, 0, 0], // room for the last time label
      cursor: { drag: { x: false, y: false }, points: { size: 6 } },
      legend: { show: true, live: true },
      scales: {
        x: { time: true, range: xRange },
        y: { range: yRange },
        // More headroom on the right-hand scale: two proportional series (tokens/s
        // and requests/s) would otherwise draw exactly on top of each other.
        y2: { range: (_u, _min, max) => [0, max === null || !(max > 0) ? 1 : max * 1.6] },
      },
      axes: [
        {
          stroke: text,
          font,
          grid: { stroke: grid, width: 1 },
          ticks: { show: false },
          space: 80,
          size: 28,
          values: (_u, splits) => splits.map((t) => (t === null ? '' : clock(t))),
        },
        axis(this.spec.format, 3),
        ...(usesY2 ? [{ ...axis(this.spec.format2 ?? this.spec.format, 1), scale: 'y2' }] : []),
      ],
      series: [
        { value: (_u, v) => (v === null ? '' : clock(v)) },
        ...this.spec.series.map((s): uPlot.Series => {
          const color = cssVar(s.color);
          const fmt = s.scale === 'y2' ? (this.spec.format2 ?? this.spec.format) : this.spec.format;
          return {
            label: s.label,
            scale: s.scale ?? 'y',
            stroke: color,
            width: 2,
            dash: s.dash,
            fill: s.fill ? `${color}26` : undefined,
            points: { show: false },
            spanGaps: false,
            value: (_u, v) => (v === null ? '—' : fmt(v)),
          };
        }),
      ],
    };
    this.plot = new uPlot(opts, this.history.columns(this.spec.series.map((s) => s.key)) as uPlot.AlignedData, this.plotHost);
  }
}
