// Kernel-level tests of assembly/elementwise.ts (and the SIMD math in assembly/math.ts)
// against float64 JavaScript references, on both builds (plain SIMD and relaxed SIMD).
// Every output buffer is surrounded by guard elements that must come back untouched.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadKernels } from '../ts/device/wasm/module.js';
import { raw, type Raw } from './helpers/raw.js';

const SIZES = [0, 1, 3, 4, 5, 17, 1000];
const SPECIAL = [0, -0, 1, -1, Infinity, -Infinity, NaN, 1e30, -1e30, 1e-30, -1e-30, 3.4e38, -3.4e38,
  1e-45, -1e-45, 1e-40, 88.7, 88.8, -87.5, -100, -104, -110, 1000, -1000, 0.5, 0.625, -0.625, 20, -20, 1e-7, -1e-7];

// Deterministic random numbers (mulberry32).
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(12345);
const uniform = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => lo + (hi - lo) * rand());

// ---- guarded buffers ---------------------------------------------------------------

const G = 4; // guard elements on each side
const SENTINEL = -12345.5;

/** A buffer of n elements at element offset `off` (0: 16-byte aligned, 1-3: 4-byte aligned), guarded. */
function buffer(R: Raw, n: number, data?: ArrayLike<number>, off = 0, int = false) {
  const base = R.alloc(n + 2 * G + off);
  const view = () => (int ? new Int32Array(R.mod.memory.buffer) : new Float32Array(R.mod.memory.buffer));
  view().fill(SENTINEL, base >> 2, (base >> 2) + n + 2 * G + off);
  const p = base + (G + off) * 4;
  if (data) view().set(data, p >> 2);
  return {
    p,
    read: () => (int ? R.readI32(p, n) : R.readF32(p, n)),
    guardsIntact() {
      const v = new Float32Array(R.mod.memory.buffer);
      for (let i = 1; i <= G; i++) {
        if (v[(p >> 2) - i] !== SENTINEL || v[(p >> 2) + n + i - 1] !== SENTINEL) return false;
      }
      return true;
    },
  };
}

// ---- comparison --------------------------------------------------------------------

/** got (float32) against ref (float64): exact when tol = 0, else |got - ref| <= tol * scale. */
function check(got: ArrayLike<number>, ref: ArrayLike<number>, tol: number, scale?: ((i: number) => number) | null, what = '') {
  for (let i = 0; i < ref.length; i++) {
    const g = got[i], r = ref[i], r32 = Math.fround(r);
    let ok: boolean;
    if (Number.isNaN(r)) ok = Number.isNaN(g);
    else if (!Number.isFinite(r32) || tol === 0) ok = g === r32;
    else ok = Math.abs(g - r) <= tol * (scale ? scale(i) : Math.abs(r)) + 1e-37; // 1e-37: subnormal results
    if (!ok) expect.fail(`${what}[${i}]: got ${g}, want ${r}`);
  }
}

// ---- ops and references ------------------------------------------------------------

const sigm = (x: number) => 1 / (1 + Math.exp(-x));
// [name, reference, tolerance (0 = exactly rounded), domain for random inputs]
const UNARY: [string, (x: number) => number, number, [number, number]][] = [
  ['copy', (x) => x, 0, [-10, 10]],
  ['neg', (x) => -x, 0, [-10, 10]],
  ['exp', Math.exp, 1e-6, [-90, 90]],
  ['log', Math.log, 1e-6, [0, 1000]],
  ['sqrt', Math.sqrt, 0, [0, 100]],
  ['abs', Math.abs, 0, [-10, 10]],
  ['tanh', Math.tanh, 1e-6, [-10, 10]],
  ['sigm', sigm, 1e-6, [-30, 30]],
  ['relu', (x) => (x < 0 ? 0 : x), 0, [-10, 10]],
  ['invx', (x) => 1 / x, 0, [-10, 10]],
  ['step', (x) => (x > 0 ? 1 : 0), 0, [-10, 10]],
  ['sign', Math.sign, 0, [-10, 10]],
  ['square', (x) => x * x, 0, [-10, 10]],
];

