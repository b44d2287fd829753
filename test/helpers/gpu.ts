// Shared by the gpu test files: whether a WebGPU adapter exists here. Without one the gpu
// tests skip, saying so on the console; with KNET_REQUIRE_GPU=1 (set by .ci/run, which
// installs Mesa's lavapipe adapter) a missing adapter fails instead of skipping.
import * as K from '../../ts/index.js';
import { getDevice } from '../../ts/device/index.js';
import type { WebGpuDevice } from '../../ts/device/webgpu/device.js';

async function probe(): Promise<boolean> {
  try {
    await K.initGpu();
    return true;
  } catch (e) {
    if (process.env.KNET_REQUIRE_GPU === '1') throw e;
    console.log(`[gpu tests skipped] ${(e as Error).message}`);
    return false;
  }
}

export const gpuOk = await probe();

/** max |a - b| / (atol + |b|) between two devices' results. */
export function disagreement(a: ArrayLike<number>, b: ArrayLike<number>, atol = 1e-5): number {
  if (a.length !== b.length) return Infinity;
  let w = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]) && Number.isNaN(b[i])) continue;
    if (a[i] === b[i]) continue;
    const e = Math.abs(a[i] - b[i]) / (atol + Math.abs(b[i]));
    if (!(e <= w)) w = e;
  }
  return w;
}

/** The gpu device's internals (kernel choice, label guard, context), for white-box tests. */
export const gpuDevice = (): WebGpuDevice => getDevice('gpu') as WebGpuDevice;
