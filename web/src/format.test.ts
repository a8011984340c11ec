import { describe, expect, it } from 'vitest';

import { fmtAgo, fmtBytes, fmtDuration, fmtMs, fmtParams, fmtSig, kDash } from './format';

describe('format', () => {
  it('formats with three significant digits at most', () => {
    expect(fmtSig(0.01234)).toBe('0.012');
    expect(fmtSig(1.234)).toBe('1.23');
    expect(fmtSig(12.34)).toBe('12.3');
    expect(fmtSig(1234.5)).toBe('1,235');
    expect(fmtSig(null)).toBe(kDash);
  });

  it('formats bytes, durations and milliseconds', () => {
    expect(fmtBytes(1536)).toBe('1.5 KiB');
    expect(fmtBytes(3 * 2 ** 30)).toBe('3 GiB');
    expect(fmtBytes(1000)).toBe('1000 B');
    expect(fmtDuration(59)).toBe('59 s');
    expect(fmtDuration(3725)).toBe('1 h 02 min');
    expect(fmtDuration(300)).toBe('5 min');
    expect(fmtMs(0.5)).toBe('0.5 ms');
    expect(fmtMs(1500)).toBe('1.5 s');
    expect(fmtMs(125_000)).toBe('2 min 05 s');
    expect(fmtParams(260_000)).toBe('260K');
    expect(fmtParams(1_100_000_000)).toBe('1.1B');
  });

  it('formats times relative to now', () => {
    const now = Date.parse('2025-01-31T12:00:10.000Z');
    expect(fmtAgo('2025-01-31T12:00:09.500Z', now)).toBe('just now');
    expect(fmtAgo('2025-01-31T11:59:10.000Z', now)).toBe('1 min ago');
    expect(fmtAgo('2025-01-31T11:59:05.000Z', now)).toBe('1 min 05 s ago');
  });
});
