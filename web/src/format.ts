// Human-readable numbers for the dashboard. Every function accepts null
// (a figure the server could not measure) and shows it as an em dash.

export const kDash = '—';

export function fmtNumber(v: number | null | undefined, digits = 0): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return kDash;
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** 3 significant digits at most: 0.0123, 1.23, 12.3, 123, 1,234. */
export function fmtSig(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return kDash;
  const a = Math.abs(v);
  const digits = a === 0 || a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
  return v.toLocaleString('en-US', { maximumFractionDigits: digits }); // no trailing zeros
}

export function fmtPercent(v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return kDash;
  return `${v.toFixed(digits)} %`;
}

/** A ratio 0..1 as a percentage. */
export function fmtRatio(v: number | null | undefined): string {
  return v === null || v === undefined ? kDash : fmtPercent(100 * v);
}

const kByteUnits = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function fmtBytes(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return kDash;
  let x = v;
  let u = 0;
  while (Math.abs(x) >= 1024 && u < kByteUnits.length - 1) {
    x /= 1024;
    ++u;
  }
  return `${u === 0 ? x.toFixed(0) : fmtSig(x)} ${kByteUnits[u]}`;
}

/** Milliseconds: "0.42 ms", "12.5 ms", "850 ms", "1.25 s", "2 min 5 s". */
export function fmtMs(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return kDash;
  if (Math.abs(v) < 1000) return `${fmtSig(v)} ms`;
  if (Math.abs(v) < 60_000) return `${fmtSig(v / 1000)} s`;
  return fmtDuration(v / 1000);
}

/** Seconds as "45 s", "3 min 05 s", "5 min", "2 h 04 min", "3 d 2 h". */
export function fmtDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return kDash;
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 === 0 ? `${m} min` : `${m} min ${String(s % 60).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 === 0 ? `${h} h` : `${h} h ${String(m % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** "just now", "12 s ago", "3 min ago" from an RFC 3339 time. */
export function fmtAgo(iso: string | null | undefined, nowMs: number): string {
  if (!iso) return kDash;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return kDash;
  const s = (nowMs - t) / 1000;
  if (s < 2) return 'just now';
  return `${fmtDuration(s)} ago`;
}

export function fmtRate(v: number | null | undefined, unit: string): string {
  return v === null || v === undefined ? kDash : `${fmtSig(v)} ${unit}`;
}

/** "260K", "1.1B": parameter counts as model cards write them. */
export function fmtParams(n: number | null | undefined): string {
  if (!n) return kDash;
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'K'],
  ];
  for (const [scale, suffix] of units) {
    if (n >= scale) return `${fmtSig(n / scale).replace(/\.0+$/, '')}${suffix}`;
  }
  return String(n);
}
