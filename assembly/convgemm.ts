// Implicit-GEMM pieces for conv4's kernels (im2col.ts): 6x8 and 4x8 f32x4 micro-kernels
// as gemm.ts's, panel packing straight from images, and the per-tap offset tables.
//
// gemm.ts packs both operands of every call; a convolution multiplies the same filter
// matrix with one image after another, and its image operand is the im2col matrix. So
// here the filter side is packed once per call, and the image side is packed straight
// from the image into the micro-kernel's panel layout (forward, filter gradient), or the
// tile that the micro-kernel produces is added straight into the image gradient (data
// gradient): no column buffer is written or read. The micro-kernels' register blocking
// and the reasons for it are gemm.ts's; their loops are repeated here (and per epilogue:
// a store or add into C, or adds into four dx rows) because gemm.ts's epilogue differs
// (alpha and beta read from memory) and each loop must stay a straight register-only
// body for V8 not to spill.

import { madd } from './util';

// The micro-tile: 6 x 8 or 4 x 8 in the relaxed build, chosen per operand by panelRows
// (O = 50 filters: 6 x 8, 12 accumulators as in gemm.ts, and a 4 x 8 kernel for the last
// panel of 2 rows; O = 20: five panels of 4 waste less); 4 x 8 in the plain SIMD build,
// whose multiply-add's temporary would be a 16th register (gemm.ts, docs/kernels.md).
export const MR: i32 = ASC_FEATURE_RELAXED_SIMD ? 6 : 4;
export const NR = 8;

/** max(roundUp(M, 4), roundUp(M, MR)): room for M rows in panels of either height. */
export function panelSpan(M: i32): i32 { return max(roundUp(M, 4), roundUp(M, MR)); }

/**
 * The panel height for an M-row operand: 6 where the 6-row kernel's speed (~97% of the
 * FMA loop against ~90%) outweighs the rows it computes past M, else 4.
 */
export function panelRows(M: i32): i32 {
  if (MR == 4) return 4;
  const r = M % 6;
  const t6 = <f64>(M - r) / 0.97 + (r == 0 ? 0 : r <= 4 ? 4.0 / 0.9 : 6.0 / 0.97);
  const t4 = <f64>roundUp(M, 4) / 0.9;
  return t6 < t4 ? 6 : 4;
}
/** Depth of one packed block (as gemm.ts's KC). */
export const KC = 256;
/** Output pixels per packed image block: 32 panels of 8, 256 KiB at most with KC. */
export const PC = 256;
/** Taps per packed block of the filter gradient: 64 panels of 8, 512 KiB at most with KC. */
export const TC = 512;

// Geometry offsets (in i32) into the meta block; see im2col.ts.
export const N_ = 0, C_ = 1, H_ = 2, W_ = 3, O_ = 4, KH = 5, KW = 6, HO = 7, WO = 8;
export const PH = 9, PW = 10, SH = 11, SW = 12, DH = 13, DW = 14, FLIP = 15;

// @ts-ignore: decorator
@inline export function m(meta: usize, k: i32): i32 { return load<i32>(meta + (<usize>k << 2)); }
// @ts-ignore: decorator
@inline export function align16(bytes: usize): usize { return (bytes + 15) & ~(<usize>15); }
// @ts-ignore: decorator
@inline function roundUp(n: i32, d: i32): i32 { return (n + d - 1) / d * d; }

/** At most `max`, a multiple of `unit`, blocks as even as possible (as gemm.ts). */
export function blockSize(n: i32, max: i32, unit: i32): i32 {
  if (n <= 0) return unit;
  const blocks = (n + max - 1) / max;
  return min(max, roundUp((n + blocks - 1) / blocks, unit));
}

/**
 * The filter taps: for tap t = (c*kh + i)*kw + j, four int32 at table + 16*t: the
 * channel's plane offset c*H*W, the row and column offsets i'*dh - ph and j'*dw - pw
 * (i', j' flipped for true convolution), and their sum plane + row*W + col. The input
 * pixel of tap t at output (ho, wo) is plane + (ho*sh + row)*W + wo*sw + col, that is
 * sum + ho*sh*W + wo*sw when it lies inside the image.
 *
 * With `byColumn` (the data gradient's order) position r holds tap (c, i, j) for
 * r = (j*C + c)*kh + i, so that consecutive positions (one micro-panel's rows) are taps of
 * one kernel column, whose input pixels lie at least a row apart: their tiles' adds into
 * dx never overlap (taps in the natural order, a pixel apart, overlapped by 7 of 8).
 */
