// The unpacked gemm kernels (assembly/gemmsmall.ts): gemmRowsBlock (NN) and gemmDotBlock
// (NT) against a float64 reference, on both builds; alpha/beta, padded strides and odd
// shapes that exercise every edge path (remainder rows, remainder columns, K not a
// multiple of 4); nothing outside C written; and any cut of C into rectangles gives the
// whole call's bits (what makes threaded products equal to one thread's).
import { setFlagsFromString } from 'node:v8';
import { beforeAll, describe, expect, it } from 'vitest';
import { raw, type Raw } from './helpers/raw.js';
import { rng } from './helpers/ref.js';

type Kernel = 'gemmRowsBlock' | 'gemmDotBlock';
const GUARD = 8;
const SENTINEL = 1234.5;

interface Setup { pa: number; pb: number; pc: number; lda: number; ldb: number; ldc: number; a: Float32Array; b: Float32Array; c0: Float32Array }

/** A [M, K] (lda), B [K, N] for rows or [N, K] for dot (ldb), C [M, N] (ldc) with guards. */
function setup(r: Raw, kernel: Kernel, M: number, N: number, K: number, pad: number, seed: number, nanC = false): Setup {
  const rand = rng(seed).next;
  const lda = K + pad, ldb = (kernel === 'gemmRowsBlock' ? N : K) + pad, ldc = N + pad;
  const a = Float32Array.from({ length: M * lda }, () => rand() * 2 - 1);
  const b = Float32Array.from({ length: (kernel === 'gemmRowsBlock' ? K : N) * ldb }, () => rand() * 2 - 1);
  const c0 = new Float32Array(GUARD + M * ldc + GUARD).fill(SENTINEL);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) c0[GUARD + i * ldc + j] = nanC ? NaN : rand() * 2 - 1;
  r.reset();
  return { pa: r.f32(a), pb: r.f32(b), pc: r.f32(c0) + GUARD * 4, lda, ldb, ldc, a, b, c0 };
}

function check(r: Raw, kernel: Kernel, M: number, N: number, K: number, alpha: number, beta: number, pad: number, seed: number): void {
  const s = setup(r, kernel, M, N, K, pad, seed, beta === 0);
  r.k[kernel](0, M, 0, N, K, alpha, s.pa, s.lda, s.pb, s.ldb, beta, s.pc, s.ldc);
  const got = r.readF32(s.pc - GUARD * 4, s.c0.length);
  const bt = kernel === 'gemmRowsBlock' ? (k: number, j: number) => s.b[k * s.ldb + j] : (k: number, j: number) => s.b[j * s.ldb + k];
  const where = `${kernel} M=${M} N=${N} K=${K} alpha=${alpha} beta=${beta} pad=${pad}`;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let sum = 0, mag = 0;
      for (let k = 0; k < K; k++) { const p = s.a[i * s.lda + k] * bt(k, j); sum += p; mag += Math.abs(p); }
      const old = s.c0[GUARD + i * s.ldc + j];
      const ref = Math.fround(alpha) * sum + (beta === 0 ? 0 : Math.fround(beta) * old);
      const scale = Math.abs(alpha) * mag + (beta === 0 ? 0 : Math.abs(beta * old));
      const v = got[GUARD + i * s.ldc + j];
      if (!(Math.abs(v - ref) <= 1e-4 * scale + 1e-30)) expect.fail(`${where}: C[${i},${j}] = ${v}, expected ${ref}`);
    }
  }
  for (let p = 0; p < got.length; p++) {
    const q = p - GUARD, inC = q >= 0 && q < M * s.ldc && q % s.ldc < N;
    if (!inC && got[p] !== SENTINEL) expect.fail(`${where}: wrote outside C at offset ${q}`);
  }
}

// Rows: 4-row blocks, a 2-row and a 1-row remainder; columns: 8-wide, 4-wide and 1-3.
// Dot: 2-row pairs and an odd row; 4-row groups of B and 1-3 left; K % 4 = 0..3.
const SHAPES: [number, number, number][] = [
  [1, 1, 1], [2, 3, 5], [3, 7, 4], [4, 8, 8], [5, 9, 3], [6, 12, 17], [7, 13, 6], [10, 100, 78],
  [11, 21, 33], [16, 37, 64], [9, 66, 101], [13, 5, 130], [2, 259, 7],
];

for (const relaxed of [false, true]) {
  describe(`unpacked gemm kernels (${relaxed ? 'relaxed SIMD' : 'SIMD'} build)`, () => {
    let r: Raw;
    beforeAll(async () => {
      if (relaxed) setFlagsFromString('--experimental-wasm-relaxed-simd');
      r = await raw(relaxed);
      expect(r.mod.relaxed).toBe(relaxed);
    });
    for (const kernel of ['gemmRowsBlock', 'gemmDotBlock'] as const) {
      it(`${kernel}: shapes, alpha = 1, beta = 0 over NaN`, () => {
        SHAPES.forEach(([M, N, K], i) => check(r, kernel, M, N, K, 1, 0, 0, 10 + i));
      });
      it(`${kernel}: alpha and beta general, padded strides`, () => {
        SHAPES.forEach(([M, N, K], i) => check(r, kernel, M, N, K, -0.75, 1.5, 3, 40 + i));
        SHAPES.forEach(([M, N, K], i) => check(r, kernel, M, N, K, 2, 1, 1, 70 + i));
      });
      it(`${kernel}: any cut of C into rectangles gives the whole call's bits`, () => {
        for (const [M, N, K] of [[11, 21, 33], [10, 100, 78], [9, 66, 101]] as const) {
          const s = setup(r, kernel, M, N, K, 0, 5);
          r.k[kernel](0, M, 0, N, K, 1, s.pa, s.lda, s.pb, s.ldb, 0, s.pc, s.ldc);
          const whole = r.readF32(s.pc, M * s.ldc);
          new Float32Array(r.mod.memory.buffer, s.pc, M * s.ldc).fill(NaN);
          // cuts at odd places, not the micro-tiles' multiples
          const rows = [0, 3, 4, 7, M], cols = [0, 1, 6, 13, N];
          for (let x = 0; x + 1 < rows.length; x++) {
            for (let y = 0; y + 1 < cols.length; y++) {
              const [m0, m1, n0, n1] = [rows[x], Math.min(rows[x + 1], M), cols[y], Math.min(cols[y + 1], N)];
              if (m0 < m1 && n0 < n1) r.k[kernel](m0, m1, n0, n1, K, 1, s.pa, s.lda, s.pb, s.ldb, 0, s.pc, s.ldc);
            }
          }
          const cut = r.readF32(s.pc, M * s.ldc);
          expect(new Uint32Array(cut.buffer), `${kernel} ${M}x${N}x${K}`).toEqual(new Uint32Array(whole.buffer));
        }
      });
    }
  });
}
