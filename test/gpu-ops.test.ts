// Every op of the shared op table (test/helpers/op-table.ts) on the gpu device: forward
// against the float64 reference and against the cpu on the same inputs, and gradients
// against the cpu's gradients of the same function at the same point (gradcheck reads and
// writes synchronously, so it runs on the cpu, where test/ops.test.ts covers every row).
// Then shapes that are not multiples of any tile or workgroup size, which the small
// table rows do not reach.
import { describe, expect, it } from 'vitest';
import * as K from '../ts/index.js';
import type { Tensor } from '../ts/index.js';
import * as R from './helpers/ref.js';
import { draw, rows } from './helpers/op-table.js';
import { disagreement, gpuDevice, gpuOk } from './helpers/gpu.js';

const onGpu = (x: R.Arr) => K.tensor(Float32Array.from(x.data), x.shape, { device: 'gpu' });
const onCpu = (x: R.Arr) => K.tensor(Float32Array.from(x.data), x.shape);

describe.skipIf(!gpuOk)('gpu ops: forward against float64 references and the cpu', () => {
  rows.forEach((row, i) => it(row.name, async () => {
    const r = R.rng(1000 + i);
    const xs = row.shapes.map((s, j) => draw(r, s, row.domain?.[j]));
    const tg = xs.map(onGpu), tc = xs.map(onCpu);
    const yg = row.run(...tg), yc = row.run(...tc);
    expect(yg.device.name).toBe('gpu');
    const want = row.ref(...xs);
    expect(yg.shape).toEqual(want.shape);
    const got = await yg.data();
    expect(R.worst(got, want.data)).toBeLessThan(row.tol ?? 1e-4);
    expect(disagreement(got, yc.dataSync())).toBeLessThan(row.tol ?? 1e-4);
    for (const t of [...tg, ...tc, yg, yc]) t.dispose();
  }));
});

describe.skipIf(!gpuOk)('gpu ops: gradients equal the cpu gradients', () => {
  rows.filter((row) => row.grad !== false).forEach((row, i) => it(row.name, async () => {
    const r = R.rng(5000 + i);
    const xs = row.shapes.map((s, j) => draw(r, s, row.domain?.[j]));
    const tc = xs.map(onCpu);
    const probe = row.run(...tc);
    const weights = draw(r, [...probe.shape]);
    probe.dispose();
    const run = (ts: Tensor[], wt: Tensor) => {
      const g = K.grad((w: Tensor[]) => K.sum(K.mul(row.run(...w), wt)))(ts) as Tensor[];
      return g;
    };
    const gc = run(tc, onCpu(weights));
    const gg = run(xs.map(onGpu), onGpu(weights));
    for (let k = 0; k < gc.length; k++) {
      expect(gg[k].device.name).toBe('gpu');
      expect(gg[k].shape).toEqual(gc[k].shape);
      expect(disagreement(await gg[k].data(), gc[k].dataSync()), `gradient ${k}`).toBeLessThan(1e-3);
    }
  }));
});

