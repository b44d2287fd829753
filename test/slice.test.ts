// Slicing, indexing, gathers and concatenation: values against plain-array references,
// views where the layout allows, gradients by gradcheck and by exact expectations, and
// the errors for bad input.
import { describe, expect, it } from 'vitest';
import * as K from '../ts/index.js';
import type { Tensor } from '../ts/index.js';
import { rng, size, strides } from './helpers/ref.js';

const gen = rng(7);
const randT = (shape: number[]) => K.tensor(gen.uniform(shape).data.map(Math.fround), shape);
const check = K.gradcheckWith({ samples: 12 });

/** Reference block copy: x[starts + idx] for idx < sizes. */
function refBlock(x: ArrayLike<number>, shape: number[], starts: number[], sizes: number[]): number[] {
  const st = strides(shape), out: number[] = [];
  const n = size(sizes);
  for (let f = 0; f < n; f++) {
    let rem = f, off = 0;
    for (let d = sizes.length - 1; d >= 0; d--) { off += (starts[d] + (rem % sizes[d])) * st[d]; rem = Math.floor(rem / sizes[d]); }
    out.push(x[off]);
  }
  return out;
}

/** A fixed random weighting, so sum(f(x) * r) has a distinct gradient per output entry. */
function weighted(f: (x: Tensor) => Tensor): (w: { x: Tensor }) => Tensor {
  let r: Tensor | null = null;
  return (w) => {
    const y = f(w.x);
    r ??= K.keep(randT([...y.shape]));
    return K.sum(K.mul(y, r));
  };
}

const shareStorage = (a: Tensor, b: Tensor) => (a as any).storage === (b as any).storage;

describe('slice', () => {
  const cases: [number[], number, number, number | undefined, boolean][] = [
    // shape, axis, start, end, is a view
    [[7], 0, 2, 5, true], [[7], 0, -3, undefined, true], [[4, 6], 0, 1, 3, true], [[4, 6], 1, 2, 5, false],
    [[4, 6], 1, 0, 6, true], [[1, 6], 1, 2, 4, true], [[2, 3, 4], 2, 1, 3, false], [[2, 3, 4], 1, 1, 2, false],
    [[1, 1, 5, 3], 2, 1, 4, true], [[3, 5], 1, -2, -1, false], [[3, 5], 0, 1, 1, false],
  ];
  for (const [shape, axis, start, end, view] of cases) {
    it(`${JSON.stringify(shape)} axis ${axis} [${start}, ${end ?? 'end'})`, () => {
      const x = randT(shape);
      const y = K.slice(x, axis, start, end);
      const d = shape[axis], s = start < 0 ? start + d : start, e = end === undefined ? d : end < 0 ? end + d : end;
      const starts = shape.map(() => 0), sizes = [...shape];
      starts[axis] = s; sizes[axis] = e - s;
      expect([...y.shape]).toEqual(sizes);
      expect(Array.from(y.dataSync())).toEqual(refBlock(x.dataSync(), shape, starts, sizes));
      if (y.size) expect(shareStorage(x, y)).toBe(view);
      if (y.size) {
        const r = check(weighted((t) => K.slice(t, axis, start, end)), { x });
        expect(r.ok, JSON.stringify(r.worst)).toBe(true);
      }
    });
  }

  it('the gradient places g in zeros, for views and copies', () => {
    const x = randT([3, 4]);
    const gv = K.grad((x: Tensor) => K.sum(K.slice(x, 0, 1, 2)))(x).toArray();
    expect(gv).toEqual([[0, 0, 0, 0], [1, 1, 1, 1], [0, 0, 0, 0]]);
    const gc = K.grad((x: Tensor) => K.sum(K.mul(K.slice(x, 1, 1, 3), 2)))(x).toArray();
    expect(gc).toEqual([[0, 2, 2, 0], [0, 2, 2, 0], [0, 2, 2, 0]]);
  });

  it('second derivatives flow through slice and its gradient', () => {
    const x = randT([3, 4]);
    // f = sum(slice(x)^3) -> df/dx = 3 slice(x)^2 placed; d/dx sum(df/dx) = 6 slice(x) placed
    const f = (x: Tensor) => K.sum(K.pow(K.slice(x, 1, 1, 3), 3));
    const g2 = K.grad((x: Tensor) => K.sum(K.grad(f)(x)))(x).dataSync();
    const xv = x.dataSync();
    for (let i = 0; i < 12; i++) {
      const c = i % 4;
      expect(g2[i]).toBeCloseTo(c === 1 || c === 2 ? 6 * xv[i] : 0, 4);
    }
  });

  it('slices of int32 tensors copy the bits', () => {
    const x = K.tensor(Int32Array.from({ length: 12 }, (_, i) => i * 1000003), [3, 4]);
    expect(K.slice(x, 1, 1, 3).toArray()).toEqual([[1000003, 2000006], [5000015, 6000018], [9000027, 10000030]]);
    expect(K.slice(x, 1, 1, 3).dtype).toBe('int32');
  });

  it('bad ranges and axes name the op and the shape', () => {
    const x = K.zeros(3, 5);
    expect(() => K.slice(x, 1, 2, 6)).toThrow(/knet slice: range \[2, 6\) is outside axis 1 of float32 \[3,5\] \(size 5\)/);
    expect(() => K.slice(x, 1, 4, 2)).toThrow(/knet slice: range \[4, 2\) is outside axis 1/);
    expect(() => K.slice(x, 0, -4)).toThrow(/range \[-4, 3\) is outside axis 0/);
    expect(() => K.slice(x, 2, 0, 1)).toThrow(/knet slice: axis 2 is out of range for float32 \[3,5\]/);
    expect(() => K.slice(x, 0, 0.5, 1)).toThrow(/must be integers/);
    expect(() => K.slice(K.tensor(2), 0, 0, 1)).toThrow(/axis 0 is out of range/);
  });
});

