// The gpu device's caches and batching, and its sizes chosen from the adapter's limits:
// - after a warm-up training step, further steps create no pipeline, shader module or bind
//   group, and their dispatches go to the queue in few submits (MAX_BATCH per submit);
// - chooseTile (the tiled gemm's tile) and GpuContext's workgroup size and grid, from
//   reduced limits, as unit tests that need no adapter;
// - a whole device opened over the same adapter but shown reduced limits (64 invocations,
//   4 KiB of workgroup memory, 64 workgroups per grid dimension) trains a step that equals
//   the default device's, so every kernel works with the smaller sizes.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as K from '../ts/index.js';
import type { Tensor } from '../ts/index.js';
import type { Device } from '../ts/device/device.js';
import { GpuContext } from '../ts/device/webgpu/context.js';
import { WebGpuDevice } from '../ts/device/webgpu/device.js';
import { chooseTile } from '../ts/device/webgpu/kernels/gemm.js';
import { ShaderSources } from '../ts/device/webgpu/shaders.js';
import * as R from './helpers/ref.js';
import { gpuDevice, gpuOk } from './helpers/gpu.js';
import { relErr } from './helpers/nnref.js';

/** WebGPU's default limits (what an adapter must at least offer), with some overridden. */
const limits = (over: Record<string, number> = {}) => ({
  maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupSizeY: 256,
  maxComputeWorkgroupSizeZ: 64, maxComputeWorkgroupStorageSize: 16384, maxComputeWorkgroupsPerDimension: 65535,
  maxStorageBufferBindingSize: 134217728, maxBufferSize: 268435456, minUniformBufferOffsetAlignment: 256, ...over,
}) as unknown as GPUSupportedLimits;

describe('sizes chosen from the adapter\'s limits (no adapter needed)', () => {
  it('chooseTile: the default limits, and reduced ones', () => {
    expect(chooseTile(limits())).toEqual({ TX: 16, TY: 16, TM: 4, TN: 4, BK: 16 });
    // 64 invocations and 4 KiB: an 8 x 8 workgroup; (8*4 + 8*4) * 16 * 4 bytes = 4 KiB fits
    expect(chooseTile(limits({ maxComputeInvocationsPerWorkgroup: 64, maxComputeWorkgroupStorageSize: 4096 })))
      .toEqual({ TX: 8, TY: 8, TM: 4, TN: 4, BK: 16 });
    // 256 invocations but 4 KiB: the k step halves instead
    expect(chooseTile(limits({ maxComputeWorkgroupStorageSize: 4096 }))).toEqual({ TX: 16, TY: 16, TM: 4, TN: 4, BK: 8 });
    expect(chooseTile(limits({ maxComputeInvocationsPerWorkgroup: 64, maxComputeWorkgroupStorageSize: 1024 })).BK).toBe(4);
    // the workgroup's y size bounds it too
    expect(chooseTile(limits({ maxComputeWorkgroupSizeY: 4 })).TY).toBe(4);
  });

  it('chooseTile: within every limit, tile sides multiples of 4, over a grid of limits', () => {
    for (const inv of [16, 32, 48, 64, 100, 128, 256, 1024]) {
      // (WebGPU guarantees 16 KiB; below 2 KiB a 16 x 16 workgroup cannot fit even BK = 4,
      // and chooseTile does not shrink the workgroup for memory)
      for (const shared of [2048, 4096, 8192, 16384, 32768]) {
        for (const sy of [4, 16, 64, 1024]) {
          const t = chooseTile(limits({ maxComputeInvocationsPerWorkgroup: inv, maxComputeWorkgroupStorageSize: shared, maxComputeWorkgroupSizeY: sy }));
          const tag = JSON.stringify({ inv, shared, sy, t });
          expect(t.TX * t.TY, tag).toBeLessThanOrEqual(inv);
          expect(t.TY, tag).toBeLessThanOrEqual(sy);
          expect((t.TX * t.TN + t.TY * t.TM) * t.BK * 4, tag).toBeLessThanOrEqual(shared);
          for (const side of [t.TX * t.TN, t.TY * t.TM, t.BK]) expect(side % 4, tag).toBe(0);
        }
      }
    }
  });

  const fakeDevice = (lim: GPUSupportedLimits) => ({ limits: lim, queue: {}, createBuffer: () => ({}) }) as unknown as GPUDevice;
  it('GpuContext: the 1-D kernels\' workgroup is the largest power of two within the limits, at most 256', () => {
    expect(new GpuContext(fakeDevice(limits())).wg).toBe(256);
    expect(new GpuContext(fakeDevice(limits({ maxComputeInvocationsPerWorkgroup: 64 }))).wg).toBe(64);
    expect(new GpuContext(fakeDevice(limits({ maxComputeInvocationsPerWorkgroup: 48 }))).wg).toBe(32);
    expect(new GpuContext(fakeDevice(limits({ maxComputeInvocationsPerWorkgroup: 1024, maxComputeWorkgroupSizeX: 1024 }))).wg).toBe(256);
    expect(new GpuContext(fakeDevice(limits({ maxComputeInvocationsPerWorkgroup: 1024, maxComputeWorkgroupSizeX: 128 }))).wg).toBe(128);
  });

  it('GpuContext.grid: a 2-D grid within the per-dimension limit that covers every thread', () => {
    const ctx = new GpuContext(fakeDevice(limits({ maxComputeInvocationsPerWorkgroup: 64, maxComputeWorkgroupsPerDimension: 100 })));
    for (const n of [0, 1, 64, 65, 6400, 6401, 64 * 100 * 7 + 1, 64 * 100 * 100 - 1, 64 * 100 * 100]) {
      const [x, y] = ctx.grid(n);
      expect(x, `n=${n}`).toBeLessThanOrEqual(100);
      expect(y, `n=${n}`).toBeLessThanOrEqual(100);
      expect(x * y * 64, `n=${n}`).toBeGreaterThanOrEqual(n);
      expect((x * y - Math.max(x, y)) * 64, `n=${n}: not too many`).toBeLessThan(Math.max(n, 1));
    }
    expect(ctx.grid(6400)).toEqual([100, 1]);
  });
});

