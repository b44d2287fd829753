// `npm run bench -- charlm [--quick] [--windows N] [--tfjs-windows N] [--gpu-windows N]
//   [--skip tfjs,torch,gpu,threads]`: the seed's CharLM benchmark model (embedding 256, one
// LSTM layer of 256, output projection to the 65 characters of tinyshakespeare), trained
// with BPTT on 128x100 windows as examples/charlm.ts does (Adam lr 0.002, gradients clipped
// to norm 5 per parameter, state carried between windows). One run prints ms per window
// (forward, backward, update), characters per second, GFLOP/s and the ratio to the floor
// (the window's FLOPs at this machine's measured f32x4 peak) for:
//   - knet's cpu device on one thread (KNET_THREADS=1), plain-SIMD and relaxed-SIMD builds,
//     two formulations (below), and the relaxed build on all cores (wall-clock);
//   - knet's gpu device (WebGPU via `await initGpu()`; in Node the `webgpu` package, Dawn);
//   - TensorFlow.js, wasm backend, one thread (bench/charlm-tfjs.ts);
//   - PyTorch on the CPU, one thread (bench/charlm_torch.py, run by the first of `python3`,
//     `/usr/bin/python3` that can `import torch`). Debian's torch calls whatever
//     libblas.so.3 is installed; where that is the netlib reference BLAS, a second row runs
//     it on OpenBLAS from $KNET_TORCH_BLAS (a directory holding libblas.so.3) or Debian's
//     /usr/lib/<arch>/openblas-{openmp,pthread}, and the targets compare with that one;
// and whether the targets are met. Every row is its own child process; after all have
// loaded, this process has them run one window at a time in rotating order, so load from
// elsewhere on the machine falls on all of them alike.
//
// knet runs the model two ways: 'rows', x = gather(embed, ids) then the input projection
// x·w_x on all T*B rows (what PyTorch's nn.Embedding + nn.LSTM and the TF.js model do;
// 41.5 GFLOP a window), and 'folded', the example's rnnForward(w, ids, h, c, { embed }),
// which multiplies the embedding into w_x once (V = 65 rows) and gathers rows of that: the
// same function, 21.5 GFLOP a window.
//
// The knet child alone (the `table` suite can call it, as the TF.js and PyTorch ones):
//   [KNET_WASM=simd|relaxed] [KNET_THREADS=n] npx tsx bench/charlm.ts --knet [--device cpu|gpu]
//     [--mode rows|folded] [--text tinyshakespeare|PATH] [--embed 256] [--hidden 256]
//     [--batch 128] [--seqlen 100] [--windows 8] [--warmup 2] [--lr 0.002] [--gclip 5] [--serve]
// runs the warm-up windows, then the timed ones, and prints one line of JSON (CharlmResult,
// below) as the last line of stdout. bench/charlm-tfjs.ts and bench/charlm_torch.py take the
// same options and print the same JSON. With --serve a child prints READY, runs one window
// per `window` line on stdin (answering `WINDOW {json}`) and prints the JSON after `done`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { markdownTable } from './harness/markdown.js';
import { torchBlasDir } from './harness/torch-blas.js';
import { summarize } from './harness/stats.js';
import { measurePeak } from './peak.js';
import type { Tensor } from '../ts/index.js';

// ---------------------------------------------------------------------------------------
// Shared by the children (knet here, bench/charlm-tfjs.ts, and mirrored by charlm_torch.py)

export interface CharlmOptions {
  text: string; embed: number; hidden: number; batch: number; seqlen: number;
  windows: number; warmup: number; lr: number; gclip: number; serve: boolean;
  /** knet: 'rows' or 'folded'; knet: 'cpu' or 'gpu'; TF.js: 'wasm' or 'cpu'. */
  mode: string; device: string; backend: string;
}

export const DEFAULTS: CharlmOptions = {
  text: 'tinyshakespeare', embed: 256, hidden: 256, batch: 128, seqlen: 100,
  windows: 8, warmup: 2, lr: 0.002, gclip: 5, serve: false, mode: 'rows', device: 'cpu', backend: 'wasm',
};