describe('index', () => {
  const x = randT([4, 5, 3]);
  const xv = x.dataSync();
  const at = (i: number, j: number, k: number) => xv[i * 15 + j * 3 + k];

  it("x[:, 1:3] (Knet's a[:,2:3]) and the axes not mentioned", () => {
    const y = K.index(x, [null, [1, 3]]);
    expect([...y.shape]).toEqual([4, 2, 3]);
    expect(y.toArray()[2][1][0]).toBe(at(2, 2, 0));
    expect(K.index(x, [':', [-1, null]]).toArray()[3][0]).toEqual([at(3, 4, 0), at(3, 4, 1), at(3, 4, 2)]);
  });
  it('a position drops its axis; a row is a view', () => {
    const row = K.index(x, [2]);
    expect([...row.shape]).toEqual([5, 3]);
    expect(row.toArray()[4][2]).toBe(at(2, 4, 2));
    expect(shareStorage(row, x)).toBe(true);
    expect(K.index(x, [-1, 0, -1]).toArray()).toBe(at(3, 0, 2));
    expect([...K.index(x, [null, 3, [0, 2]]).shape]).toEqual([4, 2]);
  });
  it('integer lists gather, each axis on its own', () => {
    const y = K.index(x, [Int32Array.of(3, 0, 3), null, K.tensor(Int32Array.of(2, 1))]);
    expect([...y.shape]).toEqual([3, 5, 2]);
    expect(y.toArray()[2][4]).toEqual([at(3, 4, 2), at(3, 4, 1)]);
    expect(y.toArray()[1][0]).toEqual([at(0, 0, 2), at(0, 0, 1)]);
  });
  it('gradients', () => {
    const r = check(weighted((t) => K.index(t, [[1, 3], Int32Array.of(4, 0, 4), 1])), { x });
    expect(r.ok, JSON.stringify(r.worst)).toBe(true);
  });
  it('bad specs', () => {
    expect(() => K.index(x, [null, null, null, null])).toThrow(/knet index: 4 entries for float32 \[4,5,3\], which has 3 axes/);
    expect(() => K.index(x, [4])).toThrow(/knet index: position 4 is outside axis 0 of float32 \[4,5,3\] \(size 4\)/);
    expect(() => K.index(x, [null, [3, 6]])).toThrow(/knet index: range \[3, 6\) is outside axis 1/);
    expect(() => K.index(x, [[0, 1, 2] as any])).toThrow(/is not null, a position, a \[start, end\] range or an Int32Array/);
    expect(() => K.index(x, [Int32Array.of(0, 4)])).toThrow(/knet gather: id 4 at position 1 of ids int32 \[2\] is outside \[0, 4\)/);
  });
});

