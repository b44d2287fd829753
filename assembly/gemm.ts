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
// micro-kernel always computes a full tile; a tile that C's edge cuts short is computed in
// a small buffer holding a copy of C's part, with the same alpha/beta arithmetic as a whole
// tile, and copied back.
//
// `gemmBlock` computes any rectangle of C on its own (it packs what it needs into the
// scratch it is given), so a threaded caller splits C into row or column strips, one per
// thread, each with its own scratch. Every element's arithmetic is the same as in a single
// call wherever the strips start: each element is one accumulator lane summing its k's in
// order, the depth slices depend on K alone, and an edge tile's epilogue is a whole tile's.
// (Strips at multiples of MR rows or NR columns are still the fast cuts.)

import { madd } from './util';

// Micro-tile: MR x NR = 6 x 8, twelve f32x4 accumulators. V8's optimizing compiler gives
// wasm 15 xmm registers on x64: 12 accumulators + 2 B vectors + 1 broadcast A value fill
// them. (Earlier 5x8 and 6x8 attempts spilled because V8 spills a value at its definition,
// inside the loop, when code after the loop needs more registers than the loop did: see
// macroKernel on alpha and beta, and docs/kernels.md.) On Zen 5 this loop
// runs at ~97% of the FMA peak loop, the 4x8 tile it replaced at ~90% (8 accumulators
// only just cover FMA latency x throughput). A panel with at most 4 live rows (M = 64
// ends in one) runs a 4 x 8 kernel instead of paying for 6 rows. Without relaxed SIMD a
// multiply-add is a mul then an add, whose temporary is a 16th register: the 6 x 8 loop
// spills there (MLP epoch 0.44 -> 0.54 s), so the plain build keeps the 4 x 8 tile (MR 4).
const MR: i32 = ASC_FEATURE_RELAXED_SIMD ? 6 : 4;
const NR = 8;
// Cache blocks. A KC x NR panel of packed B (8 KiB) stays in L1 across the MC/MR
// micro-kernels that use it; the MC x KC block of packed A (120 KiB) stays in L2;
// the KC x NC block of packed B (2 MiB at most) in L2/L3. MC is a multiple of MR.
const KC = 256;
const MC = 120;
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
  // packed B, its panels' kept rows (a whole number of vectors, so that packed A and the
  // tiles after them stay 16-byte aligned), packed A, edge tile, alpha/beta + tile
  return kc * nc + roundUp((kc + 1) * (nc / NR), 4) + mc * kc + 2 * MR * NR + 4;
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
  const rowsB = packedB + ((<usize>kcMax * <usize>roundUp(ncMax, NR)) << 2);
  const packedA = rowsB + (<usize>roundUp((kcMax + 1) * (roundUp(ncMax, NR) / NR), 4) << 2);
  const edge = packedA + ((<usize>roundUp(mcMax, MR) * <usize>kcMax) << 2);

  for (let jc = n0; jc < n1; jc += ncMax) {
    const nc = min(ncMax, n1 - jc);
    for (let pc = 0; pc < K; pc += kcMax) {
      const kc = min(kcMax, K - pc);
      // Later K slices add onto what the earlier ones wrote.
      const betaK: f32 = pc == 0 ? beta : 1;
      const zeros = packB(transB, B, ldb, pc, kc, jc, nc, packedB);
      let sparse = skipZeros && zeros && skipZeroRows(packedB, kc, (nc + NR - 1) / NR, rowsB);
      for (let ic = m0; ic < m1; ic += mcMax) {
        const mc = min(mcMax, m1 - ic);
        packA(transA, A, lda, ic, mc, pc, kc, packedA);
        // Skipping a zero row of B skips a * 0 = 0, exact only for finite a: with an
        // Inf or NaN in this block of A, B is packed whole again (a rare, slow path).
        if (sparse && !allFinite(packedA, roundUp(mc, MR) * kc)) {
          packB(transB, B, ldb, pc, kc, jc, nc, packedB);
          sparse = false;
        }
        macroKernel(mc, nc, kc, alpha, betaK, packedA, packedB,
          C + ((<usize>ic * <usize>ldc + <usize>jc) << 2), ldc, edge, sparse ? rowsB : 0);
      }
    }
  }
}

