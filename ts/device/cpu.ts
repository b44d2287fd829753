// The cpu device instance. Loading the kernels is asynchronous, so this module uses a
// top-level await: by the time `import 'knet'` resolves, every op is synchronous.
// KNET_WASM=simd forces the plain SIMD build (benchmarks compare both).
//
// Threads: where a shared WebAssembly.Memory is allowed (Node, Deno, cross-origin
// isolated pages) the device runs on the `-mt` build and starts its worker pool here, at
// import, with as many threads as the machine has cores (KNET_THREADS=n overrides), and
// waits for the workers' start handshake (a few tens of ms) so that ops right after import
// already use them; a browser's workers can only start while its main thread is free,
// which a later synchronous training loop would not give them. Elsewhere it runs on one
// thread, as before, with a one-line notice when threads were wanted.

import { runtime } from '../runtime.js';
import { loadKernels, sharedMemoryUnavailable } from './wasm/module.js';
import { WasmDevice } from './wasm/device.js';

declare const Deno: any;

function envFlag(name: string): string | undefined {
  try {
    if (runtime === 'deno') return Deno.env.get(name);
    if (runtime === 'node') return process.env[name];
  } catch { /* no permission to read the environment */ }
  return undefined;
}

/** The machine's cores: os.availableParallelism() in Node, navigator.hardwareConcurrency elsewhere. */
async function cores(): Promise<number> {
  if (runtime === 'node') {
    const os = await import('node:os');
    return os.availableParallelism?.() ?? os.cpus().length;
  }
  return (globalThis as any).navigator?.hardwareConcurrency ?? 1;
}

const choice = envFlag('KNET_WASM');
const fromEnv = Number(envFlag('KNET_THREADS'));
const wanted = Number.isInteger(fromEnv) && fromEnv >= 1 ? fromEnv : await cores();
const noShared = sharedMemoryUnavailable();

export const cpuDevice = new WasmDevice(await loadKernels({
  relaxed: choice === 'simd' ? false : choice === 'relaxed' ? true : undefined,
  shared: noShared === null,
}));

let noticed = false;
/** Says once, on one line, why the cpu device stays on one thread. */
function notice(why: string): void {
  if (noticed) return;
  noticed = true;
  console.info(`knet: the cpu device runs on one thread: ${why}`);
}

if (wanted > 1) {
  if (noShared) notice(noShared);
  else await cpuDevice.workers!.setThreads(wanted).catch((e) => notice(String(e?.message ?? e)));
}

/** Which kernel build the cpu device runs: 'relaxed-simd' (FMA) or 'simd'. */
export function simdLevel(): 'relaxed-simd' | 'simd' {
  return cpuDevice.relaxed ? 'relaxed-simd' : 'simd';
}

/**
 * Sets how many threads the cpu device's kernels use (the calling thread included);
 * resolves to the number in use once the workers it needs have started. Results are
 * bit-identical for any number. `setThreads(1)` is the single-threaded path; where shared
 * memory is not allowed (a page without cross-origin isolation) it stays at 1, with a
 * one-line notice.
 */
export async function setThreads(n: number): Promise<number> {
  if (!Number.isInteger(n) || n < 1) throw new Error(`knet setThreads: expected a whole number >= 1, got ${n}`);
  const pool = cpuDevice.workers;
  if (!pool) {
    if (n > 1) notice(noShared ?? 'this runtime has no shared WebAssembly.Memory');
    return 1;
  }
  return await pool.setThreads(n);
}

/** The number of threads the cpu device's kernels use now (the calling thread included). */
export function threads(): number {
  return cpuDevice.threads();
}
