// The models table: resident models in LRU order (most recently used first,
// as /api/models/stats lists them), then the other available models, each
// with a load or unload button. Rows are keyed by model name and updated in
// place, so a button keeps its focus and a click is never lost to a redraw.
import { postJson } from './api';
import type { AvailableModel, LoadedModel, ModelsStats } from './api';
import { secondsUntil } from './derive';
import { h, setText } from './dom';
import { fmtAgo, fmtBytes, fmtDuration, fmtMs, fmtParams, fmtRatio, kDash } from './format';

// Column labels, repeated on each cell for the narrow (card) layout of style.css.
const kLabels = ['', 'state', 'size', 'quant', 'load', 'last use', 'keep-alive', 'run · queue', 'KV', ''];

interface Row {
  tr: HTMLTableRowElement;
  cells: HTMLTableCellElement[];
  state: HTMLSpanElement;
  button: HTMLButtonElement;
  busy: boolean;
  loaded: boolean;
}

export interface ModelsTableHooks {
  changed: () => void; // a load/unload finished: poll now
  error: (message: string) => void;
}

function keepAliveText(m: LoadedModel, nowMs: number): string {
  if (m.pinned) return 'pinned';
  if (m.unload_requested) return 'unloading';
  if (m.keep_alive_seconds < 0) return 'forever';
  if (m.active_requests > 0) return 'in use';
  const left = secondsUntil(m.expires_at, nowMs);
  return left === null ? kDash : `${fmtDuration(left)} left`;
}

export class ModelsTable {
  private readonly rows = new Map<string, Row>();

  constructor(
    private readonly body: HTMLTableSectionElement,
    private readonly hooks: ModelsTableHooks,
  ) {}

  render(stats: ModelsStats, nowMs: number): void {
    const order: string[] = [];
    for (const m of stats.loaded) {
      this.renderLoaded(m, stats.default_model, nowMs);
      order.push(m.name);
    }
    const resident = new Set(order);
    for (const a of stats.available) {
      if (resident.has(a.name)) continue;
      this.renderAvailable(a, stats.default_model);
      order.push(a.name);
    }
    for (const [name, row] of this.rows) {
      if (!order.includes(name)) {
        row.tr.remove();
        this.rows.delete(name);
      }
    }
    // Move rows only when the order changed (LRU order follows use).
    const current = Array.from(this.body.children).map((tr) => (tr as HTMLElement).dataset.model);
    if (current.join('\n') !== order.join('\n')) {
      for (const name of order) this.body.append(this.rows.get(name)!.tr);
    }
  }

  private row(name: string, isDefault: boolean): Row {
    let row = this.rows.get(name);
    if (row) return row;
    const cells = kLabels.map((label, i) =>
      h('td', { class: [2, 4, 7, 8].includes(i) ? 'num' : undefined, 'data-label': label || undefined }),
    );
    const state = h('span', { class: 'badge' });
    const button = h('button', { type: 'button', class: 'btn small' });
    cells[0].append(
      h('span', { class: 'model-name', text: name }),
      ...(isDefault ? [h('span', { class: 'badge dim', text: 'default', title: 'requests without "model" get this one' })] : []),
    );
    cells[1].append(state);
    cells[9].append(button);
    const tr = h('tr', { 'data-model': name });
    tr.append(...cells);
    row = { tr, cells, state, button, busy: false, loaded: false };
    const r = row;
    button.addEventListener('click', () => void this.toggle(name, r));
    this.rows.set(name, row);
    return row;
  }

  private renderLoaded(m: LoadedModel, defaultModel: string, nowMs: number): void {
    const row = this.row(m.name, m.name === defaultModel);
    row.loaded = true;
    const state = m.unload_requested ? 'unloading' : m.state;
    setText(row.state, state);
    row.state.dataset.state = state;
    setText(row.cells[2], fmtBytes(m.size_bytes));
    const onGpu = (m.gpu_layers ?? 0) > 0;
    setText(row.cells[3], m.quantization ? `${m.quantization}${onGpu ? ' · GPU' : ''}` : kDash);
    row.cells[3].title = m.backend ? `runs on ${m.backend}` : '';
    setText(row.cells[4], m.state === 'loading' ? kDash : fmtMs(m.load_ms));
    setText(row.cells[5], fmtAgo(m.last_used, nowMs));
    setText(row.cells[6], keepAliveText(m, nowMs));
    setText(row.cells[7], `${m.running_requests} · ${m.queued_requests}`);
    setText(row.cells[8], fmtRatio(m.kv_usage));
    row.cells[8].title = `${m.kv_blocks_used} of ${m.kv_blocks_total} KV blocks in use, ${m.kv_blocks_cached} cached for prefix reuse`;
    this.setButton(row, 'Unload', `Unload ${m.name}`);
  }

  private renderAvailable(a: AvailableModel, defaultModel: string): void {
    const row = this.row(a.name, a.name === defaultModel);
    row.loaded = false;
    setText(row.state, 'available');
    row.state.dataset.state = 'available';
    setText(row.cells[2], fmtBytes(a.size_bytes));
    setText(row.cells[3], a.quantization || kDash);
    row.cells[3].title = `${a.architecture}, ${fmtParams(a.parameters)} parameters`;
    for (const i of [4, 5, 6, 7, 8]) setText(row.cells[i], kDash);
    row.cells[8].title = '';
    this.setButton(row, 'Load', `Load ${a.name}`);
  }

  private setButton(row: Row, text: string, label: string): void {
    if (row.busy) return;
    setText(row.button, text);
    row.button.setAttribute('aria-label', label);
    row.button.classList.toggle('ghost', text === 'Unload');
  }

  private async toggle(name: string, row: Row): Promise<void> {
    if (row.busy) return;
    row.busy = true;
    row.button.disabled = true;
    const unloading = row.loaded;
    setText(row.button, unloading ? 'Unloading…' : 'Loading…');
    try {
      await postJson(unloading ? '/api/models/unload' : '/api/models/load', { model: name });
    } catch (e) {
      this.hooks.error(`${unloading ? 'unload' : 'load'} ${name}: ${(e as Error).message}`);
    } finally {
      row.busy = false;
      row.button.disabled = false;
      this.hooks.changed();
    }
  }
}
