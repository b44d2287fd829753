// gemm kernel (assembly/gemm.ts) against a float64 reference: every transpose form, both
// builds, edge-tile and cache-block-crossing shapes, padded strides, alpha/beta cases,
// and that nothing outside C's elements (nor past the scratch it asked for) is written.
import { setFlagsFromString } from 'node:v8';
import { beforeAll, describe, expect, it } from 'vitest';
import { raw, type Raw } from './helpers/raw.js';

// mulberry32: a small seeded generator so failures reproduce.
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const GUARD = 8; // elements checked on each side of C and after the scratch
const SENTINEL = 1234.5;

interface Case {
  M: number; N: number; K: number;
  transA: 0 | 1; transB: 0 | 1;
  alpha: number; beta: number;
  /** extra elements per row beyond the minimal leading dimension */
  padA?: number; padB?: number; padC?: number;
  /** C's initial contents: random values, or NaN (only meaningful with beta == 0) */
  cInit?: 'random' | 'nan';
  /** fill A and B with NaN (only meaningful with alpha == 0: they must not be read) */
  nanInputs?: boolean;
  /** floats by which A, B and C start past a 16-byte boundary (views may be 4-byte aligned) */
  misalign?: number;
}

function runCase(r: Raw, c: Case, seed: number): void {
  const { M, N, K, transA, transB, alpha, beta } = c;
  const rand = rng(seed);
  const val = () => (c.nanInputs ? NaN : rand() * 2 - 1);
  // Stored shapes: A is M x K (K x M transposed), B is K x N (N x K transposed).
  const [aRows, aCols] = transA ? [K, M] : [M, K];
  const [bRows, bCols] = transB ? [N, K] : [K, N];
  const lda = Math.max(aCols, 1) + (c.padA ?? 0);
  const ldb = Math.max(bCols, 1) + (c.padB ?? 0);
  const ldc = N + (c.padC ?? 0);
  const a = Float32Array.from({ length: aRows * lda }, val);
  const b = Float32Array.from({ length: bRows * ldb }, val);
  const cLen = M > 0 ? (M - 1) * ldc + N : 0;
  const off = c.misalign ?? 0;
  const c0 = new Float32Array(off + GUARD + cLen + GUARD).fill(SENTINEL).subarray(off);
  const isC = (i: number) => i >= 0 && i < cLen && i % ldc < N;
  for (let i = 0; i < cLen; i++) {
    if (isC(i)) c0[GUARD + i] = c.cInit === 'nan' ? NaN : rand() * 2 - 1;
  }

  r.reset();
  const pa = r.f32([...new Array(off).fill(0), ...a]) + off * 4;
  const pb = r.f32([...new Array(off).fill(0), ...b]) + off * 4;
  const pc = r.f32(new Float32Array(c0.buffer)) + off * 4;
  const scratchBytes = r.k.gemmScratchBytes(M, N, K) as number;
  expect(scratchBytes % 4).toBe(0);
  const ps = r.alloc(scratchBytes / 4 + GUARD);
  new Float32Array(r.mod.memory.buffer, ps + scratchBytes, GUARD).fill(SENTINEL);

  r.k.gemm(transA, transB, M, N, K, alpha, pa, lda, pb, ldb, beta, pc + GUARD * 4, ldc, ps);

  const got = r.readF32(pc, c0.length);
  const fa = Math.fround(alpha), fb = Math.fround(beta);
  const at = (i: number, k: number) => (transA ? a[k * lda + i] : a[i * lda + k]);
  const bt = (k: number, j: number) => (transB ? b[j * ldb + k] : b[k * ldb + j]);
  const where = `${transA ? 'T' : 'N'}${transB ? 'T' : 'N'} M=${M} N=${N} K=${K} alpha=${alpha} beta=${beta}`;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let sum = 0, mag = 0;
      if (alpha !== 0) {
        for (let k = 0; k < K; k++) {
          const p = at(i, k) * bt(k, j);
          sum += p;
          mag += Math.abs(p);
        }
      }
      const old = c0[GUARD + i * ldc + j];
      const ref = fa * sum + (beta === 0 ? 0 : fb * old);
      const scale = Math.abs(fa) * mag + (beta === 0 ? 0 : Math.abs(fb * old));
      const v = got[GUARD + i * ldc + j];
      // f32 accumulation: error grows with the sum of |terms|, not with the result.
      if (!(Math.abs(v - ref) <= 1e-4 * scale + 1e-30)) {
        expect.fail(`${where}: C[${i},${j}] = ${v}, expected ${ref} (scale ${scale})`);
      }
    }
  }
  // Guards before and after C, and the gaps between rows when ldc > N, are untouched.
  for (let i = -GUARD; i < cLen + GUARD; i++) {
    if (!isC(i) && got[GUARD + i] !== SENTINEL) {
      expect.fail(`${where}: wrote outside C at offset ${i} (value ${got[GUARD + i]})`);
    }
  }
  const after = r.readF32(ps + scratchBytes, GUARD);
  expect(Array.from(after), `${where}: wrote past the scratch it asked for`).toEqual(new Array(GUARD).fill(SENTINEL));
}

