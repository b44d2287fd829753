// General matrix multiply, f32, row-major: C = alpha * op(A) * op(B) + beta * C.
//
// GotoBLAS/BLIS structure: op(A) and op(B) are copied ("packed") into `scratch` as
// micro-panels laid out in the exact order the micro-kernel reads them, so every transpose
// form (NN, NT, TN, TT) runs the same inner loop at the same speed, and the data it
// touches is contiguous and cache resident:
//
//   for each NC-wide column block of C                      (packed B block: L2/L3)
//     for each KC-deep slice of K:       pack op(B)[kslice, cols] into [NC/NR][KC][NR]
//       for each MC-tall row block:      pack op(A)[rows, kslice] into [MC/MR][KC][MR]
//         for each NR-wide micro-panel of packed B          (KC x NR: stays in L1)
//           for each MR-tall micro-panel of packed A        (streams from L2)
//             micro-kernel: C[MR x NR] (+)= A-panel * B-panel over KC
//
// Partial panels at the right and bottom edges are packed with zero padding, so the
// micro-kernel always computes a full tile; edge tiles go through a small buffer.
//
// `gemmBlock` computes any rectangle of C on its own (it packs what it needs into the
// scratch it is given), so a threaded caller splits C into row or column strips, one per
// thread, each with its own scratch. Every element's arithmetic is then the same as in a
// single call provided the strips start at multiples of MR (rows) or NR (columns): the
// micro-tiles stay where they were (only the tile at C's own edge is cut short, as before),
// and the depth slices depend on K alone.

import { madd } from './util';

// Micro-tile: MR x NR = 4 x 8, eight f32x4 accumulators. V8's optimizing compiler gives
// wasm 15 xmm registers on x64 and schedules a k-step's loads ahead of its arithmetic,
// so a k-step holds 8 accumulators + 2 B vectors + 4 broadcast A values (+1 temporary
// for mul+add) = 15 live vectors. Measured alternatives were slower, all by spilling:
// 6x8, 5x8, 3x12 (plain build), 8x4 and 12x4, and 4x8 with the k loop unrolled.
const MR = 4;
const NR = 8;
// Cache blocks. A KC x NR panel of packed B (8 KiB) stays in L1 across the MC/MR
// micro-kernels that use it; the MC x KC block of packed A (128 KiB) stays in L2;
// the KC x NC block of packed B (2 MiB at most) in L2/L3.
const KC = 256;
const MC = 128;
const NC = 2048;

/** ceil(n / d) * d */
// @ts-ignore: decorator
@inline function roundUp(n: i32, d: i32): i32 { return (n + d - 1) / d * d; }

/**
 * The block size used over an extent n: at most `max`, a multiple of `unit`, and the
 * blocks as even as possible (K = 300 is cut 152 + 148, not 256 + 44).
 */
function blockSize(n: i32, max: i32, unit: i32): i32 {
  if (n <= 0) return 0;
  const blocks = (n + max - 1) / max;
  return min(max, roundUp((n + blocks - 1) / blocks, unit));
}

/** Floats of scratch that gemmBlock needs for an m x n block of C with depth K. */
function blockScratchFloats(m: i32, n: i32, K: i32): i32 {
  const kc = blockSize(K, KC, 1);
  const nc = roundUp(blockSize(n, NC, NR), NR);
  const mc = roundUp(blockSize(m, MC, MR), MR);
  return kc * nc + mc * kc + MR * NR; // packed B block, packed A block, edge tile
}

/** Bytes of `scratch` that gemm(…, M, N, K, …) needs. */
export function gemmScratchBytes(M: i32, N: i32, K: i32): i32 {
  return blockScratchFloats(M, N, K) << 2;
}

/** Bytes of `scratch` that gemmBlock needs for an m x n block of C with depth K. */
export function gemmBlockScratchBytes(m: i32, n: i32, K: i32): i32 {
  return blockScratchFloats(m, n, K) << 2;
}

export function gemm(
  transA: i32, transB: i32, M: i32, N: i32, K: i32, alpha: f32,
  A: usize, lda: i32, B: usize, ldb: i32, beta: f32, C: usize, ldc: i32, scratch: usize,
): void {
  gemmBlock(transA, transB, 0, M, 0, N, K, alpha, A, lda, B, ldb, beta, C, ldc, scratch);
}