// Zero rows of op(B). A row of a packed B panel that is all zeros adds nothing to any
// element of C (a * 0 + c == c exactly, for finite a, and the sums never hold -0), so the
// micro-kernels may skip it and give the same bits. Inputs often have such rows: a batch
// of 8 MNIST images is zero in all 8 at 54% of its pixels (the MLP's forward W1 * x), and
// 8 pixels are zero in one image at 60% of (image, 8 pixels) (its weight gradient
// dH * x^T). skipZeroRows moves a panel's other rows to its front and lists their offsets
// in packed A; the sparse kernels then run on that list (4-10% slower per row run, so a
// panel with fewer than an eighth of its rows zero stays dense).

let skipZeros = true;

/**
 * Whether gemm skips zero rows of op(B) (on by default; the same bits either way). A
 * module instance's own switch: bench/gemm.ts turns it off and on by turns to compare.
 */
export function gemmSkipZeroRows(on: i32): void { skipZeros = on != 0; }

/**
 * Compacts each of `panels` packed B panels (kc x NR, contiguous) with at least kc/8
 * all-zero rows: its other rows move to its front, in order, and rows + q * (kc + 1) * 4
 * gets their count, then their byte offsets (k * MR * 4) into a packed A panel. Other
 * panels get the count kc and stay as they are. Returns whether any panel was compacted.
 * A row of -0 counts as non-zero (a bit test): the skip never depends on a sign.
 */
function skipZeroRows(packed: usize, kc: i32, panels: i32, rows: usize): bool {
  let any = false;
  const step = <usize>MR << 2;
  for (let q = 0; q < panels; q++) {
    const p = packed + ((<usize>q * <usize>kc * NR) << 2);
    const list = rows + ((<usize>q * <usize>(kc + 1)) << 2);
    // Up to the first zero row, reads only: a dense panel costs one read pass.
    let k = 0;
    while (k < kc && !zeroRow(p, k)) k++;
    // Compacted only with at least an eighth of its rows zero (counted from the first
    // until there are that many): with fewer, the list would cost more than it skips.
    const need = max(1, kc >> 3);
    let zeros = 0;
    for (let j = k; j < kc && zeros < need; j++) zeros += <i32>zeroRow(p, j);
    if (zeros < need) { store<i32>(list, kc); continue; }
    any = true;
    let o = list + 4, off: usize = 0;
    for (let j = 0; j < k; j++) { store<u32>(o, <u32>off); o += 4; off += step; }
    // From there without branches (zero rows come unpredictably): every row is stored at
    // the write position, which moves on past non-zero rows only.
    let w = p + ((<usize>k * NR) << 2), r = w + (NR << 2);
    const end = p + ((<usize>kc * NR) << 2);
    off += step;
    for (; r < end; r += NR << 2) {
      const lo = v128.load(r), hi = v128.load(r, 16);
      const live = <usize>v128.any_true(v128.or(lo, hi));
      v128.store(w, lo); v128.store(w, hi, 16); store<u32>(o, <u32>off);
      w += live << 5; o += live << 2; off += step;
    }
    store<i32>(list, <i32>((o - list - 4) >> 2));
  }
  return any;
}

/** Whether row k of the packed panel at p is all +0 (all bits clear). */
// @ts-ignore: decorator
@inline function zeroRow(p: usize, k: i32): bool {
  const r = p + ((<usize>k * NR) << 2);
  return !v128.any_true(v128.or(v128.load(r), v128.load(r, 16)));
}