// [M, N, K]: tiny, odd, vector-like, exact micro-tile multiples, and shapes that cross the
// kernel's K (256), M (128) and N (2048) cache blocks, so edge tiles and K slices occur.
const SHAPES: [number, number, number][] = [
  [1, 1, 1], [2, 3, 1], [7, 13, 5], [33, 17, 65], [1, 37, 1], [1, 45, 19], [29, 1, 40],
  [4, 8, 4], [8, 16, 16], [12, 24, 33], [5, 9, 300], [64, 100, 78], [260, 20, 270],
  [131, 67, 513], [6, 2100, 9],
];
const FORMS: [0 | 1, 0 | 1][] = [[0, 0], [0, 1], [1, 0], [1, 1]];
const formName = ([ta, tb]: [number, number]) => `${ta ? 'T' : 'N'}${tb ? 'T' : 'N'}`;

for (const relaxed of [false, true]) {
  describe(`gemm (${relaxed ? 'relaxed SIMD' : 'SIMD'} build)`, () => {
    let r: Raw;
    beforeAll(async () => {
      // Node 20 keeps relaxed SIMD behind a flag; loadKernels sets it only when it picks
      // the build itself, not when asked for the relaxed build explicitly.
      if (relaxed) setFlagsFromString('--experimental-wasm-relaxed-simd');
      r = await raw(relaxed);
      expect(r.mod.relaxed).toBe(relaxed);
    });

    for (const form of FORMS) {
      const [transA, transB] = form;
      it(`${formName(form)}: shapes, alpha = 1, beta = 0 over NaN`, () => {
        SHAPES.forEach(([M, N, K], s) =>
          runCase(r, { M, N, K, transA, transB, alpha: 1, beta: 0, cInit: 'nan' }, 100 + s));
      });
      it(`${formName(form)}: shapes, alpha and beta general, padded strides, unaligned`, () => {
        SHAPES.forEach(([M, N, K], s) =>
          runCase(r, { M, N, K, transA, transB, alpha: -0.75, beta: 1.5, padA: 3, padB: 5, padC: 7, misalign: 1 + (s % 3) }, 200 + s));
      });
      it(`${formName(form)}: beta = 1 accumulates`, () => {
        for (const [M, N, K] of [[7, 13, 5], [33, 17, 300], [9, 30, 1]] as const) {
          runCase(r, { M, N, K, transA, transB, alpha: 1, beta: 1, padC: 1 }, 300 + M);
          runCase(r, { M, N, K, transA, transB, alpha: 2, beta: 1 }, 400 + M);
        }
      });
      it(`${formName(form)}: K = 0 gives beta * C`, () => {
        for (const beta of [0, 1, 0.5]) {
          runCase(r, { M: 9, N: 11, K: 0, transA, transB, alpha: 1, beta, padC: 2, cInit: beta === 0 ? 'nan' : 'random' }, 500);
        }
      });
      it(`${formName(form)}: alpha = 0 reads neither A nor B`, () => {
        runCase(r, { M: 10, N: 9, K: 7, transA, transB, alpha: 0, beta: 0.5, nanInputs: true }, 600);
        runCase(r, { M: 10, N: 9, K: 7, transA, transB, alpha: 0, beta: 0, nanInputs: true, cInit: 'nan' }, 601);
      });
    }

    it('empty M or N writes nothing', () => {
      runCase(r, { M: 0, N: 5, K: 3, transA: 0, transB: 0, alpha: 1, beta: 0 }, 700);
      runCase(r, { M: 5, N: 0, K: 3, transA: 1, transB: 1, alpha: 1, beta: 0 }, 701);
    });

    /**
     * Random A, B and C for the cut tests, A and B placed in a fresh memory, and C's bits
     * after one gemm call (the result every cut must reproduce).
     */
    const oneCall = (rand: () => number, transA: 0 | 1, transB: 0 | 1, M: number, N: number, K: number, alpha: number, beta: number) => {
      const a = Float32Array.from({ length: M * K }, () => rand() * 2 - 1);
      const b = Float32Array.from({ length: K * N }, () => rand() * 2 - 1);
      const c = Float32Array.from({ length: M * N }, () => rand() * 2 - 1);
      const lda = transA ? M : K, ldb = transB ? K : N;
      r.reset();
      const pa = r.f32(a), pb = r.f32(b);
      const whole = r.f32(c), ps = r.alloc(r.k.gemmScratchBytes(M, N, K) as number / 4);
      r.k.gemm(transA, transB, M, N, K, alpha, pa, lda, pb, ldb, beta, whole, N, ps);
      return { c, pa, lda, pb, ldb, want: r.readF32(whole, M * N) };
    };

    // The threaded device cuts C into strips for gemmBlock; every element must come out
    // with the bits of one gemm call wherever the cuts fall, edge tiles included (rows not
    // multiples of the 6-row tile, columns not of the 8-wide one, K over two depth slices).
    it("gemmBlock strips at any cut give one call's bits", () => {
      const rand = rng(900);
      for (const [transA, transB] of FORMS) for (const [alpha, beta] of [[1, 0], [1, 1], [-0.75, 1.5]]) {
        const M = 37, N = 29, K = 300;
        const { c, pa, lda, pb, ldb, want } = oneCall(rand, transA, transB, M, N, K, alpha, beta);
        for (const [rows, cols] of [[[0, 5, 17, 37], [0, 29]], [[0, 37], [0, 3, 11, 29]], [[0, 13, 37], [0, 21, 29]]]) {
          const pc = r.f32(c);
          for (let i = 0; i + 1 < rows.length; i++) for (let j = 0; j + 1 < cols.length; j++) {
            const [m0, m1, n0, n1] = [rows[i], rows[i + 1], cols[j], cols[j + 1]];
            const s = r.alloc(r.k.gemmBlockScratchBytes(m1 - m0, n1 - n0, K) as number / 4);
            r.k.gemmBlock(transA, transB, m0, m1, n0, n1, K, alpha, pa, lda, pb, ldb, beta, pc, N, s);
          }
          const got = r.readF32(pc, M * N);
          const bad = got.findIndex((v, i) => !Object.is(v, want[i]));
          expect(bad, `${formName([transA, transB])} alpha ${alpha} beta ${beta} rows ${rows} cols ${cols}: element ${bad}`).toBe(-1);
        }
      }
    });

    // The threaded device also cuts a thin product over its depth slices (gemmSlices on
    // any ranges of slices, then gemmSumSlices in order): one call's bits with alpha 1 and
    // beta 0 or 1, for every form, edge tiles included and the last slice shorter.
    it("gemmSlices on any ranges of slices, summed in order, give one call's bits", () => {
      const rand = rng(950);
      for (const [transA, transB] of FORMS) for (const beta of [0, 1]) for (const [M, N, K] of [[64, 100, 784], [13, 29, 700], [7, 3, 1030]]) {
        const slices = r.k.gemmSliceCount(K) as number;
        expect(slices).toBe(Math.ceil(K / 256));
        const { c, pa, lda, pb, ldb, want } = oneCall(rand, transA, transB, M, N, K, 1, beta);
        for (const cuts of [[0, slices], [0, 1, slices], [0, slices - 1, slices], Array.from({ length: slices + 1 }, (_, i) => i)]) {
          const pc = r.f32(c), out = r.alloc((slices - 1) * M * N);
          for (let i = 0; i + 1 < cuts.length; i++) {
            const s = r.alloc(r.k.gemmBlockScratchBytes(M, N, K) as number / 4);
            r.k.gemmSlices(transA, transB, M, N, K, pa, lda, pb, ldb, beta, pc, N, out, cuts[i], cuts[i + 1], s);
          }
          r.k.gemmSumSlices(pc, N, M, N, out, slices - 1);
          const got = r.readF32(pc, M * N);
          const bad = got.findIndex((v, i) => !Object.is(v, want[i]));
          expect(bad, `${formName([transA, transB])} beta ${beta} ${M}x${N}x${K} cuts ${cuts}: element ${bad}`).toBe(-1);
        }
      }
    });

    // Zero rows of op(B) (gemm.ts, skipZeroRows): where 8 columns of a row are all +0 the
    // kernels skip the row. The same product with those zeros written as -0 (a bit test
    // keeps them) runs the dense kernels: the two must give the same bits, and both must
    // match the float64 reference, with panels partly, wholly and not at all zero, edge
    // tiles, the 4-row panel of M = 64 and more than one depth slice.
    const zeroRowsCase = (rand: () => number, transA: 0 | 1, transB: 0 | 1, M: number, N: number, K: number,
      alpha: number, beta: number, poison?: number) => {
      const a = Float32Array.from({ length: M * K }, () => rand() * 2 - 1);
      const opB = Float32Array.from({ length: K * N }, () => rand() * 2 - 1); // op(B)[k, j] at k * N + j
      for (let k = 0; k < K; k++) for (let j0 = 0; j0 < N; j0 += 8) {
        // per 8-column group: zero in 60% of rows, in all rows of group 1, in 5% of group 2's
        // (too few to skip); groups 3 and 4 zero in 30% of rows and in only their first or
        // last 4 columns in 40%
        const g = j0 / 8, u = rand();
        const zero = g === 1 || (g === 0 || g > 4 ? u < 0.6 : u < (g === 2 ? 0.05 : 0.3));
        const [z0, z1] = zero ? [0, 8] : g === 3 && u < 0.7 ? [0, 4] : g === 4 && u < 0.7 ? [4, 8] : [0, 0];
        for (let j = j0 + z0; j < Math.min(j0 + z1, N); j++) opB[k * N + j] = 0;
      }
      // An Inf or NaN in A where B's row is zero: dense gives NaN there, so must the skip.
      if (poison !== undefined) a[transA ? poison * M : poison] = poison % 2 ? Infinity : NaN;
      const store = (v: Float32Array) => transB ? Float32Array.from({ length: K * N }, (_, i) => v[(i % K) * N + Math.floor(i / K)]) : v;
      const c = Float32Array.from({ length: M * N }, () => rand() * 2 - 1);
      const lda = transA ? M : K, ldb = transB ? K : N;
      const run = (b: Float32Array) => {
        r.reset();
        const pa = r.f32(a), pb = r.f32(store(b)), pc = r.f32(c), ps = r.alloc(r.k.gemmScratchBytes(M, N, K) as number / 4);
        r.k.gemm(transA, transB, M, N, K, alpha, pa, lda, pb, ldb, beta, pc, N, ps);
        return r.readF32(pc, M * N);
      };
      const sparse = run(opB), dense = run(opB.map((v) => (v === 0 ? -0 : v)));
      const where = `${formName([transA, transB])} ${M}x${N}x${K} alpha ${alpha} beta ${beta}${poison === undefined ? '' : ' poisoned'}`;
      const bad = sparse.findIndex((v, i) => !Object.is(v, dense[i]));
      expect(bad, `${where}: element ${bad} differs from the dense kernels (${sparse[bad]} vs ${dense[bad]})`).toBe(-1);
      const at = (i: number, k: number) => (transA ? a[k * M + i] : a[i * K + k]);
      for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
        let sum = 0, mag = 0;
        for (let k = 0; k < K; k++) { const q = at(i, k) * opB[k * N + j]; sum += q; mag += Math.abs(q); }
        const ref = Math.fround(alpha) * sum + (beta === 0 ? 0 : Math.fround(beta) * c[i * N + j]);
        const v = sparse[i * N + j];
        if (!Number.isFinite(ref)) { if (!Object.is(v, Math.fround(ref))) expect.fail(`${where}: C[${i},${j}] = ${v}, expected ${ref}`); continue; }
        if (!(Math.abs(v - ref) <= 1e-4 * (Math.abs(alpha) * mag + Math.abs(beta * c[i * N + j])) + 1e-30)) {
          expect.fail(`${where}: C[${i},${j}] = ${v}, expected ${ref}`);
        }
      }
      return sparse;
    };

    it('zero rows of op(B) are skipped with the bits of the dense kernels', () => {
      const rand = rng(1000);
      for (const [transA, transB] of FORMS) {
        for (const [M, N, K] of [[64, 100, 300], [37, 29, 53], [6, 8, 5], [13, 41, 600]]) {
          zeroRowsCase(rand, transA, transB, M, N, K, 1, 0);
          zeroRowsCase(rand, transA, transB, M, N, K, 1, 1);
          zeroRowsCase(rand, transA, transB, M, N, K, -0.75, 1.5);
        }
      }
    });

    it('an Inf or NaN in A at a zero row of op(B) still gives NaN (B is packed whole again)', () => {
      const rand = rng(1100);
      for (const [transA, transB] of FORMS) {
        const got = zeroRowsCase(rand, transA, transB, 20, 24, 300, 1, 0, 0);
        expect(got.some(Number.isNaN)).toBe(true);
        zeroRowsCase(rand, transA, transB, 20, 24, 300, 1, 0, 3); // Inf
      }
    });

    it('deep K = 512 in NN, NT, TN', () => {
      for (const [transA, transB] of [[0, 0], [0, 1], [1, 0]] as const) {
        runCase(r, { M: 200, N: 184, K: 512, transA, transB, alpha: 1, beta: 0.25 }, 800);
      }
    });
  });
}
