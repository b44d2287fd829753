// Unit tests of the `table` benchmark's parts (planning and scaling the runs of a cell, the
// cells' text and footnotes, the "cannot train" path, the files it writes) and a smoke
// test of the whole suite on one tiny task. Never timing assertions.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  COLUMNS, LIMITS, type Cell, type Report, cellFootnote, cellFromRuns, cellText, chartGroups, planRuns, renderTable, seedTasks, writeReport,
} from '../bench/table-cells.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'knet-bench-table-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const tasks = seedTasks(16);
const task = (m: string) => tasks.find((t) => t.model === m)!;
const col = (k: string) => COLUMNS.find((c) => c.key === k)!;

describe('table: the tasks', () => {
  it("are the seed's five rows with its Knet seconds", () => {
    expect(tasks.map((t) => [t.label, t.dataset, t.epochs, t.batch, t.seed])).toEqual([
      ['LinReg', 'Housing', '10K', 506, 2.84], ['Softmax', 'MNIST', '10', 100, 2.35], ['MLP', 'MNIST', '10', 100, 3.68],
      ['LeNet', 'MNIST', '1', 100, 3.59], ['CharLM', 'Hiawatha', '1', 128, 2.25],
    ]);
    expect(tasks.map((t) => t.steps)).toEqual([10000, 6000, 6000, 600, 16]);
    expect(seedTasks(16, true).find((t) => t.model === 'linreg')!.steps).toBe(50);
  });
});

