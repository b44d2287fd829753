// `npm run bench -- kernels [--quick] [--devices cpu,gpu] [--out dir]`: throughput of knet's kernels
// through its public ops, per device, next to TensorFlow.js on the same shapes (the wasm
// backend, one thread, for the cpu device; the webgpu backend, on the same adapter, for
// the gpu device): gemm and conv4 in GFLOP/s, pooling, reductions and elementwise ops in
// GB/s (bytes each call must read and write, once). The cpu figures are set against this
// machine's measured single-thread WebAssembly SIMD peaks: the f32x4 arithmetic peak
// (bench/peak.ts; FMA for the relaxed build, mul+add for the plain one) for the FLOP-bound
// kernels, and for the memory-bound ones a SIMD streaming loop with the same access pattern
// and sizes (c = a + b; b = f(a); s = Σ a), measured here.
//
// Timing: benchmark.js. On the cpu (synchronous) a call is one op, its result disposed;
// the figure is the median of benchmark.js's samples. On the gpu a call queues `reps` ops
// (enough for ~0.1 s) and waits for the last result's readback, so queued work counts;
// the figure is the median sample / reps. knet and TF.js alternate kernel by kernel.
//
// Output: the Markdown on stdout; bench/results/kernels.{json,md} (--out): every figure,
// each peak and what each kernel is set against, per device.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import Benchmark from 'benchmark';
import * as tf from '@tensorflow/tfjs';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as K from '../ts/index.js';
import type { Tensor } from '../ts/index.js';
import { parseBenchArgs } from './harness/args.js';
import { machineInfo } from './harness/machine.js';
import { markdownTable } from './harness/markdown.js';
import { progress, progressDone } from './harness/progress.js';
import { writeResults } from './harness/report.js';
import { PATTERN_NAMES, kernelRecord } from './kernels-report.js';
import { measurePeak } from './peak.js';

type Pattern = 'add' | 'map' | 'sum';

/** One kernel: its work per call and how to call it in each framework. */
interface Kernel {
  group: string;
  name: string;
  unit: 'GFLOP/s' | 'GB/s';
  /** FLOPs (GFLOP/s kernels) or bytes (GB/s kernels) per call. */
  amount: number;
  /** For GB/s kernels: the streaming pattern whose peak it is measured against, and its bytes. */
  pattern?: Pattern;
  patternFloats?: number;
  /** Inputs made on the device; `op()` returns the result (the caller disposes it). */
  knet: (device: 'cpu' | 'gpu') => { op: () => Tensor; dispose: () => void };
  tfjs: () => { op: () => tf.Tensor; dispose: () => void };
}

const rand = (n: number) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

function gemm(n: number, ta: boolean, tb: boolean): Kernel {
  const a0 = rand(n * n), b0 = rand(n * n);
  return {
    group: 'gemm', name: `matmul ${n}³ ${ta ? 'T' : 'N'}${tb ? 'T' : 'N'}`, unit: 'GFLOP/s', amount: 2 * n ** 3,
    knet: (device) => {
      const a = K.tensor(a0, [n, n], { device }), b = K.tensor(b0, [n, n], { device });
      return { op: () => K.matmul(a, b, ta, tb), dispose: () => { a.dispose(); b.dispose(); } };
    },
    tfjs: () => {
      const a = tf.tensor2d(a0, [n, n]), b = tf.tensor2d(b0, [n, n]);
      return { op: () => tf.matMul(a, b, ta, tb), dispose: () => { a.dispose(); b.dispose(); } };
    },
  };
}