/** A small model touching most kernel families: conv4, pool, relu, matmul, lstmCell, dropout, nll, Adam with gclip. */
function model(device: K.DeviceName | Device) {
  const r = R.rng(3);
  const t = (shape: number[], s = 0.3) => K.tensor(Float32Array.from(r.uniform(shape, -s, s).data), shape, { device });
  const w = [t([4, 2, 3, 3]), t([1, 4, 1, 1]), t([9 + 6, 24]), t([1, 24]), t([10, 6]), t([10, 1])];
  const x = t([5, 2, 8, 8], 1), labels = K.tensor(Int32Array.of(1, 3, 9, 0, 3), [5], { dtype: 'int32', device });
  const h0 = t([5, 6]), c0 = t([5, 6]);
  const loss = (w: Tensor[]) => {
    const a = K.pool(K.relu(K.add(K.conv4(w[0], x, { padding: 1 }), w[1])), { window: 3, stride: 2 }); // [5, 4, 3, 3]
    const f = K.reshape(K.mean(a, 1), [5, 9]);
    const [h] = K.lstmCell(w[2], w[3], h0, c0, K.dropout(f, 0.2));
    return K.nll(K.add(K.matmul(w[4], K.softmax(h, 1), false, true), w[5]), labels);
  };
  const lossgrad = K.gradloss(loss);
  const opts = K.optimizers(w, K.Adam, { lr: 0.01, gclip: 0.5 });
  const step = (): Tensor => { const [g, l] = lossgrad(w); K.update(w, g, opts); return l; };
  return { w, step, loss };
}

describe.skipIf(!gpuOk)('gpu caches and batching over training steps', () => {
  it('after a warm-up step: no new pipelines, modules or bind groups; dispatches batched into few submits', async () => {
    const ctx = gpuDevice().ctx;
    K.setSeed(1);
    const m = model('gpu');
    // a training loop as the examples write it: the loss added up on the device
    let total = K.zeros([], { device: 'gpu' });
    const step = () => { const l = m.step(); const t = K.add(total, l); total.dispose(); l.dispose(); total = t; };
    // warm-up: every pipeline, buffers in the pool, and the bind groups of both loop forms
    for (let i = 0; i < 3; i++) { step(); await total.data(); }
    for (let i = 0; i < 3; i++) step();
    await total.data();
    const before = { ...ctx.stats };
    for (let i = 0; i < 5; i++) step(); // recorded back to back, without awaiting
    expect(Number.isFinite(await total.itemAsync())).toBe(true);
    const d = { dispatches: ctx.stats.dispatches - before.dispatches, submits: ctx.stats.submits - before.submits };
    expect(ctx.stats.pipelines).toBe(before.pipelines);
    expect(ctx.stats.modules).toBe(before.modules);
    expect(ctx.stats.bindGroups).toBe(before.bindGroups);
    expect(d.dispatches).toBeGreaterThan(5 * 40); // the model's steps really ran
    // at most 256 dispatches per submit, plus the readback's own
    expect(d.submits).toBeLessThanOrEqual(Math.ceil(d.dispatches / 256) + 1);
    // a loop that reads the loss after every step submits about once per step
    const b2 = { ...ctx.stats };
    for (let i = 0; i < 3; i++) { step(); await total.data(); }
    expect(ctx.stats.pipelines).toBe(b2.pipelines);
    expect(ctx.stats.bindGroups).toBe(b2.bindGroups);
    expect(ctx.stats.submits - b2.submits).toBeLessThanOrEqual(3 * 2);
    expect(ctx.stats.submits - b2.submits).toBeLessThan((ctx.stats.dispatches - b2.dispatches) / 20);
  });
});

