// `npm run bench -- train [--quick]`: seconds per MNIST epoch (60,000 examples, batch 100,
// SGD lr 0.1) for the seed's softmax (784->10) and MLP (784-64-10, relu), trained by knet
// (plain SIMD and relaxed SIMD builds), TensorFlow.js (wasm backend, and cpu where it is
// bearable) and jax-js (wasm backend, jit), all single-threaded, on the same batches.
//
// Each column runs in its own child process (bench/train-<framework>.ts): knet picks its
// kernel build at import time from KNET_WASM, and separate processes keep one framework's
// heap, JIT state and wasm memory from weighing on another. The children of one model
// start together and batch their data before any timing; then this process has them
// train one epoch at a time, in rotating order, so that a machine whose load drifts
// (a shared one) weighs on every column alike: warm-up epochs first (untimed), then the
// timed ones. It reports the median epoch with its min-max spread, next to the epoch's
// arithmetic floor at this machine's f32x4 FMA peak (bench/peak.ts), measured two ways:
// as a "floor epoch" in the same rotation (bench/train-floor.ts: the peak loop running
// the epoch's matmul flops, so it sees the same load as the epochs it is compared with),
// and as the best-of peak measured before and after the children.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseBenchArgs } from './harness/args.js';
import { markdownTable } from './harness/markdown.js';
import { summarize } from './harness/stats.js';
import { measurePeak } from './peak.js';
import { BATCH, NTRAIN, type Model, type Result, epochFlops } from './train-common.js';

interface Column {
  key: string;
  title: string;
  file: string;
  args?: string[];
  env?: Record<string, string>;
  /** Fewer timed epochs than the others (the slow pure-JS column). */
  repeats?: number;
}

const COLUMNS: Column[] = [
  { key: 'knet-simd', title: 'knet SIMD', file: 'train-knet.ts', env: { KNET_WASM: 'simd', KNET_THREADS: '1' } },
  { key: 'knet-relaxed', title: 'knet relaxed SIMD', file: 'train-knet.ts', env: { KNET_WASM: 'relaxed', KNET_THREADS: '1' } },
  { key: 'tfjs-wasm', title: 'TF.js wasm', file: 'train-tfjs.ts', args: ['--backend', 'wasm'] },
  // The pure-JS backend: give up on a model whose epoch would take over a minute.
  { key: 'tfjs-cpu', title: 'TF.js cpu', file: 'train-tfjs.ts', args: ['--backend', 'cpu', '--max-epoch-s', '60'], repeats: 3 },
  { key: 'jax', title: 'jax-js wasm (jit)', file: 'train-jax.ts' },
];
/**
 * The floor as a column (bench/train-floor.ts): the peak FMA loop doing an epoch's matmul
 * flops, in the same rotation as the frameworks, so that it sees the same machine.
 */
const FLOOR: Column = { key: 'floor', title: 'floor epoch', file: 'train-floor.ts' };
const MODELS: Model[] = ['softmax', 'mlp'];

interface Outcome { result?: Result; error?: string }

/** A child process driven line by line: `next(prefix)` waits for its next line with that prefix. */
class Child {
  private proc;
  private lines: string[] = [];
  private waiting: (() => void) | null = null;
  private err = '';
  exited = false;
  skipped = false;
  failed: string | null = null;

  epochs = 0;