/**
 * C[m0:m1, n0:n1] = alpha * op(A)[m0:m1, :] * op(B)[:, n0:n1] + beta * C[m0:m1, n0:n1],
 * with scratch of gemmBlockScratchBytes(m1 - m0, n1 - n0, K) bytes, 16-byte aligned.
 * The threaded cpu device calls it once per strip (m0 a multiple of 4, n0 of 8).
 */
export function gemmBlock(
  transA: i32, transB: i32, m0: i32, m1: i32, n0: i32, n1: i32, K: i32, alpha: f32,
  A: usize, lda: i32, B: usize, ldb: i32, beta: f32, C: usize, ldc: i32, scratch: usize,
): void {
  const m = m1 - m0, n = n1 - n0;
  if (m <= 0 || n <= 0) return;
  // BLAS convention: with alpha == 0 (or nothing to sum) A and B are not read at all,
  // so NaN or Inf in them does not leak into C.
  if (K <= 0 || alpha == 0) {
    scaleC(C + ((<usize>m0 * <usize>ldc + <usize>n0) << 2), ldc, m, n, beta);
    return;
  }
  const kcMax = blockSize(K, KC, 1);
  const ncMax = blockSize(n, NC, NR);
  const mcMax = blockSize(m, MC, MR);
  const packedB = scratch;
  const packedA = packedB + ((<usize>kcMax * <usize>roundUp(ncMax, NR)) << 2);
  const edge = packedA + ((<usize>roundUp(mcMax, MR) * <usize>kcMax) << 2);

  for (let jc = n0; jc < n1; jc += ncMax) {
    const nc = min(ncMax, n1 - jc);
    for (let pc = 0; pc < K; pc += kcMax) {
      const kc = min(kcMax, K - pc);
      // Later K slices add onto what the earlier ones wrote.
      const betaK: f32 = pc == 0 ? beta : 1;
      packB(transB, B, ldb, pc, kc, jc, nc, packedB);
      for (let ic = m0; ic < m1; ic += mcMax) {
        const mc = min(mcMax, m1 - ic);
        packA(transA, A, lda, ic, mc, pc, kc, packedA);
        macroKernel(mc, nc, kc, alpha, betaK, packedA, packedB,
          C + ((<usize>ic * <usize>ldc + <usize>jc) << 2), ldc, edge);
      }
    }
  }
}

/** C[m x n] *= beta; beta == 0 writes zeros without reading C (it may hold NaN). */
function scaleC(C: usize, ldc: i32, m: i32, n: i32, beta: f32): void {
  if (beta == 1) return;
  const vb = f32x4.splat(beta);
  const zero = beta == 0;
  for (let i = 0; i < m; i++) {
    const row = C + ((<usize>i * <usize>ldc) << 2);
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const p = row + (<usize>j << 2);
      v128.store(p, zero ? f32x4.splat(0) : f32x4.mul(v128.load(p), vb));
    }
    for (; j < n; j++) {
      const p = row + (<usize>j << 2);
      store<f32>(p, zero ? 0 : load<f32>(p) * beta);
    }
  }
}

/**
 * Packs op(A)[i0:i0+mc, k0:k0+kc] as ceil(mc/MR) micro-panels of kc x MR floats:
 * dst[p][k][r] = op(A)[i0 + p*MR + r, k0 + k], zero for rows past mc.
 */