/** Whether the n floats at p (16-byte aligned) are all finite. */
function allFinite(p: usize, n: i32): bool {
  // An Inf or NaN has every exponent bit set; OR-ing the lane tests keeps the chain short.
  const mask = i32x4.splat(0x7f800000);
  let bad = i32x4.splat(0);
  const end = p + (<usize>(n & ~3) << 2);
  for (; p < end; p += 16) bad = v128.or(bad, i32x4.eq(v128.and(v128.load(p), mask), mask));
  let tail = false;
  for (let i = 0; i < (n & 3); i++) tail = tail || (load<u32>(p + (<usize>i << 2)) & 0x7f800000) == 0x7f800000;
  return !v128.any_true(bad) && !tail;
}

// Depth slices: the threaded device's split of a thin product over K (the MLP's forward,
// [64, 784] x [784, 100]: cut by rows or columns, one operand would be packed by every
// thread; cut over K, each thread packs only its own part of both). gemm sums op(A)op(B)
// one KC-deep slice after another: slice s's products are accumulated from zero in the
// micro-kernel's registers, then added to C (C = P0 + beta C, then C = C + P1, ...). With
// alpha 1 and beta 0 or 1 that is exactly (((P0 + beta C) + P1) + P2)..., which threads
// can compute as separate slices (gemmSlices) and add in order (gemmSumSlices): the same
// bits as one call.

/** How many KC-deep slices gemm cuts a depth of K into. */
export function gemmSliceCount(K: i32): i32 {
  if (K <= 0) return 0;
  const kc = blockSize(K, KC, 1);
  return (K + kc - 1) / kc;
}

/**
 * Slices [s0, s1) of C = op(A) op(B) + beta C (alpha 1, beta 0 or 1): slice 0 into C with
 * beta, slice s > 0 alone into out + (s - 1) * M * N floats ([M, N] each, row stride N).
 * scratch: gemmBlockScratchBytes(M, N, K) bytes.
 */
export function gemmSlices(
  transA: i32, transB: i32, M: i32, N: i32, K: i32, A: usize, lda: i32, B: usize, ldb: i32,
  beta: f32, C: usize, ldc: i32, out: usize, s0: i32, s1: i32, scratch: usize,
): void {
  const kcMax = blockSize(K, KC, 1);
  for (let s = s0; s < s1; s++) {
    const p0 = s * kcMax, kc = min(kcMax, K - p0);
    const a = A + (transA ? (<usize>p0 * <usize>lda) << 2 : <usize>p0 << 2);
    const b = B + (transB ? <usize>p0 << 2 : (<usize>p0 * <usize>ldb) << 2);
    if (s == 0) gemmBlock(transA, transB, 0, M, 0, N, kc, 1, a, lda, b, ldb, beta, C, ldc, scratch);
    else gemmBlock(transA, transB, 0, M, 0, N, kc, 1, a, lda, b, ldb, 0, out + ((<usize>(s - 1) * <usize>M * <usize>N) << 2), N, scratch);
  }
}