export function tapTable(meta: usize, table: usize, byColumn: bool = false): void {
  const C = m(meta, C_), H = m(meta, H_), W = m(meta, W_), kh = m(meta, KH), kw = m(meta, KW);
  const ph = m(meta, PH), pw = m(meta, PW), dh = m(meta, DH), dw = m(meta, DW), flip = m(meta, FLIP);
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const pos = byColumn ? (j * C + c) * kh + i : (c * kh + i) * kw + j;
        const t = table + <usize>pos * TAP;
        const row = (flip ? kh - 1 - i : i) * dh - ph, col = (flip ? kw - 1 - j : j) * dw - pw;
        store<i32>(t, c * H * W);
        store<i32>(t, row, 4);
        store<i32>(t, col, 8);
        store<i32>(t, c * H * W + row * W + col, 12);
      }
    }
  }
}

/**
 * Packs w^T [T x O] (w stored [O, T]) with its rows in tapTable's by-column order, as
 * ceil(T/pr) panels of O x pr floats, zero rows past T.
 */
export function packFilterColumns(w: usize, meta: usize, dst: usize, pr: i32): void {
  const C = m(meta, C_), O = m(meta, O_), kh = m(meta, KH), kw = m(meta, KW), T = C * kh * kw;
  for (let p = 0; p < T; p += pr) {
    for (let k = 0; k < O; k++, dst += <usize>pr << 2) {
      for (let r = 0; r < pr; r++) {
        const q = p + r; // position -> tap (c, i, j)
        let v: f32 = 0;
        if (q < T) {
          const j = q / (C * kh), c = (q / kh) % C, i = q % kh;
          v = load<f32>(w + ((<usize>k * <usize>T + <usize>((c * kh + i) * kw + j)) << 2));
        }
        store<f32>(dst + (<usize>r << 2), v);
      }
    }
  }
}

/** Bytes per tap in the tap table. */
export const TAP = 16;

/**
 * True when every tap of the `width` output pixels from p on lies inside the image and
 * they sit on one output row with stride 1: then each tap reads `width` consecutive
 * input pixels.
 */
// @ts-ignore: decorator
@inline export function interior(meta: usize, p: i32, width: i32): bool {
  const Wo = m(meta, WO), ho = p / Wo, wo = p % Wo;
  const r0 = ho * m(meta, SH) - m(meta, PH), c0 = wo - m(meta, PW);
  return wo + width <= Wo && m(meta, SW) == 1 && r0 >= 0 && c0 >= 0 &&
    r0 + (m(meta, KH) - 1) * m(meta, DH) < m(meta, H_) && c0 + width - 1 + (m(meta, KW) - 1) * m(meta, DW) < m(meta, W_);
}

/**
 * Packs op(A) [M x K] as ceil(M/pr) panels of K x pr floats (pr 4 or 6), zero rows past M:
 * dst[p][k][r] = op(A)[p*pr + r, k]. op(A) = A stored M x K (trans 0) or K x M (trans 1).
 */
export function packA(A: usize, M: i32, K: i32, trans: bool, dst: usize, pr: i32): void {
  for (let p = 0; p < M; p += pr) {
    const mr = min(pr, M - p);
    for (let k = 0; k < K; k++, dst += <usize>pr << 2) {
      if (trans && mr == pr) {
        const src = A + ((<usize>k * <usize>M + <usize>p) << 2);
        v128.store(dst, v128.load(src));
        if (pr == 6) store<u64>(dst, load<u64>(src, 16), 16);
        continue;
      }
      for (let r = 0; r < pr; r++) {
        const v: f32 = r >= mr ? 0 : trans
          ? load<f32>(A + ((<usize>k * <usize>M + <usize>(p + r)) << 2))
          : load<f32>(A + ((<usize>(p + r) * <usize>K + <usize>k) << 2));
        store<f32>(dst + (<usize>r << 2), v);
      }
    }
  }
}