export function parseCharlmArgs(argv: readonly string[], defaults: Partial<CharlmOptions> = {}): CharlmOptions {
  const o: Record<string, string | number | boolean> = { ...DEFAULTS, ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([\w-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) throw new Error(`charlm: unexpected argument '${argv[i]}'`);
    if (m[1] === 'knet') continue; // the mode flag of bench/charlm.ts
    if (!(m[1] in o)) throw new Error(`charlm: unknown option --${m[1]}; known: ${Object.keys(o).map((k) => `--${k}`).join(' ')}`);
    if (typeof o[m[1]] === 'boolean') { o[m[1]] = m[2] === undefined ? true : m[2] === 'true'; continue; }
    const v = m[2] ?? argv[++i];
    if (v === undefined) throw new Error(`charlm: --${m[1]} needs a value`);
    if (typeof o[m[1]] === 'number') {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw new Error(`charlm: --${m[1]} needs a non-negative number, got '${v}'`);
      o[m[1]] = n;
    } else o[m[1]] = v;
  }
  return o as unknown as CharlmOptions;
}

/** A bundled text ('tinyshakespeare', 'hiawatha': data/text/NAME.txt) or a file path; no BOM. */
export function readText(nameOrPath: string): string {
  const bundled = fileURLToPath(new URL(`../data/text/${nameOrPath}.txt`, import.meta.url));
  const file = existsSync(bundled) ? bundled : nameOrPath;
  return readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
}

export interface CharlmData {
  vocab: number;
  /** BPTT windows of the text as examples/charlm.ts cuts them: x [T, B] and targets [T*B], time first. */
  windows: { x: Int32Array; y: Int32Array }[];
}

/** The same windows as examples/charlm.ts's windows(encode(text, vocabulary(text)), B, T). */
export function charlmData(o: CharlmOptions): CharlmData {
  const text = readText(o.text);
  const chars = [...text];
  const vocab = [...new Set(chars)].sort();
  const index = new Map(vocab.map((c, i) => [c, i]));
  const ids = Int32Array.from(chars, (c) => index.get(c)!);
  const B = o.batch, T = o.seqlen, stream = Math.floor(ids.length / B);
  const windows: CharlmData['windows'] = [];
  for (let s = 0; s + T < stream; s += T) {
    const x = new Int32Array(T * B), y = new Int32Array(T * B);
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) { x[t * B + b] = ids[b * stream + s + t]; y[t * B + b] = ids[b * stream + s + t + 1]; }
    }
    windows.push({ x, y });
  }
  if (!windows.length) throw new Error(`charlm: the text has too few characters for one ${B}x${T} window`);
  return { vocab: vocab.length, windows };
}

/** One window's times in ms; forward/backward/update are null where they cannot be split (gpu). */
export interface WindowTime {
  forward: number | null; backward: number | null; update: number | null;
  /** The process's CPU time for the window (all its threads). */
  cpu: number;
  /** Wall-clock time for the window, until its loss and updated parameters are readable. */
  wall: number;
  loss: number;
}

export interface CharlmResult {
  name: string;
  framework: 'knet' | 'tfjs' | 'pytorch';
  /** 'cpu' | 'gpu' for knet, the TF.js backend, 'cpu' for PyTorch. */
  device: string;
  /** 'rows' (the input projection on all T*B positions) or 'folded' (knet's embedding route). */
  mode: string;
  /** Which of cpu/wall is the window time (wall for the gpu, whose driver runs its own threads). */
  basis: 'cpu' | 'wall';
  info: string;
  vocab: number; embed: number; hidden: number; batch: number; seqlen: number;
  warmupTimes: WindowTime[];
  times: WindowTime[];
  /** Medians over `times` (ms); null where not split. */
  forward: number | null; backward: number | null; update: number | null; cpu: number; wall: number;
  /** The window time by `basis` (median ms). */
  window: number;
  loss: number;
}

