// Kernel-level test helper: the raw module with a bump allocator, no Tensor involved.
import { loadKernels, type WasmModule } from '../../ts/device/wasm/module.js';

export interface Raw {
  mod: WasmModule;
  k: WasmModule['exports'];
  /** Allocates n 4-byte elements (16-byte aligned) and returns the byte offset. */
  alloc(n: number): number;
  f32(data: ArrayLike<number>): number;
  i32(data: ArrayLike<number>): number;
  readF32(ptr: number, n: number): Float32Array;
  readI32(ptr: number, n: number): Int32Array;
  reset(): void;
}

export async function raw(relaxed?: boolean): Promise<Raw> {
  const mod = await loadKernels({ relaxed });
  const base = (mod.exports.heapBase() as number + 15) & ~15;
  let top = base;
  const alloc = (n: number) => {
    const p = top;
    top = (top + n * 4 + 15) & ~15;
    const need = Math.ceil(top / 65536) - mod.memory.buffer.byteLength / 65536;
    if (need > 0) mod.memory.grow(need);
    return p;
  };
  return {
    mod, k: mod.exports, alloc,
    f32(d) { const p = alloc(d.length); new Float32Array(mod.memory.buffer, p, d.length).set(d); return p; },
    i32(d) { const p = alloc(d.length); new Int32Array(mod.memory.buffer, p, d.length).set(d); return p; },
    readF32: (p, n) => new Float32Array(mod.memory.buffer, p, n).slice(),
    readI32: (p, n) => new Int32Array(mod.memory.buffer, p, n).slice(),
    reset() { top = base; },
  };
}