/**
 * The micro-kernel: C[rows x 8] (+)= a-panel (kc x pr, its first `rows` rows) · b-panel
 * (kc x 8): the 6-row kernel for more than 4 rows (pr 6), else the 4-row one; with `add`
 * the tile is added to C, otherwise C's old contents are not read.
 */
export function microKernel(kc: i32, a: usize, b: usize, C: usize, ldc: i32, add: bool, rows: i32, pr: i32): void {
  if (MR == 6 && rows > 4) microKernel6(kc, a, b, C, ldc, add);
  else microKernel4(kc, a, b, C, ldc, add, pr);
}

function microKernel6(kc: i32, a: usize, b: usize, C: usize, ldc: i32, add: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0), c41 = f32x4.splat(0);
  let c50 = f32x4.splat(0), c51 = f32x4.splat(0);
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
    const a4 = v128.load32_splat(a, 16);
    c40 = madd(a4, b0, c40); c41 = madd(a4, b1, c41);
    const a5 = v128.load32_splat(a, 20);
    c50 = madd(a5, b0, c50); c51 = madd(a5, b1, c51);
    a += MR << 2; b += NR << 2;
  }
  const ld = <usize>ldc << 2;
  if (add) {
    addRow(C, c00, c01); C += ld;
    addRow(C, c10, c11); C += ld;
    addRow(C, c20, c21); C += ld;
    addRow(C, c30, c31); C += ld;
    addRow(C, c40, c41); C += ld;
    addRow(C, c50, c51);
  } else {
    v128.store(C, c00); v128.store(C, c01, 16); C += ld;
    v128.store(C, c10); v128.store(C, c11, 16); C += ld;
    v128.store(C, c20); v128.store(C, c21, 16); C += ld;
    v128.store(C, c30); v128.store(C, c31, 16); C += ld;
    v128.store(C, c40); v128.store(C, c41, 16); C += ld;
    v128.store(C, c50); v128.store(C, c51, 16);
  }
}

function microKernel4(kc: i32, a: usize, b: usize, C: usize, ldc: i32, add: bool, pr: i32): void {
  const step = <usize>pr << 2;
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
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
    a += step; b += NR << 2;
  }
  const ld = <usize>ldc << 2;
  if (add) {
    addRow(C, c00, c01); C += ld;
    addRow(C, c10, c11); C += ld;
    addRow(C, c20, c21); C += ld;
    addRow(C, c30, c31);
  } else {
    v128.store(C, c00); v128.store(C, c01, 16); C += ld;
    v128.store(C, c10); v128.store(C, c11, 16); C += ld;
    v128.store(C, c20); v128.store(C, c21, 16); C += ld;
    v128.store(C, c30); v128.store(C, c31, 16);
  }
}

// @ts-ignore: decorator
@inline function addRow(C: usize, lo: v128, hi: v128): void {
  v128.store(C, f32x4.add(v128.load(C), lo));
  v128.store(C, f32x4.add(v128.load(C, 16), hi), 16);
}

/**
 * The micro-kernel for col2im, a whole 4-row panel: tile row r (+)= into its own 8 floats
 * at base + 4 * (the sum offset of the table's entry t + r). The data gradient orders its
 * taps by kernel column (tapTable by column), so a panel's rows never overlap in dx: in the
 * natural order adjacent taps' windows overlap by 7 pixels of 8 and each add waits for
 * the last one's store (1.13-1.2x slower on LeNet's second layer). A 6-row version ran
 * 1.6-2x slower than this one, in either order, and is not used.
 */
export function microKernelRows(kc: i32, a: usize, b: usize, base: usize, t: usize): void {
  const d0 = dest(base, t, 0), d1 = dest(base, t, 1), d2 = dest(base, t, 2), d3 = dest(base, t, 3);
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
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
    a += 16; b += NR << 2;
  }
  addRow(d0, c00, c01);
  addRow(d1, c10, c11);
  addRow(d2, c20, c21);
  addRow(d3, c30, c31);
}

