// A Markdown table from rows of cells, columns padded so it also reads well on a terminal.

export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[], align: readonly ('l' | 'r')[] = []): string {
  const width = header.map((h, j) => Math.max(h.length, ...rows.map((r) => (r[j] ?? '').length)));
  const cell = (s: string, j: number) => (align[j] === 'r' ? s.padStart(width[j]) : s.padEnd(width[j]));
  const line = (r: readonly string[]) => `| ${header.map((_, j) => cell(r[j] ?? '', j)).join(' | ')} |`;
  const rule = `|${width.map((w, j) => (align[j] === 'r' ? `${'-'.repeat(w + 1)}:` : `${'-'.repeat(w + 2)}`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}