function packA(transA: i32, A: usize, lda: i32, i0: i32, mc: i32, k0: i32, kc: i32, dst: usize): void {
  const ld = <usize>lda << 2; // row stride in bytes
  for (let ii = 0; ii < mc; ii += MR) {
    const mr = min(MR, mc - ii);
    const i = <usize>(i0 + ii);
    if (transA) {
      // op(A)[i + r, k] = A[k, i + r]: the MR values of one k are contiguous.
      let src = A + <usize>k0 * ld + (i << 2);
      if (mr == MR) {
        for (let k = 0; k < kc; k++) {
          v128.store(dst, v128.load(src));
          src += ld; dst += MR << 2;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let r = 0; r < MR; r++) {
            store<f32>(dst + (<usize>r << 2), r < mr ? load<f32>(src + (<usize>r << 2)) : 0);
          }
          src += ld; dst += MR << 2;
        }
      }
    } else {
      // op(A)[i + r, k] = A[i + r, k]: rows are contiguous in k, so transpose 4x4 blocks.
      const r0 = A + i * ld + (<usize>k0 << 2);
      if (mr == MR) {
        const r1 = r0 + ld, r2 = r1 + ld, r3 = r2 + ld;
        let k = 0;
        for (; k + 4 <= kc; k += 4) {
          const o = <usize>k << 2;
          transpose4Store(v128.load(r0 + o), v128.load(r1 + o), v128.load(r2 + o), v128.load(r3 + o), dst, MR << 2);
          dst += MR << 4;
        }
        for (; k < kc; k++) {
          const o = <usize>k << 2;
          store<f32>(dst, load<f32>(r0 + o));
          store<f32>(dst, load<f32>(r1 + o), 4);
          store<f32>(dst, load<f32>(r2 + o), 8);
          store<f32>(dst, load<f32>(r3 + o), 12);
          dst += MR << 2;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let r = 0; r < MR; r++) {
            store<f32>(dst + (<usize>r << 2), r < mr ? load<f32>(r0 + <usize>r * ld + (<usize>k << 2)) : 0);
          }
          dst += MR << 2;
        }
      }
    }
  }
}

/**
 * Packs op(B)[k0:k0+kc, j0:j0+nc] as ceil(nc/NR) micro-panels of kc x NR floats:
 * dst[q][k][c] = op(B)[k0 + k, j0 + q*NR + c], zero for columns past nc.
 */
function packB(transB: i32, B: usize, ldb: i32, k0: i32, kc: i32, j0: i32, nc: i32, dst: usize): void {
  const ld = <usize>ldb << 2; // row stride in bytes
  for (let jj = 0; jj < nc; jj += NR) {
    const nr = min(NR, nc - jj);
    const j = <usize>(j0 + jj);
    if (!transB) {
      // op(B)[k, j + c] = B[k, j + c]: the NR values of one k are contiguous.
      let src = B + <usize>k0 * ld + (j << 2);
      if (nr == NR) {
        for (let k = 0; k < kc; k++) {
          v128.store(dst, v128.load(src));
          v128.store(dst, v128.load(src, 16), 16);
          src += ld; dst += NR << 2;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let c = 0; c < NR; c++) {
            store<f32>(dst + (<usize>c << 2), c < nr ? load<f32>(src + (<usize>c << 2)) : 0);
          }
          src += ld; dst += NR << 2;
        }
      }
    } else {
      // op(B)[k, j + c] = B[j + c, k]: columns of op(B) are rows of B; transpose 4x4 blocks.
      const s0 = B + j * ld + (<usize>k0 << 2);
      if (nr == NR) {
        const s1 = s0 + ld, s2 = s1 + ld, s3 = s2 + ld;
        const s4 = s3 + ld, s5 = s4 + ld, s6 = s5 + ld, s7 = s6 + ld;
        let k = 0;
        for (; k + 4 <= kc; k += 4) {
          const o = <usize>k << 2;
          transpose4Store(v128.load(s0 + o), v128.load(s1 + o), v128.load(s2 + o), v128.load(s3 + o), dst, NR << 2);
          transpose4Store(v128.load(s4 + o), v128.load(s5 + o), v128.load(s6 + o), v128.load(s7 + o), dst + 16, NR << 2);
          dst += NR << 4;
        }
        for (; k < kc; k++) {
          const o = <usize>k << 2;
          for (let c = 0; c < NR; c++) store<f32>(dst + (<usize>c << 2), load<f32>(s0 + <usize>c * ld + o));
          dst += NR << 2;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let c = 0; c < NR; c++) {
            store<f32>(dst + (<usize>c << 2), c < nr ? load<f32>(s0 + <usize>c * ld + (<usize>k << 2)) : 0);
          }
          dst += NR << 2;
        }
      }
    }
  }
}