/** The device as WebGPU gives it, but showing knet smaller limits than the adapter's. */
function reducedDevice(over: Record<string, number>, gemm: 'tiled' | 'rowblock'): WebGpuDevice {
  const real = gpuDevice().ctx.device;
  const lim = new Proxy(real.limits, { get: (t, k) => (typeof k === 'string' && k in over ? over[k] : (t as any)[k]) });
  const dev = new Proxy(real, {
    get: (t, k) => { if (k === 'limits') return lim; const v = (t as any)[k]; return typeof v === 'function' ? v.bind(t) : v; },
  });
  const dir = new URL('../shaders/', import.meta.url);
  const files = Object.fromEntries(readdirSync(dir).filter((f) => f.endsWith('.wgsl'))
    .map((f) => [f.replace(/\.wgsl$/, ''), readFileSync(new URL(f, dir), 'utf8')]));
  return new WebGpuDevice(dev, new ShaderSources(files as any), { cpuLike: gpuDevice().cpuLike, gemm });
}

describe.skipIf(!gpuOk)('a gpu device shown reduced limits', () => {
  const small = { maxComputeInvocationsPerWorkgroup: 64, maxComputeWorkgroupSizeX: 64, maxComputeWorkgroupSizeY: 64,
    maxComputeWorkgroupStorageSize: 4096, maxComputeWorkgroupsPerDimension: 64 };
  for (const gemm of ['tiled', 'rowblock'] as const) {
    it(`trains three steps like the default device (${gemm} gemm)`, async () => {
      const dev = reducedDevice(small, gemm);
      expect(dev.ctx.wg).toBe(64);
      expect(dev.gemm.tile).toEqual({ TX: 8, TY: 8, TM: 4, TN: 4, BK: 16 });
      const run = async (d: K.DeviceName | Device) => {
        K.setSeed(5);
        const m = model(d);
        const ls: number[] = [];
        for (let i = 0; i < 3; i++) ls.push(await m.step().itemAsync());
        return { ls, w: await Promise.all(m.w.map((t) => t.data())) };
      };
      const want = await run('gpu'), got = await run(dev);
      expect(relErr(got.ls, want.ls)).toBeLessThan(1e-5);
      got.w.forEach((w, i) => expect(relErr(w, want.w[i]), `parameter ${i}`).toBeLessThan(1e-5));
      // kernels whose grids exceed 64 workgroups per dimension (2-D grids), and long reductions
      const r = R.rng(6);
      const x = r.uniform([3, 70001]);
      const a = K.tensor(Float32Array.from(x.data), x.shape, { device: dev });
      const b = K.tensor(Float32Array.from(x.data), x.shape, { device: 'gpu' });
      for (const f of [(t: Tensor) => K.sum(t, 1), (t: Tensor) => K.max(t), (t: Tensor) => K.softmax(t, 1), (t: Tensor) => K.transpose(t), (t: Tensor) => K.tanh(t)]) {
        expect(relErr(await f(a).data(), await f(b).data())).toBeLessThan(1e-5);
      }
      const p = r.uniform([37, 300]), q = r.uniform([300, 45]);
      const mm = (d: K.DeviceName | Device) => K.matmul(K.tensor(Float32Array.from(p.data), p.shape, { device: d }), K.tensor(Float32Array.from(q.data), q.shape, { device: d }));
      expect(relErr(await mm(dev).data(), R.matmul(p, q, false, false).data)).toBeLessThan(1e-5);
    });
  }
});
