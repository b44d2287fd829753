// Slices, index, gather (and its gradient, scatterAdd) and concat on the gpu against float64
// references on plain arrays: every axis, views (sharing storage, at an offset) and copies,
// chained slices, lists of ids with repeats (from the cpu and made on the gpu), int32 data,
// and sizes that are not multiples of the workgroup size. Copies move bits, so slices and
// concatenations, forward and gradient, must be exact; scatterAdd adds repeated ids in no
// fixed order, so its sums get float32 rounding.
import { describe, expect, it } from 'vitest';
import * as K from '../ts/index.js';
import type { Tensor } from '../ts/index.js';
import * as R from './helpers/ref.js';
import type { Arr } from './helpers/ref.js';
import { gpuDevice, gpuOk } from './helpers/gpu.js';
import { relErr } from './helpers/nnref.js';

const onGpu = (a: Arr) => K.tensor(Float32Array.from(a.data), a.shape, { device: 'gpu' });

function unravel(shape: number[], flat: number): number[] {
  const idx = new Array(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) { idx[i] = flat % shape[i]; flat = Math.floor(flat / shape[i]); }
  return idx;
}
const ravel = (shape: number[], idx: number[]) => idx.reduce((o, v, i) => o * shape[i] + v, 0);

/** The block of x at `starts` with `sizes`, and the adjoint: g placed into zeros of x's shape. */
function blockRef(x: Arr, starts: number[], sizes: number[]): Arr {
  const data = new Float64Array(R.size(sizes));
  for (let i = 0; i < data.length; i++) data[i] = x.data[ravel(x.shape, unravel(sizes, i).map((v, d) => v + starts[d]))];
  return { shape: sizes, data };
}
function unblockRef(g: Arr, shape: number[], starts: number[]): Float64Array {
  const out = new Float64Array(R.size(shape));
  for (let i = 0; i < g.data.length; i++) out[ravel(shape, unravel(g.shape, i).map((v, d) => v + starts[d]))] += g.data[i];
  return out;
}
/** gather(x, ids, axis) and its adjoint scatterAdd(g, ids, x.shape, axis). */
function gatherRef(x: Arr, ids: Int32Array, idsShape: number[], axis: number): Arr {
  const shape = [...x.shape.slice(0, axis), ...idsShape, ...x.shape.slice(axis + 1)];
  const data = new Float64Array(R.size(shape));
  const m = idsShape.length;
  for (let i = 0; i < data.length; i++) {
    const idx = unravel(shape, i);
    const k = ravel(idsShape, idx.slice(axis, axis + m));
    data[i] = x.data[ravel(x.shape, [...idx.slice(0, axis), ids[k], ...idx.slice(axis + m)])];
  }
  return { shape, data };
}
function scatterRef(g: Arr, ids: Int32Array, idsShape: number[], shape: number[], axis: number): Float64Array {
  const out = new Float64Array(R.size(shape));
  const m = idsShape.length;
  for (let i = 0; i < g.data.length; i++) {
    const idx = unravel(g.shape, i);
    const k = ravel(idsShape, idx.slice(axis, axis + m));
    out[ravel(shape, [...idx.slice(0, axis), ids[k], ...idx.slice(axis + m)])] += g.data[i];
  }
  return out;
}
function concatRef(xs: Arr[], axis: number): Arr {
  const shape = [...xs[0].shape];
  shape[axis] = xs.reduce((a, x) => a + x.shape[axis], 0);
  const data = new Float64Array(R.size(shape));
  let off = 0;
  for (const x of xs) {
    for (let i = 0; i < x.data.length; i++) {
      const idx = unravel(x.shape, i); idx[axis] += off;
      data[ravel(shape, idx)] = x.data[i];
    }
    off += x.shape[axis];
  }
  return { shape, data };
}

/** The gradient of sum(f(x) .* r) on the gpu, with r drawn for f(x)'s shape. */
async function gradOf(f: (t: Tensor) => Tensor, tx: Tensor, r: Arr): Promise<Float32Array> {
  const tr = onGpu(r);
  const g = K.grad((t: Tensor) => K.sum(K.mul(f(t), tr)))(tx) as Tensor;
  return (await g.data()) as Float32Array;
}
const exact = (a: ArrayLike<number>) => Array.from(a);

