// The `table` benchmark's bookkeeping, apart from any process or timing so that it can be
// tested: the seed's tasks and its Knet column, the columns, how many steps a run of a
// cell times and how the runs scale to the whole task, the cells' text and footnotes,
// the Markdown table, the chart, and the JSON/Markdown/SVG files of a run.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { markdownTable } from './harness/markdown.js';
import { fmtSeconds, summarize, type Summary } from './harness/stats.js';
import { barChart, type ChartGroup } from './harness/svg.js';
import type { Model } from './train-common.js';

/** One row of the seed's table: a model trained for a number of steps (batches, windows). */
export interface Task {
  model: Model;
  label: string;
  dataset: string;
  /** The seed's epochs column ("10K", "10", "1"). */
  epochs: string;
  batch: number;
  /** Training steps in the whole task (epochs × steps per epoch). */
  steps: number;
  stepsPerEpoch: number;
  /** What a step is called: "epoch" for the full-batch LinReg, "batch", "window". */
  unit: string;
  /** The seed's Knet seconds (g2.2xlarge GPU, 2016). */
  seed: number;
}

/** The seed's Knet column: seconds to train each model on a 2016 GPU (g2.2xlarge). */
export const SEED_KNET: Record<Model, number> = { linreg: 2.84, softmax: 2.35, mlp: 3.68, lenet: 3.59, charlm: 2.25 };

/**
 * The seed's five tasks. `windows` is the number of BPTT windows in one pass over Hiawatha
 * (it depends on the text). `tiny` shrinks every task (50 LinReg epochs, 20 batches, 4
 * LeNet batches, 2 windows) for the smoke test: never a benchmark.
 */
export function seedTasks(windows: number, tiny = false): Task[] {
  const t: Task[] = [
    { model: 'linreg', label: 'LinReg', dataset: 'Housing', epochs: '10K', batch: 506, steps: 10000, stepsPerEpoch: 1, unit: 'epoch', seed: SEED_KNET.linreg },
    { model: 'softmax', label: 'Softmax', dataset: 'MNIST', epochs: '10', batch: 100, steps: 6000, stepsPerEpoch: 600, unit: 'batch', seed: SEED_KNET.softmax },
    { model: 'mlp', label: 'MLP', dataset: 'MNIST', epochs: '10', batch: 100, steps: 6000, stepsPerEpoch: 600, unit: 'batch', seed: SEED_KNET.mlp },
    { model: 'lenet', label: 'LeNet', dataset: 'MNIST', epochs: '1', batch: 100, steps: 600, stepsPerEpoch: 600, unit: 'batch', seed: SEED_KNET.lenet },
    { model: 'charlm', label: 'CharLM', dataset: 'Hiawatha', epochs: '1', batch: 128, steps: windows, stepsPerEpoch: windows, unit: 'window', seed: SEED_KNET.charlm },
  ];
  if (!tiny) return t;
  const small: Record<Model, number> = { linreg: 50, softmax: 20, mlp: 20, lenet: 4, charlm: 2 };
  return t.map((k) => ({ ...k, steps: small[k.model], stepsPerEpoch: Math.min(k.stepsPerEpoch, small[k.model]), epochs: `${small[k.model]} ${k.unit}s (tiny)` }));
}

/** A column of the table: one framework on one device, each model in its own child process. */
export interface Column {
  key: string;
  title: string;
  device: 'cpu' | 'gpu';
  framework: 'knet' | 'tfjs' | 'jax' | 'torch';
  /** The child (bench/train-<framework>.ts), its arguments and environment; none for PyTorch. */
  file?: string;
  args?: string[];
  env?: Record<string, string>;
}

export const COLUMNS: Column[] = [
  // one thread, as every cpu column (KNET_THREADS: the cpu device's worker threads)
  { key: 'knet-simd', title: 'knet cpu SIMD', device: 'cpu', framework: 'knet', file: 'train-knet.ts', env: { KNET_WASM: 'simd', KNET_THREADS: '1' } },
  { key: 'knet-relaxed', title: 'knet cpu relaxed SIMD', device: 'cpu', framework: 'knet', file: 'train-knet.ts', env: { KNET_WASM: 'relaxed', KNET_THREADS: '1' } },
  { key: 'knet-gpu', title: 'knet gpu (WebGPU)', device: 'gpu', framework: 'knet', file: 'train-knet.ts', args: ['--backend', 'gpu'], env: { KNET_THREADS: '1' } },
  { key: 'tfjs-wasm', title: 'TF.js wasm', device: 'cpu', framework: 'tfjs', file: 'train-tfjs.ts', args: ['--backend', 'wasm'] },
  { key: 'tfjs-cpu', title: 'TF.js cpu', device: 'cpu', framework: 'tfjs', file: 'train-tfjs.ts', args: ['--backend', 'cpu'] },
  { key: 'tfjs-webgpu', title: 'TF.js webgpu', device: 'gpu', framework: 'tfjs', file: 'train-tfjs.ts', args: ['--backend', 'webgpu'] },
  { key: 'jax-wasm', title: 'jax-js wasm', device: 'cpu', framework: 'jax', file: 'train-jax.ts', args: ['--backend', 'wasm'] },
  { key: 'jax-webgpu', title: 'jax-js webgpu', device: 'gpu', framework: 'jax', file: 'train-jax.ts', args: ['--backend', 'webgpu'] },
  { key: 'torch', title: 'PyTorch cpu 1 thread', device: 'cpu', framework: 'torch' },
];