const medianOf = (a: (number | null)[]): number | null => (a.length && a.every((v) => v !== null) ? summarize(a as number[]).median : null);

export function summarizeWindows(head: Omit<CharlmResult, 'warmupTimes' | 'times' | 'forward' | 'backward' | 'update' | 'cpu' | 'wall' | 'window' | 'loss'>,
  warm: WindowTime[], times: WindowTime[]): CharlmResult {
  const cpu = times.length ? summarize(times.map((t) => t.cpu)).median : NaN;
  const wall = times.length ? summarize(times.map((t) => t.wall)).median : NaN;
  return {
    ...head, warmupTimes: warm, times,
    forward: medianOf(times.map((t) => t.forward)), backward: medianOf(times.map((t) => t.backward)),
    update: medianOf(times.map((t) => t.update)), cpu, wall, window: head.basis === 'cpu' ? cpu : wall,
    loss: (times.at(-1) ?? warm.at(-1))?.loss ?? NaN,
  };
}

export const cpuMs = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1e3; };

/**
 * Runs a child's windows: `warmup` untimed ones, then `windows` timed ones, back to back,
 * or (with --serve) one per `window` line on stdin, each answered by `WINDOW {json}`.
 * Prints the result as the last line of stdout: one JSON object.
 */
export async function serveWindows(o: CharlmOptions, head: Parameters<typeof summarizeWindows>[0],
  step: (k: number) => WindowTime | Promise<WindowTime>): Promise<void> {
  const warm: WindowTime[] = [], times: WindowTime[] = [];
  let k = 0;
  const one = async (): Promise<WindowTime> => {
    const t = await step(k);
    (k < o.warmup ? warm : times).push(t);
    process.stderr.write(`  ${head.name}: ${k < o.warmup ? 'warm-up' : 'window'} ${k + 1}: ${t.wall.toFixed(0)} ms wall, ${t.cpu.toFixed(0)} ms cpu, loss ${t.loss.toFixed(4)}\n`);
    k++;
    return t;
  };
  if (!o.serve) {
    while (k < o.warmup + o.windows) await one();
  } else {
    process.stdout.write('READY\n');
    const { createInterface } = await import('node:readline');
    for await (const line of createInterface({ input: process.stdin })) {
      if (line === 'window') process.stdout.write(`WINDOW ${JSON.stringify(await one())}\n`);
      else if (line === 'done') break;
    }
  }
  process.stdout.write(JSON.stringify(summarizeWindows(head, warm, times)) + '\n');
}

// ---------------------------------------------------------------------------------------
// The knet child