/** conv4(w, x), no padding, stride 1: x [N, C, H, W], w [O, C, k, k] (TF.js: NHWC and [k, k, C, O]). */
function conv(N: number, C: number, H: number, O: number, k: number): Kernel {
  const x0 = rand(N * C * H * H), w0 = rand(O * C * k * k);
  const Ho = H - k + 1;
  return {
    group: 'conv4', name: `conv4 x [${N},${C},${H},${H}] w [${O},${C},${k},${k}]`, unit: 'GFLOP/s', amount: 2 * N * O * Ho * Ho * C * k * k,
    knet: (device) => {
      const x = K.tensor(x0, [N, C, H, H], { device }), w = K.tensor(w0, [O, C, k, k], { device });
      return { op: () => K.conv4(w, x), dispose: () => { x.dispose(); w.dispose(); } };
    },
    tfjs: () => {
      // the same numbers in TF.js's layouts
      const x = tf.tidy(() => tf.transpose(tf.tensor4d(x0, [N, C, H, H]), [0, 2, 3, 1])) as tf.Tensor4D;
      const w = tf.tidy(() => tf.transpose(tf.tensor4d(w0, [O, C, k, k]), [2, 3, 1, 0])) as tf.Tensor4D;
      return { op: () => tf.conv2d(x, w, 1, 'valid'), dispose: () => { x.dispose(); w.dispose(); } };
    },
  };
}

/** 2x2 max pooling, stride 2: reads x, writes a quarter of it. */
function pool(shape: number[]): Kernel {
  const x0 = rand(prod(shape));
  const [N, C, H, W] = shape;
  return {
    group: 'pool', name: `pool 2x2 max [${shape.join(',')}]`, unit: 'GB/s', amount: 4 * prod(shape) * 1.25, pattern: 'sum', patternFloats: prod(shape),
    knet: (device) => {
      const x = K.tensor(x0, shape, { device });
      return { op: () => K.pool(x), dispose: () => x.dispose() };
    },
    tfjs: () => {
      const x = tf.tidy(() => tf.transpose(tf.tensor4d(x0, [N, C, H, W]), [0, 2, 3, 1])) as tf.Tensor4D;
      return { op: () => tf.maxPool(x, 2, 2, 'valid'), dispose: () => x.dispose() };
    },
  };
}

/** sum of x [r, c]: over everything, or along one axis (knet's axes are TF.js's too). */
function reduction(r: number, c: number, axis: number | null): Kernel {
  const x0 = rand(r * c);
  const out = axis === null ? 1 : axis === 0 ? c : r;
  return {
    group: 'reduce', name: `sum [${r},${c}]${axis === null ? '' : `, axis ${axis}`}`, unit: 'GB/s', amount: 4 * (r * c + out), pattern: 'sum', patternFloats: r * c,
    knet: (device) => {
      const x = K.tensor(x0, [r, c], { device });
      return { op: () => (axis === null ? K.sum(x) : K.sum(x, axis)), dispose: () => x.dispose() };
    },
    tfjs: () => {
      const x = tf.tensor2d(x0, [r, c]);
      return { op: () => (axis === null ? tf.sum(x) : tf.sum(x, axis)), dispose: () => x.dispose() };
    },
  };
}

function elementwise(name: string, r: number, c: number): Kernel {
  const n = r * c, a0 = rand(n), b0 = rand(n), row0 = rand(c);
  const binary = name === 'add' || name === 'add row';
  const bytes = name === 'add' ? 12 * n : 8 * n + (name === 'add row' ? 4 * c : 0);
  const k = (device: 'cpu' | 'gpu') => {
    const a = K.tensor(a0, [r, c], { device }), b = K.tensor(b0, [r, c], { device }), row = K.tensor(row0, [1, c], { device });
    const op = name === 'add' ? () => K.add(a, b) : name === 'add row' ? () => K.add(a, row) : name === 'relu' ? () => K.relu(a) : () => K.exp(a);
    return { op, dispose: () => { a.dispose(); b.dispose(); row.dispose(); } };
  };
  const t = () => {
    const a = tf.tensor2d(a0, [r, c]), b = tf.tensor2d(b0, [r, c]), row = tf.tensor2d(row0, [1, c]);
    const op = name === 'add' ? () => tf.add(a, b) : name === 'add row' ? () => tf.add(a, row) : name === 'relu' ? () => tf.relu(a) : () => tf.exp(a);
    return { op, dispose: () => { a.dispose(); b.dispose(); row.dispose(); } };
  };
  return {
    group: 'elementwise', name: `${name} [${r},${c}]${name === 'add row' ? ` + [1,${c}]` : ''}`, unit: 'GB/s', amount: bytes,
    pattern: binary && name === 'add' ? 'add' : 'map', patternFloats: n, knet: k, tfjs: t,
  };
}

