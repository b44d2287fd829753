// Kernel-level tests of assembly/reduce.ts against float64 JavaScript references, on both
// builds (plain SIMD and relaxed SIMD). x is viewed as [outer, r, inner]; every output
// buffer is surrounded by guard elements that must come back untouched.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadKernels } from '../ts/device/wasm/module.js';
import { raw, type Raw } from './helpers/raw.js';

// Deterministic random numbers (mulberry32).
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(777);
const uniform = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => lo + (hi - lo) * rand());

const G = 4; // guard elements on each side
const SENTINEL = -12345.5;

/** A guarded buffer of n elements at element offset off (1-3: only 4-byte aligned). */
function buffer(R: Raw, n: number, data?: ArrayLike<number>, off = 0, int = false) {
  const base = R.alloc(n + 2 * G + off);
  const f = new Float32Array(R.mod.memory.buffer);
  f.fill(SENTINEL, base >> 2, (base >> 2) + n + 2 * G + off);
  const p = base + (G + off) * 4;
  if (data) (int ? new Int32Array(R.mod.memory.buffer) : f).set(data, p >> 2);
  return {
    p,
    read: () => (int ? R.readI32(p, n) : R.readF32(p, n)),
    guardsIntact() {
      const v = new Float32Array(R.mod.memory.buffer);
      for (let i = 1; i <= G; i++) if (v[(p >> 2) - i] !== SENTINEL || v[(p >> 2) + n + i - 1] !== SENTINEL) return false;
      return true;
    },
  };
}

/** |got - ref| <= tol * scale(i), NaN matching NaN and infinities exactly. */
function check(got: ArrayLike<number>, ref: ArrayLike<number>, tol: number, scale: (i: number) => number, what: string) {
  for (let i = 0; i < ref.length; i++) {
    const g = got[i], r = ref[i];
    const ok = Number.isNaN(r) ? Number.isNaN(g)
      : !Number.isFinite(r) || tol === 0 ? g === Math.fround(r)
      : Math.abs(g - r) <= tol * scale(i);
    if (!ok) expect.fail(`${what} [${i}]: got ${g}, want ${r}`);
  }
}

/** Applies f to each (o, i) column: f(values along j) -> result(s). */
function columns(x: ArrayLike<number>, outer: number, r: number, inner: number, f: (col: number[], o: number, i: number) => void) {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const col: number[] = [];
      for (let j = 0; j < r; j++) col.push(x[(o * r + j) * inner + i]);
      f(col, o, i);
    }
  }
}

const OUTER = [1, 2, 3];
const R_ = [1, 2, 3, 4, 5, 16, 17, 33, 100];
const INNER = [1, 2, 3, 4, 5, 16, 17, 20, 33];
const combos = OUTER.flatMap((o) => R_.flatMap((r) => INNER.map((i) => [o, r, i] as const)));

// ReduceOp: [name, identity, step, |error| scale per term]
const REDUCE: [string, number, (acc: number, v: number) => number, (v: number) => number][] = [
  ['sum', 0, (a, v) => a + v, Math.abs],
  ['max', -Infinity, (a, v) => Math.max(a, v), () => 0],
  ['min', Infinity, (a, v) => Math.min(a, v), () => 0],
  ['sumabs2', 0, (a, v) => a + v * v, (v) => v * v],
  ['sumabs', 0, (a, v) => a + Math.abs(v), Math.abs],
];

const lse = (col: number[]) => {
  const m = Math.max(...col);
  if (!Number.isFinite(m)) return Number.isNaN(m) || col.includes(NaN) ? NaN : m;
  return m + Math.log(col.reduce((s, v) => s + Math.exp(v - m), 0));
};

