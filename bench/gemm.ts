// `npm run bench -- gemm [--quick]`: GFLOP/s of knet's wasm gemm (plain SIMD and relaxed
// SIMD builds) next to TensorFlow.js's wasm backend and this machine's measured f32x4
// peaks, as one Markdown table (random operands: no zeros). Then the MNIST MLP's two big
// products on real batches, with gemm's zero-row skipping off and on by turns in one
// module, beside TensorFlow.js on the same batches. Timings come from benchmark.js; all
// single-threaded.
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import Benchmark from 'benchmark';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { loadKernels, type WasmModule } from '../ts/device/wasm/module.js';
import { enableRelaxedSimd, measurePeak } from './peak.js';
import { mnist } from '../ts/data/datasets.js';

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
  /** gemm.ts's zero-row skip on or off (this module instance only). */
  skipZeroRows(on: boolean): void { this.mod.exports.gemmSkipZeroRows(+on); }
  /** A closure that runs C = op(A) op(B) on the next of `bs` (B as stored), A random; operands allocated here. */
  prepareBatches(p: Problem, bs: Float32Array[]): () => void {
    const { a, b } = storedShapes(p);
    const pa = this.alloc(a[0] * a[1]), pc = this.alloc(p.M * p.N);
    const pbs = bs.map((x) => { const pb = this.alloc(x.length); new Float32Array(this.mod.memory.buffer, pb, x.length).set(x); return pb; });
    const ps = this.alloc((this.mod.exports.gemmScratchBytes(p.M, p.N, p.K) as number) / 4);
    new Float32Array(this.mod.memory.buffer, pa, a[0] * a[1]).set(randoms(a[0] * a[1]));
    const gemm = this.mod.exports.gemm;
    const ta = p.form === 'TN' ? 1 : 0, tb = p.form === 'NT' ? 1 : 0;
    let t = 0;
    return () => { gemm(ta, tb, p.M, p.N, p.K, 1, pa, a[1], pbs[t++ % pbs.length], b[1], 0, pc, p.N, ps); };
  }
  /** A closure that runs C = op(A) op(B) once, A and B random. */
  prepare(p: Problem): () => void {
    const { b } = storedShapes(p);
    return this.prepareBatches(p, [randoms(b[0] * b[1])]);
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
  const { b } = storedShapes(p);
  return tfjsBatches(p, [randoms(b[0] * b[1])]);
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
  console.log('');
  await zeroRows(relaxed ?? simd, relaxed ? 'relaxed' : 'SIMD', quick);
}

/**
 * The MNIST MLP's forward W1·x (NN 64×100×784) and weight gradient dH·xᵀ (NT 64×784×100),
 * B = x, a batch of 100 images as columns [784, 100] (examples/mnist.ts's layout), 20
 * batches in turn so that B comes from memory as in training. gemm's zero-row skip (the
 * same bits) is switched off and on by turns; TensorFlow.js runs the same batches.
 */
async function zeroRows(knet: KnetGemm, build: string, quick: boolean): Promise<void> {
  const data = await mnist();
  const batches = 20;
  const xs = Array.from({ length: batches }, (_, t) => {
    const x = new Float32Array(784 * 100);
    for (let i = 0; i < 100; i++) for (let p = 0; p < 784; p++) x[p * 100 + i] = data.xtrn[(t * 100 + i) * 784 + p];
    return x;
  });
  const zero = xs.reduce((n, x) => n + x.filter((v) => v === 0).length, 0) / (batches * 784 * 100);
  const probs: Problem[] = [
    { label: 'MLP forward W1·x', form: 'NN', M: 64, N: 100, K: 784 },
    { label: 'MLP gradient dH·xᵀ', form: 'NT', M: 64, N: 784, K: 100 },
  ];
  const rounds = quick ? 2 : 5;
  console.log(`### the MLP's products on MNIST batches (${Math.round(zero * 100)}% zero pixels), knet ${build} build, zero-row skip off / on by turns, ${rounds} rounds`);
  console.log('');
  console.log('| product | form | M×N×K | skip off µs | skip on µs | on / off speedup (median, range) | tfjs-wasm µs | knet (on) / tfjs |');
  console.log('|---|---|---|---:|---:|---:|---:|---:|');
  for (const p of probs) {
    const call = knet.prepareBatches(p, xs);
    const off: number[] = [], on: number[] = [];
    for (let r = 0; r < rounds; r++) {
      knet.skipZeroRows(false); off.push(time(call, quick));
      knet.skipZeroRows(true); on.push(time(call, quick));
    }
    const t = tfjsBatches(p, xs);
    const theirs = time(t.fn, quick);
    t.dispose();
    const med = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
    const ratios = off.map((x, i) => x / on[i]).sort((a, b) => a - b);
    const us = (x: number) => (x * 1e6).toFixed(0);
    console.log(`| ${p.label} | ${p.form} | ${p.M}×${p.N}×${p.K} | ${us(med(off))} | ${us(med(on))} | ` +
      `${med(ratios).toFixed(2)}× (${ratios[0].toFixed(2)}-${ratios[ratios.length - 1].toFixed(2)}) | ${us(theirs)} | ${(theirs / med(on)).toFixed(2)}× |`);
  }
}

/** TensorFlow.js on C = op(A) op(B), A random, B the next of `bs` (as stored) each call. */
function tfjsBatches(p: Problem, bs: Float32Array[]): { fn: () => void; dispose: () => void } {
  const { a, b } = storedShapes(p);
  const ta = tf.tensor2d(randoms(a[0] * a[1]), a), tbs = bs.map((x) => tf.tensor2d(x, b));
  const transA = p.form === 'TN', transB = p.form === 'NT';
  let t = 0;
  return {
    // dataSync forces the product to be computed (and copies it out, as a model would).
    fn: () => { tf.tidy(() => { tf.matMul(ta, tbs[t++ % tbs.length], transA, transB).dataSync(); }); },
    dispose: () => { ta.dispose(); tbs.forEach((x) => x.dispose()); },
  };
}