// @ts-ignore: decorator
@inline function dest(base: usize, t: usize, r: i32): usize { return base + (<usize>load<i32>(t + <usize>r * TAP, 12) << 2); }

/** C[mr x nr] (+)= tile[mr x nr] (row stride NR), for tiles cut short by C's edges. */
export function edgeStore(tile: usize, mr: i32, nr: i32, C: usize, ldc: i32, add: bool): void {
  for (let r = 0; r < mr; r++) {
    const t = tile + (<usize>(r * NR) << 2), row = C + ((<usize>r * <usize>ldc) << 2);
    for (let c = 0; c < nr; c++) {
      const p = row + (<usize>c << 2);
      const v = load<f32>(t + (<usize>c << 2));
      store<f32>(p, add ? load<f32>(p) + v : v);
    }
  }
}

/**
 * Packs the image side of the forward product: the im2col columns of output pixels
 * [q0, q0 + np) and taps [k0, k0 + kc), read straight from the image x[C, H, W], as
 * ceil(np/NR) panels of kc x NR floats (dst[p][k][c] = col[k0 + k, q0 + p*NR + c], zero
 * outside the image and past np). A panel of 8 pixels on one output row whose inputs lie
 * inside the image row (stride 1) is two vector copies; anything else goes pixel by pixel.
 */
export function packImage(x: usize, meta: usize, table: usize, q0: i32, np: i32, k0: i32, kc: i32, dst: usize): void {
  const H = m(meta, H_), W = m(meta, W_), Wo = m(meta, WO), sh = m(meta, SH), sw = m(meta, SW);
  for (let jp = 0; jp < np; jp += NR) {
    const p = q0 + jp, nr = min(NR, np - jp);
    const ho = p / Wo, wo = p % Wo;
    let t = table + <usize>k0 * TAP;
    let d = dst + ((<usize>jp * <usize>kc) << 2);
    if (nr == NR && interior(meta, p, NR)) { // the common case: two vector copies per tap
      const base = x + (<usize>(ho * sh * W + wo) << 2);
      for (let k = 0; k < kc; k++, t += TAP, d += NR << 2) {
        const s = base + (<usize>load<i32>(t, 12) << 2);
        v128.store(d, v128.load(s));
        v128.store(d, v128.load(s, 16), 16);
      }
      continue;
    }
    // pixel by pixel: rows may change within the panel, inputs may lie in the padding
    for (let k = 0; k < kc; k++, t += TAP, d += NR << 2) {
      const plane = load<i32>(t), row = load<i32>(t, 4), col = load<i32>(t, 8);
      let h = ho, c = wo;
      for (let e = 0; e < NR; e++) {
        let v: f32 = 0;
        if (e < nr) {
          const r = h * sh + row, q = c * sw + col;
          if (r >= 0 && r < H && q >= 0 && q < W) v = load<f32>(x + (<usize>(plane + r * W + q) << 2));
          if (++c == Wo) { c = 0; h++; }
        }
        store<f32>(d + (<usize>e << 2), v);
      }
    }
  }
}

/**
 * Packs rows [k0, k0 + kc) and columns [q0, q0 + np) of a plain row-major matrix B
 * (row stride ldb) as ceil(np/NR) panels of kc x NR floats, zero past np.
 */
export function packRows(B: usize, ldb: i32, k0: i32, kc: i32, q0: i32, np: i32, dst: usize): void {
  for (let jp = 0; jp < np; jp += NR) {
    const nr = min(NR, np - jp);
    let s = B + ((<usize>k0 * <usize>ldb + <usize>(q0 + jp)) << 2);
    let d = dst + ((<usize>jp * <usize>kc) << 2);
    for (let k = 0; k < kc; k++, s += <usize>ldb << 2, d += NR << 2) {
      if (nr == NR) {
        v128.store(d, v128.load(s));
        v128.store(d, v128.load(s, 16), 16);
      } else {
        for (let e = 0; e < NR; e++) store<f32>(d + (<usize>e << 2), e < nr ? load<f32>(s + (<usize>e << 2)) : 0);
      }
    }
  }
}

/**
 * col2im of one micro-tile: dx[input pixel of (tap t0 + r, output pixel p + c)] += tile[r][c]
 * for r < mr, c < nr, inputs inside the image. Eight pixels on one output row with
 * stride 1 whose inputs lie inside the image row take two vector adds per tap.
 */