describe('table: planning and scaling a cell', () => {
  const lim = { budget: 10, repeats: 3, cellCap: 60, maxStep: 60, warm: 2 };
  it('times the whole task where it fits the budget', () => {
    expect(planRuns(task('softmax'), 0.001, lim)).toEqual({ n: 6000, runs: 3 });
  });
  it('else as many steps as fit, in whole epochs where an epoch fits', () => {
    expect(planRuns(task('mlp'), 0.004, lim)).toEqual({ n: 2400, runs: 3 }); // 2500 fit: 4 epochs of 600
    expect(planRuns(task('lenet'), 0.1, lim)).toEqual({ n: 100, runs: 3 });
    expect(planRuns(task('charlm'), 30, lim)).toEqual({ n: 1, runs: 2 }); // at least one step; 2 runs fit the cap
  });
  it('does not time a step slower than the limit', () => {
    const p = planRuns(task('charlm'), 120, lim);
    expect('skip' in p && p.skip).toMatch(/not timed: a step took 120 s/);
  });
  it('scales the runs to the task and says so', () => {
    const c = cellFromRuns('tfjs-wasm', task('mlp'), 1800, [6, 5, 7]);
    expect(c.status).toBe('scaled');
    expect(c.factor).toBeCloseTo(6000 / 1800);
    expect(c.seconds!.median).toBeCloseTo(6 * 6000 / 1800);
    expect(c.seconds!.min).toBeCloseTo(5 * 6000 / 1800);
    expect(c.runs).toEqual([6, 5, 7]);
    expect(cellText(c, 2)).toBe('~20.0 s (16.7–23.3) [2]');
    expect(cellFootnote(task('mlp'), col('tfjs-wasm'), c)).toBe(
      'TF.js wasm, MLP: scaled: each run timed 1,800 batches of the task\'s 6,000 (3 of 10 epochs) and was multiplied by 3.3; 3 runs.');
  });
  it('marks a whole-task run as measured, with no footnote', () => {
    const c = cellFromRuns('knet-simd', task('softmax'), 6000, [1.2, 1.1, 1.3]);
    expect(c).toMatchObject({ status: 'measured', factor: 1 });
    expect(cellText(c)).toBe('1.20 s (1.10–1.30)');
    expect(cellFootnote(task('softmax'), col('knet-simd'), c)).toBeNull();
    expect(() => cellFromRuns('x', task('softmax'), 0, [1])).toThrow();
    expect(() => cellFromRuns('x', task('softmax'), 10, [])).toThrow();
  });
  it('says a single scaled run has no spread', () => {
    const c = cellFromRuns('tfjs-cpu', task('charlm'), 1, [30]);
    expect(cellFootnote(task('charlm'), col('tfjs-cpu'), c)).toMatch(/each run timed 1 window of the task's 16 and was multiplied by 16; 1 run, so no spread/);
  });
});

describe('table: cannot train', () => {
  it('a step that throws answers the step protocol with the error', () => {
    // a child whose training step throws, as TF.js's wasm backend does for LeNet
    const child = join(tmp, 'throwing-child.mts'); // .mts: an ES module outside the package
    writeFileSync(child, `import { drive, childArgs } from ${JSON.stringify(join(root, 'bench/train-common.ts'))};
await drive({ nbatch: 3, evaluate: () => 0, framework: 'fake', info: 'fake',
  step: () => { throw new Error("Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'"); } }, childArgs(['--serve', '--model', 'lenet']), 'fake lenet');
`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', child], { cwd: root, input: 'warm 0.1\nsteps 5\nquit\n', encoding: 'utf8' });
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('READY');
    const warm = JSON.parse(lines[1].replace(/^WARM /, ''));
    expect(warm).toMatchObject({ n: 0, error: "Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'" });
    expect(JSON.parse(lines[2].replace(/^STEPS /, '')).error).toBe(warm.error); // it stays failed
    expect(JSON.parse(lines[3].replace(/^RESULT /, '')).skipped).toMatch(/^cannot train: Kernel/);
  });
  it('prints "cannot train" with the error in a footnote, and a "cannot train" bar', () => {
    const cell: Cell = { column: 'tfjs-wasm', model: 'lenet', status: 'cannot train', note: "Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'" };
    const { table, footnotes } = renderTable({ tasks: [task('lenet')], columns: [col('tfjs-wasm')], cells: [cell] });
    expect(table).toContain('cannot train [1]');
    expect(footnotes).toEqual(["[1] TF.js wasm, LeNet: the training step threw: Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'."]);
    const bars = chartGroups({ tasks: [task('lenet')], columns: [col('tfjs-wasm')], cells: [cell] })[0].bars;
    expect(bars).toEqual([{ name: 'Knet.jl 2016 GPU (seed)', seconds: 3.59 }, { name: 'TF.js wasm', seconds: null, note: 'cannot train' }]);
  });
});

describe('table: files', () => {
  it('writes the JSON, Markdown and SVG of a run', () => {
    const cells: Cell[] = [
      cellFromRuns('knet-relaxed', task('linreg'), 10000, [0.3, 0.31, 0.29]),
      cellFromRuns('tfjs-wasm', task('linreg'), 10000, [1.5, 1.6, 1.4]),
      { column: 'tfjs-wasm', model: 'lenet', status: 'cannot train', note: 'no kernel' },
    ];
    const report: Report = {
      suite: 'table', date: '2025-01-01T00:00:00.000Z', mode: 'quick', limits: LIMITS.quick,
      machine: { cpu: 'AMD EPYC', family: '26', model: '2', cores: 2, node: 'v20', adapter: null, load: '1 → 1' },
      tasks: [task('linreg'), task('lenet')], columns: [col('knet-relaxed'), col('tfjs-wasm')], cells, seconds: 12,
    };
    const paths = writeReport(join(tmp, 'out'), report, '| table |');
    const back = JSON.parse(readFileSync(paths.json, 'utf8'));
    expect(back).toEqual(JSON.parse(JSON.stringify(report)));
    expect(back.cells[0]).toMatchObject({ status: 'measured', runs: [0.3, 0.31, 0.29], seconds: { median: 0.3, n: 3 } });
    expect(readFileSync(paths.md, 'utf8')).toBe('| table |\n');
    const svg = readFileSync(paths.svg, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('quick run');
    expect(svg).toContain('5.0×'); // knet 0.3 s vs TF.js wasm 1.5 s
    expect(svg).toContain('cannot train');
  });
});

describe('table: smoke test', () => {
  it('runs `table --quick --tiny --only linreg --devices cpu`', () => {
    const out = join(tmp, 'smoke');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/main.ts', 'table', '--quick', '--tiny', '--only', 'linreg', '--devices', 'cpu', '--out', out],
      { cwd: root, encoding: 'utf8', timeout: 50_000 });
    expect(r.stderr).toContain('LinReg');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\| LinReg +\| Housing +\| 50 epochs \(tiny\) +\| +506 \| +2\.84 \|/);
    const report = JSON.parse(readFileSync(join(out, 'table.json'), 'utf8')) as Report;
    expect(report.mode).toBe('tiny');
    expect(report.tasks.map((t) => t.model)).toEqual(['linreg']);
    expect(report.columns.every((c) => c.device === 'cpu')).toBe(true);
    // knet's two builds and TF.js wasm train the tiny task; each cell has a figure from 3 runs
    for (const key of ['knet-simd', 'knet-relaxed', 'tfjs-wasm']) {
      const cell = report.cells.find((c) => c.column === key)!;
      expect(['measured', 'scaled']).toContain(cell.status);
      expect(cell.runs!.length).toBeGreaterThan(0);
      expect(cell.seconds!.median).toBeGreaterThan(0);
    }
    expect(readFileSync(join(out, 'table.svg'), 'utf8')).toContain('LinReg');
  }, 60_000);
});
