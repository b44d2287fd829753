// The gpu device beyond single ops: transfers, errors that name what to do, label checks,
// memory that stays flat over a training loop, and optimizers that match the cpu's.
import { describe, expect, it } from 'vitest';
import * as K from '../ts/index.js';
import type { Tensor } from '../ts/index.js';
import * as R from './helpers/ref.js';
import { disagreement, gpuDevice, gpuOk } from './helpers/gpu.js';

describe.skipIf(!gpuOk)('gpu device: setup and transfers', () => {
  it('initGpu describes the adapter, registers the device, and is idempotent', async () => {
    const info = await K.initGpu();
    expect(typeof info.description).toBe('string');
    expect(info.limits.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(64);
    expect(K.devices()).toContain('gpu');
    expect(await K.initGpu()).toBe(info);
    expect(await K.gpuAvailable()).toBe(true);
    expect(K.memory().gpu).toBeDefined();
  });

  it('round-trips float32 and int32 bit-exactly, including special values and views', async () => {
    const f = Float32Array.of(0, -0, 1.5, -3.25e-38, 1e-45, 3.4028234663852886e38, Infinity, -Infinity, NaN, Math.PI);
    const i = Int32Array.of(0, -1, 2147483647, -2147483648, 12345);
    const fg = K.gpu(K.tensor(f)), ig = K.tensor(i, undefined, { device: 'gpu' });
    expect(fg.device.name).toBe('gpu');
    expect(new Uint32Array((await fg.data()).buffer)).toEqual(new Uint32Array(f.buffer));
    expect(await ig.data()).toEqual(i);
    const back = await K.cpu(fg);
    expect(back.device.name).toBe('cpu');
    expect(new Uint32Array(back.dataSync().buffer)).toEqual(new Uint32Array(f.buffer));
    expect((await ig.toAsync('cpu')).dataSync()).toEqual(i);
    // structures, and tensors already in place
    const [a, { b }] = K.gpu([K.tensor([1, 2]), { b: K.tensor([3]) }] as const);
    expect(a.device.name).toBe('gpu');
    expect(b.device.name).toBe('gpu');
    expect(K.gpu(a)).toBe(a);
    const moved = await K.cpu({ a, list: [b] });
    expect(Array.from(moved.list[0].dataSync())).toEqual([3]);
    // an int32 copy (strided-copy kernel) and a reshape view
    expect(await K.copy(ig).data()).toEqual(i);
    expect(await K.reshape(fg, [2, 5]).data()).toEqual(await fg.data());
    // zero-size tensors
    expect((await K.zeros([0, 3], { device: 'gpu' }).data()).length).toBe(0);
  });

  it('uploads, kernels and readbacks interleave in program order', async () => {
    const x = K.tensor([1, 2, 3], undefined, { device: 'gpu' });
    const y = K.mul(x, 2);
    x.device.write(x, Float32Array.of(10, 20, 30)); // recorded work reads the old values
    const z = K.add(x, 1);
    expect(Array.from(await y.data())).toEqual([2, 4, 6]);
    expect(Array.from(await z.data())).toEqual([11, 21, 31]);
    // a released buffer reused at once by a write must not change pending work
    for (let k = 0; k < 20; k++) {
      const a = K.tensor([k, k], undefined, { device: 'gpu' });
      const b = K.add(a, 1);
      a.dispose();
      const c = K.tensor([-1, -1], undefined, { device: 'gpu' });
      expect(Array.from(await b.data())).toEqual([k + 1, k + 1]);
      b.dispose(); c.dispose();
    }
  });

  it('itemAsync works on both devices; item, dataSync and to(cpu) say what to use instead', async () => {
    const s = K.sum(K.tensor([1, 2, 3], undefined, { device: 'gpu' }));
    expect(await s.itemAsync()).toBe(6);
    expect(await K.tensor([4]).itemAsync()).toBe(4);
    expect(() => s.item()).toThrow(/itemAsync/);
    expect(() => s.dataSync()).toThrow(/await x\.data\(\)/);
    expect(() => s.to('cpu')).toThrow(/toAsync\('cpu'\)/);
  });

  it('mixing devices throws, naming both devices and the call to add', () => {
    const a = K.tensor([[1, 2], [3, 4]]), b = K.tensor([[1, 2], [3, 4]], undefined, { device: 'gpu' });
    for (const f of [() => K.add(a, b), () => K.matmul(b, a), () => K.nll(b, K.tensor(Int32Array.of(0, 1), [2]))]) {
      expect(f).toThrow(/different devices: .*'(cpu|gpu)'.* and .*'(gpu|cpu)'.*gpu\(x\).*uploads to the gpu, `await cpu\(x\)` reads back/);
    }
    const w = [K.tensor([1, 2])];
    expect(() => K.update(w, [K.tensor([1, 1], undefined, { device: 'gpu' })], K.optimizers(w, K.Sgd))).toThrow(/lives on 'cpu' but its gradient on 'gpu'/);
  });

  it('a tensor larger than the adapter can bind is refused up front', () => {
    const max = gpuDevice()!.ctx.maxBinding;
    expect(() => K.zeros([Math.floor(max / 4) + 1], { device: 'gpu' })).toThrow(/maxStorageBufferBindingSize/);
  });
});

describe.skipIf(!gpuOk)('gpu device: labels', () => {
  it('pick checks labels uploaded from the cpu synchronously (copies and views too)', () => {
    const x = K.tensor([[1, 2, 3], [4, 5, 6]], undefined, { device: 'gpu' });
    const good = K.tensor(Int32Array.of(0, 1, 1), [3], { device: 'gpu' });
    expect(() => K.pick(x, good)).not.toThrow();
    const bad = K.tensor(Int32Array.of(0, 1, 1), [3], { device: 'gpu' });
    bad.device.write(bad, Int32Array.of(1, -1, 0));
    expect(() => K.pick(x, bad)).toThrow(/position 1 is outside \[0, 2\)/);
    expect(() => K.pick(x, K.copy(bad))).toThrow(/position 1/);
    const full = K.full([3], 7, { dtype: 'int32', device: 'gpu' });
    expect(() => K.pick(x, full)).toThrow(/position 0/);
  });

  it('labels computed on the gpu are checked by the kernel and reported at the next readback', async () => {
    const dev = gpuDevice()!;
    const x = K.tensor([[1, 2, 3], [4, 5, 6]], undefined, { device: 'gpu' });
    const labels = K.tensor(Int32Array.of(0, 5, 1), [3], { device: 'gpu' });
    dev.labels.forget(labels); // as if a kernel had made them
    const y = K.pick(x, labels);
    await expect(y.data()).rejects.toThrow(/pick \(gpu\): the label at position 1 is outside \[0, 2\)/);
    // reported once; later readbacks are fine
    const ok = K.tensor(Int32Array.of(0, 1, 1), [3], { device: 'gpu' });
    dev.labels.forget(ok);
    expect(Array.from(await K.pick(x, ok).data())).toEqual([1, 5, 6]);
    // the gradient (unpick) never scatters a bad label
    const [g] = K.grad((w: Tensor[]) => K.sum(K.pick(w[0], labels)))([x]) as Tensor[];
    await expect(g.data()).rejects.toThrow(/outside \[0, 2\)/);
    expect(Array.from(await g.data())).toEqual([1, 0, 0, 0, 0, 1]);
  });
});

describe.skipIf(!gpuOk)('gpu device: optimizers', () => {
  const kinds = [
    ['Sgd', K.Sgd, { lr: 0.1 }], ['Momentum', K.Momentum, { lr: 0.05 }], ['Nesterov', K.Nesterov, { lr: 0.05 }],
    ['Adagrad', K.Adagrad, {}], ['Adadelta', K.Adadelta, { lr: 0.5 }], ['Rmsprop', K.Rmsprop, {}], ['Adam', K.Adam, {}],
  ] as const;
  for (const [name, O, o] of kinds) {
    for (const gclip of [0, 0.5]) {
      it(`${name} (gclip ${gclip}) matches the cpu over 5 steps, state included`, async () => {
        const r = R.rng(11);
        const w0 = Float32Array.from(r.uniform([37, 5]).data);
        const grads = Array.from({ length: 5 }, () => Float32Array.from(r.uniform([37, 5]).data));
        const run = (device: 'cpu' | 'gpu') => {
          const w = K.tensor(w0, [37, 5], { device });
          const opt = new (O as any)({ ...o, gclip });
          for (const g of grads) K.update(w, K.tensor(g, [37, 5], { device }), opt);
          return [w, ...(opt.states() as Tensor[]).filter(Boolean)];
        };
        const c = run('cpu'), g = run('gpu');
        expect(g.length).toBe(c.length);
        for (let k = 0; k < c.length; k++) {
          expect(disagreement(await g[k].data(), c[k].dataSync(), 1e-5), `tensor ${k}`).toBeLessThan(1e-4);
        }
      });
    }
  }
});