async function knetChild(o: CharlmOptions): Promise<void> {
  const K = await import('../ts/index.js');
  const { disposeState, initModel, loss: folded } = await import('../examples/charlm.js');
  type State = import('../examples/charlm.js').State;
  type Model = import('../examples/charlm.js').CharModel;
  if (o.mode !== 'rows' && o.mode !== 'folded') throw new Error(`charlm: --mode must be rows or folded, got '${o.mode}'`);
  if (o.device !== 'cpu' && o.device !== 'gpu') throw new Error(`charlm: --device must be cpu or gpu, got '${o.device}'`);
  const device = o.device as 'cpu' | 'gpu';
  // the cpu device's threads (KNET_THREADS=n; a knet without a thread pool has one)
  const threads: number = (K as any).threads?.() ?? 1;
  let info = `knet, ${device === 'cpu' ? `cpu (${K.simdLevel()}), ${threads} thread${threads > 1 ? 's' : ''}` : 'gpu'}`;
  if (device === 'gpu') {
    const g = await K.initGpu();
    info = `knet, gpu: ${[g.vendor, g.architecture, g.device, g.description].filter(Boolean).join(' ')}`;
  }
  const B = o.batch, T = o.seqlen, H = o.hidden;
  // examples/charlm.ts's loss with the embedding rows gathered first
  const rows = (m: Model, ids: Tensor, targets: Tensor, state: State | null, out: { state?: State }) => {
    const r = K.rnnForward(m.rnn, K.gather(m.embed, ids), state?.h, state?.c);
    out.state = K.keep({ h: r.h, c: r.c });
    const scores = K.add(K.matmul(K.reshape(r.y, [T * B, H]), m.out.w), m.out.b);
    return K.nll(scores, targets, 1);
  };
  const loss = o.mode === 'rows' ? rows : folded;
  K.setSeed(1);
  const data = charlmData(o);
  const model = initModel(data.vocab, o.embed, H, 1, device);
  const opts = K.optimizers(model, K.Adam, { lr: o.lr, gclip: o.gclip });
  let returned = 0, returnedWall = 0;
  const timedLoss = (m: Model, ids: Tensor, targets: Tensor, state: State | null, out: { state?: State }) => {
    const l = loss(m, ids, targets, state, out);
    returned = cpuMs(); returnedWall = performance.now();
    return l;
  };
  const lossgrad = K.gradloss(timedLoss);
  let state: State | null = null;
  const name = `knet ${device === 'cpu' ? K.simdLevel() + (threads > 1 ? ` ${threads} threads` : '') : 'gpu'}, ${o.mode}`;
  const oneThread = device === 'cpu' && threads === 1;
  await serveWindows(o, { name, framework: 'knet', device, mode: o.mode, basis: oneThread ? 'cpu' : 'wall', info,
    vocab: data.vocab, embed: o.embed, hidden: H, batch: B, seqlen: T }, async (k) => {
    const w = data.windows[k % data.windows.length];
    if (k % data.windows.length === 0) { disposeState(state); state = null; } // a new epoch starts from zeros
    const x = K.tensor(w.x, [T, B], { dtype: 'int32', device }), y = K.tensor(w.y, [T * B], { dtype: 'int32', device });
    const out: { state?: State } = {};
    const w0 = performance.now(), t0 = cpuMs();
    const [g, l] = lossgrad(model, x, y, state, out);
    const t1 = cpuMs(), w1 = performance.now();
    K.update(model, g, opts);
    const t2 = cpuMs(), w2 = performance.now();
    disposeState(state);
    state = { h: out.state!.h.map((t) => K.copy(t)), c: out.state!.c.map((t) => K.copy(t)) };
    disposeState(out.state);
    // the window is done when its loss and the updated parameters can be read (on the gpu
    // that waits for the queue; on the cpu everything ran already)
    const value = (await l.data())[0];
    if (device === 'gpu') await model.out.b.data();
    const w3 = performance.now(), t3 = cpuMs();
    l.dispose(); x.dispose(); y.dispose();
    // one thread: the split by CPU time; several: by wall-clock; gpu: recording is asynchronous, no split
    return oneThread
      ? { forward: returned - t0, backward: t1 - returned, update: t2 - t1, cpu: t3 - t0, wall: w3 - w0, loss: value }
      : device === 'cpu'
        ? { forward: returnedWall - w0, backward: w1 - returnedWall, update: w2 - w1, cpu: t3 - t0, wall: w3 - w0, loss: value }
        : { forward: null, backward: null, update: null, cpu: t3 - t0, wall: w3 - w0, loss: value };
  });
}

// ---------------------------------------------------------------------------------------
// The parent: start every row's process, rotate windows across them, print the table

/** 2 x multiply-adds of one window: forward (input projection, recurrence, output), backward twice that. */
export function windowFlops(o: { vocab: number; embed: number; hidden: number; batch: number; seqlen: number }, mode: string): number {
  const { vocab: V, embed: E, hidden: H, batch: B, seqlen: T } = o;
  const input = mode === 'folded' ? V * E * 4 * H : T * B * E * 4 * H;
  return 3 * 2 * (input + T * B * (4 * H * H + H * V));
}

/** A Python that can `import torch`, or null. */
export function torchPython(): string | null {
  for (const py of ['python3', '/usr/bin/python3']) {
    if (spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) return py;
  }
  return null;
}

