// `npm run bench -- table [--quick] [--only linreg,mlp] [--devices cpu,gpu] [--out dir]`:
// the seed's benchmark table on this machine. Seconds to train LinReg (Housing, 10K
// epochs of the full batch of 506), Softmax and MLP (MNIST, 10 epochs, batch 100), LeNet
// (MNIST, 1 epoch, batch 100) and CharLM (Hiawatha, 1 epoch, batch 128, BPTT 100,
// embedding and hidden 256), for knet (cpu: plain SIMD and relaxed SIMD builds; gpu:
// WebGPU), TensorFlow.js (wasm, cpu, webgpu), jax-js (wasm, webgpu) and PyTorch on one
// CPU thread, beside the seed's own Knet figures (a 2016 GPU).
//
// Protocol. Every cell is one framework training one model in its own child process
// (bench/train-{knet,tfjs,jax}.ts, bench/table-torch.ts), which makes its batches (and
// moves them to its device) before any timing. The children of a model start together;
// then, one at a time, each warms up (untimed: compiles, tiers up; its last part gives
// the seconds per step), and the parent plans the cell's timed runs (table-cells.ts
// `planRuns`): the whole task where it fits the run budget, else a fraction of its
// steps, scaled to the whole task and footnoted as such. The timed runs interleave: round
// r runs every child once, in an order rotated by r, so load from elsewhere on the
// machine falls on every column alike. A figure is the median of the runs, with their
// range. A step that throws (a backend without a kernel the model needs) makes the cell
// "cannot train", with the error in a footnote. A gpu column (whose steps only queue work)
// waits for its queue every SYNC_EVERY (100) steps and at the end of each run.
//
// Output: the Markdown table on stdout; bench/results/table.{json,md,svg} (--out).
// Hidden: --tiny shrinks every task (the smoke test's option; not a benchmark).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseBenchArgs } from './harness/args.js';
import { progress, progressDone } from './harness/progress.js';
import {
  COLUMNS, LIMITS, type Cell, type Column, type Limits, type Report, type Task, cellFromRuns, planRuns, renderTable, seedTasks, writeReport,
} from './table-cells.js';
import { machineInfo } from './harness/machine.js';
import { torchEnv } from './harness/torch-blas.js';
import { findTorchPython, torchChild } from './table-torch.js';
import { MODELS, SYNC_EVERY, type Model, type Result, type StepsReply, charWindows } from './train-common.js';

/** A child process driven line by line (the step protocol of bench/train-common.ts `drive`). */
class Child {
  private proc: ChildProcessWithoutNullStreams;
  private lines: string[] = [];
  private waiting: (() => void) | null = null;
  private err = '';
  exited = false;

  constructor(command: string, args: string[], env: Record<string, string> | undefined, private cleanup?: () => void) {
    this.proc = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let partial = '';
    this.proc.stdout.on('data', (d) => {
      const parts = (partial + d).split('\n');
      partial = parts.pop()!;
      this.lines.push(...parts);
      this.wake();
    });
    this.proc.stderr.on('data', (d) => { this.err = (this.err + d).slice(-20000); });
    this.proc.stdin.on('error', () => { /* the child is gone; `next` reports it */ });
    this.proc.on('error', (e) => { this.err += e.message; this.exited = true; this.wake(); });
    this.proc.on('close', (code, signal) => {
      if (signal) this.err += `\nkilled by ${signal}${signal === 'SIGSEGV' ? ' (a crash in native code)' : ''}\n`;
      else if (code) this.err += `\nexited with status ${code}\n`;
      this.exited = true; this.cleanup?.(); this.wake();
    });
  }

  private wake(): void { const w = this.waiting; this.waiting = null; w?.(); }

  /** The error from stderr: the first line naming an Error, else the tail. */
  errorText(): string {
    const lines = this.err.trim().split('\n').filter((l) => !/^\s*at |^Warning: |npm warn/.test(l));
    const at = lines.findIndex((l) => /\b\w*(Error|Exception)\b/.test(l));
    const end = [...lines].reverse().find((l) => /^(killed by|exited with)/.test(l));
    return (at >= 0 ? lines[at] : end ?? lines.slice(-2).join(' | ')).trim().slice(0, 300) || 'exited without a result';
  }

  /** The next stdout line starting with `prefix` (its remainder); null once the child has died or the time is up. */
  async next(prefix: string, timeoutS = Infinity): Promise<string | null> {
    const deadline = performance.now() + timeoutS * 1000;
    for (;;) {
      const i = this.lines.findIndex((l) => l.startsWith(prefix));
      if (i >= 0) return this.lines.splice(0, i + 1)[i].slice(prefix.length);
      if (this.exited) return null;
      const left = deadline - performance.now();
      if (left <= 0) return null;
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((r) => {
        this.waiting = r;
        if (Number.isFinite(left)) timer = setTimeout(() => { if (this.waiting === r) this.wake(); }, left);
      });
      clearTimeout(timer);
    }
  }