/** C[i, j] += out_s[i, j] for s = 0 .. count - 1 in order (the slices gemmSlices wrote after the first). */
export function gemmSumSlices(C: usize, ldc: i32, M: i32, N: i32, out: usize, count: i32): void {
  const slice = (<usize>M * <usize>N) << 2;
  for (let i = 0; i < M; i++) {
    const row = C + ((<usize>i * <usize>ldc) << 2);
    let src = out + ((<usize>i * <usize>N) << 2);
    for (let s = 0; s < count; s++) {
      let j = 0;
      for (; j + 4 <= N; j += 4) {
        const p = row + (<usize>j << 2);
        v128.store(p, f32x4.add(v128.load(src + (<usize>j << 2)), v128.load(p)));
      }
      for (; j < N; j++) {
        const p = row + (<usize>j << 2);
        store<f32>(p, load<f32>(src + (<usize>j << 2)) + load<f32>(p));
      }
      src += slice;
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
          if (MR == 6) store<u64>(dst, load<u64>(src, 16), 16);
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
      // op(A)[i + r, k] = A[i + r, k]: rows are contiguous in k. Four k at a time: rows
      // 0-3 as a transposed 4x4 block, rows 4-5 (MR 6) as interleaved pairs.
      const r0 = A + i * ld + (<usize>k0 << 2);
      if (mr == MR) {
        const r1 = r0 + ld, r2 = r1 + ld, r3 = r2 + ld, r4 = r3 + ld, r5 = r4 + ld;
        const step = <usize>MR << 2;
        let k = 0;
        for (; k + 4 <= kc; k += 4) {
          const o = <usize>k << 2;
          transpose4Store(v128.load(r0 + o), v128.load(r1 + o), v128.load(r2 + o), v128.load(r3 + o), dst, step);
          if (MR == 6) {
            const x4 = v128.load(r4 + o), x5 = v128.load(r5 + o);
            const lo = v128.shuffle<f32>(x4, x5, 0, 4, 1, 5), hi = v128.shuffle<f32>(x4, x5, 2, 6, 3, 7);
            v128.store64_lane(dst + 16, lo, 0);
            v128.store64_lane(dst + 16 + step, lo, 1);
            v128.store64_lane(dst + 16 + step * 2, hi, 0);
            v128.store64_lane(dst + 16 + step * 3, hi, 1);
          }
          dst += step << 2;
        }
        for (; k < kc; k++) {
          const o = <usize>k << 2;
          store<f32>(dst, load<f32>(r0 + o));
          store<f32>(dst, load<f32>(r1 + o), 4);
          store<f32>(dst, load<f32>(r2 + o), 8);
          store<f32>(dst, load<f32>(r3 + o), 12);
          if (MR == 6) {
            store<f32>(dst, load<f32>(r4 + o), 16);
            store<f32>(dst, load<f32>(r5 + o), 20);
          }
          dst += step;
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
 * dst[q][k][c] = op(B)[k0 + k, j0 + q*NR + c], zero for columns past nc. Returns whether
 * any of the values packed is +0 (all bits clear): without one there is no zero row to
 * skip, and gemmBlock leaves skipZeroRows out (the test rides on the packing's own loads).
 */
function packB(transB: i32, B: usize, ldb: i32, k0: i32, kc: i32, j0: i32, nc: i32, dst: usize): bool {
  const ld = <usize>ldb << 2; // row stride in bytes
  if (!transB && nc <= PB_ROWS * NR) return packBRows(B, ld, k0, kc, j0, nc, dst);
  let zv = i32x4.splat(0), zs = false; // lanes seen +0; a +0 among the scalar paths' values
  for (let jj = 0; jj < nc; jj += NR) {
    const nr = min(NR, nc - jj);
    const j = <usize>(j0 + jj);
    if (!transB) {
      // op(B)[k, j + c] = B[k, j + c]: the NR values of one k are contiguous.
      let src = B + <usize>k0 * ld + (j << 2);
      if (nr == NR) {
        for (let k = 0; k < kc; k++) {
          const lo = v128.load(src), hi = v128.load(src, 16);
          v128.store(dst, lo); v128.store(dst, hi, 16);
          zv = v128.or(zv, v128.or(zeroLanes(lo), zeroLanes(hi)));
          src += ld; dst += NR << 2;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let c = 0; c < NR; c++) {
            const v: f32 = c < nr ? load<f32>(src + (<usize>c << 2)) : 0;
            zs = zs || (c < nr && isZero(v));
            store<f32>(dst + (<usize>c << 2), v);
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
          const x0 = v128.load(s0 + o), x1 = v128.load(s1 + o), x2 = v128.load(s2 + o), x3 = v128.load(s3 + o);
          const x4 = v128.load(s4 + o), x5 = v128.load(s5 + o), x6 = v128.load(s6 + o), x7 = v128.load(s7 + o);
          transpose4Store(x0, x1, x2, x3, dst, NR << 2);
          transpose4Store(x4, x5, x6, x7, dst + 16, NR << 2);
          zv = v128.or(zv, v128.or(v128.or(v128.or(zeroLanes(x0), zeroLanes(x1)), v128.or(zeroLanes(x2), zeroLanes(x3))),
            v128.or(v128.or(zeroLanes(x4), zeroLanes(x5)), v128.or(zeroLanes(x6), zeroLanes(x7)))));
          dst += NR << 4;
        }
        for (; k < kc; k++) {
          const o = <usize>k << 2;
          for (let c = 0; c < NR; c++) {
            const v = load<f32>(s0 + <usize>c * ld + o);
            zs = zs || isZero(v);
            store<f32>(dst + (<usize>c << 2), v);
          }
          dst += NR << 2;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let c = 0; c < NR; c++) {
            const v: f32 = c < nr ? load<f32>(s0 + <usize>c * ld + (<usize>k << 2)) : 0;
            zs = zs || (c < nr && isZero(v));
            store<f32>(dst + (<usize>c << 2), v);
          }
          dst += NR << 2;
        }
      }
    }
  }
  return zs || v128.any_true(zv);
}

/** The lanes of x that are +0 (all bits clear), as a mask. */
// @ts-ignore: decorator
@inline function zeroLanes(x: v128): v128 { return i32x4.eq(x, i32x4.splat(0)); }

/** Whether v is +0 (all bits clear). */
// @ts-ignore: decorator
@inline function isZero(v: f32): bool { return reinterpret<u32>(v) == 0; }

/**
 * Non-transposed B at most PB_ROWS panels wide (a minibatch's 100 columns) is packed row
 * by row, all its panels at once: a B fresh from memory then streams in, each row's
 * bytes read in order, where panel by panel every 32 bytes read is another row's line
 * (a cold [784, 100] batch: the MLP's forward W1 * x took 244 µs against 205 µs warm,
 * 228 µs packed by rows; docs/kernels.md). Wider B stays panel by panel: one row pass
 * writing that many panels at once measured slower there (64 x 4096 x 256: -6%).
 * Returns whether any value packed is +0, as packB.
 */
const PB_ROWS = 16;
function packBRows(B: usize, ld: usize, k0: i32, kc: i32, j0: i32, nc: i32, dst: usize): bool {
  const panel = <usize>kc * (NR << 2); // bytes of one packed panel
  const full = nc / NR, nr = nc - full * NR;
  let src = B + <usize>k0 * ld + (<usize>j0 << 2);
  let zv = i32x4.splat(0), zs = false;
  for (let k = 0; k < kc; k++) {
    let s = src, t = dst;
    for (let p = 0; p < full; p++) {
      const lo = v128.load(s), hi = v128.load(s, 16);
      v128.store(t, lo); v128.store(t, hi, 16);
      zv = v128.or(zv, v128.or(zeroLanes(lo), zeroLanes(hi)));
      s += NR << 2; t += panel;
    }
    // the partial panel at the right edge, zero padded
    if (nr) for (let c = 0; c < NR; c++) {
      const v: f32 = c < nr ? load<f32>(s + (<usize>c << 2)) : 0;
      zs = zs || (c < nr && isZero(v));
      store<f32>(t + (<usize>c << 2), v);
    }
    src += ld; dst += NR << 2;
  }
  return zs || v128.any_true(zv);
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
 * `edge` holds one MR x NR tile for the tiles that C's edges cut short, then alpha and
 * beta, then the kernels' tile for scaled products: the kernels read alpha and beta from
 * memory after their loop, because two f32 values live across it take two of the xmm
 * registers its 12 accumulators need (V8 spilled 4 of them).
 */
function macroKernel(
  mc: i32, nc: i32, kc: i32, alpha: f32, beta: f32,
  packedA: usize, packedB: usize, C: usize, ldc: i32, edge: usize, rowsB: usize,
): void {
  const ab = edge + ((MR * NR) << 2);
  store<f32>(ab, alpha); store<f32>(ab, beta, 4);
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = min(NR, nc - jr);
    const b = packedB + ((<usize>jr * <usize>kc) << 2);
    // A compacted panel (skipZeroRows) runs the sparse kernels on its kept rows' list.
    let kept = kc, list: usize = 0;
    if (rowsB) {
      const l = rowsB + ((<usize>(jr / NR) * <usize>(kc + 1)) << 2);
      kept = load<i32>(l);
      if (kept < kc) list = l + 4;
    }
    for (let ir = 0; ir < mc; ir += MR) {
      const mr = min(MR, mc - ir);
      const a = packedA + ((<usize>ir * <usize>kc) << 2);
      const c = C + ((<usize>ir * <usize>ldc + <usize>jr) << 2);
      // A panel with at most 4 live rows takes the 4-row kernel (its padding rows unread).
      const rows = mr <= 4 ? 4 : 6;
      if (mr == rows && nr == NR) {
        if (list) {
          if (rows == 6) microKernel6Rows(kept, list, a, b, ab, c, ldc);
          else microKernel4Rows(kept, list, a, b, ab, c, ldc);
        } else if (rows == 6) microKernel6(kc, a, b, ab, c, ldc);
        else microKernel4(kc, a, b, ab, c, ldc);
      } else {
        // Cut short by C's edge: the same kernel on a copy of C's part (beta == 0 never
        // reads C, so the copy can hold anything there).
        if (beta != 0) copyTile(c, ldc, edge, NR, mr, nr);
        if (list) {
          if (rows == 6) microKernel6Rows(kept, list, a, b, ab, edge, NR);
          else microKernel4Rows(kept, list, a, b, ab, edge, NR);
        } else if (rows == 6) microKernel6(kc, a, b, ab, edge, NR);
        else microKernel4(kc, a, b, ab, edge, NR);
        copyTile(edge, NR, c, ldc, mr, nr);
      }
    }
  }
}

/** dst[r][c] = src[r][c] for an mr x nr tile (row strides in floats). */
function copyTile(src: usize, lds: i32, dst: usize, ldd: i32, mr: i32, nr: i32): void {
  for (let r = 0; r < mr; r++) {
    const s = src + ((<usize>r * <usize>lds) << 2), d = dst + ((<usize>r * <usize>ldd) << 2);
    for (let c = 0; c < nr; c++) store<f32>(d + (<usize>c << 2), load<f32>(s + (<usize>c << 2)));
  }
}

/**
 * The inner kernel: C[6 x 8] = alpha * sum_k a[k][0:6]^T b[k][0:8] + beta * C, where a
 * and b are packed micro-panels (kc x MR and kc x NR, contiguous) and ab points at
 * [alpha, beta]. The accumulators are locals so they live in registers for the whole k
 * loop; beta == 0 never reads C. The loop runs on the B pointer alone (no counter): one
 * integer register fewer.
 */
function microKernel6(kc: i32, a: usize, b: usize, ab: usize, C: usize, ldc: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0); // row 0, columns 0-3 and 4-7
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0), c41 = f32x4.splat(0);
  let c50 = f32x4.splat(0), c51 = f32x4.splat(0);
  const end = b + ((<usize>kc * NR) << 2);
  while (b < end) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let ak = v128.load32_splat(a);
    c00 = madd(ak, b0, c00); c01 = madd(ak, b1, c01);
    ak = v128.load32_splat(a, 4);
    c10 = madd(ak, b0, c10); c11 = madd(ak, b1, c11);
    ak = v128.load32_splat(a, 8);
    c20 = madd(ak, b0, c20); c21 = madd(ak, b1, c21);
    ak = v128.load32_splat(a, 12);
    c30 = madd(ak, b0, c30); c31 = madd(ak, b1, c31);
    ak = v128.load32_splat(a, 16);
    c40 = madd(ak, b0, c40); c41 = madd(ak, b1, c41);
    ak = v128.load32_splat(a, 20);
    c50 = madd(ak, b0, c50); c51 = madd(ak, b1, c51);
    a += MR << 2; b += NR << 2;
  }
  finish6(c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, ab, C, ldc);
}

/**
 * microKernel6 for the first 4 rows of a 6-row panel, for panels with at most 4 live rows:
 * the same arithmetic per element, two thirds of the work. (8 accumulators only just cover
 * FMA latency, so it runs a little slower per flop than the 6-row kernel.)
 */
function microKernel4(kc: i32, a: usize, b: usize, ab: usize, C: usize, ldc: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const end = b + ((<usize>kc * NR) << 2);
  while (b < end) {
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
  finish4(c00, c01, c10, c11, c20, c21, c30, c31, ab, C, ldc);
}

/**
 * microKernel6 on a compacted panel (skipZeroRows): the n kept rows of b in order, row i's
 * A values at a + list[i]. The same sums as microKernel6 over the whole panel.
 */
function microKernel6Rows(n: i32, list: usize, a: usize, b: usize, ab: usize, C: usize, ldc: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0), c41 = f32x4.splat(0);
  let c50 = f32x4.splat(0), c51 = f32x4.splat(0);
  const end = b + ((<usize>n * NR) << 2);
  while (b < end) {
    const ak0 = a + <usize>load<u32>(list);
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let ak = v128.load32_splat(ak0);
    c00 = madd(ak, b0, c00); c01 = madd(ak, b1, c01);
    ak = v128.load32_splat(ak0, 4);
    c10 = madd(ak, b0, c10); c11 = madd(ak, b1, c11);
    ak = v128.load32_splat(ak0, 8);
    c20 = madd(ak, b0, c20); c21 = madd(ak, b1, c21);
    ak = v128.load32_splat(ak0, 12);
    c30 = madd(ak, b0, c30); c31 = madd(ak, b1, c31);
    ak = v128.load32_splat(ak0, 16);
    c40 = madd(ak, b0, c40); c41 = madd(ak, b1, c41);
    ak = v128.load32_splat(ak0, 20);
    c50 = madd(ak, b0, c50); c51 = madd(ak, b1, c51);
    list += 4; b += NR << 2;
  }
  finish6(c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, ab, C, ldc);
}

/** microKernel4 on a compacted panel, as microKernel6Rows. */
function microKernel4Rows(n: i32, list: usize, a: usize, b: usize, ab: usize, C: usize, ldc: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const end = b + ((<usize>n * NR) << 2);
  while (b < end) {
    const ak = a + <usize>load<u32>(list);
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    const a0 = v128.load32_splat(ak);
    c00 = madd(a0, b0, c00); c01 = madd(a0, b1, c01);
    const a1 = v128.load32_splat(ak, 4);
    c10 = madd(a1, b0, c10); c11 = madd(a1, b1, c11);
    const a2 = v128.load32_splat(ak, 8);
    c20 = madd(a2, b0, c20); c21 = madd(a2, b1, c21);
    const a3 = v128.load32_splat(ak, 12);
    c30 = madd(a3, b0, c30); c31 = madd(a3, b1, c31);
    list += 4; b += NR << 2;
  }
  finish4(c00, c01, c10, c11, c20, c21, c30, c31, ab, C, ldc);
}

/**
 * The 6-row kernels' epilogue: C[6 x 8] = alpha * tile + beta * C, ab = [alpha, beta].
 * Inlined, so the accumulators stay the kernel's registers.
 */
// @ts-ignore: decorator
@inline function finish6(
  c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128,
  c30: v128, c31: v128, c40: v128, c41: v128, c50: v128, c51: v128, ab: usize, C: usize, ldc: i32,
): void {
  // The epilogue must not need more registers than the loop, or V8 spills accumulators
  // at their definition, inside the loop. With alpha 1 and beta 0 or 1 (every product but
  // scaled ones) the tile goes straight into C; otherwise it is stored at ab + 16 and
  // scaleTile applies alpha and beta.
  const alpha = load<f32>(ab), beta = load<f32>(ab, 4);
  const direct = alpha == 1 && (beta == 0 || beta == 1);
  const ld = direct ? <usize>ldc << 2 : <usize>NR << 2;
  let d = direct ? C : ab + 16;
  if (direct && beta == 1) {
    addRow(d, c00, c01); d += ld;
    addRow(d, c10, c11); d += ld;
    addRow(d, c20, c21); d += ld;
    addRow(d, c30, c31); d += ld;
    addRow(d, c40, c41); d += ld;
    addRow(d, c50, c51);
  } else {
    v128.store(d, c00); v128.store(d, c01, 16); d += ld;
    v128.store(d, c10); v128.store(d, c11, 16); d += ld;
    v128.store(d, c20); v128.store(d, c21, 16); d += ld;
    v128.store(d, c30); v128.store(d, c31, 16); d += ld;
    v128.store(d, c40); v128.store(d, c41, 16); d += ld;
    v128.store(d, c50); v128.store(d, c51, 16);
  }
  if (!direct) scaleTile(ab + 16, 6, ab, C, ldc);
}

/** The 4-row kernels' epilogue, as finish6. */
// @ts-ignore: decorator
@inline function finish4(
  c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128,
  ab: usize, C: usize, ldc: i32,
): void {
  // The same epilogue as microKernel6's, on 4 rows.
  const alpha = load<f32>(ab), beta = load<f32>(ab, 4);
  const direct = alpha == 1 && (beta == 0 || beta == 1);
  const ld = direct ? <usize>ldc << 2 : <usize>NR << 2;
  let d = direct ? C : ab + 16;
  if (direct && beta == 1) {
    addRow(d, c00, c01); d += ld;
    addRow(d, c10, c11); d += ld;
    addRow(d, c20, c21); d += ld;
    addRow(d, c30, c31);
  } else {
    v128.store(d, c00); v128.store(d, c01, 16); d += ld;
    v128.store(d, c10); v128.store(d, c11, 16); d += ld;
    v128.store(d, c20); v128.store(d, c21, 16); d += ld;
    v128.store(d, c30); v128.store(d, c31, 16);
  }
  if (!direct) scaleTile(ab + 16, 4, ab, C, ldc);
}

/** C[0:8] += [lo, hi]: alpha * x + beta * C with alpha = beta = 1, bit for bit. */
// @ts-ignore: decorator
@inline function addRow(C: usize, lo: v128, hi: v128): void {
  v128.store(C, f32x4.add(lo, v128.load(C)));
  v128.store(C, f32x4.add(hi, v128.load(C, 16)), 16);
}

/** C[rows x 8] = alpha * tile + beta * C for a tile of rows x NR floats; ab = [alpha, beta]. */
function scaleTile(t: usize, rows: i32, ab: usize, C: usize, ldc: i32): void {
  const va = v128.load32_splat(ab), beta = load<f32>(ab, 4), vb = f32x4.splat(beta);
  for (let r = 0; r < rows; r++) {
    const lo = v128.load(t), hi = v128.load(t, 16);
    if (beta == 0) {
      v128.store(C, f32x4.mul(lo, va));
      v128.store(C, f32x4.mul(hi, va), 16);
    } else {
      updateRow(C, lo, hi, va, vb);
    }
    t += NR << 2; C += <usize>ldc << 2;
  }
}

/** C[0:8] = alpha * [lo, hi] + beta * C[0:8] */
// @ts-ignore: decorator
@inline function updateRow(C: usize, lo: v128, hi: v128, va: v128, vb: v128): void {
  v128.store(C, madd(lo, va, f32x4.mul(v128.load(C), vb)));
  v128.store(C, madd(hi, va, f32x4.mul(v128.load(C, 16), vb)), 16);
}
