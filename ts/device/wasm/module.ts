// Loads the AssemblyScript kernel module over a WebAssembly.Memory that TypeScript creates.
// Two builds exist (plain SIMD128, and SIMD128 + relaxed SIMD); the relaxed one is used
// only where the runtime validates it. Node 20 has relaxed SIMD behind a V8 flag, which
// we set before compiling; Deno and Chromium have it on by default. Each comes in a
// second form (`-mt`) that imports a shared memory, for the thread pool (threads.ts): its
// workers instantiate the same compiled WebAssembly.Module over the same memory.
//
// We use plain WebAssembly.instantiate rather than @assemblyscript/loader: the kernels
// take only numbers and never allocate managed objects, so the loader's marshalling is
// unused, and the one thing it adds (readable `abort` messages) is the ten lines below.

import { readAsset, runtime } from '../../runtime.js';

/** The kernel exports: every pointer is a byte offset into `memory`. */
export interface KernelExports {
  heapBase(): number;
  [name: string]: (...args: number[]) => number | void;
}

export interface WasmModule {
  memory: WebAssembly.Memory;
  exports: KernelExports;
  relaxed: boolean;
  /** The memory is a shared one (the `-mt` build): workers may run kernels on it too. */
  shared: boolean;
  /** The compiled module, for workers to instantiate over the same memory. */
  module: WebAssembly.Module;
}

const PAGE = 65536;
export const MAX_PAGES = 65536; // 4 GiB: the wasm32 limit

// A module that uses f32x4.relaxed_madd: validates only where relaxed SIMD is available.
const RELAXED_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 19, 1, 17, 0, 65, 0,
  253, 15, 65, 0, 253, 15, 65, 0, 253, 15, 253, 133, 2, 11,
]);

async function relaxedSimdAvailable(): Promise<boolean> {
  if (runtime === 'node' && !WebAssembly.validate(RELAXED_PROBE)) {
    try {
      const v8 = await import('node:v8');
      v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
    } catch { /* not allowed here: stay on plain SIMD */ }
  }
  return WebAssembly.validate(RELAXED_PROBE);
}

function readAsString(memory: WebAssembly.Memory, ptr: number): string {
  if (!ptr) return '';
  const len = new Uint32Array(memory.buffer, ptr - 4, 1)[0]; // byte length (stub runtime header)
  return String.fromCharCode(...new Uint16Array(memory.buffer, ptr, len >>> 1));
}

/**
 * Why a shared WebAssembly.Memory cannot be used here, or null when it can: browsers
 * allow one only in a cross-origin isolated page (COOP + COEP headers).
 */
export function sharedMemoryUnavailable(): string | null {
  if ((globalThis as any).crossOriginIsolated === false) {
    return 'the page is not cross-origin isolated (serve it with the headers Cross-Origin-Opener-Policy: ' +
      'same-origin and Cross-Origin-Embedder-Policy: require-corp)';
  }
  if (typeof SharedArrayBuffer === 'undefined') return 'SharedArrayBuffer is not available';
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true } as WebAssembly.MemoryDescriptor);
  } catch (e) {
    return `a shared WebAssembly.Memory cannot be created (${(e as Error).message})`;
  }
  return null;
}

/**
 * Loads the kernels. `shared: true` loads the `-mt` build over a shared memory (the
 * caller checks sharedMemoryUnavailable() first); the default is an ordinary memory.
 */
export async function loadKernels(opts: { relaxed?: boolean; shared?: boolean } = {}): Promise<WasmModule> {
  const available = opts.relaxed === false ? false : await relaxedSimdAvailable(); // also sets Node's flag
  if (opts.relaxed && !available) throw new Error('knet: the relaxed SIMD build was asked for, but this runtime has no relaxed SIMD');
  const relaxed = opts.relaxed ?? available;
  const shared = opts.shared ?? false;
  const file = `knet-${relaxed ? 'relaxed' : 'simd'}${shared ? '-mt' : ''}.wasm`;
  const bytes = await readAsset(new URL(`../../../build/${file}`, import.meta.url));
  // A shared memory must declare its maximum; the engine reserves address space for it
  // but commits only what is used.
  const memory = new WebAssembly.Memory({ initial: 256, maximum: MAX_PAGES, shared } as WebAssembly.MemoryDescriptor);
  const env = {
    memory,
    abort(msg: number, file: number, line: number, col: number) {
      throw new Error(`knet kernel abort: ${readAsString(memory, msg)} at ${readAsString(memory, file)}:${line}:${col}`);
    },
  };
  const module = await WebAssembly.compile(bytes as BufferSource);
  const instance = await WebAssembly.instantiate(module, { env });
  return { memory, exports: instance.exports as unknown as KernelExports, relaxed, shared, module };
}

export { PAGE };