/** Stores the transpose of the 4x4 block with rows x0..x3 as 4 vectors `stride` bytes apart. */
// @ts-ignore: decorator
@inline function transpose4Store(x0: v128, x1: v128, x2: v128, x3: v128, dst: usize, stride: usize): void {
  const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5); // x0[0] x1[0] x0[1] x1[1]
  const t1 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7); // x0[2] x1[2] x0[3] x1[3]
  const t2 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
  const t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
  v128.store(dst + stride, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
  v128.store(dst + stride * 2, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
  v128.store(dst + stride * 3, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
}

/**
 * C[mc x nc] = alpha * (packed A block) * (packed B block) + beta * C, tile by tile.
 * `edge` holds one MR x NR tile for the tiles that C's edges cut short.
 */
function macroKernel(
  mc: i32, nc: i32, kc: i32, alpha: f32, beta: f32,
  packedA: usize, packedB: usize, C: usize, ldc: i32, edge: usize,
): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = min(NR, nc - jr);
    const b = packedB + ((<usize>jr * <usize>kc) << 2);
    for (let ir = 0; ir < mc; ir += MR) {
      const mr = min(MR, mc - ir);
      const a = packedA + ((<usize>ir * <usize>kc) << 2);
      const c = C + ((<usize>ir * <usize>ldc + <usize>jr) << 2);
      if (mr == MR && nr == NR) {
        microKernel(kc, a, b, alpha, beta, c, ldc);
      } else {
        microKernel(kc, a, b, 1, 0, edge, NR);
        edgeUpdate(edge, mr, nr, alpha, beta, c, ldc);
      }
    }
  }
}

/** C[mr x nr] = alpha * tile + beta * C, for a tile (row stride NR) cut short by C's edge. */
function edgeUpdate(tile: usize, mr: i32, nr: i32, alpha: f32, beta: f32, C: usize, ldc: i32): void {
  for (let r = 0; r < mr; r++) {
    const t = tile + (<usize>(r * NR) << 2);
    const row = C + ((<usize>r * <usize>ldc) << 2);
    for (let c = 0; c < nr; c++) {
      const p = row + (<usize>c << 2);
      const v = alpha * load<f32>(t + (<usize>c << 2));
      store<f32>(p, beta == 0 ? v : v + beta * load<f32>(p));
    }
  }
}

/**
 * The inner kernel: C[4 x 8] = alpha * sum_k a[k][0:4]^T b[k][0:8] + beta * C, where a
 * and b are packed micro-panels (kc x MR and kc x NR, contiguous). The accumulators are
 * locals so they live in registers for the whole k loop; beta == 0 never reads C.
 */
function microKernel(kc: i32, a: usize, b: usize, alpha: f32, beta: f32, C: usize, ldc: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0); // row 0, columns 0-3 and 4-7
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  // One k per trip: unrolling makes V8 hoist both steps' loads and spill (measured).
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    const a0 = v128.load32_splat(a);
    c00 = madd(a0, b0, c00); c01 = madd(a0, b1, c01);
    const a1 = v128.load32_splat(a, 4);
    c10 = madd(a1, b0, c10); c11 = madd(a1, b1, c11);
    const a2 = v128.load32_splat(a, 8);
    c20 = madd(a2, b0, c20); c21 = madd(a2, b1, c21);
    const a3 = v128.load32_splat(a, 12);
    c30 = madd(a3, b0, c30); c31 = madd(a3, b1, c31);
    a += MR << 2; b += NR << 2;
  }
  const ld = <usize>ldc << 2;
  const va = f32x4.splat(alpha);
  if (beta == 0) {
    v128.store(C, f32x4.mul(c00, va)); v128.store(C, f32x4.mul(c01, va), 16); C += ld;
    v128.store(C, f32x4.mul(c10, va)); v128.store(C, f32x4.mul(c11, va), 16); C += ld;
    v128.store(C, f32x4.mul(c20, va)); v128.store(C, f32x4.mul(c21, va), 16); C += ld;
    v128.store(C, f32x4.mul(c30, va)); v128.store(C, f32x4.mul(c31, va), 16);
  } else {
    const vb = f32x4.splat(beta);
    updateRow(C, c00, c01, va, vb); C += ld;
    updateRow(C, c10, c11, va, vb); C += ld;
    updateRow(C, c20, c21, va, vb); C += ld;
    updateRow(C, c30, c31, va, vb);
  }
}

/** C[0:8] = alpha * [lo, hi] + beta * C[0:8] */
// @ts-ignore: decorator
@inline function updateRow(C: usize, lo: v128, hi: v128, va: v128, vb: v128): void {
  v128.store(C, madd(lo, va, f32x4.mul(v128.load(C), vb)));
  v128.store(C, madd(hi, va, f32x4.mul(v128.load(C, 16), vb)), 16);
}
