// Measures this machine's single-thread f32x4 peak (GFLOP/s) from WebAssembly, as the
// yardstick for the gemm benchmark: once with separate mul and add, once with relaxed FMA.
//
// The kernels are tiny wasm modules assembled here byte by byte (no compiler at bench
// time): a counted loop over ACC independent v128 accumulators, enough to cover the
// latency of the arithmetic units, so the loop runs at their throughput.

const ACC = 12; // independent accumulators: V8 on x64 allocates 15 xmm registers to wasm
const UNROLL = 4; // copies of the 12-op body per loop trip, to amortise the loop branch

export type Op = 'muladd' | 'mulxadd' | 'fma';

const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const vec = (bytes: number[]): number[] => [...uleb(bytes.length), ...bytes];
const section = (id: number, bytes: number[]): number[] => [id, ...vec(bytes)];

// The opcodes we need (wasm SIMD and relaxed SIMD, all under the 0xfd prefix).
const LOCAL_GET = 0x20, LOCAL_SET = 0x21, I32_CONST = 0x41, I32_SUB = 0x6b, BR_IF = 0x0d;
const LOOP = 0x03, END = 0x0b, VOID = 0x40, F32_ADD = 0x92;
const simd = (op: number): number[] => [0xfd, ...uleb(op)];
const F32X4_SPLAT = simd(0x13), F32X4_ADD = simd(0xe4), F32X4_MUL = simd(0xe6);
const F32X4_RELAXED_MADD = simd(0x105);
const f32x4Extract0 = [...simd(0x1f), 0];

/**
 * `run(n: i32, m: f32, a: f32) -> f32`: n trips of UNROLL*ACC vector updates.
 *  - muladd:  acc = acc*m + a  (dependent mul then add on each accumulator)
 *  - mulxadd: half the accumulators do acc *= m, the other half acc += a: the mul and add
 *             units' throughput without the mul->add latency on one chain
 *  - fma:     acc = relaxed_madd(acc, m, a)
 * Locals: 0 n, 1 m, 2 a (params); 3 vm, 4 va, 5.. accumulators.
 */
function peakModule(op: Op): Uint8Array<ArrayBuffer> {
  const vm = 3, va = 4, acc0 = 5;
  const body: number[] = [];
  body.push(LOCAL_GET, 1, ...F32X4_SPLAT, LOCAL_SET, vm);
  body.push(LOCAL_GET, 2, ...F32X4_SPLAT, LOCAL_SET, va);
  for (let i = 0; i < ACC; i++) body.push(LOCAL_GET, va, LOCAL_SET, acc0 + i);
  body.push(LOOP, VOID);
  for (let u = 0; u < UNROLL; u++) {
    for (let i = 0; i < ACC; i++) {
      const acc = acc0 + i;
      if (op === 'fma') {
        body.push(LOCAL_GET, acc, LOCAL_GET, vm, LOCAL_GET, va, ...F32X4_RELAXED_MADD);
      } else if (op === 'muladd') {
        body.push(LOCAL_GET, acc, LOCAL_GET, vm, ...F32X4_MUL, LOCAL_GET, va, ...F32X4_ADD);
      } else {
        body.push(LOCAL_GET, acc, LOCAL_GET, i % 2 ? va : vm, ...(i % 2 ? F32X4_ADD : F32X4_MUL));
      }
      body.push(LOCAL_SET, acc);
    }
  }
  // n -= 1; loop while n != 0
  body.push(LOCAL_GET, 0, I32_CONST, 1, I32_SUB, LOCAL_SET, 0, LOCAL_GET, 0, BR_IF, 0, END);
  // Return the sum of lane 0 of every accumulator so nothing is dead.
  body.push(LOCAL_GET, acc0, ...f32x4Extract0);
  for (let i = 1; i < ACC; i++) body.push(LOCAL_GET, acc0 + i, ...f32x4Extract0, F32_ADD);
  body.push(END);
  const locals = [1, ...uleb(2 + ACC), 0x7b]; // one group: 2+ACC v128 locals
  const func = vec([...locals, ...body]);
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 3, 0x7f, 0x7d, 0x7d, 1, 0x7d]), // type (i32 f32 f32) -> f32
    ...section(3, [1, 0]), // one function of type 0
    ...section(7, [1, ...vec([...'run'].map((c) => c.charCodeAt(0))), 0x00, 0]), // export
    ...section(10, [1, ...func]),
  ]);
}