export function scatterTile(tile: usize, mr: i32, nr: i32, t0: i32, p: i32, dx: usize, meta: usize, table: usize): void {
  const H = m(meta, H_), W = m(meta, W_), Wo = m(meta, WO), sh = m(meta, SH), sw = m(meta, SW);
  const ho = p / Wo, wo = p % Wo;
  let t = table + <usize>t0 * TAP;
  if (nr == NR && interior(meta, p, NR)) { // the common case: two vector adds per tap
    const base = dx + (<usize>(ho * sh * W + wo) << 2);
    for (let r = 0; r < mr; r++, t += TAP) {
      const src = tile + (<usize>(r * NR) << 2), d = base + (<usize>load<i32>(t, 12) << 2);
      v128.store(d, f32x4.add(v128.load(d), v128.load(src)));
      v128.store(d, f32x4.add(v128.load(d, 16), v128.load(src, 16)), 16);
    }
    return;
  }
  for (let r = 0; r < mr; r++, t += TAP) {
    const src = tile + (<usize>(r * NR) << 2);
    const plane = load<i32>(t), row = load<i32>(t, 4), col = load<i32>(t, 8);
    let h = ho, c = wo;
    for (let e = 0; e < nr; e++) {
      const rr = h * sh + row, q = c * sw + col;
      if (rr >= 0 && rr < H && q >= 0 && q < W) {
        const d = dx + (<usize>(plane + rr * W + q) << 2);
        store<f32>(d, load<f32>(d) + load<f32>(src + (<usize>e << 2)));
      }
      if (++c == Wo) { c = 0; h++; }
    }
  }
}