/** The column the chart's ratios are taken against. */
export const REFERENCE = 'TF.js wasm';

/** How long the runs of a cell may be. */
export interface Limits {
  /** Seconds a timed run should take at most: the whole task when it fits, else a fraction. */
  budget: number;
  /** Timed runs per cell (the figure is their median). */
  repeats: number;
  /** Seconds all of a cell's timed runs should take together: fewer runs for slow steps. */
  cellCap: number;
  /** A step slower than this (in the warm-up) is not timed at all (nor warmed up further). */
  maxStep: number;
  /** Seconds of warm-up (untimed) per cell. */
  warm: number;
}

export const LIMITS: Record<'full' | 'quick' | 'tiny', Limits> = {
  full: { budget: 10, repeats: 3, cellCap: 60, maxStep: 90, warm: 2 },
  quick: { budget: 1.5, repeats: 3, cellCap: 8, maxStep: 8, warm: 0.6 },
  tiny: { budget: 0.5, repeats: 3, cellCap: 2, maxStep: 2, warm: 0.1 },
};

export type Plan = { n: number; runs: number } | { skip: string };

/**
 * How many steps each timed run covers and how many runs, from the warm-up's seconds per
 * step: the whole task where it fits in the budget; else as many steps as fit (at least
 * one; whole epochs where an epoch fits); fewer runs where they would pass the cell's cap;
 * nothing where one step is over `maxStep`.
 */
export function planRuns(task: Pick<Task, 'steps' | 'stepsPerEpoch'>, perStep: number, lim: Limits): Plan {
  if (!(perStep > 0) || !Number.isFinite(perStep)) return { n: task.steps, runs: lim.repeats };
  if (perStep > lim.maxStep) {
    return { skip: `not timed: a step took ${fmtSeconds(perStep)} in the warm-up (limit ${fmtSeconds(lim.maxStep)})` };
  }
  let n = perStep * task.steps <= lim.budget ? task.steps : Math.max(1, Math.floor(lim.budget / perStep));
  if (n < task.steps && n >= task.stepsPerEpoch) n -= n % task.stepsPerEpoch;
  const runs = Math.max(1, Math.min(lim.repeats, Math.floor(lim.cellCap / (perStep * n))));
  return { n, runs };
}

export type Status = 'measured' | 'scaled' | 'cannot train' | 'not timed' | 'n/a' | 'failed';

export interface Cell {
  column: string;
  model: Model;
  status: Status;
  /** Seconds for the whole task: the runs' median and range, scaled where `scaled`. */
  seconds?: Summary;
  /** The timed runs as measured (seconds for `steps` steps each). */
  runs?: number[];
  /** Steps each run timed, and the task's steps. */
  steps?: number;
  taskSteps?: number;
  /** Task steps / steps timed (1 when measured in full). */
  factor?: number;
  /** Why there is no figure (the error, the limit), or how the model was written. */
  note?: string;
  /** Loss after the last timed step. */
  loss?: number;
  /** Seconds per step in the warm-up, and the warm-up's steps. */
  warmPerStep?: number;
  warmSteps?: number;
}

/** A cell from its timed runs: each run's seconds × task steps / steps timed. */
export function cellFromRuns(column: string, task: Pick<Task, 'model' | 'steps'>, steps: number, runs: number[], loss?: number): Cell {
  if (!runs.length) throw new Error('cellFromRuns: no runs');
  if (!(steps >= 1 && steps <= task.steps)) throw new Error(`cellFromRuns: ${steps} steps timed for a task of ${task.steps}`);
  const factor = task.steps / steps;
  const s = summarize(runs);
  return {
    column, model: task.model, status: factor === 1 ? 'measured' : 'scaled', runs, steps, taskSteps: task.steps, factor,
    seconds: { median: s.median * factor, min: s.min * factor, max: s.max * factor, n: s.n }, loss,
  };
}

const count = (n: number, unit: string) => `${n.toLocaleString('en-US')} ${unit}${n === 1 ? '' : unit === 'batch' ? 'es' : 's'}`;
const trim = (x: number) => (Number.isInteger(x) ? String(x) : x >= 10 ? x.toFixed(0) : x.toPrecision(2));

