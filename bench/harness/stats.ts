// Statistics for repeated timings: the median with its spread.

export interface Summary { median: number; min: number; max: number; n: number }

export function summarize(samples: readonly number[]): Summary {
  if (!samples.length) throw new Error('summarize: no samples');
  const s = [...samples].sort((a, b) => a - b);
  const m = s.length >> 1;
  const median = s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  return { median, min: s[0], max: s[s.length - 1], n: s.length };
}

/** "1.23 s (1.20–1.31)": the median and its range, with sensible digits. */
export function fmtSeconds(x: Summary | number): string {
  const f = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toPrecision(2));
  if (typeof x === 'number') return `${f(x)} s`;
  return x.n > 1 ? `${f(x.median)} s (${f(x.min)}–${f(x.max)})` : `${f(x.median)} s`;
}
