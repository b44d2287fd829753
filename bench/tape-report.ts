// The tape suite's report (bench/tape.ts measures; this renders): per device, the
// cumulative seconds after each forward op of the seed's MLP, then the forward recorded
// on a tape, then with backprop. Pure functions: the JSON record, the Markdown on stdout
// and the SVG chart are all made from the measured summaries.
import type { Machine } from './harness/machine.js';
import { markdownTable } from './harness/markdown.js';
import type { Summary } from './harness/stats.js';
import { barChart } from './harness/svg.js';

/** The forward ops, cumulative (the seed's names), then the two rows after the forward. */
export const TAPE_OPS = ['a1=w1*x', 'a2=w2.+a1', 'a3=max(0,a2)', 'a4=w3*a3', 'a5=w4.+a4', 'a6=a5-y', 'a7=sumabs2(a6)'] as const;
export const RECORDING = '+recording', BACKPROP = '+backprop';
export const TAPE_ROWS: readonly string[] = [...TAPE_OPS, RECORDING, BACKPROP];

export interface TapeRow extends Summary { op: string; /** median / the whole forward's median */ vsForward: number }

/** One device: its rows, or why it was not measured. */
export type TapeDevice =
  | { device: string; where: string; rows: TapeRow[]; /** recording's median / the forward's, minus 1 */ recordingAdds: number; /** backprop's median / the forward's */ backpropRatio: number }
  | { device: string; where?: string; error: string };

export interface TapeReport {
  suite: 'tape';
  date: string;
  mode: 'quick' | 'full';
  repeats: number;
  task: string;
  protocol: string;
  machine: Machine & { adapter: string | null };
  devices: TapeDevice[];
  seconds: number;
}

/** A device's record from the summaries of TAPE_ROWS, in that order. */
export function tapeDevice(device: string, where: string, summaries: readonly Summary[]): TapeDevice {
  if (summaries.length !== TAPE_ROWS.length) throw new Error(`tape: ${summaries.length} summaries for ${TAPE_ROWS.length} rows`);
  const forward = summaries[TAPE_OPS.length - 1].median;
  const rows = summaries.map((s, i) => ({ op: TAPE_ROWS[i], ...s, vsForward: s.median / forward }));
  return { device, where, rows, recordingAdds: rows[TAPE_OPS.length].vsForward - 1, backpropRatio: rows[TAPE_OPS.length + 1].vsForward };
}

/** The Markdown: a header, then per device its table and one line on recording and backprop. */
export function tapeMarkdown(r: TapeReport): string {
  const m = r.machine;
  const out = [
    `tape: ${r.task}, median of ${r.repeats}${r.mode === 'quick' ? ' (quick run)' : ''}`,
    `machine: ${m.cpu} (cpu family ${m.family}, model ${m.model}), ${m.cores} cores, Node ${m.node}, load average ${m.load}; ` +
      `gpu adapter: ${m.adapter ?? 'none (the gpu device did not run)'}`,
    `protocol: ${r.protocol}`, '',
  ];
  for (const d of r.devices) {
    out.push(`## ${d.device}${d.where ? ` (${d.where})` : ''}`, '');
    if ('error' in d) { out.push(`not measured: ${d.error}`, ''); continue; }
    out.push(markdownTable(['op', 'secs', 'spread', 'vs forward'], d.rows.map((x) => [
      x.op, x.median.toFixed(3), `${x.min.toFixed(3)}–${x.max.toFixed(3)}`, `${(x.vsForward * 100).toFixed(0)}%`,
    ]), ['l', 'r', 'r', 'r']), '');
    out.push(`recording adds ${(d.recordingAdds * 100).toFixed(1)}% to the forward (target: at most 10%; the seed: 15%); ` +
      `backprop brings the total to ${d.backpropRatio.toFixed(2)}x the forward.`, '');
  }
  return out.join('\n').trimEnd();
}

/** The chart: a group per measured device, a bar per row, labelled against the whole forward. */
export function tapeChart(r: TapeReport): string {
  const measured = r.devices.filter((d): d is Extract<TapeDevice, { rows: TapeRow[] }> => 'rows' in d);
  const title = `Seconds per epoch: the MLP's forward op by op, +recording, +backprop (log scale)${r.mode === 'quick' ? ', quick run' : ''}`;
  const svg = barChart(title, measured.map((d) => ({ label: d.device, bars: d.rows.map((x) => ({ name: x.op, seconds: x.median })) })), TAPE_OPS[TAPE_OPS.length - 1]);
  // barChart sizes the drawing by its groups; with one or two devices the title and the
  // legend's third column would be cut off, so the drawing is widened (the plot stays)
  return svg.replace(/^<svg([^>]*?) width="([\d.]+)"/, (_, attrs, w) => `<svg${attrs} width="${Math.max(Number(w), MIN_WIDTH)}"`);
}

/** Pixels the chart needs for its title and a three-column legend. */
const MIN_WIDTH = 720;