describe.skipIf(!gpuOk)('gpu slice and index: every axis, views and copies, exact', () => {
  const shape = [3, 4, 5, 6];
  const cases: [number, number, number | undefined][] = [
    [0, 1, 3], [0, -1, undefined], [1, 1, 4], [1, 0, 1], [2, 2, 5], [2, -3, -1], [3, 0, 6], [3, 5, 6], [3, 1, 4],
  ];
  cases.forEach(([axis, s, e], k) => it(`slice axis ${axis} [${s}, ${e ?? 'end'})`, async () => {
    const rnd = R.rng(100 + k);
    const x = rnd.uniform(shape);
    const n = shape[axis], start = s < 0 ? s + n : s, end = e === undefined ? n : e < 0 ? e + n : e;
    const starts = shape.map((_, d) => (d === axis ? start : 0)), sizes = shape.map((v, d) => (d === axis ? end - start : v));
    const tx = onGpu(x);
    const y = K.slice(tx, axis, s, e);
    expect(y.shape).toEqual(sizes);
    expect(y.storage === tx.storage).toBe(axis === 0 || end - start === n); // a view exactly when the block is contiguous
    expect(exact(await y.data())).toEqual(exact(Float32Array.from(blockRef(x, starts, sizes).data)));
    const r = rnd.uniform(sizes);
    expect(exact(await gradOf((t) => K.slice(t, axis, s, e), tx, r))).toEqual(exact(Float32Array.from(unblockRef(r, shape, starts))));
  }));

  it('a slice after leading axes of size 1 is a view at an offset', async () => {
    const x = R.rng(120).uniform([1, 1, 7, 37]);
    const tx = onGpu(x);
    const y = K.slice(tx, 2, 3, 6);
    expect(y.storage === tx.storage).toBe(true);
    expect(y.offset).toBe(3 * 37);
    expect(exact(await y.data())).toEqual(exact(Float32Array.from(x.data.slice(3 * 37, 6 * 37))));
    // and ops read it in place
    expect(exact(await K.mul(y, 2).data())).toEqual(exact(Float32Array.from(x.data.slice(3 * 37, 6 * 37), (v) => 2 * v)));
  });

  it('chained: a copy of a view, a view of a copy, and the gradient through both', async () => {
    const rnd = R.rng(121);
    const x = rnd.uniform([5, 6, 7]);
    const tx = onGpu(x);
    const f = (t: Tensor) => K.slice(K.slice(K.slice(t, 0, 1, 4), 2, 2, 7), 0, 1, 3); // rows 2..3, columns 2..6
    const y = f(tx);
    const want = blockRef(x, [2, 0, 2], [2, 6, 5]);
    expect(y.shape).toEqual(want.shape);
    expect(exact(await y.data())).toEqual(exact(Float32Array.from(want.data)));
    const r = rnd.uniform(want.shape);
    expect(exact(await gradOf(f, tx, r))).toEqual(exact(Float32Array.from(unblockRef(r, x.shape, [2, 0, 2]))));
  });

  it('index: ranges, positions (dropping axes) and lists on several axes', async () => {
    const rnd = R.rng(122);
    const x = rnd.uniform([6, 5, 7, 4]);
    const tx = onGpu(x);
    const l1 = Int32Array.of(4, 0, 4, 1), l3 = Int32Array.of(3, 3, 0);
    const f = (t: Tensor) => K.index(t, [[1, -1], l1, 2, l3]);
    // reference: rows 1..4, then the list on axis 1, position 2 on axis 2 (dropped), the list on axis 3
    const b = blockRef(x, [1, 0, 2, 0], [4, 5, 1, 4]);
    const g1 = gatherRef(b, l1, [4], 1), g3 = gatherRef(g1, l3, [3], 3);
    const want = { shape: [4, 4, 3], data: g3.data };
    const y = f(tx);
    expect(y.shape).toEqual(want.shape);
    expect(exact(await y.data())).toEqual(exact(Float32Array.from(want.data)));
    const r = rnd.uniform(want.shape);
    const back = unblockRef({ shape: b.shape, data: scatterRef({ shape: g1.shape, data: scatterRef({ shape: g3.shape, data: r.data }, l3, [3], g1.shape, 3) }, l1, [4], b.shape, 1) }, x.shape, [1, 0, 2, 0]);
    expect(relErr(await gradOf(f, tx, r), back)).toBeLessThan(1e-6);
  });

  it('int32: slices along every axis and concat, exact', async () => {
    const v = Int32Array.from({ length: 60 }, (_, i) => (i * 7919) % 1000 - 500);
    const t = K.tensor(v, [3, 4, 5], { device: 'gpu' });
    const xa: Arr = { shape: [3, 4, 5], data: Float64Array.from(v) };
    for (const axis of [0, 1, 2]) {
      const y = K.slice(t, axis, 1, 3);
      expect(y.dtype).toBe('int32');
      const starts = [0, 0, 0], sizes = [3, 4, 5];
      starts[axis] = 1; sizes[axis] = 2;
      expect(exact(await y.data())).toEqual(exact(blockRef(xa, starts, sizes).data));
      const c = K.concat([t, y], axis);
      expect(exact(await c.data())).toEqual(exact(concatRef([xa, blockRef(xa, starts, sizes)], axis).data));
    }
  });
});