function kernels(quick: boolean): Kernel[] {
  return [
    gemm(256, false, false), gemm(1024, false, false), gemm(1024, true, false),
    conv(100, 20, 12, 50, 5), // LeNet's second layer
    ...(quick ? [] : [conv(32, 64, 32, 64, 3)]),
    pool([100, 20, 24, 24]), pool([32, 64, 32, 32]),
    reduction(1024, 1024, null), reduction(1024, 1024, 1), reduction(1024, 1024, 0),
    elementwise('add', 1024, 1024), elementwise('add row', 1024, 1024), elementwise('relu', 1024, 1024), elementwise('exp', 1024, 1024),
  ];
}

// ---------------------------------------------------------------------------------------
// The WebAssembly SIMD streaming peaks: a hand-assembled module (as bench/peak.ts does)
// with three loops over f32x4 vectors, 4 vectors per trip: c = a + b, b = a * s, s += a.

const uleb = (n: number): number[] => {
  const out: number[] = [];
  do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; out.push(b); } while (n);
  return out;
};
/** Signed LEB128, for i32.const. */
const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) { out.push(b); return out; }
    out.push(b | 0x80);
  }
};
const vec = (bytes: number[]): number[] => [...uleb(bytes.length), ...bytes];
const section = (id: number, bytes: number[]): number[] => [id, ...vec(bytes)];
const simd = (op: number): number[] => [0xfd, ...uleb(op)];
const GET = 0x20, SET = 0x21, TEE = 0x22, I32_CONST = 0x41, I32_ADD = 0x6a, I32_LT_U = 0x49, BR_IF = 0x0d, LOOP = 0x03, END = 0x0b, VOID = 0x40;
const LOAD = (offset: number) => [...simd(0x00), 4, ...uleb(offset)], STORE = (offset: number) => [...simd(0x0b), 4, ...uleb(offset)];
const F32X4_ADD = simd(0xe4), F32X4_MUL = simd(0xe6), SPLAT = simd(0x13), EXTRACT0 = [...simd(0x1f), 0];
const UNROLL = 8;

/** `kind(a, b, c, bytes)`: locals 0 a, 1 b, 2 c, 3 bytes, 4 i, 5.. v128 accumulators (sum). */
function streamFunction(kind: Pattern): number[] {
  const body: number[] = [];
  if (kind === 'sum') for (let u = 0; u < UNROLL; u++) body.push(0x43, 0, 0, 0, 0, ...SPLAT, SET, 5 + u); // splat(0.0)
  body.push(LOOP, VOID);
  for (let u = 0; u < UNROLL; u++) {
    const off = 16 * u;
    if (kind === 'add') {
      body.push(GET, 2, GET, 4, I32_ADD, GET, 0, GET, 4, I32_ADD, ...LOAD(off), GET, 1, GET, 4, I32_ADD, ...LOAD(off), ...F32X4_ADD, ...STORE(off));
    } else if (kind === 'map') {
      body.push(GET, 1, GET, 4, I32_ADD, GET, 0, GET, 4, I32_ADD, ...LOAD(off), GET, 6, ...F32X4_MUL, ...STORE(off));
    } else {
      body.push(GET, 5 + u, GET, 0, GET, 4, I32_ADD, ...LOAD(off), ...F32X4_ADD, SET, 5 + u);
    }
  }
  body.push(GET, 4, I32_CONST, ...sleb(16 * UNROLL), I32_ADD, TEE, 4, GET, 3, I32_LT_U, BR_IF, 0, END);
  if (kind === 'sum') {
    body.push(GET, 5, ...EXTRACT0);
    for (let u = 1; u < UNROLL; u++) body.push(GET, 5 + u, ...EXTRACT0, 0x92);
  } else body.push(0x43, 0, 0, 0, 0); // f32.const 0
  body.push(END);
  // locals: one i32 (i), then v128s (accumulators / the map's factor at 6)
  const locals = [2, 1, 0x7f, UNROLL + 1, 0x7b];
  if (kind === 'map') body.unshift(0x43, 0, 0, 0x80, 0x3f, ...SPLAT, SET, 6); // v = splat(1.0)
  return vec([...locals, ...body]);
}