describe.skipIf(!gpuOk)('gpu ops: odd and large shapes agree with the cpu', () => {
  const r = R.rng(77);
  const both = (shape: number[], lo = -1, hi = 1) => {
    const x = r.uniform(shape, lo, hi);
    return [onCpu(x), onGpu(x)] as const;
  };
  const agree = async (yc: Tensor, yg: Tensor, tol = 1e-4) => {
    expect(yg.shape).toEqual(yc.shape);
    expect(disagreement(await yg.data(), yc.dataSync(), 1e-4)).toBeLessThanOrEqual(tol);
  };

  // both gemm kernels, whichever this adapter uses by default
  for (const kind of ['rowblock', 'tiled'] as const) {
    for (const [M, N, Kd] of [[65, 67, 129], [1, 300, 7], [257, 3, 64], [100, 784, 64], [128, 128, 128], [33, 17, 1], [9, 130, 20], [33, 40, 600]]) {
      for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]]) {
        it(`matmul (${kind}) ${M}x${Kd}x${N} ta=${ta} tb=${tb}`, async () => {
          const gemm = gpuDevice()!.gemm, was = gemm.kind;
          gemm.kind = kind;
          try {
            const [ac, ag] = both(ta ? [Kd, M] : [M, Kd]);
            const [bc, bg] = both(tb ? [N, Kd] : [Kd, N]);
            await agree(K.matmul(ac, bc, ta, tb), K.matmul(ag, bg, ta, tb), 1e-3 * Math.sqrt(Kd));
          } finally { gemm.kind = was; }
        });
      }
    }
  }
  it('matmul with an empty inner dimension gives zeros', async () => {
    const a = K.zeros([3, 0], { device: 'gpu' }), b = K.zeros([0, 4], { device: 'gpu' });
    expect(Array.from(await K.matmul(a, b).data())).toEqual(new Array(12).fill(0));
  });

  for (const [name, f] of [['sum', K.sum], ['max', K.max], ['min', K.min], ['sumabs2', K.sumabs2], ['sumabs', K.sumabs]] as const) {
    for (const [shape, axes] of [[[300001], undefined], [[3, 70001], 1], [[70001, 3], 0], [[5, 1000, 7], 1], [[2, 513], 1], [[1025, 2], undefined]] as [number[], number | undefined][]) {
      it(`${name} ${JSON.stringify(shape)} axes=${axes}`, async () => {
        const [xc, xg] = both(shape);
        await agree((f as typeof K.sum)(xc, axes), (f as typeof K.sum)(xg, axes), 1e-3);
      });
    }
  }
  for (const [shape, axis] of [[[1000, 3], 0], [[3, 1000], 1], [[7, 513, 5], 1], [[10, 100], 0]] as [number[], number][]) {
    it(`softmax family ${JSON.stringify(shape)} axis=${axis}`, async () => {
      const [xc, xg] = both(shape, -5, 5);
      await agree(K.softmax(xc, axis), K.softmax(xg, axis));
      await agree(K.logp(xc, axis), K.logp(xg, axis));
      await agree(K.logsumexp(xc, axis), K.logsumexp(xg, axis));
    });
  }
  for (const [shape, perm] of [[[67, 130], [1, 0]], [[3, 33, 17], [0, 2, 1]], [[5, 6, 7, 8], [3, 1, 0, 2]], [[1000, 10], [1, 0]]] as [number[], number[]][]) {
    it(`transpose ${JSON.stringify(shape)} ${JSON.stringify(perm)}`, async () => {
      const [xc, xg] = both(shape);
      await agree(K.transpose(xc, perm), K.transpose(xg, perm), 0);
    });
  }
  it('broadcasting binary ops over 5 axes', async () => {
    const [ac, ag] = both([2, 1, 3, 1, 5]);
    const [bc, bg] = both([1, 4, 3, 6, 1]);
    await agree(K.add(ac, bc), K.add(ag, bg), 0);
    await agree(K.pow(K.abs(ac), bc), K.pow(K.abs(ag), bg));
  });
  it('a large elementwise chain (more workgroups than one grid dimension holds)', async () => {
    const [xc, xg] = both([70000 * 256 + 3]);
    await agree(K.tanh(K.mul(xc, 3)), K.tanh(K.mul(xg, 3)));
  });
  it('special values follow the cpu', async () => {
    const v = [0, -0, 1, -1, 0.5, 100, -100, 1e-30, Infinity, -Infinity, NaN, 89, -104, 3.5e38];
    const xc = K.tensor(v), xg = K.tensor(v, undefined, { device: 'gpu' });
    for (const f of [K.exp, K.log, K.tanh, K.sigm, K.relu, K.sqrt, K.abs, K.neg, K.invx, K.square]) {
      const got = await f(xg).data(), want = f(xc).dataSync();
      expect(disagreement(got, want), `${f.name}: ${Array.from(got)} vs ${Array.from(want)}`).toBeLessThan(1e-5);
    }
    for (const e of [2, 3, 0.5, -1, 0]) {
      expect(disagreement(await K.pow(xg, e).data(), K.pow(xc, e).dataSync()), `pow ${e}`).toBeLessThan(1e-5);
    }
    const m = K.tensor([1, NaN, 3], undefined, { device: 'gpu' });
    expect(Array.from(await K.maximum(m, 2).data())).toEqual([2, NaN, 3]);
    expect(Array.from(await K.max(m).data())).toEqual([NaN]);
  });
});

describe.skipIf(!gpuOk)('gpu ops: nll, accuracy, hits', () => {
  const r = R.rng(7);
  const scores = draw(r, [5, 8]);
  const labels = Int32Array.from({ length: 8 }, () => r.int(5));
  it('nll and its gradient match the cpu, on both class axes', async () => {
    for (const axis of [0, 1]) {
      const sc = axis === 0 ? onCpu(scores) : K.transpose(onCpu(scores));
      const sg = sc.to('gpu');
      const yc = K.tensor(labels, [8]), yg = K.tensor(labels, [8], { device: 'gpu' });
      expect(await K.nll(sg, yg, axis).itemAsync()).toBeCloseTo(K.nll(sc, yc, axis).item(), 5);
      const [gg] = K.grad((w: Tensor[]) => K.nll(w[0], yg, axis))([sg]) as Tensor[];
      const [gc] = K.grad((w: Tensor[]) => K.nll(w[0], yc, axis))([sc]) as Tensor[];
      expect(disagreement(await gg.data(), gc.dataSync())).toBeLessThan(1e-4);
    }
  });
  it('accuracy: accuracyAsync and hits on the gpu, a clear error from the sync form', async () => {
    const s = K.tensor([[0.1, 0.9, 0.3], [0.8, 0.05, 0.6]], undefined, { device: 'gpu' });
    const y = K.tensor(Int32Array.of(1, 0, 0), [3], { device: 'gpu' });
    expect(await K.accuracyAsync(s, y)).toBeCloseTo(2 / 3);
    expect(await K.hits(s, y).itemAsync()).toBe(2);
    const oh = K.tensor([[0, 1, 1], [1, 0, 0]], undefined, { device: 'gpu' });
    expect(await K.accuracyAsync(s, oh)).toBeCloseTo(2 / 3);
    expect(() => K.accuracy(s, y)).toThrow(/accuracyAsync/);
    // and the async forms work on the cpu too
    expect(await K.accuracyAsync(K.tensor([[0.1, 0.9, 0.3], [0.8, 0.05, 0.6]]), K.tensor(Int32Array.of(1, 0, 0), [3]))).toBeCloseTo(2 / 3);
  });
  it('a bad label uploaded from the cpu throws at once, as on the cpu', () => {
    const s = onGpu(scores);
    const bad = K.tensor(Int32Array.of(0, 1, 2, 3, 4, 5, 0, 1), [8], { device: 'gpu' });
    expect(() => K.nll(s, bad)).toThrow(/label .* at position 5 is outside \[0, 5\)/);
  });
});