const sign = Math.sign;
// [name, g(a, b), tolerance, |error| scale (default |ref|), domain of a, domain of b]
type BinOp = [string, (a: number, b: number) => number, number, ((a: number, b: number, r: number) => number) | null, [number, number], [number, number]];
const grad = (a: number, b: number) => Math.abs(a) * Math.max(1, Math.abs(b)) ** 2; // size of the terms
const BINARY: BinOp[] = [
  ['add', (a, b) => a + b, 0, null, [-10, 10], [-10, 10]],
  ['sub', (a, b) => a - b, 0, null, [-10, 10], [-10, 10]],
  ['mul', (a, b) => a * b, 0, null, [-10, 10], [-10, 10]],
  ['div', (a, b) => a / b, 0, null, [-10, 10], [-10, 10]],
  ['max', Math.max, 0, null, [-10, 10], [-10, 10]],
  ['min', Math.min, 0, null, [-10, 10], [-10, 10]],
  ['pow', Math.pow, 1e-6, null, [0.01, 5], [-4, 4]],
  ['gt', (a, b) => (a > b ? 1 : 0), 0, null, [-3, 3], [-3, 3]],
  ['eq', (a, b) => (a === b ? 1 : 0), 0, null, [-3, 3], [-3, 3]],
  ['reluBack', (a, b) => (b > 0 ? a : 0), 0, null, [-10, 10], [-10, 10]],
  ['sigmBack', (a, b) => a * b * (1 - b), 1e-6, grad, [-10, 10], [0, 1]],
  ['tanhBack', (a, b) => a * (1 - b * b), 1e-6, grad, [-10, 10], [-1, 1]],
  ['invxBack', (a, b) => -a * b * b, 1e-6, grad, [-10, 10], [-10, 10]],
  ['sqrtBack', (a, b) => (a * 0.5) / b, 0, null, [-10, 10], [0.01, 10]],
  ['absBack', (a, b) => a * sign(b), 0, null, [-10, 10], [-10, 10]],
  ['ge', (a, b) => (a >= b ? 1 : 0), 0, null, [-3, 3], [-3, 3]],
];

// Random inputs for a domain; integer-valued when the op compares (so that ties occur).
function inputs(n: number, dom: [number, number], name: string) {
  const x = uniform(n, dom[0], dom[1]);
  if (['gt', 'eq', 'ge', 'max', 'min'].includes(name)) for (let i = 0; i < n; i++) x[i] = Math.round(x[i]);
  return x;
}

/** Element offsets of a contiguous row-major shape; 0 on axes of extent 1 (broadcast). */
function bstrides(shape: number[]): number[] {
  const s = new Array(shape.length).fill(0);
  for (let d = shape.length - 1, acc = 1; d >= 0; d--) {
    s[d] = shape[d] === 1 ? 0 : acc;
    acc *= shape[d];
  }
  return s;
}

