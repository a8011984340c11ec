// Tiny DOM helpers (no framework: the page is a handful of panels).

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`dashboard: element #${id} missing from index.html`);
  return e as T;
}

/** Sets text only when it changed (no layout work for identical values every second). */
export function setText(target: string | HTMLElement, text: string): void {
  const e = typeof target === 'string' ? byId(target) : target;
  if (e.textContent !== text) e.textContent = text;
}

type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Record<string, string | number | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === false) continue;
    if (k === 'class') e.className = String(v);
    else if (k === 'text') e.textContent = String(v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    e.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return e;
}

/** Width of a meter bar (0..1, clamped) and its accessible value. */
export function setMeter(id: string, ratio: number | null): void {
  const bar = byId(id);
  const r = ratio === null || !Number.isFinite(ratio) ? 0 : Math.min(1, Math.max(0, ratio));
  bar.style.width = `${(100 * r).toFixed(1)}%`;
  const meter = bar.parentElement;
  if (meter) meter.setAttribute('aria-valuenow', (100 * r).toFixed(0));
}

/** A CSS custom property of the current theme, e.g. cssVar('--c1'). */
export function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}
