// The cpu device instance. Loading the kernels is asynchronous, so this module uses a
// top-level await: by the time `import 'knet'` resolves, every op is synchronous.
// KNET_WASM=simd forces the plain SIMD build (benchmarks compare both).

import { runtime } from '../runtime.js';
import { loadKernels } from './wasm/module.js';
import { WasmDevice } from './wasm/device.js';

declare const Deno: any;

function envFlag(name: string): string | undefined {
  try {
    if (runtime === 'deno') return Deno.env.get(name);
    if (runtime === 'node') return process.env[name];
  } catch { /* no permission to read the environment */ }
  return undefined;
}

const choice = envFlag('KNET_WASM');
export const cpuDevice = new WasmDevice(
  await loadKernels({ relaxed: choice === 'simd' ? false : choice === 'relaxed' ? true : undefined }),
);

/** Which kernel build the cpu device runs: 'relaxed-simd' (FMA) or 'simd'. */
export function simdLevel(): 'relaxed-simd' | 'simd' {
  return cpuDevice.relaxed ? 'relaxed-simd' : 'simd';
}
