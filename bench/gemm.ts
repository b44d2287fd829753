// `npm run bench -- gemm [--quick]`: GFLOP/s of knet's wasm gemm (plain SIMD and relaxed
// SIMD builds) next to TensorFlow.js's wasm backend and this machine's measured f32x4
// peaks, as one Markdown table. Timings come from benchmark.js; all single-threaded.
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import Benchmark from 'benchmark';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { loadKernels, type WasmModule } from '../ts/device/wasm/module.js';
import { enableRelaxedSimd, measurePeak } from './peak.js';

interface Problem {
  label: string;
  form: 'NN' | 'NT' | 'TN';
  M: number; N: number; K: number;
}

function problems(): Problem[] {
  const out: Problem[] = [];
  for (const n of [128, 256, 512, 1024]) {
    for (const form of ['NN', 'NT', 'TN'] as const) out.push({ label: `${n}³`, form, M: n, N: n, K: n });
  }
  // One dense layer y = x w with x: 64x784, w: 784x100 (an MNIST MLP), and the two
  // products its backward pass needs: dW = x^T dy (TN) and dx = dy w^T (NT).
  out.push({ label: 'MLP y = x·w', form: 'NN', M: 64, N: 100, K: 784 });
  out.push({ label: 'MLP dW = xᵀ·dy', form: 'TN', M: 784, N: 100, K: 64 });
  out.push({ label: 'MLP dx = dy·wᵀ', form: 'NT', M: 64, N: 784, K: 100 });
  return out;
}

/** Stored shapes of A and B for a problem: op(A) is M x K, op(B) is K x N. */
function storedShapes(p: Problem): { a: [number, number]; b: [number, number] } {
  return {
    a: p.form === 'TN' ? [p.K, p.M] : [p.M, p.K],
    b: p.form === 'NT' ? [p.N, p.K] : [p.K, p.N],
  };
}

function randoms(n: number): Float32Array {
  return Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
}

/**
 * Median seconds per call of `fn`. benchmark.js decides how many calls make a sample
 * (enough for the timer's resolution); the median of its samples is robust to the
 * occasional preemption of a shared machine, which the mean is not.
 */
function time(fn: () => void, quick: boolean): number {
  fn(); // warm up: lets V8 tier the wasm up before the first timed cycle
  const bench = new Benchmark({ fn, maxTime: quick ? 0.15 : 1, minSamples: quick ? 3 : 5 });
  bench.run();
  if (bench.error) throw bench.error;
  const sample = [...bench.stats.sample].sort((x, y) => x - y);
  return sample[sample.length >> 1];
}

/** Our gemm on one loaded kernel module, with operands in its memory. */
class KnetGemm {
  private top: number;
  constructor(private mod: WasmModule) {
    this.top = (mod.exports.heapBase() as number + 15) & ~15;
  }
  private alloc(floats: number): number {
    const p = this.top;
    this.top = (p + floats * 4 + 15) & ~15;
    const pages = Math.ceil(this.top / 65536) - this.mod.memory.buffer.byteLength / 65536;
    if (pages > 0) this.mod.memory.grow(pages);
    return p;
  }
  /** A closure that runs C = op(A) op(B) once; operands allocated and filled here. */
  prepare(p: Problem): () => void {
    const { a, b } = storedShapes(p);
    const pa = this.alloc(a[0] * a[1]), pb = this.alloc(b[0] * b[1]), pc = this.alloc(p.M * p.N);
    const ps = this.alloc((this.mod.exports.gemmScratchBytes(p.M, p.N, p.K) as number) / 4);
    new Float32Array(this.mod.memory.buffer, pa, a[0] * a[1]).set(randoms(a[0] * a[1]));
    new Float32Array(this.mod.memory.buffer, pb, b[0] * b[1]).set(randoms(b[0] * b[1]));
    const gemm = this.mod.exports.gemm;
    const ta = p.form === 'TN' ? 1 : 0, tb = p.form === 'NT' ? 1 : 0;
    return () => { gemm(ta, tb, p.M, p.N, p.K, 1, pa, a[1], pb, b[1], 0, pc, p.N, ps); };
  }
}

async function tfjsWasm(): Promise<string> {
  const require = createRequire(import.meta.url);
  const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  setWasmPaths(join(dist, '/'));
  // Single-threaded like ours (in Node the backend has no threads; this makes sure).
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  setThreadsCount(1);
  if (!(await tf.setBackend('wasm'))) throw new Error('TensorFlow.js wasm backend failed to start');
  await tf.ready();
  return `tfjs-backend-wasm ${tf.version.tfjs}, SIMD ${await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')}, ${getThreadsCount()} thread`;
}

function tfjsCall(p: Problem): { fn: () => void; dispose: () => void } {
  const { a, b } = storedShapes(p);
  const ta = tf.tensor2d(randoms(a[0] * a[1]), a), tb = tf.tensor2d(randoms(b[0] * b[1]), b);
  const transA = p.form === 'TN', transB = p.form === 'NT';
  return {
    // dataSync forces the product to be computed (and copies it out, as a model would).
    fn: () => { tf.tidy(() => { tf.matMul(ta, tb, transA, transB).dataSync(); }); },
    dispose: () => { ta.dispose(); tb.dispose(); },
  };
}

const f1 = (x: number) => x.toFixed(1);
const pct = (x: number) => `${Math.round(x * 100)}%`;

export async function run(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const hasRelaxed = await enableRelaxedSimd();
  const peak = await measurePeak({ quick });
  const simd = new KnetGemm(await loadKernels({ relaxed: false }));
  const relaxed = hasRelaxed ? new KnetGemm(await loadKernels({ relaxed: true })) : null;
  const tfInfo = await tfjsWasm();

  const rows: string[] = [];
  for (const p of problems()) {
    const flops = 2 * p.M * p.N * p.K;
    const gf = (seconds: number) => flops / seconds / 1e9;
    const ours = gf(time(simd.prepare(p), quick));
    const oursRelaxed = relaxed ? gf(time(relaxed.prepare(p), quick)) : NaN;
    const t = tfjsCall(p);
    const theirs = gf(time(t.fn, quick));
    t.dispose();
    rows.push(`| ${p.label} | ${p.form} | ${p.M}×${p.N}×${p.K} | ${f1(ours)} | ${pct(ours / peak.mulAdd)} | ` +
      (relaxed ? `${f1(oursRelaxed)} | ${peak.fma ? pct(oursRelaxed / peak.fma) : '–'}` : 'n/a | n/a') +
      ` | ${f1(theirs)} | ${f1((relaxed ? oursRelaxed : ours) / theirs)}× |`);
  }

  console.log(`machine: ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}; ${tfInfo}`);
  console.log(`f32x4 peak (1 thread): mul+add ${f1(peak.mulAdd)} GFLOP/s, FMA ${peak.fma ? f1(peak.fma) + ' GFLOP/s' : 'n/a'}`);
  console.log('');
  console.log('| problem | form | M×N×K | knet SIMD GFLOP/s | % of mul+add peak | knet relaxed GFLOP/s | % of FMA peak | tfjs-wasm GFLOP/s | knet best / tfjs |');
  console.log('|---|---|---|---:|---:|---:|---:|---:|---:|');
  for (const row of rows) console.log(row);
}