describe.skipIf(!gpuOk)('gpu gather and scatterAdd against float64', () => {
  const x = R.rng(130).uniform([5, 6, 7]);
  const ids = Int32Array.of(4, 0, 4, 2, 4, 1, 0);
  for (const axis of [0, 1, 2]) {
    for (const idsShape of [[7], [1, 7]]) {
      it(`gather axis ${axis}, ids ${JSON.stringify(idsShape)} with repeats, and its gradient`, async () => {
        const tx = onGpu(x);
        const ti = K.tensor(ids, idsShape, { device: 'gpu' });
        const want = gatherRef(x, ids, idsShape, axis);
        const y = K.gather(tx, ti, axis);
        expect(y.shape).toEqual(want.shape);
        expect(exact(await y.data())).toEqual(exact(Float32Array.from(want.data)));
        const r = R.rng(131 + axis).uniform(want.shape);
        expect(relErr(await gradOf((t) => K.gather(t, ti, axis), tx, r), scatterRef(r, ids, idsShape, x.shape, axis))).toBeLessThan(1e-6);
      });
    }
    it(`scatterAdd axis ${axis} directly, and its gradient (a gather)`, async () => {
      const gshape = [...x.shape.slice(0, axis), ids.length, ...x.shape.slice(axis + 1)];
      const g = R.rng(140 + axis).uniform(gshape);
      const tg = onGpu(g);
      const y = K.scatterAdd(tg, ids, x.shape, axis);
      expect(relErr(await y.data(), scatterRef(g, ids, [ids.length], x.shape, axis))).toBeLessThan(1e-6);
      const r = R.rng(150 + axis).uniform(x.shape);
      expect(exact(await gradOf((t) => K.scatterAdd(t, ids, x.shape, axis), tg, r))).toEqual(exact(Float32Array.from(gatherRef(r, ids, [ids.length], axis).data)));
    });
  }

  it('large: 333 of 1000 rows of width 257 (an embedding), many repeats', async () => {
    const rnd = R.rng(160);
    const emb = rnd.uniform([1000, 257]);
    const many = Int32Array.from({ length: 333 }, () => rnd.int(50)); // ~7 repeats per id
    const te = onGpu(emb);
    const want = gatherRef(emb, many, [333], 0);
    expect(exact(await K.gather(te, many, 0).data())).toEqual(exact(Float32Array.from(want.data)));
    const r = rnd.uniform(want.shape);
    expect(relErr(await gradOf((t) => K.gather(t, many, 0), te, r), scatterRef(r, many, [333], emb.shape, 0))).toBeLessThan(1e-6);
  });

  it('ids along the middle axis of [7, 300, 5], 301 of them', async () => {
    const rnd = R.rng(161);
    const xs = rnd.uniform([7, 300, 5]);
    const many = Int32Array.from({ length: 301 }, () => rnd.int(300));
    const want = gatherRef(xs, many, [301], 1);
    const tx = onGpu(xs);
    expect(exact(await K.gather(tx, many, 1).data())).toEqual(exact(Float32Array.from(want.data)));
    const r = rnd.uniform(want.shape);
    expect(relErr(await gradOf((t) => K.gather(t, many, 1), tx, r), scatterRef(r, many, [301], xs.shape, 1))).toBeLessThan(1e-6);
  });

  it('ids made on the gpu (no cpu copy: the kernel checks them) give the same results', async () => {
    const tx = onGpu(x);
    const ti = K.tensor(ids, [7], { device: 'gpu' });
    gpuDevice().labels.forget(ti);
    const want = gatherRef(x, ids, [7], 1);
    expect(exact(await K.gather(tx, ti, 1).data())).toEqual(exact(Float32Array.from(want.data)));
    const r = R.rng(162).uniform(want.shape);
    expect(relErr(await gradOf((t) => K.gather(t, ti, 1), tx, r), scatterRef(r, ids, [7], x.shape, 1))).toBeLessThan(1e-6);
    const bad = K.tensor(Int32Array.of(0, 6, 1), [3], { device: 'gpu' });
    gpuDevice().labels.forget(bad);
    await expect(K.gather(tx, bad, 1).data()).rejects.toThrow(/position 1 .*outside \[0, 6\)/);
  });

  it('int32 x', async () => {
    const v = Int32Array.from({ length: 42 }, (_, i) => i * 1000003);
    const t = K.tensor(v, [6, 7], { device: 'gpu' });
    const y = K.gather(t, Int32Array.of(5, 5, 0, 3), 0);
    expect(y.dtype).toBe('int32');
    expect(exact(await y.data())).toEqual(exact(gatherRef({ shape: [6, 7], data: Float64Array.from(v) }, Int32Array.of(5, 5, 0, 3), [4], 0).data));
  });
});