describe('gather', () => {
  for (const [shape, axis, idshape] of [[[6, 4], 0, [5]], [[3, 5, 2], 1, [2, 3]], [[3, 4], 1, [4]], [[2, 3, 4], 2, [3]], [[7], 0, []]] as [number[], number, number[]][]) {
    it(`${JSON.stringify(shape)} axis ${axis}, ids ${JSON.stringify(idshape)}`, () => {
      const x = randT(shape);
      const n = shape[axis];
      const ids = Int32Array.from({ length: size(idshape) }, (_, j) => (j * 7 + 3) % n);
      const y = K.gather(x, K.tensor(ids, idshape, { dtype: 'int32' }), axis);
      const outer = size(shape.slice(0, axis)), inner = size(shape.slice(axis + 1));
      expect([...y.shape]).toEqual([...shape.slice(0, axis), ...idshape, ...shape.slice(axis + 1)]);
      const xv = x.dataSync(), want: number[] = [];
      for (let o = 0; o < outer; o++) for (const id of ids) for (let i = 0; i < inner; i++) want.push(xv[(o * n + id) * inner + i]);
      expect(Array.from(y.dataSync())).toEqual(want);
      const r = check(weighted((t) => K.gather(t, ids, axis)), { x });
      expect(r.ok, JSON.stringify(r.worst)).toBe(true);
    });
  }

  it('embedding lookup: repeated ids add up in the gradient', () => {
    const emb = randT([5, 3]);
    const g = K.grad((e: Tensor) => K.sum(K.gather(e, [1, 4, 1, 1])))(emb).toArray();
    expect(g).toEqual([[0, 0, 0], [3, 3, 3], [0, 0, 0], [0, 0, 0], [1, 1, 1]]);
  });

  it('scatterAdd is gather transposed, and differentiable', () => {
    const g = K.tensor([[1, 2], [3, 4], [5, 6]]);
    expect(K.scatterAdd(g, [2, 0, 2], [4, 2]).toArray()).toEqual([[3, 4], [0, 0], [6, 8], [0, 0]]);
    const r = check(weighted((t) => K.scatterAdd(t, [2, 0, 2], [4, 2])), { x: g });
    expect(r.ok, JSON.stringify(r.worst)).toBe(true);
  });

  it('int32 tables gather too', () => {
    const t = K.tensor(Int32Array.of(10, 11, 12, 13), [4]);
    expect(K.gather(t, [3, 3, 0]).toArray()).toEqual([13, 13, 10]);
  });

  it('bad ids: the first bad position and value, before anything is written', () => {
    const x = K.zeros(4, 3);
    expect(() => K.gather(x, [1, 4, -1])).toThrow(/knet gather: id 4 at position 1 of ids int32 \[3\] is outside \[0, 4\) for axis 0 of float32 \[4,3\]; ids are 0-based/);
    expect(() => K.gather(x, [0, -1], 1)).toThrow(/id -1 at position 1 .* outside \[0, 3\) for axis 1/);
    expect(() => K.gather(x, K.tensor([0, 1]))).toThrow(/knet gather: ids must be int32, got float32 \[2\]/);
    expect(() => K.gather(x, [0.5])).toThrow(/ids must be integers/);
    expect(() => K.gather(x, [0], 2)).toThrow(/knet gather: axis 2 is out of range for float32 \[4,3\]/);
    expect(() => K.scatterAdd(K.zeros(2, 3), [0, 5], [4, 3])).toThrow(/knet scatterAdd: id 5 at position 1/);
    expect(() => K.scatterAdd(K.zeros(2, 2), [0, 1], [4, 3])).toThrow(/knet scatterAdd: g float32 \[2,2\] does not match/);
  });
});

