// An SVG bar chart: seconds per model for each framework, log scale, each bar labelled
// with its ratio to a reference framework (TensorFlow.js wasm in the seed table).

export interface ChartGroup { label: string; bars: { name: string; seconds: number | null; note?: string }[] }

const COLORS = ['#2f6fbf', '#7fb0e8', '#e0862a', '#f2c14e', '#4a9e5c', '#9d5cc0', '#c0504d', '#777', '#1b9e9e', '#b07a3b', '#e377c2', '#222'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function barChart(title: string, groups: readonly ChartGroup[], reference: string): string {
  const names = [...new Set(groups.flatMap((g) => g.bars.map((b) => b.name)))];
  const values = groups.flatMap((g) => g.bars.map((b) => b.seconds)).filter((v): v is number => v !== null && v > 0);
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...values, 1)))), hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...values, 1))));
  const barW = 22, gap = 26, left = 60, top = 40, plotH = 260, legendH = 18 * Math.ceil(names.length / 3);
  const groupW = names.length * barW + gap;
  const W = left + groups.length * groupW + 20, H = top + plotH + 50 + legendH;
  const y = (v: number) => top + plotH * (1 - (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)));
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    out.push(`<line x1="${left}" x2="${W - 10}" y1="${y(d)}" y2="${y(d)}" stroke="#ddd"/>`,
      `<text x="${left - 6}" y="${y(d) + 4}" text-anchor="end">${d >= 1 ? d : d.toPrecision(1)} s</text>`);
  }
  groups.forEach((g, gi) => {
    const x0 = left + gi * groupW + gap / 2;
    const ref = g.bars.find((b) => b.name === reference)?.seconds ?? null;
    g.bars.forEach((b) => {
      const x = x0 + names.indexOf(b.name) * barW;
      const color = COLORS[names.indexOf(b.name) % COLORS.length];
      if (b.seconds === null || !(b.seconds > 0)) {
        out.push(`<text x="${x + barW / 2 + 4}" y="${top + plotH - 4}" text-anchor="start" transform="rotate(-90 ${x + barW / 2 + 4} ${top + plotH - 4})" fill="#999">${esc(b.note ?? 'n/a')}</text>`);
        return;
      }
      out.push(`<rect x="${x + 1}" y="${y(b.seconds)}" width="${barW - 2}" height="${top + plotH - y(b.seconds)}" fill="${color}"><title>${esc(`${b.name}: ${b.seconds} s`)}</title></rect>`);
      if (ref !== null && b.name !== reference) {
        const r = ref / b.seconds;
        out.push(`<text x="${x + barW / 2}" y="${y(b.seconds) - 3}" text-anchor="middle" font-size="9">${r >= 10 ? r.toFixed(0) : r >= 0.1 ? r.toFixed(1) : r.toPrecision(1)}×</text>`);
      }
    });
    out.push(`<text x="${x0 + (names.length * barW) / 2}" y="${top + plotH + 16}" text-anchor="middle" font-weight="bold">${esc(g.label)}</text>`);
  });
  names.forEach((n, i) => {
    const lx = left + (i % 3) * 220, ly = top + plotH + 36 + 18 * Math.floor(i / 3);
    out.push(`<rect x="${lx}" y="${ly - 9}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/>`, `<text x="${lx + 16}" y="${ly + 1}">${esc(n)}</text>`);
  });
  out.push(`<text x="${W - 10}" y="${top - 8}" text-anchor="end" fill="#555">labels: speed-up over ${esc(reference)}</text>`, '</svg>');
  return out.join('\n');
}
