// Where WebGPU exists but gives no adapter (a browser on a machine without a usable GPU,
// Node without Vulkan drivers), or fails to give one: gpuAvailable() says false without
// throwing, initGpu() throws an error that says what happened and that the cpu works,
// useBestDevice() picks the cpu, nothing is left half-registered, and a later call tries
// again. The stand-in WebGPU is a navigator.gpu stub, which initGpu uses in Node too
// before the `webgpu` package (init.ts). Its own file (its own process): it must run before
// any real initGpu(), so it does not import test/helpers/gpu.ts.
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as K from '../ts/index.js';

function stubGpu(gpu: Partial<GPU>) {
  vi.stubGlobal('navigator', { ...(globalThis as any).navigator, gpu });
}
afterEach(() => { vi.unstubAllGlobals(); });

describe('no WebGPU adapter', () => {
  it('requestAdapter gives null: gpuAvailable false, initGpu a clear error, the cpu works', async () => {
    const requestAdapter = vi.fn(async () => null);
    stubGpu({ requestAdapter } as any);
    expect(await K.gpuAvailable()).toBe(false);
    await expect(K.initGpu()).rejects.toThrow(/knet initGpu: WebGPU found no adapter .*mesa-vulkan-drivers.*The cpu device works without one/);
    expect(K.devices()).not.toContain('gpu');
    expect(() => K.tensor([1, 2], undefined, { device: 'gpu' })).toThrow(/device 'gpu' is not available; call `await initGpu\(\)` first/);
    expect(await K.useBestDevice()).toBe('cpu');
    expect(K.defaultDevice()).toBe('cpu');
    await expect(K.useBestDevice('gpu')).rejects.toThrow(/found no adapter/);
    expect(K.defaultDevice()).toBe('cpu');
    expect(K.sum(K.tensor([1, 2, 3])).item()).toBe(6);
    // every call asked again: a failure is not cached
    expect(requestAdapter.mock.calls.length).toBeGreaterThanOrEqual(4);
    // concurrent calls share one attempt, and all fail
    const before = requestAdapter.mock.calls.length;
    const all = await Promise.allSettled([K.initGpu(), K.initGpu(), K.gpuAvailable()]);
    expect(all.map((s) => s.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
    expect((all[2] as PromiseFulfilledResult<boolean>).value).toBe(false);
    expect(requestAdapter.mock.calls.length).toBe(before + 1);
  });

  it('requestAdapter rejects: a knet error that names the cause', async () => {
    stubGpu({ requestAdapter: async () => { throw new Error('adapter enumeration failed'); } } as any);
    expect(await K.gpuAvailable()).toBe(false);
    await expect(K.initGpu()).rejects.toThrow(/knet initGpu: WebGPU's requestAdapter\(\) failed: adapter enumeration failed\. The cpu device works/);
  });

  it('an adapter that cannot open a device: a knet error that names the cause', async () => {
    const adapter = { limits: {}, info: {}, requestDevice: async () => { throw new Error('device limit exceeded'); } };
    stubGpu({ requestAdapter: async () => adapter } as any);
    expect(await K.gpuAvailable()).toBe(false);
    await expect(K.initGpu()).rejects.toThrow(/knet initGpu: the adapter found could not open a device \(requestDevice\(\) failed: device limit exceeded\)/);
    expect(K.devices()).not.toContain('gpu');
  });

  it('without the stub, the real WebGPU is tried again (and, under KNET_REQUIRE_GPU=1, found)', async () => {
    const ok = await K.gpuAvailable();
    if (process.env.KNET_REQUIRE_GPU === '1') {
      expect(ok).toBe(true);
      expect(K.devices()).toContain('gpu');
      expect(Array.from(await K.mul(K.tensor([1, 2], undefined, { device: 'gpu' }), 3).data())).toEqual([3, 6]);
      expect(await K.useBestDevice()).toBe('gpu');
      K.setDefaultDevice('cpu');
    } else {
      expect(typeof ok).toBe('boolean');
      if (!ok) await expect(K.initGpu()).rejects.toThrow(/knet initGpu: /);
    }
  });
});
