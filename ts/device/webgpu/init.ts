// initGpu() and gpuAvailable(): find a WebGPU adapter, open a device with the adapter's
// own limits (the defaults are far lower: 128 MiB bindings, 256 invocations), load the
// shaders and register the 'gpu' device. Node gets WebGPU from the `webgpu` package
// (Dawn); Deno and browsers from navigator.gpu. Where there is none, initGpu() throws a
// clear error and the cpu device keeps working; a failed attempt is not remembered, so a
// later call tries again.
//
// navigator.gpu, where present, is used in Node too, before the `webgpu` package: that is
// the seam through which tests stand in a WebGPU without an adapter
// (test/gpu-noadapter.test.ts).

/// <reference types="@webgpu/types" />

import { registerDevice, setDefaultDevice } from '../index.js';
import { readAsset, runtime } from '../../runtime.js';
import { ShaderSources } from './shaders.js';
import { WebGpuDevice } from './device.js';
import { isCpuAdapter } from './kernels/gemm.js';

export interface GpuInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** The limits the device was opened with (the adapter's). */
  limits: Record<string, number>;
}

export interface GpuOptions {
  /** Passed to requestAdapter. */
  powerPreference?: 'low-power' | 'high-performance';
  /** Node only: options for the `webgpu` package's create() (e.g. 'backend=vulkan'). */
  dawnOptions?: string[];
  /** The gemm kernel; by default 'rowblock' on adapters that run on a CPU, 'tiled' on GPUs. */
  gemm?: 'tiled' | 'rowblock';
}

/** The limits worth raising from WebGPU's defaults to what the adapter offers. */
const LIMITS = [
  'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ', 'maxComputeWorkgroupStorageSize', 'maxComputeWorkgroupsPerDimension',
  'maxStorageBufferBindingSize', 'maxBufferSize', 'maxStorageBuffersPerShaderStage',
  'maxUniformBufferBindingSize', 'maxBindGroups', 'minUniformBufferOffsetAlignment',
  'minStorageBufferOffsetAlignment',
] as const;

let current: { device: WebGpuDevice; info: GpuInfo } | null = null;
let starting: Promise<GpuInfo> | null = null;
let gpuObject: GPU | null = null;

async function findGpu(opts: GpuOptions): Promise<GPU> {
  const nav = (globalThis as any).navigator;
  if (nav?.gpu) return nav.gpu as GPU;
  if (runtime !== 'node') {
    throw new Error(`knet initGpu: this ${runtime === 'deno' ? 'Deno' : 'browser'} has no navigator.gpu (WebGPU). ` +
      (runtime === 'deno' ? 'Deno exposes it where it finds an adapter (try --unstable-webgpu on older versions). ' : 'Use a browser with WebGPU enabled. ') +
      'The cpu device works without it.');
  }
  if (gpuObject) return gpuObject;
  let mod: any;
  const name = 'webgpu';
  try {
    mod = await import(/* @vite-ignore */ name);
  } catch (e) {
    throw new Error(`knet initGpu: Node has no WebGPU of its own; install the 'webgpu' package (Dawn): ` +
      `\`npm install webgpu\`. (${(e as Error).message})`);
  }
  gpuObject = (mod.create ?? mod.default?.create)(opts.dawnOptions ?? []) as GPU;
  return gpuObject;
}

async function start(opts: GpuOptions): Promise<GpuInfo> {
  const gpu = await findGpu(opts);
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter(opts.powerPreference ? { powerPreference: opts.powerPreference } : undefined);
  } catch (e) {
    throw new Error(`knet initGpu: WebGPU's requestAdapter() failed: ${(e as Error)?.message ?? e}. The cpu device works without a GPU.`);
  }
  if (!adapter) {
    throw new Error('knet initGpu: WebGPU found no adapter (no GPU, or no driver: on Linux without a GPU, ' +
      'install Mesa\'s Vulkan drivers, e.g. `apt-get install mesa-vulkan-drivers`, for the lavapipe ' +
      'software adapter). The cpu device works without one.');
  }
  const requiredLimits: Record<string, number> = {};
  for (const k of LIMITS) {
    const v = (adapter.limits as any)[k];
    if (typeof v === 'number') requiredLimits[k] = v;
  }
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits, label: 'knet' });
  } catch (e) {
    throw new Error(`knet initGpu: the adapter found could not open a device (requestDevice() failed: ` +
      `${(e as Error)?.message ?? e}). The cpu device works without a GPU.`);
  }
  const files = await Promise.all([
    readAsset(new URL('../../../shaders/elementwise.wgsl', import.meta.url)),
    readAsset(new URL('../../../shaders/copy.wgsl', import.meta.url)),
    readAsset(new URL('../../../shaders/reduce.wgsl', import.meta.url)),
    readAsset(new URL('../../../shaders/gemm.wgsl', import.meta.url)),
    readAsset(new URL('../../../shaders/optim.wgsl', import.meta.url)),
    readAsset(new URL('../../../shaders/lstm.wgsl', import.meta.url)),
    readAsset(new URL('../../../shaders/conv.wgsl', import.meta.url)),
  ]);
  const text = files.map((f) => new TextDecoder().decode(f));
  const shaders = new ShaderSources({
    elementwise: text[0], copy: text[1], reduce: text[2], gemm: text[3], optim: text[4], lstm: text[5], conv: text[6],
  });
  const ai: any = (adapter as any).info ?? {};
  const cpuLike = isCpuAdapter({ ...ai, isFallbackAdapter: (adapter as any).isFallbackAdapter || ai.isFallbackAdapter });
  const dev = new WebGpuDevice(device, shaders, { cpuLike, gemm: opts.gemm ?? (cpuLike ? 'rowblock' : 'tiled') });
  device.lost.then((info) => {
    dev.ctx.lost = `${info.reason}${info.message ? `: ${info.message}` : ''}`;
    if (current?.device === dev) current = null;
  });
  device.addEventListener('uncapturederror', (ev: any) => {
    dev.ctx.fail(new Error(`knet gpu: WebGPU reported an error: ${ev.error?.message ?? ev.error}`));
  });
  const limits: Record<string, number> = {};
  for (const k of LIMITS) limits[k] = (device.limits as any)[k];
  const info: GpuInfo = {
    vendor: ai.vendor ?? '', architecture: ai.architecture ?? '', device: ai.device ?? '',
    description: ai.description ?? '', limits,
  };
  registerDevice(dev);
  current = { device: dev, info };
  return info;
}

/**
 * Finds a WebGPU adapter, opens a device and registers it as 'gpu'. Returns a description
 * of the adapter. Calling it again returns the same device (until it is lost).
 * Throws a clear error when there is no WebGPU or no adapter; the cpu keeps working.
 */
export async function initGpu(opts: GpuOptions = {}): Promise<GpuInfo> {
  if (current && !current.device.ctx.lost) return current.info;
  starting ??= start(opts).finally(() => { starting = null; });
  return starting;
}

/** True when initGpu() would succeed (it tries it); never throws. */
export async function gpuAvailable(): Promise<boolean> {
  try {
    await initGpu();
    return true;
  } catch {
    return false;
  }
}

/**
 * Picks the best device there is and makes it the default for new tensors: 'gpu' where
 * WebGPU gives an adapter and a device, else 'cpu' (WebAssembly). `prefer` forces one.
 */
export async function useBestDevice(prefer?: 'cpu' | 'gpu'): Promise<'cpu' | 'gpu'> {
  const d = prefer ?? ((await gpuAvailable()) ? 'gpu' : 'cpu');
  if (d === 'gpu') await initGpu();
  setDefaultDevice(d);
  return d;
}