/** Turns on relaxed SIMD in Node 20's V8 (on by default in newer runtimes). */
export async function enableRelaxedSimd(): Promise<boolean> {
  const probe = peakModule('fma');
  if (WebAssembly.validate(probe)) return true;
  try {
    const v8 = await import('node:v8');
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch { /* not allowed: no FMA peak */ }
  return WebAssembly.validate(probe);
}

/**
 * The peak loop of one pattern as `run(trips)`, and the flops one trip does. Values stay
 * normal and bounded: the fixed point of acc*m + a is a/(1-m); acc*m with m = 1 and
 * acc + a with tiny a neither overflow nor reach subnormals.
 */
export async function peakLoop(op: Op): Promise<{ run: (trips: number) => number; flopsPerTrip: number }> {
  const { instance } = await WebAssembly.instantiate(peakModule(op));
  const kernel = instance.exports.run as (n: number, m: number, a: number) => number;
  const m = op === 'mulxadd' ? 1 : 0.5, a = op === 'mulxadd' ? 1e-30 : 0.25;
  return { run: (trips) => kernel(trips, m, a), flopsPerTrip: UNROLL * ACC * 4 * (op === 'mulxadd' ? 1 : 2) };
}

/**
 * The host's own two-core ceiling: the peak loop (FMA where relaxed SIMD is on, else mul
 * and add), which touches no memory, run on this thread alone and on this thread and a
 * second one at once. `sample()` gives [one thread, two threads] wall-clock µs for the
 * same trips on each thread: the two-thread speedup is 2 * one / two, 2.0 on two free
 * cores. A shared VM whose second vCPU is taken away for a while gives less, and a kernel
 * split over two threads cannot do better than that in the same minutes. `close()` ends
 * the second thread. Node and Deno (node:worker_threads).
 */
export async function parallelPeak(trips: number): Promise<{ sample(): [number, number]; close(): Promise<void> }> {
  const op: Op = (await enableRelaxedSimd()) ? 'fma' : 'muladd';
  const loop = await peakLoop(op);
  const module = await WebAssembly.compile(peakModule(op));
  const { Worker } = await import('node:worker_threads');
  // words: 0 task number (-1: leave), 1 trips, 2 task done
  const i32 = new Int32Array(new SharedArrayBuffer(12));
  const w = new Worker(`
    const { parentPort, workerData: { module, i32, m, a } } = require('node:worker_threads');
    const run = new WebAssembly.Instance(module).exports.run;
    let seen = 0;
    parentPort.postMessage('ready');
    for (;;) {
      Atomics.wait(i32, 0, seen);
      seen = Atomics.load(i32, 0);
      if (seen < 0) break;
      run(i32[1], m, a);
      Atomics.store(i32, 2, seen);
      Atomics.notify(i32, 2);
    }`, { eval: true, workerData: { module, i32, m: op === 'mulxadd' ? 1 : 0.5, a: 0.25 } });
  await new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
  let seq = 0;
  const time = (f: () => void) => { const t0 = performance.now(); f(); return (performance.now() - t0) * 1000; };
  loop.run(trips);
  return {
    sample: () => {
      const one = time(() => loop.run(trips));
      const two = time(() => {
        i32[1] = trips;
        Atomics.store(i32, 0, ++seq);
        Atomics.notify(i32, 0);
        loop.run(trips);
        while (Atomics.load(i32, 2) !== seq) Atomics.wait(i32, 2, seq - 1, 100);
      });
      return [one, two];
    },
    close: async () => { Atomics.store(i32, 0, -1); Atomics.notify(i32, 0); await w.terminate(); },
  };
}

/** Best-of-`repeats` GFLOP/s of one pattern, each timing at least `minMs`. */
async function measure(op: Op, minMs: number, repeats: number): Promise<number> {
  const { run, flopsPerTrip } = await peakLoop(op);
  // Warm up (and let V8 tier the function up to TurboFan), then size n to ~minMs.
  let n = 1 << 14;
  for (;;) {
    const t0 = performance.now();
    run(n);
    const dt = performance.now() - t0;
    if (dt > minMs / 4) { n = Math.ceil((n * minMs) / Math.max(dt, 1e-3)); break; }
    n *= 4;
  }
  let best = 0;
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    run(n);
    const dt = (performance.now() - t0) / 1e3;
    best = Math.max(best, (n * flopsPerTrip) / dt / 1e9);
  }
  return best;
}

export interface Peak {
  /** Best of the mul-then-add and the independent mul/add patterns. */
  mulAdd: number;
  /** Relaxed-SIMD FMA, or null where the runtime lacks relaxed SIMD. */
  fma: number | null;
}

export async function measurePeak(opts: { quick?: boolean } = {}): Promise<Peak> {
  const minMs = opts.quick ? 60 : 200, repeats = opts.quick ? 5 : 10;
  const mulAdd = Math.max(await measure('muladd', minMs, repeats), await measure('mulxadd', minMs, repeats));
  const fma = (await enableRelaxedSimd()) ? await measure('fma', minMs, repeats) : null;
  return { mulAdd, fma };
}

/** `npm run bench -- peak`: prints the peaks alone. */
export async function run(args: string[]): Promise<void> {
  const p = await measurePeak({ quick: args.includes('--quick') });
  console.log(`f32x4 mul+add peak: ${p.mulAdd.toFixed(1)} GFLOP/s`);
  console.log(`f32x4 FMA peak:     ${p.fma === null ? 'n/a (no relaxed SIMD)' : p.fma.toFixed(1) + ' GFLOP/s'}`);
}