/** Stores the transpose of the 4x4 block with rows x0..x3 as 4 vectors `stride` bytes apart (as gemm.ts). */
// @ts-ignore: decorator
@inline function transpose4Store(x0: v128, x1: v128, x2: v128, x3: v128, dst: usize, stride: usize): void {
  const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
  const t2 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
  const t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
  v128.store(dst + stride, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
  v128.store(dst + stride * 2, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
  v128.store(dst + stride * 3, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
}

/**
 * The A side of the filter gradient, one segment of a depth block: columns [q0, q0+len)
 * of the row-major rows x cols matrix src (row stride ld) go to depth [koff, koff+len)
 * of the pr-row panels: dst[p][koff + k][r] = src[p*pr + r, q0 + k], zero past `rows`.
 */
export function packRowsT(src: usize, rows: i32, ld: i32, q0: i32, len: i32, koff: i32, kc: i32, dst: usize, pr: i32): void {
  for (let p0 = 0; p0 < rows; p0 += pr) {
    const mr = min(pr, rows - p0);
    const d = dst + ((<usize>p0 * <usize>kc + <usize>koff * <usize>pr) << 2);
    const s0 = src + ((<usize>p0 * <usize>ld + <usize>q0) << 2), stride = <usize>ld << 2;
    let k = 0;
    if (mr == pr) {
      for (; k + 4 <= len; k += 4) {
        const o = <usize>k << 2, dk = d + <usize>(k * pr << 2);
        transpose4Store(v128.load(s0 + o), v128.load(s0 + stride + o), v128.load(s0 + 2 * stride + o),
          v128.load(s0 + 3 * stride + o), dk, <usize>pr << 2);
        if (pr == 6) { // rows 4 and 5: pairs (row 4, row 5) for each of the 4 k's
          const x4 = v128.load(s0 + 4 * stride + o), x5 = v128.load(s0 + 5 * stride + o);
          const lo = v128.shuffle<f32>(x4, x5, 0, 4, 1, 5), hi = v128.shuffle<f32>(x4, x5, 2, 6, 3, 7);
          v128.store64_lane(dk + 16, lo, 0);
          v128.store64_lane(dk + 16 + (<usize>pr << 2), lo, 1);
          v128.store64_lane(dk + 16 + 2 * (<usize>pr << 2), hi, 0);
          v128.store64_lane(dk + 16 + 3 * (<usize>pr << 2), hi, 1);
        }
      }
    }
    for (; k < len; k++) {
      for (let r = 0; r < pr; r++) {
        store<f32>(d + ((<usize>(k * pr + r)) << 2), r < mr ? load<f32>(s0 + <usize>r * stride + (<usize>k << 2)) : 0);
      }
    }
  }
}

/**
 * The B side of the filter gradient, one segment of a depth block: the im2col columns of
 * output pixels [q0, q0+len) of image x, taps [t0, t0+nt), transposed into NR-tap panels
 * at depth [koff, koff+len): dst[j][koff + k][e] = col[t0 + j*NR + e, q0 + k], zero
 * outside the image and past nt. Four pixels on one output row whose taps all lie inside
 * the image are eight vector loads and two 4x4 transposes.
 */
export function packTapsT(x: usize, meta: usize, table: usize, q0: i32, len: i32, koff: i32, kc: i32, t0: i32, nt: i32, dst: usize): void {
  const H = m(meta, H_), W = m(meta, W_), Wo = m(meta, WO), sh = m(meta, SH), sw = m(meta, SW);
  const ph = m(meta, PH), pw = m(meta, PW);
  // the taps of output (ho, wo..wo+3) all lie inside the image when rowIn(ho) and
  // wo in [woLo, woHi] (stride 1)
  const extH = (m(meta, KH) - 1) * m(meta, DH), extW = (m(meta, KW) - 1) * m(meta, DW);
  const woLo = sw == 1 ? pw : 1 << 30, woHi = W - 4 + pw - extW;
  const zero = f32x4.splat(0);
  for (let jp = 0; jp < nt; jp += NR) {
    const ntap = min(NR, nt - jp);
    const d = dst + ((<usize>jp * <usize>kc + <usize>koff * NR) << 2);
    const t = table + <usize>(t0 + jp) * TAP;
    let ho = q0 / Wo, wo = q0 % Wo, k = 0;
    while (k < len) {
      const r0 = ho * sh - ph;
      if (k + 4 <= len && wo + 4 <= Wo && wo >= woLo && wo <= woHi && r0 >= 0 && r0 + extH < H) {
        const base = x + (<usize>(ho * sh * W + wo) << 2);
        const v0 = v128.load(base + (<usize>load<i32>(t, 12) << 2));
        const v1 = ntap > 1 ? v128.load(base + (<usize>load<i32>(t, TAP + 12) << 2)) : zero;
        const v2 = ntap > 2 ? v128.load(base + (<usize>load<i32>(t, 2 * TAP + 12) << 2)) : zero;
        const v3 = ntap > 3 ? v128.load(base + (<usize>load<i32>(t, 3 * TAP + 12) << 2)) : zero;
        const v4 = ntap > 4 ? v128.load(base + (<usize>load<i32>(t, 4 * TAP + 12) << 2)) : zero;
        const v5 = ntap > 5 ? v128.load(base + (<usize>load<i32>(t, 5 * TAP + 12) << 2)) : zero;
        const v6 = ntap > 6 ? v128.load(base + (<usize>load<i32>(t, 6 * TAP + 12) << 2)) : zero;
        const v7 = ntap > 7 ? v128.load(base + (<usize>load<i32>(t, 7 * TAP + 12) << 2)) : zero;
        const o = d + (<usize>k << 5);
        transpose4Store(v0, v1, v2, v3, o, NR << 2);
        transpose4Store(v4, v5, v6, v7, o + 16, NR << 2);
        k += 4; wo += 4;
      } else {
        // one pixel, tap by tap: inputs may lie in the padding
        const o = d + (<usize>k << 5);
        for (let e = 0; e < NR; e++) {
          let v: f32 = 0;
          if (e < ntap) {
            const te = t + <usize>e * TAP;
            const r = ho * sh + load<i32>(te, 4), c = wo * sw + load<i32>(te, 8);
            if (r >= 0 && r < H && c >= 0 && c < W) v = load<f32>(x + (<usize>(load<i32>(te) + r * W + c) << 2));
          }
          store<f32>(o + (<usize>e << 2), v);
        }
        k++; wo++;
      }
      if (wo == Wo) { wo = 0; ho++; }
    }
  }
}