/** Where Debian's OpenBLAS packages put their libblas.so.3 (libopenblas0-openmp, -pthread). */

/**
 * The PyTorch rows. Debian's torch is built against a generic BLAS (libblas.so.3): with
 * only libblas3 installed that is the netlib reference implementation, ~8 GFLOP/s, which
 * makes PyTorch look many times slower than it is. So: the default row (whatever
 * libblas.so.3 resolves to), and where that is the reference BLAS, a row with an
 * optimized one, found in $KNET_TORCH_BLAS (a directory holding libblas.so.3) or Debian's
 * OpenBLAS directories, put first on LD_LIBRARY_PATH. The script sets
 * OPENBLAS_NUM_THREADS=1 so that BLAS runs on one thread too.
 */
function torchRows(py: string, n: number, notes: string[]): Row[] {
  const script = fileURLToPath(new URL('charlm_torch.py', import.meta.url));
  const cmd = [py, script, '--threads', '1'];
  const probe = (env: Record<string, string>): string => {
    const r = spawnSync(py, [script, '--windows', '0', '--warmup', '0'], { env: { ...process.env, ...env }, encoding: 'utf8' });
    return /"blas": "([^"]*)"/.exec(r.stdout ?? '')?.[1] ?? 'unknown';
  };
  const base = probe({});
  if (base !== 'reference BLAS') return [{ key: 'torch', cmd, warmup: 2, windows: n }];
  const dir = torchBlasDir();
  const rows: Row[] = [{ key: 'torch-reference', cmd, warmup: 1, windows: Math.min(n, 2) }];
  const env = dir ? { LD_LIBRARY_PATH: [dir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') } : null;
  if (env && probe(env) !== 'reference BLAS') rows.push({ key: 'torch', cmd, env, warmup: 2, windows: n });
  else notes.push('PyTorch: this torch uses the reference BLAS (netlib), and no optimized one was found: install one ' +
    '(Debian: apt-get install libopenblas0-openmp) or point KNET_TORCH_BLAS at a directory holding an optimized libblas.so.3. ' +
    'The targets below compare with the reference-BLAS row, which flatters knet.');
  return rows;
}

interface Row {
  key: string;
  /** argv of the child, before the shared options */
  cmd: string[];
  env?: Record<string, string>;
  warmup: number;
  windows: number;
}

/** A child process driven line by line over stdin/stdout. */
class Child {
  private proc;
  private lines: string[] = [];
  private waiting: (() => void) | null = null;
  private err = '';
  exited = false;
  failed: string | null = null;
  done = 0;

  constructor(readonly row: Row) {
    const [cmd, ...argv] = row.cmd;
    this.proc = spawn(cmd, [...argv, '--serve', '--warmup', String(row.warmup), '--windows', String(row.windows)],
      { env: { ...process.env, ...row.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let partial = '';
    this.proc.stdout.on('data', (d) => {
      const parts = (partial + d).split('\n');
      partial = parts.pop()!;
      this.lines.push(...parts);
      this.wake();
    });
    this.proc.stderr.on('data', (d) => {
      this.err += d;
      for (const line of String(d).split('\n')) if (line.startsWith('  ')) process.stderr.write(line + '\n');
    });
    this.proc.stdin.on('error', () => { /* the child died: its 'close' says so */ });
    this.proc.on('error', (e) => { this.err += e.message; this.exited = true; this.wake(); });
    this.proc.on('close', () => { this.exited = true; this.wake(); });
  }

  private wake(): void { const w = this.waiting; this.waiting = null; w?.(); }

  private errorText(): string {
    const lines = this.err.trim().split('\n').filter((l) => !l.startsWith('  '));
    const at = lines.findIndex((l) => /\b\w*Error\b/.test(l));
    return (at >= 0 ? lines.slice(at, at + 3) : lines.slice(-3)).join(' | ').slice(0, 500) || 'exited without a result';
  }

  /** The next stdout line that `accept`s, or null once the child has died. */
  async next(accept: (l: string) => boolean): Promise<string | null> {
    for (;;) {
      const i = this.lines.findIndex(accept);
      if (i >= 0) return this.lines.splice(0, i + 1)[i];
      if (this.exited) { this.failed ??= this.errorText(); return null; }
      await new Promise<void>((r) => { this.waiting = r; });
    }
  }

  get wants(): boolean { return !this.failed && this.done < this.row.warmup + this.row.windows; }

  async window(): Promise<void> {
    if (this.exited) { this.failed ??= this.errorText(); return; }
    this.proc.stdin.write('window\n');
    this.done++;
    await this.next((l) => l.startsWith('WINDOW '));
  }

  async finish(): Promise<CharlmResult | string> {
    if (!this.failed && !this.exited) this.proc.stdin.write('done\n');
    const line = this.failed ? null : await this.next((l) => l.startsWith('{'));
    this.proc.stdin.end();
    if (!this.exited) this.proc.kill();
    return line ? JSON.parse(line) as CharlmResult : this.failed ?? 'no result';
  }
}

function machine(): string {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const field = (k: string) => new RegExp(`^${k}\\s*:\\s*(.*)$`, 'm').exec(info)?.[1]?.trim();
    return `${field('model name') ?? 'unknown CPU'} (cpu family ${field('cpu family')}, model ${field('model')}), Node ${process.version}`;
  } catch { return `unknown CPU, Node ${process.version}`; }
}

const load = () => loadavg().map((x) => x.toFixed(2)).join(', ');

export async function run(args: string[]): Promise<void> {
  const value = (name: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
  const quick = args.includes('--quick');
  const n = Number(value('--windows') ?? (quick ? 3 : 8));
  const nTf = Number(value('--tfjs-windows') ?? (quick ? 1 : 2));
  const nGpu = Number(value('--gpu-windows') ?? (quick ? 2 : 3));
  const skip = new Set((value('--skip') ?? '').split(',').filter(Boolean));
  const t0 = performance.now();
  const loadBefore = load();
  const self = fileURLToPath(import.meta.url);
  const tsx = ['--import', import.meta.resolve('tsx')];
  const rows: Row[] = [];
  for (const build of ['simd', 'relaxed']) {
    for (const mode of ['rows', 'folded']) {
      rows.push({ key: `knet-${build}-${mode}`, cmd: [process.execPath, ...tsx, self, '--knet', '--mode', mode], env: { KNET_WASM: build, KNET_THREADS: '1' }, warmup: 2, windows: n });
    }
  }
  // the cpu device on all cores (where this knet has a thread pool): wall-clock times
  const cores = availableParallelism();
  if (!skip.has('threads') && cores > 1) {
    for (const mode of ['rows', 'folded']) {
      rows.push({ key: `knet-threads-${mode}`, cmd: [process.execPath, ...tsx, self, '--knet', '--mode', mode], env: { KNET_WASM: 'relaxed', KNET_THREADS: String(cores) }, warmup: 2, windows: n });
    }
  }
  const notes: string[] = [];
  if (!skip.has('gpu')) {
    for (const mode of ['rows', 'folded']) {
      rows.push({ key: `knet-gpu-${mode}`, cmd: [process.execPath, ...tsx, self, '--knet', '--device', 'gpu', '--mode', mode], warmup: 1, windows: nGpu });
    }
  }
  if (!skip.has('tfjs')) {
    rows.push({ key: 'tfjs-wasm', cmd: [process.execPath, ...tsx, fileURLToPath(new URL('charlm-tfjs.ts', import.meta.url))], warmup: 1, windows: nTf });
  }
  const py = skip.has('torch') ? null : torchPython();
  if (py) rows.push(...torchRows(py, n, notes));
  else if (!skip.has('torch')) notes.push('PyTorch: skipped (neither `python3` nor `/usr/bin/python3` can `import torch`; Debian: apt-get install python3-torch).');

  // The peak is a best-of measurement, which a busy machine can only pull down: measure it
  // before and after the children, and keep the better.
  const peakBefore = await measurePeak({ quick });
  process.stderr.write(`charlm: starting ${rows.length} processes (load average ${loadBefore})\n`);
  const children = rows.map((r) => new Child(r));
  await Promise.all(children.map((c) => c.next((l) => l === 'READY')));
  const rounds = Math.max(...rows.map((r) => r.warmup + r.windows));
  for (let round = 0; round < rounds; round++) {
    for (let j = 0; j < children.length; j++) {
      const c = children[(round + j) % children.length];
      if (c.wants) await c.window();
    }
  }
  const outcomes = new Map<string, CharlmResult | string>();
  for (const c of children) outcomes.set(c.row.key, await c.finish());
  const peakAfter = await measurePeak({ quick });
  const loadAfter = load();
  const peak = {
    mulAdd: Math.max(peakBefore.mulAdd, peakAfter.mulAdd),
    fma: peakBefore.fma === null || peakAfter.fma === null ? null : Math.max(peakBefore.fma, peakAfter.fma),
  };

  const results = [...outcomes.values()].filter((r): r is CharlmResult => typeof r !== 'string');
  for (const [k, r] of outcomes) if (typeof r === 'string') notes.push(`${k}: failed: ${r}`);
  if (!results.length) { console.log(notes.join('\n')); return; }
  const shape = results[0];
  const F = windowFlops(shape, 'rows'), Ff = windowFlops(shape, 'folded');
  const floorAt = (p: number) => F / (p * 1e9) * 1e3;
  const peakFor = (r: CharlmResult) =>
    r.framework === 'knet' && r.device === 'cpu' && r.name.includes('relaxed') ? peak.fma ?? peak.mulAdd
      : r.framework === 'knet' && r.device === 'cpu' ? peak.mulAdd : peak.fma ?? peak.mulAdd;
  const get = (k: string) => { const r = outcomes.get(k); return typeof r === 'string' ? undefined : r; };
  const tfjs = get('tfjs-wasm'), torch = get('torch') ?? get('torch-reference');
  const f0 = (x: number | null) => (x === null || Number.isNaN(x) ? '–' : x >= 100 ? x.toFixed(0) : x.toFixed(1));
  const ratio = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '–' : x >= 10 ? `${x.toFixed(0)}×` : `${x.toFixed(2)}×`);

  console.log(`machine: ${machine()}; load average before ${loadBefore}, after ${loadAfter} (1, 5, 15 min)`);
  console.log(`CharLM window: batch ${shape.batch} x ${shape.seqlen} steps, embedding ${shape.embed}, hidden ${shape.hidden}, ` +
    `vocabulary ${shape.vocab}, Adam lr 0.002, gclip 5: ${(F / 1e9).toFixed(1)} GFLOP forward+backward (${(Ff / 1e9).toFixed(1)} folded).`);
  console.log(`f32x4 peak, 1 thread (best of before/after): mul+add ${peak.mulAdd.toFixed(1)} GFLOP/s, FMA ${peak.fma?.toFixed(1) ?? 'n/a'} GFLOP/s. ` +
    `Floor = ${(F / 1e9).toFixed(1)} GFLOP at the peak of the build's arithmetic: ${floorAt(peak.mulAdd).toFixed(0)} ms (mul+add, knet simd), ` +
    `${peak.fma ? floorAt(peak.fma).toFixed(0) : '–'} ms (FMA: knet relaxed and the others).`);
  console.log(`Protocol: every row its own process; windows rotate across them one at a time. Median of ${n} windows after 2 warm-up ` +
    `(knet cpu, PyTorch), ${nGpu} after 1 (knet gpu), ${nTf} after 1 (TF.js wasm). Window time = the process's CPU time ` +
    `(one thread each; slices taken by other processes do not count), wall-clock beside it; knet gpu and knet on several ` +
    `threads: wall-clock (gpu: forward/backward not split).\n`);
  const header = ['run', 'forward ms', 'backward ms', 'update ms', 'window ms', 'wall ms', 'chars/s', 'GFLOP', 'GFLOP/s', '× floor', 'TF.js / run', 'run / PyTorch'];
  const table = results.map((r) => {
    const done = windowFlops(r, r.mode);
    const cpuRow = r.basis === 'cpu';
    return [r.name, f0(r.forward), f0(r.backward), r.update === null ? '–' : r.update.toFixed(1), f0(r.window), f0(r.wall),
      String(Math.round(r.batch * r.seqlen / (r.window / 1e3))), (done / 1e9).toFixed(1), (done / (r.window / 1e3) / 1e9).toFixed(1),
      cpuRow ? (r.window / floorAt(peakFor(r))).toFixed(2) : '–',
      tfjs && r !== tfjs ? ratio(tfjs.window / r.window) : '–', torch && r !== torch ? ratio(r.window / torch.window) : '–'];
  });
  console.log(markdownTable(header, table, ['l', ...header.slice(1).map(() => 'r' as const)]));
  console.log('');
  const infos = [...new Set(results.map((r) => r.info))];
  console.log(`runtimes: ${infos.join('; ')}`);
  console.log(`warm-up windows (ms, by basis): ${results.map((r) => `${r.name} ${r.warmupTimes.map((t) => f0(r.basis === 'cpu' ? t.cpu : t.wall)).join('/')}`).join('; ')}`);
  console.log(`loss after the last window: ${results.map((r) => `${r.name} ${(r.loss ?? NaN).toFixed(3)}`).join('; ')}`);
  const busiest = Math.max(...[loadBefore, loadAfter].map((l) => Number(l.split(',')[0])));
  if (busiest > 1.5) {
    console.log(`note: the machine was busy (1-minute load average up to ${busiest.toFixed(2)} on ${availableParallelism()} cores): ` +
      'the peak (a wall-clock best-of) reads low, which flatters "× floor", and CPU times read high; compare rows with each other.');
  }
  for (const note of notes) console.log(note);

  console.log('\ntargets (knet cpu, window time by CPU time):');
  const target = (what: string, v: number | undefined, ok: (v: number) => boolean) =>
    console.log(`  ${what}: ${v === undefined || Number.isNaN(v) ? 'no measurement' : `${v.toFixed(2)}×, ${ok(v) ? 'met' : 'NOT met'}`}`);
  for (const mode of ['rows', 'folded']) {
    const label = mode === 'rows' ? 'standard (rows)' : 'folded (shown, not the target formulation)';
    for (const build of ['simd', 'relaxed']) {
      const r = get(`knet-${build}-${mode}`);
      if (!r) continue;
      const tag = `${r.name} [${label}]`;
      target(`${tag}: within 1.3× of the ${(F / 1e9).toFixed(1)}-GFLOP floor`, r.window / floorAt(peakFor(r)), (v) => v <= 1.3);
      target(`${tag}: ≥ 20× TF.js wasm (TF.js / knet)`, tfjs ? tfjs.window / r.window : undefined, (v) => v >= 20);
      target(`${tag}: within 1.3× of PyTorch 1 thread (knet / PyTorch)`, torch ? r.window / torch.window : undefined, (v) => v <= 1.3);
    }
  }
  if (torch && 1.3 * torch.window < floorAt(peak.fma ?? peak.mulAdd)) {
    console.log(`  note: 1.3 × PyTorch = ${(1.3 * torch.window).toFixed(0)} ms is below the rows floor of ${floorAt(peak.fma ?? peak.mulAdd).toFixed(0)} ms ` +
      `(41.5 GFLOP at the f32x4 FMA peak): ${torch.name} runs at ${(F / (torch.window / 1e3) / 1e9).toFixed(0)} GFLOP/s, past what 128-bit ` +
      'WebAssembly SIMD can do on one thread, so no wasm code meets that target with the rows formulation.');
  }
  console.log(`(total ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv.includes('--knet')) {
  await knetChild(parseCharlmArgs(process.argv.slice(2)));
}