describe.each([
  ['simd', false],
  ['relaxed', true],
])('reduce kernels (%s build)', (_name, relaxed) => {
  let R: Raw;
  beforeAll(async () => {
    await loadKernels(); // feature detection turns on Node 20's relaxed-SIMD flag
    R = await raw(relaxed);
  });

  REDUCE.forEach(([name, init, step, term], op) => {
    it(`reduce ${op} ${name}: outer x r x inner combinations, guards`, () => {
      for (const [outer, r, inner] of [...combos, [2, 0, 1] as const, [2, 0, 5] as const, [1, 1000, 1] as const, [2, 300, 7] as const]) {
        R.reset();
        const xs = uniform(outer * r * inner, -10, 10);
        const x = buffer(R, xs.length, xs, 1);
        const y = buffer(R, outer * inner, undefined, 2);
        R.k.reduce(op, x.p, y.p, outer, r, inner);
        const ref: number[] = [], sc: number[] = [];
        columns(xs, outer, r, inner, (col) => {
          ref.push(col.reduce(step, init));
          sc.push(col.reduce((s, v) => s + term(v), 0));
        });
        check(y.read(), ref, op === 1 || op === 2 ? 0 : 1e-6, (i) => sc[i], `${name} ${outer}x${r}x${inner}`);
        expect(y.guardsIntact()).toBe(true);
      }
    });

    it(`reduce ${op} ${name}: NaN propagates to its own output only`, () => {
      for (const [outer, r, inner] of [[2, 37, 1], [2, 5, 1], [2, 9, 21]]) {
        R.reset();
        const xs = uniform(outer * r * inner, -10, 10);
        xs[(r - 3) * inner + (inner > 1 ? inner - 2 : 0)] = NaN; // outer block 0
        const x = buffer(R, xs.length, xs), y = buffer(R, outer * inner);
        R.k.reduce(op, x.p, y.p, outer, r, inner);
        const ys = y.read();
        ys.forEach((v, k) => expect(Number.isNaN(v), `${name} [${k}]`).toBe(k === (inner > 1 ? inner - 2 : 0)));
      }
    });
  });

  describe('argmax', () => {
    const first = (col: number[]) => {
      let b = 0;
      for (let j = 1; j < col.length; j++) if (col[j] > col[b] || (Number.isNaN(col[j]) && !Number.isNaN(col[b]))) b = j;
      return b;
    };

    it('ties pick the first maximum; all layouts; guards', () => {
      for (const [outer, r, inner] of [...combos, [1, 1000, 1] as const, [2, 999, 3] as const]) {
        R.reset();
        const xs = Float32Array.from({ length: outer * r * inner }, () => Math.floor(rand() * 4) - 10);
        const x = buffer(R, xs.length, xs, 3);
        const y = buffer(R, outer * inner, undefined, 1, true);
        R.k.argmax(x.p, y.p, outer, r, inner);
        const ref: number[] = [];
        columns(xs, outer, r, inner, (col) => ref.push(first(col)));
        expect(Array.from(y.read())).toEqual(ref);
        expect(y.guardsIntact()).toBe(true);
      }
    });

    it('-Inf, +Inf and NaN (NaN counts as the largest)', () => {
      const rows = [
        [-Infinity, -Infinity, -Infinity, -Infinity, -Infinity],
        [1, Infinity, 3, Infinity, 2, 0, 0],
        [1, 2, NaN, 7, NaN, 3, 1, 1, 1, 1],
        [NaN, 5, 1, 2, 3],
        [1, 2, 3, 4, 5, 6, 7, 8, NaN],
      ];
      for (const row of rows) {
        for (const inner of [1, 5]) {
          R.reset();
          // Each column of the [1, r, inner] block holds the row.
          const xs = Float32Array.from({ length: row.length * inner }, (_, k) => row[Math.floor(k / inner)]);
          const x = buffer(R, xs.length, xs), y = buffer(R, inner, undefined, 0, true);
          R.k.argmax(x.p, y.p, 1, row.length, inner);
          expect(Array.from(y.read())).toEqual(new Array(inner).fill(first(row)));
        }
      }
    });
  });

  describe('logsumexp, softmax, logsoftmax', () => {
    function run(kind: 'logsumexp' | 'softmax' | 'logsoftmax', xs: Float32Array, outer: number, r: number, inner: number) {
      const x = buffer(R, xs.length, xs, 2);
      const n = kind === 'logsumexp' ? outer * inner : xs.length;
      const y = buffer(R, n, undefined, 1);
      R.k[kind](x.p, y.p, outer, r, inner);
      expect(y.guardsIntact()).toBe(true);
      return y.read();
    }
    const refs = (kind: string, xs: Float32Array, outer: number, r: number, inner: number) => {
      const ref = new Float64Array(kind === 'logsumexp' ? outer * inner : xs.length);
      columns(xs, outer, r, inner, (col, o, i) => {
        const l = lse(col);
        if (kind === 'logsumexp') ref[o * inner + i] = l;
        else col.forEach((v, j) => { ref[(o * r + j) * inner + i] = kind === 'softmax' ? Math.exp(v - l) : v - l; });
      });
      return ref;
    };

    for (const kind of ['logsumexp', 'softmax', 'logsoftmax'] as const) {
      it(`${kind}: all layouts, moderate and large values`, () => {
        for (const shift of [0, 1000, -1000]) {
          for (const [outer, r, inner] of [...combos, [1, 1000, 1] as const, [2, 200, 37] as const]) {
            R.reset();
            const xs = uniform(outer * r * inner, shift - 15, shift + 15);
            const got = run(kind, xs, outer, r, inner);
            const ref = refs(kind, xs, outer, r, inner);
            // logsumexp, logsoftmax: absolute error relative to the inputs' size; softmax: relative.
            const scale = kind === 'softmax' ? (i: number) => Math.abs(ref[i]) + 1e-30 : () => 1 + Math.abs(shift) + 30;
            check(got, ref, 2e-6, scale, `${kind} shift=${shift} ${outer}x${r}x${inner}`);
          }
        }
      });
    }

    it('softmax rows sum to 1, exp(logsoftmax) too', () => {
      for (const [outer, r, inner] of [[3, 1000, 1], [2, 10, 1], [2, 50, 40]]) {
        R.reset();
        const xs = uniform(outer * r * inner, -20, 20);
        for (const kind of ['softmax', 'logsoftmax'] as const) {
          const got = run(kind, xs, outer, r, inner);
          columns(got, outer, r, inner, (col) => {
            const s = col.reduce((a, v) => a + (kind === 'softmax' ? v : Math.exp(v)), 0);
            expect(Math.abs(s - 1)).toBeLessThan(2e-6);
          });
        }
      }
    });

    it('logsumexp special values: all -Inf, +Inf, NaN, r = 1, r = 0', () => {
      const rows = [[-Infinity, -Infinity, -Infinity], [1, Infinity, 2], [-Infinity, 3, -Infinity], [1, NaN, 2, 5, 6], [1000], [-1000, -1000]];
      for (const row of rows) {
        for (const inner of [1, 6, 17]) {
          R.reset();
          const xs = Float32Array.from({ length: row.length * inner }, (_, k) => row[Math.floor(k / inner)]);
          const got = run('logsumexp', xs, 1, row.length, inner);
          const want = lse(row);
          for (const g of got) expect(Number.isNaN(want) ? Number.isNaN(g) : Math.abs(g - want) <= 1e-4 || g === want, `${row} -> ${g}`).toBe(true);
        }
      }
      R.reset();
      expect(Array.from(run('logsumexp', new Float32Array(0), 2, 0, 1))).toEqual([-Infinity, -Infinity]);
    });
  });

  describe('pick, unpick', () => {
    function labels(outer: number, r: number, inner: number) {
      return Int32Array.from({ length: outer * inner }, () => Math.floor(rand() * r));
    }

    it('valid labels: gather and scatter, guards', () => {
      for (const [outer, r, inner] of [...combos, [50, 10, 1] as const]) {
        R.reset();
        const xs = uniform(outer * r * inner, -5, 5);
        const ls = labels(outer, r, inner);
        const x = buffer(R, xs.length, xs, 1);
        const lab = buffer(R, ls.length, ls, 2, true);
        const y = buffer(R, ls.length, undefined, 3);
        expect(R.k.pick(x.p, lab.p, y.p, outer, r, inner)).toBe(-1);
        const ref: number[] = [];
        for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) ref.push(xs[(o * r + ls[o * inner + i]) * inner + i]);
        expect(Array.from(y.read())).toEqual(ref);
        expect(y.guardsIntact()).toBe(true);

        const g = buffer(R, ls.length, ref);
        const dx = buffer(R, xs.length, uniform(xs.length, 1, 2), 1); // old contents must go
        expect(R.k.unpick(g.p, lab.p, dx.p, outer, r, inner)).toBe(-1);
        const want = new Float32Array(xs.length);
        for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) want[(o * r + ls[o * inner + i]) * inner + i] = ref[o * inner + i];
        expect(Array.from(dx.read())).toEqual(Array.from(want));
        expect(dx.guardsIntact()).toBe(true);
      }
    });

    it('bad labels: the flat index o*inner+i of the first one', () => {
      const [outer, r, inner] = [3, 5, 4];
      for (const [k, bad] of [[0, -1], [7, 5], [11, -2147483648], [11, 2147483647], [5, 6]] as const) {
        R.reset();
        const ls = labels(outer, r, inner);
        ls[k] = bad;
        ls[10] = -1; // a later bad label too, where k < 10
        if (k > 10) ls[10] = 0;
        const x = buffer(R, outer * r * inner, uniform(outer * r * inner, -1, 1));
        const lab = buffer(R, ls.length, ls, 0, true);
        const y = buffer(R, ls.length);
        expect(R.k.pick(x.p, lab.p, y.p, outer, r, inner)).toBe(k);
        expect(y.guardsIntact()).toBe(true);
        const g = buffer(R, ls.length, uniform(ls.length, -1, 1));
        const dx = buffer(R, outer * r * inner);
        expect(R.k.unpick(g.p, lab.p, dx.p, outer, r, inner)).toBe(k);
        expect(dx.guardsIntact()).toBe(true);
      }
    });
  });
});