function streamModule(pages: number): Uint8Array<ArrayBuffer> {
  const fns = (['add', 'map', 'sum'] as Pattern[]).map(streamFunction);
  const name = (s: string) => vec([...s].map((c) => c.charCodeAt(0)));
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 4, 0x7f, 0x7f, 0x7f, 0x7f, 1, 0x7d]), // (i32 i32 i32 i32) -> f32
    ...section(3, [3, 0, 0, 0]),
    ...section(5, [1, 0x00, ...uleb(pages)]),
    ...section(7, [4, ...name('add'), 0x00, 0, ...name('map'), 0x00, 1, ...name('sum'), 0x00, 2, ...name('memory'), 0x02, 0]),
    ...section(10, [3, ...fns.flat()]),
  ]);
}

/** GB/s of each streaming pattern over `floats` floats per array (best of several timings). */
export async function streamPeaks(sizes: number[], quick: boolean): Promise<Map<string, number>> {
  const maxFloats = Math.max(...sizes);
  const pages = Math.ceil((3 * maxFloats * 4) / 65536) + 1;
  const { instance } = await WebAssembly.instantiate(streamModule(pages));
  const ex = instance.exports as Record<string, (a: number, b: number, c: number, n: number) => number> & { memory: WebAssembly.Memory };
  new Float32Array(ex.memory.buffer).fill(1);
  const out = new Map<string, number>();
  for (const floats of [...new Set(sizes)]) {
    const bytes = floats * 4 - ((floats * 4) % (16 * UNROLL));
    const a = 0, b = bytes, c = 2 * bytes;
    for (const kind of ['add', 'map', 'sum'] as Pattern[]) {
      const f = () => ex[kind](a, b, c, bytes);
      const moved = kind === 'add' ? 3 * bytes : kind === 'map' ? 2 * bytes : bytes;
      for (let i = 0; i < 20; i++) f(); // tier up
      let best = Infinity;
      const end = performance.now() + (quick ? 100 : 300);
      while (performance.now() < end) { const t0 = performance.now(); f(); best = Math.min(best, performance.now() - t0); }
      out.set(`${kind}/${floats}`, moved / (best / 1000) / 1e9);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// timing

/** Median seconds per call of a synchronous fn, from benchmark.js's samples. */
function timeSync(fn: () => void, quick: boolean): number {
  fn(); fn(); // warm up: V8 tiers the wasm up, pools fill
  const bench = new Benchmark({ fn, maxTime: quick ? 0.2 : 0.6, minSamples: 5 });
  bench.run();
  if (bench.error) throw bench.error;
  const s = [...bench.stats.sample].sort((x, y) => x - y);
  return s[s.length >> 1];
}

/** Median seconds per op of an async `run(reps)` (reps ops, then a readback), from benchmark.js's deferred samples. */
async function timeAsync(run: (reps: number) => Promise<void>, quick: boolean): Promise<number> {
  await run(1); // pipelines compiled, buffers pooled
  let reps = 1;
  for (;;) {
    const t0 = performance.now();
    await run(reps);
    if (performance.now() - t0 > (quick ? 40 : 100) || reps >= 1 << 12) break;
    reps *= 2;
  }
  const bench = new Benchmark({
    defer: true, maxTime: quick ? 0.3 : 1, minSamples: 5,
    fn: (deferred: { resolve(): void }) => { run(reps).then(() => deferred.resolve()); },
  });
  await new Promise<void>((resolve, reject) => {
    bench.on('complete', () => (bench.error ? reject(bench.error) : resolve()));
    bench.run({ async: true });
  });
  const s = [...bench.stats.sample].sort((x, y) => x - y);
  return s[s.length >> 1] / reps;
}

interface Row { kernel: Kernel; knet: number; tfjs: number | null; tfjsError?: string }

async function measureDevice(device: 'cpu' | 'gpu', list: Kernel[], quick: boolean, say: (s: string) => void): Promise<Row[]> {
  const rows: Row[] = [];
  for (const k of list) {
    say(`${device}: ${k.name}`);
    const rate = (seconds: number) => (k.amount / seconds) / 1e9;
    const kn = k.knet(device);
    let knetS: number;
    if (device === 'cpu') knetS = timeSync(() => { kn.op().dispose(); }, quick);
    else {
      knetS = await timeAsync(async (reps) => {
        let y: Tensor | null = null;
        for (let i = 0; i < reps; i++) { y?.dispose(); y = kn.op(); }
        await y!.data();
        y!.dispose();
      }, quick);
    }
    kn.dispose();
    let tfjs: number | null = null, tfjsError: string | undefined;
    try {
      const t = k.tfjs();
      let s: number;
      if (device === 'cpu') s = timeSync(() => { t.op().dispose(); }, quick);
      else {
        s = await timeAsync(async (reps) => {
          let y: tf.Tensor | null = null;
          for (let i = 0; i < reps; i++) { y?.dispose(); y = t.op(); }
          await y!.data();
          y!.dispose();
        }, quick);
      }
      t.dispose();
      tfjs = rate(s);
    } catch (e) { tfjsError = (e as Error).message.split('\n')[0]; }
    rows.push({ kernel: k, knet: rate(knetS), tfjs, tfjsError });
  }
  return rows;
}

const f1 = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const pct = (x: number) => `${Math.round(x * 100)}%`;

export async function run(argv: string[]): Promise<void> {
  const a = parseBenchArgs(argv, { devices: ['cpu', 'gpu'] });
  const quick = a.quick;
  const devices = a.devices ?? ['cpu', 'gpu'];
  // one thread, as TF.js's wasm backend here: where knet's cpu device has worker threads, turn them off
  const setThreads = (K as any).setThreads as ((n: number) => Promise<number>) | undefined;
  if (setThreads) await setThreads(1);
  const t0 = performance.now();
  const say = (s: string) => progress(`kernels [${((performance.now() - t0) / 1000).toFixed(0)} s] ${s}`);
  const list = kernels(quick);
  const out: string[] = [];
  const machine = machineInfo();
  const results: Record<string, unknown>[] = [];

  if (devices.includes('cpu')) {
    say('measuring the f32x4 and streaming peaks');
    const peak = await measurePeak({ quick });
    const streams = await streamPeaks(list.filter((k) => k.patternFloats).map((k) => k.patternFloats!), quick);
    const require = createRequire(import.meta.url);
    setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')), '/'));
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    setThreadsCount(1);
    if (!(await tf.setBackend('wasm'))) throw new Error('TensorFlow.js wasm backend failed to start');
    await tf.ready();
    const rows = await measureDevice('cpu', list, quick, say);
    const level = K.simdLevel();
    const arith = level.includes('relaxed') && peak.fma ? peak.fma : peak.mulAdd;
    const arithKind = level.includes('relaxed') && peak.fma ? 'f32x4 FMA' : 'f32x4 mul+add';
    const peakOf = (k: Kernel) => (k.unit === 'GFLOP/s' ? { value: arith, kind: arithKind }
      : { value: streams.get(`${k.pattern}/${k.patternFloats}`)!, kind: `stream ${PATTERN_NAMES[k.pattern!]}, ${k.patternFloats} floats` });
    const sizes = [...new Set(list.filter((k) => k.patternFloats).map((k) => k.patternFloats!))];
    results.push({
      device: 'cpu', build: level, threads: (K as any).threads?.() ?? 1, against: `TF.js ${tf.version.tfjs} wasm (SIMD, 1 thread)`,
      peaks: { mulAdd: peak.mulAdd, fma: peak.fma ?? null, used: arithKind,
        streams: sizes.map((n) => ({ floats: n, add: streams.get(`add/${n}`)!, map: streams.get(`map/${n}`)!, sum: streams.get(`sum/${n}`)! })) },
      kernels: rows.map((r) => kernelRecord(r.kernel, r.knet, r.tfjs, r.tfjsError, peakOf(r.kernel))),
    });
    out.push(`## cpu device (${level} build, ${(K as any).threads?.() ?? 1} thread) vs TF.js ${tf.version.tfjs} wasm (SIMD, 1 thread)`, '',
      `f32x4 peak, 1 thread: mul+add ${peak.mulAdd.toFixed(1)} GFLOP/s, FMA ${peak.fma?.toFixed(1) ?? 'n/a'} GFLOP/s ` +
      `(the ${level} build is set against ${level.includes('relaxed') && peak.fma ? 'FMA' : 'mul+add'}); streaming peaks: ` +
      [...new Set(list.filter((k) => k.patternFloats).map((k) => k.patternFloats!))].map((n) =>
        `${(n * 4 / 2 ** 20).toFixed(1)} MiB arrays: c=a+b ${f1(streams.get(`add/${n}`)!)}, b=a·s ${f1(streams.get(`map/${n}`)!)}, Σa ${f1(streams.get(`sum/${n}`)!)} GB/s`).join('; '), '');
    const header = ['kernel', 'unit', 'knet cpu', 'peak', '% of peak', 'TF.js wasm', 'knet / TF.js'];
    out.push(markdownTable(header, rows.map((r) => {
      const peakV = peakOf(r.kernel).value;
      return [r.kernel.name, r.kernel.unit, f1(r.knet), `${f1(peakV)}${r.kernel.unit === 'GB/s' ? ` (${PATTERN_NAMES[r.kernel.pattern!]})` : ''}`,
        pct(r.knet / peakV), r.tfjs === null ? `error: ${r.tfjsError}` : f1(r.tfjs), r.tfjs ? `${(r.knet / r.tfjs).toFixed(2)}×` : '–'];
    }), ['l', 'l', 'r', 'r', 'r', 'r', 'r']), '');
  }

  if (devices.includes('gpu')) {
    const { create, globals } = await import('webgpu');
    Object.assign(globalThis, globals);
    (globalThis as any).navigator ??= { userAgent: 'Node.js' };
    (globalThis as any).navigator.gpu ??= create([]);
    let info: K.GpuInfo | null = null;
    try { info = await K.initGpu(); } catch (e) {
      out.push(`## gpu device`, '', `not measured: ${(e as Error).message}`, '');
      results.push({ device: 'gpu', error: (e as Error).message });
    }
    if (info) {
      await import('@tensorflow/tfjs-backend-webgpu');
      if (!(await tf.setBackend('webgpu'))) throw new Error('TensorFlow.js webgpu backend failed to start');
      await tf.ready();
      const rows = await measureDevice('gpu', list, quick, say);
      const adapter = [info.vendor, info.architecture, info.description].filter(Boolean).join(' / ');
      results.push({ device: 'gpu', adapter, against: `TF.js ${tf.version.tfjs} webgpu (same adapter)`,
        kernels: rows.map((r) => kernelRecord(r.kernel, r.knet, r.tfjs, r.tfjsError, null)) });
      out.push(`## gpu device vs TF.js ${tf.version.tfjs} webgpu, adapter: ${adapter}`, '');
      out.push(markdownTable(['kernel', 'unit', 'knet gpu', 'TF.js webgpu', 'knet / TF.js'], rows.map((r) => [r.kernel.name, r.kernel.unit, f1(r.knet),
        r.tfjs === null ? `error: ${r.tfjsError}` : f1(r.tfjs), r.tfjs ? `${(r.knet / r.tfjs).toFixed(2)}×` : '–']), ['l', 'l', 'r', 'r', 'r']), '');
    }
  }
  progressDone();
  const seconds = (performance.now() - t0) / 1000;
  const markdown = `${out.join('\n')}\n(${quick ? 'quick run, ' : ''}total ${seconds.toFixed(0)} s)`;
  console.log(markdown);
  const report = { suite: 'kernels', date: new Date().toISOString(), mode: quick ? 'quick' : 'full', machine, devices: results, seconds };
  console.log(`\nwrote ${writeResults(a.out, 'kernels', report, markdown).join(', ')}`);
  // Dawn keeps Node alive while a GPU object is referenced.
  if (devices.includes('gpu')) process.exit(0);
}