  send(line: string): void { if (!this.exited) this.proc.stdin.write(line + '\n'); }

  /** Sends `cmd` and waits for the reply tagged `tag`; a child that dies or overruns is killed and reported. */
  async ask(cmd: string, tag: string, timeoutS: number): Promise<StepsReply> {
    this.send(cmd);
    const line = await this.next(`${tag} `, timeoutS);
    if (line !== null) return JSON.parse(line) as StepsReply;
    if (this.exited) return { n: 0, seconds: 0, loss: NaN, error: `the child died: ${this.errorText()}` };
    this.kill();
    return { n: 0, seconds: 0, loss: NaN, error: `over the time limit (${timeoutS.toFixed(0)} s) for "${cmd}"`, timedOut: true } as StepsReply;
  }

  /** 'quit' and the RESULT line (its info), then the end of the process. */
  async quit(): Promise<Result | null> {
    this.send('quit');
    const line = this.exited ? null : await this.next('RESULT ', 30);
    this.proc.stdin.end();
    this.kill();
    return line ? JSON.parse(line) as Result : null;
  }

  kill(): void {
    if (this.exited) return;
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    this.proc.once('close', () => clearTimeout(timer));
    this.proc.kill();
  }

  /** Waits for the process to end (after quit/kill). */
  async closed(): Promise<void> {
    if (!this.exited) await new Promise<void>((r) => this.proc.once('close', () => r()));
  }
}

interface Slot { col: Column; child: Child | null; cell?: Cell; plan?: { n: number; runs: number }; runs: number[]; loss?: number; info?: string }

/** Starts a model's children; those that cannot start get an 'n/a' cell. */
async function start(task: Task, cols: Column[], torchPy: string | null): Promise<Slot[]> {
  const tsx = import.meta.resolve('tsx');
  const slots: Slot[] = [];
  for (const col of cols) {
    if (col.framework === 'torch') {
      if (!torchPy) {
        slots.push({ col, child: null, runs: [], cell: { column: col.key, model: task.model, status: 'n/a', note: 'no Python with torch (`/usr/bin/python3 -c "import torch"` fails)' } });
        continue;
      }
      const c = await torchChild(torchPy, task.model);
      // on an optimized BLAS where there is one (harness/torch-blas.ts)
      slots.push({ col, child: new Child(c.command, c.args, torchEnv(), c.cleanup), runs: [] });
      continue;
    }
    const script = fileURLToPath(new URL(col.file!, import.meta.url));
    slots.push({ col, child: new Child(process.execPath, ['--import', tsx, script, '--serve', '--model', task.model, ...(col.args ?? [])], col.env), runs: [] });
  }
  await Promise.all(slots.map(async (s) => {
    if (!s.child) return;
    // Loading MNIST and making batches takes several seconds per process on a shared machine.
    if ((await s.child.next('READY', 600)) === null) {
      s.cell = { column: s.col.key, model: task.model, status: 'n/a', note: `did not start: ${s.child.errorText()}` };
      s.child.kill();
      s.child = null;
    }
  }));
  return slots;
}

/** Seconds the warm-up may take (its first step compiles): past this the cell is not timed. */
const firstStepLimit = (lim: Limits) => Math.max(20, lim.maxStep * 2.5);

/** All columns of one model: start, warm up one at a time, plan, then interleaved timed runs. */
async function runTask(task: Task, cols: Column[], lim: Limits, torchPy: string | null, say: (s: string) => void): Promise<Slot[]> {
  say(`${task.label}: starting ${cols.length} processes`);
  const slots = await start(task, cols, torchPy);
  for (const s of slots) {
    if (!s.child) continue;
    say(`${task.label}: ${s.col.title}: warm-up`);
    // A first step may take long (a jit compiling, a slow backend); past this it is not worth waiting for.
    const w = await s.child.ask(`warm ${lim.warm} ${lim.maxStep}`, 'WARM', firstStepLimit(lim));
    if (w.error) {
      const timedOut = (w as any).timedOut;
      s.cell = { column: s.col.key, model: task.model, status: timedOut ? 'not timed' : w.error.startsWith('the child died') ? 'failed' : 'cannot train',
        note: timedOut ? `not timed: its first (warm-up) step did not end within ${firstStepLimit(lim).toFixed(0)} s` : w.error };
      if (!timedOut) s.child.kill();
      s.child = null;
      continue;
    }
    const plan = planRuns(task, w.perStep!, lim);
    if ('skip' in plan) {
      s.cell = { column: s.col.key, model: task.model, status: 'not timed', note: plan.skip, warmPerStep: w.perStep, warmSteps: w.n };
      s.info = (await s.child.quit())?.info;
      s.child = null;
      continue;
    }
    s.plan = plan;
    s.cell = { column: s.col.key, model: task.model, status: 'measured', warmPerStep: w.perStep, warmSteps: w.n };
  }
  const live = slots.filter((s) => s.child && s.plan);
  const rounds = Math.max(0, ...live.map((s) => s.plan!.runs));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < live.length; k++) {
      const s = live[(r + k) % live.length];
      if (!s.child || s.runs.length >= s.plan!.runs) continue;
      say(`${task.label}: ${s.col.title}: run ${s.runs.length + 1}/${s.plan!.runs} (${s.plan!.n} ${task.unit}${s.plan!.n === 1 ? '' : task.unit === 'batch' ? 'es' : 's'})`);
      const expected = s.plan!.n * (s.cell!.warmPerStep ?? 1);
      const reply = await s.child.ask(`steps ${s.plan!.n}`, 'STEPS', 60 + 5 * expected);
      if (reply.error) {
        s.cell = { ...s.cell!, status: 'failed', note: `a timed run failed: ${reply.error}` };
        s.child.kill();
        s.child = null;
        continue;
      }
      s.runs.push(reply.seconds);
      s.loss = reply.loss;
    }
  }
  for (const s of live) {
    if (!s.child) continue;
    s.info = (await s.child.quit())?.info ?? s.info;
    // what a child says after its runtime (`info: "runtime; note"`): how it wrote the model
    const note = s.info?.split('; ').slice(1).join('; ') || undefined;
    s.cell = { ...cellFromRuns(s.col.key, task, s.plan!.n, s.runs, s.loss), warmPerStep: s.cell!.warmPerStep, warmSteps: s.cell!.warmSteps, note };
  }
  await Promise.all(slots.map((s) => s.child?.closed()));
  return slots;
}