/** The footnote of a scaled cell: what was timed and the factor. */
export function scaleNote(task: Task, cell: Cell): string {
  const n = cell.steps!, runs = cell.runs!.length;
  const epochs = task.stepsPerEpoch > 1 && n >= task.stepsPerEpoch ? ` (${trim(n / task.stepsPerEpoch)} of ${trim(task.steps / task.stepsPerEpoch)} epochs)` : '';
  return `scaled: each run timed ${count(n, task.unit)} of the task's ${task.steps.toLocaleString('en-US')}${epochs} and was multiplied by ` +
    `${trim(cell.factor!)}; ${runs} run${runs === 1 ? '' : 's'}${runs === 1 ? ', so no spread' : ''}`;
}

/** A cell's text; its footnote (if any) is numbered by `mark`. */
export function cellText(cell: Cell | undefined, mark?: number): string {
  const ref = mark ? ` [${mark}]` : '';
  if (!cell) return '–';
  switch (cell.status) {
    case 'measured': case 'scaled': return `${cell.status === 'scaled' ? '~' : ''}${fmtSeconds(cell.seconds!)}${ref}`;
    case 'cannot train': return `cannot train${ref}`;
    case 'not timed': return `too slow${ref}`;
    case 'n/a': return `n/a${ref}`;
    case 'failed': return `failed${ref}`;
  }
}

/** The footnote a cell needs, if any. */
export function cellFootnote(task: Task, column: Column, cell: Cell | undefined): string | null {
  if (!cell) return null;
  const who = `${column.title}, ${task.label}`;
  const cap = (s: string) => s[0].toUpperCase() + s.slice(1);
  if (cell.status === 'scaled') return `${who}: ${scaleNote(task, cell)}.${cell.note ? ` ${cap(cell.note)}.` : ''}`;
  if (cell.status === 'measured') return cell.note ? `${who}: ${cap(cell.note)}.` : null;
  if (cell.status === 'not timed') {
    const est = cell.warmPerStep ? ` (one warm-up step × ${task.steps.toLocaleString('en-US')} steps would be ~${fmtSeconds(cell.warmPerStep * task.steps)}, a projection, not a measurement)` : '';
    return `${who}: ${cell.note}${est}.`;
  }
  return `${who}: ${cell.status === 'cannot train' ? 'the training step threw: ' : ''}${cell.note ?? cell.status}.`;
}

export interface Report {
  suite: 'table';
  date: string;
  mode: 'full' | 'quick' | 'tiny';
  limits: Limits;
  machine: { cpu: string; family: string; model: string; cores: number; node: string; adapter: string | null; load: string };
  tasks: Task[];
  columns: (Column & { info?: string })[];
  cells: Cell[];
  seconds: number;
}

/** The Markdown table (the seed's layout: a row per model, a column per framework) and its footnotes. */
export function renderTable(r: Pick<Report, 'tasks' | 'columns' | 'cells'>): { table: string; footnotes: string[] } {
  const footnotes: string[] = [];
  const header = ['model', 'dataset', 'epochs', 'batch', 'Knet.jl 2016 GPU (seed)', ...r.columns.map((c) => c.title)];
  const rows = r.tasks.map((t) => [t.label, t.dataset, t.epochs, String(t.batch), `${t.seed}`, ...r.columns.map((c) => {
    const cell = r.cells.find((x) => x.column === c.key && x.model === t.model);
    const note = cellFootnote(t, c, cell);
    if (note) footnotes.push(note);
    return cellText(cell, note ? footnotes.length : undefined);
  })]);
  const align = header.map((_, j) => (j < 3 ? 'l' as const : 'r' as const));
  return { table: markdownTable(header, rows, align), footnotes: footnotes.map((f, i) => `[${i + 1}] ${f}`) };
}

/** The chart: per model, a bar per column (seconds, log scale), the seed's Knet first. */
export function chartGroups(r: Pick<Report, 'tasks' | 'columns' | 'cells'>): ChartGroup[] {
  return r.tasks.map((t) => ({
    label: t.label,
    bars: [
      { name: 'Knet.jl 2016 GPU (seed)', seconds: t.seed },
      ...r.columns.map((c) => {
        const cell = r.cells.find((x) => x.column === c.key && x.model === t.model);
        const ok = cell && (cell.status === 'measured' || cell.status === 'scaled');
        return { name: c.title, seconds: ok ? cell.seconds!.median : null, note: cell ? (cell.status === 'not timed' ? 'too slow' : cell.status) : 'n/a' };
      }),
    ],
  }));
}

/** Writes table.json, table.md and table.svg into `dir`; returns their paths. */
export function writeReport(dir: string, r: Report, markdown: string): { json: string; md: string; svg: string } {
  mkdirSync(dir, { recursive: true });
  const paths = { json: join(dir, 'table.json'), md: join(dir, 'table.md'), svg: join(dir, 'table.svg') };
  writeFileSync(paths.json, JSON.stringify(r, null, 2) + '\n');
  writeFileSync(paths.md, markdown + '\n');
  const title = `Seconds to train the seed's benchmark models (log scale)${r.mode === 'full' ? '' : `, ${r.mode} run`}`;
  writeFileSync(paths.svg, barChart(title, chartGroups(r), REFERENCE) + '\n');
  return paths;
}