  constructor(readonly col: Column, model: Model, warmup: number, readonly repeats: number) {
    const script = fileURLToPath(new URL(col.file, import.meta.url));
    const argv = ['--import', import.meta.resolve('tsx'), script, '--serve', '--model', model,
      '--warmup', String(warmup), '--repeats', String(repeats), ...(col.args ?? [])];
    this.proc = spawn(process.execPath, argv, { env: { ...process.env, ...col.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let partial = '';
    this.proc.stdout.on('data', (d) => {
      const parts = (partial + d).split('\n');
      partial = parts.pop()!;
      this.lines.push(...parts);
      this.wake();
    });
    this.proc.stderr.on('data', (d) => {
      this.err += d;
      // Progress lines only; TF.js's "install tfjs-node" banner is noise here.
      for (const line of String(d).split('\n')) if (line.startsWith('  ')) process.stderr.write(line + '\n');
    });
    this.proc.on('error', (e) => { this.err += e.message; this.exited = true; this.wake(); });
    this.proc.on('close', () => { this.exited = true; this.wake(); });
  }

  private wake(): void { const w = this.waiting; this.waiting = null; w?.(); }

  /** The error message from stderr: the first line naming an Error, else the tail. */
  private errorText(): string {
    const lines = this.err.trim().split('\n');
    const at = lines.findIndex((l) => /\b\w*Error\b/.test(l));
    return (at >= 0 ? lines.slice(at, at + 3) : lines.slice(-3)).join(' | ').slice(0, 400) || 'exited without a result';
  }

  /** The next stdout line starting with `prefix` (its remainder), or null once the child has died. */
  async next(prefix: string): Promise<string | null> {
    for (;;) {
      const i = this.lines.findIndex((l) => l.startsWith(prefix));
      if (i >= 0) return this.lines.splice(0, i + 1)[i].slice(prefix.length);
      if (this.exited) { this.failed ??= this.errorText(); return null; }
      await new Promise<void>((r) => { this.waiting = r; });
    }
  }

  send(line: string): void { if (!this.exited) this.proc.stdin.write(line + '\n'); }

  /** One epoch; false when the child is skipped or dead. */
  async epoch(): Promise<boolean> {
    if (this.skipped || this.failed) return false;
    this.send('epoch');
    this.epochs++;
    const ack = await this.next('EPOCH ');
    if (ack === null) return false;
    if (JSON.parse(ack).skipped) this.skipped = true;
    return !this.skipped;
  }

  async finish(): Promise<Outcome> {
    if (this.failed) return { error: this.failed };
    this.send('done');
    const line = await this.next('RESULT ');
    this.proc.stdin.end();
    const timer = setTimeout(() => this.proc.kill(), 5000);
    await new Promise<void>((r) => (this.exited ? r() : this.proc.once('close', () => r())));
    clearTimeout(timer);
    return line === null ? { error: this.failed ?? 'no result' } : { result: JSON.parse(line) as Result };
  }
}

/**
 * All columns of one model at once: the children load and batch their data side by side,
 * then train one at a time, epoch by epoch in rotating order (round r starts at column r),
 * so load from elsewhere on the machine falls on every column alike.
 */
async function runModel(model: Model, warmup: number, repeats: number): Promise<Map<string, Outcome>> {
  const children = [...COLUMNS, FLOOR].map((col) => new Child(col, model, warmup, Math.min(col.repeats ?? repeats, repeats)));
  await Promise.all(children.map((c) => c.next('READY')));
  for (let round = 0; round < warmup + repeats; round++) {
    for (let k = 0; k < children.length; k++) {
      const c = children[(round + k) % children.length];
      if (c.epochs < warmup + c.repeats) await c.epoch();
    }
  }
  const out = new Map<string, Outcome>();
  for (const c of children) out.set(c.col.key, await c.finish());
  return out;
}

const f3 = (x: number) => x.toFixed(3);
const x1 = (x: number) => `${x.toFixed(1)}×`;

function machine(): string {
  let model = 'unknown CPU', family = '?', cpuModel = '?';
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const field = (k: string) => new RegExp(`^${k}\\s*:\\s*(.*)$`, 'm').exec(info)?.[1]?.trim();
    model = field('model name') ?? model; family = field('cpu family') ?? family; cpuModel = field('model') ?? cpuModel;
  } catch { /* not Linux */ }
  return `${model} (cpu family ${family}, model ${cpuModel}), Node ${process.version}`;
}

export async function run(args: string[]): Promise<void> {
  const { quick } = parseBenchArgs(args);
  // The first epoch compiles (jax-js's jit, V8's tiers); the second still runs a little slow.
  const warmup = quick ? 1 : 2, repeats = quick ? 2 : 9;
  const t0 = performance.now();
  // The peak is a best-of measurement, so a shared machine can only pull it down: measure
  // it (full length even with --quick) before and after the children, and keep the best.
  const before = await measurePeak();

  const results = new Map<string, Outcome>();
  for (const model of MODELS) {
    process.stderr.write(`${model}: starting ${COLUMNS.length} processes\n`);
    for (const [key, o] of await runModel(model, warmup, repeats)) results.set(`${key}/${model}`, o);
  }

  const after = await measurePeak();
  const peak = {
    mulAdd: Math.max(before.mulAdd, after.mulAdd),
    fma: before.fma === null || after.fma === null ? null : Math.max(before.fma, after.fma),
  };
  const peakFma = peak.fma ?? peak.mulAdd;

  const cell = (col: Column, model: Model): string => {
    const o = results.get(`${col.key}/${model}`)!;
    if (o.error) return 'error (below)';
    if (o.result!.skipped) return 'skipped (too slow)';
    const t = summarize(o.result!.times);
    return `${f3(t.median)} (${f3(t.min)}–${f3(t.max)})`;
  };
  const med = (key: string, model: Model): number => {
    const r = results.get(`${key}/${model}`)?.result;
    return r && !r.skipped && r.times.length ? summarize(r.times).median : NaN;
  };

  const fewer = COLUMNS.filter((c) => (c.repeats ?? repeats) < repeats).map((c) => `${c.title}: ${c.repeats}`);
  console.log(`machine: ${machine()}`);
  console.log(`f32x4 peak (1 thread): mul+add ${peak.mulAdd.toFixed(1)} GFLOP/s, FMA ${peak.fma ? peak.fma.toFixed(1) + ' GFLOP/s' : 'n/a'}`);
  console.log(`protocol: ${NTRAIN} examples/epoch, batch ${BATCH}, SGD lr 0.1, data batched before timing; ` +
    `${warmup} warm-up epoch${warmup > 1 ? 's' : ''} untimed, then median (min–max) of ${repeats} timed epochs${fewer.length ? ` (${fewer.join(', ')})` : ''}, frameworks interleaved epoch by epoch; one thread each${quick ? ' (--quick)' : ''}`);
  console.log('');
  console.log('seconds per epoch, median (min–max):');
  console.log('');
  const align = (n: number) => ['l' as const, ...Array.from({ length: n }, () => 'r' as const)];
  const timeHeader = ['model', ...COLUMNS.map((c) => c.title), 'knet vs TF.js wasm', 'knet vs jax-js',
    'floor epoch (in rotation)', 'knet / floor epoch', 'floor (best peak)', 'knet / floor (best peak)'];
  const timeRows: string[][] = [];
  const summary: Record<Model, { best: number; bestKey: string; tfjs: number; jax: number; floor: number; floorEpoch: number }> = {} as any;
  for (const model of MODELS) {
    const simd = med('knet-simd', model), relaxed = med('knet-relaxed', model);
    const measured = [simd, relaxed].filter((x) => !Number.isNaN(x));
    const best = measured.length ? Math.min(...measured) : NaN;
    const bestKey = relaxed <= simd || Number.isNaN(simd) ? 'relaxed' : 'SIMD';
    const tfjs = med('tfjs-wasm', model), jax = med('jax', model);
    const floor = epochFlops(model).flops / (peakFma * 1e9);
    const floorEpoch = med('floor', model);
    summary[model] = { best, bestKey, tfjs, jax, floor, floorEpoch };
    const ratio = (x: number) => (Number.isNaN(x) || Number.isNaN(best) ? '–' : x1(x / best));
    const over = (f: number) => (Number.isNaN(best) || Number.isNaN(f) ? '–' : `${(best / f).toFixed(2)}×`);
    timeRows.push([model, ...COLUMNS.map((c) => cell(c, model)), ratio(tfjs), ratio(jax),
      cell(FLOOR, model), over(floorEpoch), f3(floor), over(floor)]);
  }
  console.log(markdownTable(timeHeader, timeRows, align(timeHeader.length - 1)));
  console.log('');
  console.log(`did it train? mean training loss of the last timed epoch / test accuracy after it${fewer.length ? ' (columns with fewer epochs stop earlier)' : ''}:`);
  console.log('');
  const trainRows = MODELS.map((model) => [model, ...COLUMNS.map((c) => {
    const o = results.get(`${c.key}/${model}`)!;
    if (o.error) return 'error';
    if (o.result!.skipped) return 'skipped';
    return `${o.result!.losses.at(-1)!.toFixed(4)} / ${o.result!.testAcc.toFixed(4)}`;
  })]);
  console.log(markdownTable(['model', ...COLUMNS.map((c) => c.title)], trainRows, align(COLUMNS.length)));
  console.log('');
  for (const model of MODELS) {
    const { flops, formula } = epochFlops(model);
    console.log(`${model} floor: ${formula} = ${(flops / 1e9).toFixed(3)} GFLOP per epoch / ${peakFma.toFixed(1)} GFLOP/s = ${f3(flops / (peakFma * 1e9))} s`);
  }
  const simdMlp = med('knet-simd', 'mlp');
  if (!Number.isNaN(simdMlp)) {
    console.log(`knet SIMD build (no FMA) vs its own floor at the mul+add peak: mlp ${(simdMlp / (epochFlops('mlp').flops / (peak.mulAdd * 1e9))).toFixed(2)}×`);
  }
  console.log('ratios use the faster knet build (' + MODELS.map((m) => `${m}: ${summary[m].bestKey}`).join(', ') + '); "knet vs X" = X\'s median / knet\'s median');
  const warm = [...results.entries()].filter(([, o]) => o.result?.warmupTimes.length)
    .map(([k, o]) => `${k} ${o.result!.warmupTimes.map(f3).join('/')}`);
  console.log(`warm-up epochs (s, untimed): ${warm.join(', ')}`);
  const infos = new Set([...results.values()].map((o) => o.result?.info).filter(Boolean));
  console.log(`runtimes: ${[...infos].join('; ')}`);
  for (const [k, o] of results) {
    if (o.error) console.log(`error in ${k}: ${o.error}`);
    if (o.result?.skipped) console.log(`skipped ${k}: ${o.result.skipped}`);
  }

  const target = (what: string, value: number, ok: (v: number) => boolean, digits = 2) =>
    console.log(`  ${what}: ${Number.isNaN(value) ? 'no measurement (see errors above)' : `${value.toFixed(digits)}×, ${ok(value) ? 'met' : 'NOT met'}`}`);
  const { mlp, softmax } = summary;
  console.log('');
  console.log('targets:');
  target('MLP ≥ 7× TF.js wasm', mlp.tfjs / mlp.best, (v) => v >= 7);
  target('MLP ≥ 2× jax-js', mlp.jax / mlp.best, (v) => v >= 2);
  target('MLP within 1.5× of the floor (floor epoch in rotation)', mlp.best / mlp.floorEpoch, (v) => v <= 1.5);
  target('MLP within 1.5× of the floor (best-of peak, start/end of run)', mlp.best / mlp.floor, (v) => v <= 1.5);
  target('softmax ≥ 6× TF.js wasm', softmax.tfjs / softmax.best, (v) => v >= 6);
  console.log(`(total ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
}