describe.skipIf(!gpuOk)('gpu concat, hcat, vcat: every axis, views and copies as inputs, exact', () => {
  for (const axis of [0, 1, 2, -1]) {
    it(`concat of three along axis ${axis}`, async () => {
      const rnd = R.rng(170 + axis);
      const ax = (axis + 3) % 3;
      const shapes = [2, 5, 1].map((k) => { const s = [3, 4, 5]; s[ax] = k; return s; });
      const xs = shapes.map((s) => rnd.uniform(s));
      const ts = xs.map(onGpu);
      const want = concatRef(xs, ax);
      const y = K.concat(ts, axis);
      expect(y.shape).toEqual(want.shape);
      expect(exact(await y.data())).toEqual(exact(Float32Array.from(want.data)));
      const r = rnd.uniform(want.shape);
      const tr = onGpu(r);
      const gs = K.grad((p: Tensor[]) => K.sum(K.mul(K.concat(p, axis), tr)))(ts) as Tensor[];
      let off = 0;
      for (let k = 0; k < 3; k++) {
        const starts = [0, 0, 0]; starts[ax] = off;
        expect(exact(await gs[k].data()), `gradient ${k}`).toEqual(exact(Float32Array.from(blockRef(r, starts, shapes[k]).data)));
        off += shapes[k][ax];
      }
    });
  }

  it('inputs that are views at an offset and strided copies', async () => {
    const rnd = R.rng(180);
    const big = rnd.uniform([6, 3, 9]);
    const tb = onGpu(big);
    const a = K.slice(tb, 0, 2, 4);                  // a view at offset 54
    const b = K.slice(K.slice(tb, 0, 1, 3), 2, 4, 9); // a copy of part of a view: [2, 3, 5]
    expect(a.offset).toBe(54);
    const f = (t: Tensor) => K.concat([K.slice(K.slice(t, 0, 2, 4), 2, 0, 5), K.slice(K.slice(t, 0, 1, 3), 2, 4, 9), K.slice(t, 0, 2, 4)], 2);
    const want = concatRef([blockRef(big, [2, 0, 0], [2, 3, 5]), blockRef(big, [1, 0, 4], [2, 3, 5]), blockRef(big, [2, 0, 0], [2, 3, 9])], 2);
    expect(exact(await K.concat([K.slice(a, 2, 0, 5), b, a], 2).data())).toEqual(exact(Float32Array.from(want.data)));
    const r = rnd.uniform(want.shape);
    const back = new Float64Array(big.data.length);
    let off = 0;
    for (const [starts, sizes] of [[[2, 0, 0], [2, 3, 5]], [[1, 0, 4], [2, 3, 5]], [[2, 0, 0], [2, 3, 9]]]) {
      const part = blockRef(r, [0, 0, off], sizes);
      unblockRef(part, big.shape, starts).forEach((v, i) => { back[i] += v; });
      off += sizes[2];
    }
    expect(relErr(await gradOf(f, tb, r), back)).toBeLessThan(1e-6); // up to three parts add into one entry
  });

  it('hcat of matrices and of vectors, vcat, and 300 x 257 pieces', async () => {
    const rnd = R.rng(190);
    const m1 = rnd.uniform([3, 2]), m2 = rnd.uniform([3, 5]), v1 = rnd.uniform([4]), v2 = rnd.uniform([3]);
    expect(exact(await K.hcat(onGpu(m1), onGpu(m2)).data())).toEqual(exact(Float32Array.from(concatRef([m1, m2], 1).data)));
    expect(exact(await K.hcat([onGpu(v1), onGpu(v2)]).data())).toEqual(exact(Float32Array.from(concatRef([v1, v2], 0).data)));
    const p = rnd.uniform([300, 257]), q = rnd.uniform([1, 257]);
    expect(exact(await K.vcat(onGpu(p), onGpu(q), onGpu(p)).data())).toEqual(exact(Float32Array.from(concatRef([p, q, p], 0).data)));
    expect(exact(await K.concat([onGpu(p), onGpu(p)], 1).data())).toEqual(exact(Float32Array.from(concatRef([p, p], 1).data)));
  });
});