/** For each flat output index, the source element offset given per-axis strides. */
function offsets(shape: number[], strides: number[]): number[] {
  const n = shape.reduce((a, b) => a * b, 1);
  const out: number[] = [];
  const idx = new Array(shape.length).fill(0);
  for (let k = 0; k < n; k++) {
    out.push(idx.reduce((acc, v, d) => acc + v * strides[d], 0));
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

// ---- tests -------------------------------------------------------------------------

describe.each([
  ['simd', false],
  ['relaxed', true],
])('elementwise kernels (%s build)', (_name, relaxed) => {
  let R: Raw;
  beforeAll(async () => {
    await loadKernels(); // feature detection turns on Node 20's relaxed-SIMD flag
    R = await raw(relaxed);
  });

  describe('unary', () => {
    UNARY.forEach(([name, f, tol, dom], op) => {
      it(`${op} ${name}: sizes, alignments, guards`, () => {
        for (const n of SIZES) {
          for (const off of [0, 1]) {
            R.reset();
            const xs = uniform(n, dom[0], dom[1]);
            const x = buffer(R, n, xs, off);
            const y = buffer(R, n, undefined, (off + 2) % 4);
            R.k.unary(op, x.p, y.p, n);
            check(y.read(), Array.from(xs, f), tol, undefined, `${name} n=${n}`);
            expect(y.guardsIntact()).toBe(true);
          }
        }
      });

      it(`${op} ${name}: special values, same result at every position`, () => {
        R.reset();
        const xs = Float32Array.from(SPECIAL);
        const x = buffer(R, xs.length, xs);
        const y = buffer(R, xs.length);
        R.k.unary(op, x.p, y.p, xs.length);
        check(y.read(), Array.from(xs, f), tol, undefined, name);
        // Each value alone (scalar tail) must match its result inside a vector.
        const all = y.read();
        for (let i = 0; i < xs.length; i++) {
          const one = buffer(R, 1);
          R.k.unary(op, x.p + 4 * i, one.p, 1);
          expect(Object.is(one.read()[0], all[i]) || (Number.isNaN(all[i]) && Number.isNaN(one.read()[0]))).toBe(true);
        }
      });

      it(`${op} ${name}: in place`, () => {
        R.reset();
        const xs = uniform(1003, dom[0], dom[1]);
        const x = buffer(R, xs.length, xs, 3);
        R.k.unary(op, x.p, x.p, xs.length);
        check(x.read(), Array.from(xs, f), tol, undefined, name);
        expect(x.guardsIntact()).toBe(true);
      });
    });

    it('limits and special values exactly', () => {
      const cases: [number, number, number][] = [
        // [op, x, expected]
        [2, -Infinity, 0], [2, -104, 0], [2, -200, 0], [2, -1e30, 0], [2, 88.8, Infinity], [2, 89, Infinity],
        [2, 1000, Infinity], [2, Infinity, Infinity], [2, NaN, NaN], [2, 0, 1], [2, -0, 1],
        [3, 0, -Infinity], [3, -0, -Infinity], [3, -1, NaN], [3, -Infinity, NaN], [3, Infinity, Infinity],
        [3, NaN, NaN], [3, 1, 0],
        [4, -1, NaN], [4, Infinity, Infinity], [4, 0, 0],
        [6, Infinity, 1], [6, -Infinity, -1], [6, 20, 1], [6, -20, -1], [6, 1e30, 1], [6, NaN, NaN], [6, 0, 0],
        [7, Infinity, 1], [7, -Infinity, 0], [7, 100, 1], [7, -200, 0], [7, -1e30, 0], [7, NaN, NaN], [7, 0, 0.5],
        [8, NaN, NaN], [8, -5, 0], [9, 0, Infinity], [9, -0, -Infinity], [9, Infinity, 0],
        [10, NaN, 0], [10, 0, 0], [11, NaN, NaN], [11, -0, -0], [11, -3, -1], [12, -3, 9],
      ];
      R.reset();
      const x = buffer(R, 1), y = buffer(R, 1);
      for (const [op, v, want] of cases) {
        new Float32Array(R.mod.memory.buffer, x.p, 1)[0] = v;
        R.k.unary(op, x.p, y.p, 1);
        const got = y.read()[0];
        expect(Number.isNaN(want) ? Number.isNaN(got) : Object.is(got, want), `op ${op}(${v}) = ${got}, want ${want}`).toBe(true);
      }
    });

    it('exp, log, tanh, sigm: relative error over the float32 range', () => {
      // Random bit patterns (all exponents) and dense values in the interesting ranges.
      const n = 1 << 16;
      const bits = Uint32Array.from({ length: n }, () => (rand() * 2 ** 32) >>> 0);
      const xs = new Float32Array(bits.buffer);
      for (let i = 0; i < n / 2; i++) xs[i] = (rand() * 2 - 1) * (i < n / 4 ? 2 : 100);
      R.reset();
      const x = buffer(R, n, xs), y = buffer(R, n);
      for (const [op, f] of [[2, Math.exp], [3, Math.log], [6, Math.tanh], [7, sigm]] as const) {
        R.k.unary(op, x.p, y.p, n);
        const ys = y.read();
        let worst = 0;
        for (let i = 0; i < n; i++) {
          const r = f(xs[i]);
          if (!Number.isFinite(Math.fround(r)) || Math.abs(r) < 1.2e-38) {
            // Specials, overflow and subnormal results: as rounded, or both subnormal.
            if (!(Object.is(ys[i], Math.fround(r)) || (Number.isNaN(r) && Number.isNaN(ys[i]))
              || (Math.abs(r) < 1.2e-38 && Math.abs(ys[i]) < 1.2e-38))) expect.fail(`op ${op}(${xs[i]}) = ${ys[i]}`);
            continue;
          }
          worst = Math.max(worst, Math.abs(ys[i] - r) / Math.abs(r));
        }
        expect(worst, `op ${op}`).toBeLessThan(5e-7);
      }
    });
  });

  describe('binaryScalar', () => {
    BINARY.forEach(([name, g, tol, scale, da, db], op) => {
      it(`${op} ${name}: both operand orders, sizes, guards, in place`, () => {
        for (const swap of [0, 1]) {
          for (const n of SIZES) {
            R.reset();
            const s = Math.fround(inputs(1, swap ? da : db, name)[0]);
            const xs = inputs(n, swap ? db : da, name);
            if (n > 1 && !['pow', 'sqrtBack'].includes(name)) xs[1] = s; // a tie
            const x = buffer(R, n, xs, 1);
            const y = buffer(R, n);
            R.k.binaryScalar(op, x.p, s, y.p, n, swap);
            const ref = Array.from(xs, (v) => (swap ? g(s, v) : g(v, s)));
            const sc = scale && ((i: number) => (swap ? scale(s, xs[i], ref[i]) : scale(xs[i], s, ref[i])));
            check(y.read(), ref, tol, sc, `${name} swap=${swap} n=${n}`);
            expect(y.guardsIntact()).toBe(true);
            R.k.binaryScalar(op, x.p, s, x.p, n, swap);
            check(x.read(), ref, tol, sc, `${name} in place`);
          }
        }
      });
    });

    it('pow special cases', () => {
      R.reset();
      const cases: [number, number, number][] = [[-2, 3, -8], [-2, 0.5, NaN], [0, -1, Infinity], [5, 0, 1], [NaN, 0, 1],
        [4, 0.5, 2], [2, -1, 0.5], [3, 2, 9], [0, 0.5, 0], [2, 10, 1024], [10, 50, Infinity]];
      const x = buffer(R, 1), y = buffer(R, 1);
      for (const [a, b, want] of cases) {
        new Float32Array(R.mod.memory.buffer, x.p, 1)[0] = a;
        R.k.binaryScalar(6, x.p, b, y.p, 1, 0);
        const got = y.read()[0];
        expect(Number.isNaN(want) ? Number.isNaN(got) : got === want, `pow(${a}, ${b}) = ${got}`).toBe(true);
      }
    });
  });

  describe('binary', () => {
    // Runs binary on shapes aShape, bShape (same ndim, broadcast by size-1 axes) and checks it.
    function run(op: number, aShape: number[], bShape: number[], opts: { inPlace?: boolean; off?: number } = {}) {
      const [name, g, tol, scale, da, db] = BINARY[op];
      const out = aShape.map((v, d) => Math.max(v, bShape[d]));
      const n = out.reduce((p, v) => p * v, 1);
      const as = inputs(aShape.reduce((p, v) => p * v, 1), da, name);
      const bs = inputs(bShape.reduce((p, v) => p * v, 1), db, name);
      const sa = bstrides(aShape), sb = bstrides(bShape);
      const oa = offsets(out, sa), ob = offsets(out, sb);
      const ref = oa.map((o, i) => g(as[o], bs[ob[i]]));
      R.reset();
      const a = buffer(R, as.length, as, opts.off ?? 0);
      const b = buffer(R, bs.length, bs, 3);
      const y = opts.inPlace ? a : buffer(R, n, undefined, 2);
      const meta = R.i32([...out, ...sa, ...sb]);
      R.k.binary(op, a.p, b.p, y.p, out.length, meta);
      const sc = scale && ((i: number) => scale(as[oa[i]], bs[ob[i]], ref[i]));
      check(y.read(), ref, tol, sc, `${name} ${JSON.stringify(aShape)} ${JSON.stringify(bShape)}`);
      expect(y.guardsIntact()).toBe(true);
    }

    BINARY.forEach(([name], op) => {
      it(`${op} ${name}: same shape, row, column, scalar-like, outer product`, () => {
        for (const n of SIZES) run(op, [n], [n], { off: 1 });
        for (const n of [1, 3, 4, 5, 17]) {
          run(op, [n], [1]); // scalar-like: b splat
          run(op, [1], [n]); // a splat
          run(op, [7, n], [1, n]); // row
          run(op, [7, n], [7, 1]); // column
          run(op, [n, 1], [1, 5]); // both broadcast
        }
        run(op, [3, 1000], [3, 1000], { inPlace: true });
        run(op, [3, 1000], [1, 1000], { inPlace: true });
      });
    });

    it('middle axis, ndim 1-5, size-1 dims (all ops)', () => {
      for (let op = 0; op < BINARY.length; op++) {
        run(op, [3, 5, 6], [3, 1, 6]);
        run(op, [3, 1, 6], [1, 5, 1]);
        run(op, [2, 3, 4, 5], [1, 3, 1, 5]);
        run(op, [2, 3, 1, 5, 3], [2, 1, 4, 1, 3]);
        run(op, [1, 1, 1, 1, 9], [1, 1, 1, 1, 1]);
      }
      // Random shapes, any axis broadcast on either side.
      for (let t = 0; t < 60; t++) {
        const nd = 1 + (t % 5);
        const out = Array.from({ length: nd }, () => 1 + Math.floor(rand() * 6));
        const aShape = out.map((v) => (rand() < 0.3 ? 1 : v));
        const bShape = out.map((v, d) => (aShape[d] === 1 || rand() < 0.3 ? (rand() < 0.5 ? 1 : v) : v));
        run(t % BINARY.length, aShape, bShape.map((v, d) => (aShape[d] === 1 ? out[d] : v)));
      }
    });

    it('general inner strides (a transposed view), ndim 8, ndim 0', () => {
      R.reset();
      // y[i, j] = a[j, i] + b[i, j]: a's inner stride is 4, neither 0 nor 1.
      const as = uniform(12, -5, 5), bs = uniform(12, -5, 5);
      const a = buffer(R, 12, as), b = buffer(R, 12, bs), y = buffer(R, 12);
      R.k.binary(0, a.p, b.p, y.p, 2, R.i32([4, 3, 1, 4, 3, 1]));
      check(y.read(), offsets([4, 3], [1, 4]).map((o, k) => as[o] + bs[k]), 0);
      expect(y.guardsIntact()).toBe(true);
      // ndim 0: one element.
      const z = buffer(R, 1);
      R.k.binary(1, a.p, b.p, z.p, 0, R.i32([0]));
      expect(z.read()[0]).toBe(Math.fround(as[0] - bs[0]));
      expect(z.guardsIntact()).toBe(true);
      const sh8 = [2, 1, 2, 3, 1, 2, 2, 3];
      run(2, sh8, sh8.map((v, d) => (d % 3 === 0 ? 1 : v)));
    });
  });

  describe('fill, i32ToF32', () => {
    it('fill: sizes, guards', () => {
      for (const n of SIZES) {
        for (const off of [0, 1]) {
          R.reset();
          const y = buffer(R, n, undefined, off);
          R.k.fill(y.p, n, 2.5);
          expect(Array.from(y.read())).toEqual(new Array(n).fill(2.5));
          expect(y.guardsIntact()).toBe(true);
        }
      }
    });

    it('i32ToF32: sizes, rounding, guards', () => {
      const special = [0, -1, 1, 2 ** 24 + 1, -(2 ** 24) - 1, 2 ** 31 - 1, -(2 ** 31), 123456789];
      for (const n of [...SIZES, special.length]) {
        R.reset();
        const xs = n === special.length ? Int32Array.from(special) : Int32Array.from({ length: n }, () => (rand() * 2 ** 32) | 0);
        const x = buffer(R, n, xs, 1, true), y = buffer(R, n, undefined, 2);
        R.k.i32ToF32(x.p, y.p, n);
        check(y.read(), Array.from(xs), 0);
        expect(y.guardsIntact()).toBe(true);
      }
    });
  });

  describe('stridedCopy', () => {
    // Copies x (element offset xOff, length xLen) viewed with shape/strides and checks it.
    function copy(shape: number[], strides: number[], xLen: number, xOff = 0, off = 0) {
      R.reset();
      const xs = uniform(xLen, -100, 100);
      const x = buffer(R, xLen, xs, off);
      const n = shape.reduce((p, v) => p * v, 1);
      const y = buffer(R, n, undefined, 1);
      R.k.stridedCopy(x.p + 4 * xOff, y.p, shape.length, R.i32([...shape, ...strides]));
      check(y.read(), offsets(shape, strides).map((o) => xs[xOff + o]), 0, undefined, `${shape} ${strides}`);
      expect(y.guardsIntact()).toBe(true);
    }
    // Strides of the permuted view of a contiguous tensor of shape `shape`.
    function permute(shape: number[], perm: number[], off = 0) {
      const st = new Array(shape.length);
      for (let d = shape.length - 1, acc = 1; d >= 0; d--) { st[d] = acc; acc *= shape[d]; }
      copy(perm.map((p) => shape[p]), perm.map((p) => st[p]), shape.reduce((p, v) => p * v, 1), 0, off);
    }
    const perms = (k: number): number[][] => (k === 1 ? [[0]] : perms(k - 1).flatMap((p) =>
      Array.from({ length: k }, (_, i) => [...p.slice(0, i), k - 1, ...p.slice(i)])));

    it('contiguous copy: sizes, alignments', () => {
      for (const n of SIZES) for (const off of [0, 1, 3]) copy([n], [1], n, 0, off);
    });

    it('2-D transposes of many sizes', () => {
      for (const [m, n] of [[1, 1], [1, 5], [5, 1], [3, 5], [4, 4], [5, 7], [8, 12], [17, 33], [64, 70], [130, 67], [3, 200]]) {
        permute([m, n], [1, 0]);
        permute([m, n], [1, 0], 1);
      }
    });

    it('3-D and 4-D permutations', () => {
      for (const p of perms(3)) permute([5, 6, 7], p);
      for (const p of perms(3)) permute([4, 1, 9], p, 1);
      for (const p of perms(4)) permute([2, 5, 3, 6], p);
      for (const p of perms(4)) permute([3, 4, 8, 5], p);
    });

    it('broadcastTo, flips, 8-D', () => {
      copy([5], [0], 1); // scalar to a vector
      copy([17], [0], 1);
      copy([4, 6], [0, 1], 6); // row repeated
      copy([6, 4], [1, 0], 6); // column repeated
      copy([6, 5], [1, 0], 6);
      copy([3, 4, 5], [0, 5, 1], 20);
      copy([3, 4, 5], [5, 0, 1], 15);
      copy([3, 5, 4], [5, 1, 0], 15);
      copy([7], [-1], 7, 6); // reversed
      copy([3, 5], [-5, 1], 15, 10);
      copy([2, 2, 2, 2, 2, 2, 2, 2], [128, 64, 32, 16, 8, 4, 2, 1].reverse(), 256);
      copy([], [], 1); // ndim 0
    });
  });
});