export async function run(argv: string[]): Promise<void> {
  const a = parseBenchArgs(argv, { models: MODELS, devices: ['cpu', 'gpu'] });
  const tiny = a.rest.includes('--tiny');
  const unknown = a.rest.filter((x) => x !== '--tiny');
  if (unknown.length) throw new Error(`table: unknown option ${unknown.join(' ')} (known: --quick, --only, --devices, --out)`);
  const mode = tiny ? 'tiny' : a.quick ? 'quick' : 'full';
  const lim = LIMITS[mode];
  const t0 = performance.now();
  const windows = (await charWindows()).x.length;
  const tasks = seedTasks(windows, tiny).filter((t) => !a.only || a.only.includes(t.model));
  const cols = COLUMNS.filter((c) => !a.devices || a.devices.includes(c.device));
  const torchPy = cols.some((c) => c.framework === 'torch') ? findTorchPython() : null;
  const mach = machineInfo();

  const cells: Cell[] = [];
  const infos = new Map<string, string>();
  for (const [i, task] of tasks.entries()) {
    const say = (s: string) => progress(`table [${i + 1}/${tasks.length}, ${((performance.now() - t0) / 1000).toFixed(0)} s] ${s}`);
    for (const s of await runTask(task, cols, lim, torchPy, say)) {
      cells.push(s.cell!);
      if (s.info && !infos.has(s.col.key)) infos.set(s.col.key, s.info.split('; ')[0]);
    }
  }
  progressDone();

  const adapterInfo = infos.get('knet-gpu') ?? null;
  const report: Report = {
    suite: 'table', date: new Date().toISOString(), mode, limits: lim,
    machine: { ...mach, adapter: adapterInfo ? adapterInfo.replace(/^.*adapter: /, '') : null, load: `${mach.load} → ${loadavg().map((x) => x.toFixed(2)).join(' ')}` },
    tasks, columns: cols.map((c) => ({ ...c, info: infos.get(c.key) })), cells, seconds: (performance.now() - t0) / 1000,
  };
  const { table, footnotes } = renderTable(report);
  const lines = [
    `machine: ${mach.cpu} (cpu family ${mach.family}, model ${mach.model}), ${mach.cores} cores, Node ${mach.node}; gpu adapter: ${report.machine.adapter ?? 'none (no gpu column ran)'}`,
    `load average (1, 5, 15 min): ${report.machine.load}`,
    `runtimes: ${cols.map((c) => `${c.title}: ${infos.get(c.key) ?? '–'}`).join('; ')}`,
    `protocol (${mode} run): data batched (and moved to the device) before timing; untimed warm-up of ${lim.warm} s per cell; ` +
      `then up to ${lim.repeats} timed runs per cell, interleaved across frameworks, each the whole task where it takes under ${lim.budget} s, ` +
      `else a fraction of its steps scaled to the task (marked ~, footnoted); median (min–max) of the runs; one thread for every cpu column; ` +
      `the gpu columns read their loss back (waiting for their queue) every ${SYNC_EVERY} steps and at the end of a run.`,
    '',
    `seconds to train (Knet.jl 2016: the seed's figures on a g2.2xlarge GPU, for reference):`,
    '',
    table,
    '',
    ...footnotes,
  ];
  const markdown = lines.join('\n');
  console.log(markdown);
  const paths = writeReport(a.out, report, markdown);
  console.log(`\nwrote ${paths.json}, ${paths.md}, ${paths.svg} (total ${report.seconds.toFixed(0)} s)`);
}