describe('concat, hcat, vcat', () => {
  const cases: [number[][], number][] = [
    [[[2, 3], [4, 3]], 0], [[[2, 3], [2, 1], [2, 4]], 1], [[[2, 3, 2], [2, 1, 2]], -2], [[[3], [5]], 0],
    [[[1, 2, 3], [1, 2, 2]], 2], [[[2, 0], [2, 3]], 1],
  ];
  for (const [shapes, axis] of cases) {
    it(`${JSON.stringify(shapes)} along ${axis}`, () => {
      const xs = shapes.map(randT);
      const y = K.concat(xs, axis);
      const ax = axis < 0 ? axis + shapes[0].length : axis;
      const outShape = [...shapes[0]];
      outShape[ax] = shapes.reduce((a, s) => a + s[ax], 0);
      expect([...y.shape]).toEqual(outShape);
      // reference: y sliced back gives each input
      let off = 0;
      for (const x of xs) {
        const starts = outShape.map(() => 0), sizes = [...x.shape];
        starts[ax] = off;
        expect(refBlock(y.dataSync(), outShape, starts, sizes)).toEqual(Array.from(x.dataSync()));
        off += x.shape[ax];
      }
      const w = Object.fromEntries(xs.map((x, k) => [`x${k}`, x]));
      let r: Tensor | null = null;
      const f = (w: Record<string, Tensor>) => {
        const yy = K.concat(Object.values(w), axis);
        r ??= K.keep(randT([...yy.shape]));
        return K.sum(K.mul(yy, r));
      };
      const res = check(f, w);
      expect(res.ok, JSON.stringify(res.worst)).toBe(true);
    });
  }

  it("hcat joins columns (the seed's hcat(input, hidden)), vcat rows", () => {
    const a = K.tensor([[1, 2], [3, 4]]), b = K.tensor([[5], [6]]);
    expect(K.hcat(a, b).toArray()).toEqual([[1, 2, 5], [3, 4, 6]]);
    expect(K.hcat([a, b]).toArray()).toEqual([[1, 2, 5], [3, 4, 6]]);
    expect(K.vcat(a, K.tensor([[7, 8]])).toArray()).toEqual([[1, 2], [3, 4], [7, 8]]);
    expect(K.hcat(K.tensor([1, 2]), K.tensor([3])).toArray()).toEqual([1, 2, 3]);
    expect(K.vcat(K.tensor(Int32Array.of(1, 2), [1, 2]), K.tensor(Int32Array.of(3, 4), [1, 2])).toArray()).toEqual([[1, 2], [3, 4]]);
  });

  it('gradients are the slices of g', () => {
    const a = K.ones(2, 2), b = K.ones(2, 3);
    const g = K.grad((w: Tensor[]) => K.sum(K.mul(K.hcat(w[0], w[1]), K.tensor([[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]]))))([a, b]);
    expect(g[0].toArray()).toEqual([[1, 2], [6, 7]]);
    expect(g[1].toArray()).toEqual([[3, 4, 5], [8, 9, 10]]);
  });

  it('mismatched shapes, dtypes and bad arguments', () => {
    expect(() => K.concat([K.zeros(2, 3), K.zeros(3, 3)], 1)).toThrow(
      /knet concat: shapes do not match: xs\[0\] is float32 \[2,3\] and xs\[1\] is float32 \[3,3\]; joining along axis 1, every other axis must have the same size/);
    expect(() => K.hcat(K.zeros(2, 3), K.zeros(2, 3, 1))).toThrow(/shapes do not match/);
    expect(() => K.vcat(K.zeros(1, 2), K.tensor(Int32Array.of(1, 2), [1, 2]))).toThrow(/knet concat: dtypes differ/);
    expect(() => K.concat([], 0)).toThrow(/knet concat: give a non-empty array/);
    expect(() => K.concat([K.zeros(2), K.zeros(2)], 1)).toThrow(/knet concat: axis 1 is out of range for float32 \[2\]/);
    expect(() => K.concat([K.zeros(2), [1, 2] as any], 0)).toThrow(/knet concat: xs\[1\] must be a Tensor/);
  });
});

describe('memory', () => {
  it('views and gradients leave nothing behind', () => {
    const x = randT([6, 8]);
    const before = K.memory().cpu!.live;
    for (let i = 0; i < 3; i++) {
      const g = K.grad((x: Tensor) => K.sum(K.mul(K.concat([K.slice(x, 0, 1, 4), K.gather(x, [0, 0])], 0), K.slice(x, 0, 0, 5))))(x);
      g.dispose();
      K.tidy(() => { K.index(x, [[1, 3], [2, 5]]); });
    }
    expect(K.memory().cpu!.live).toBe(before);
  });
});
