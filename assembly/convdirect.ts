// Direct convolution for shallow filters: conv4's forward and filter gradient where the
// taps per output, T = C*kh*kw, are few (LeNet's first layer: C = 1, 5x5, T = 25), with
// stride 1, dilation 1 and no padding.
//
// There the implicit GEMM of im2col.ts is bound by its packing: with a depth of only T,
// packing the image side (T floats per output pixel, gathered) costs about as much as the
// arithmetic. These kernels read the image in place instead: for stride 1 the input of
// tap (c, i, j) at output pixels (y, x..x+3) is 4 consecutive floats of row y + i of
// plane c, one unaligned load. No packing, no column buffer.
//
//   forward          y[n, o, y, x..x+7] = sum_t w[o, t] * x_n[t at (y, x..x+7)]
//                    a 6 x 8 tile (6 output channels x 8 pixels, 12 f32x4 accumulators,
//                    as gemm.ts's micro-tile): per tap 6 broadcast weights, 2 image loads
//   filter gradient  dw[o, t] = sum_n sum_(y, x) dy[n, o, y, x] * x_n[t at (y, x)]
//                    a 2 x 4 block (2 channels x 4 taps, 8 accumulators over pixel
//                    lanes): per 4 pixels 2 dy loads, 4 image loads
//
// The forward sums each output's taps in order from zero, one multiply-add each, exactly
// as im2col.ts's single depth block does (T <= its KC): the same bits. The filter
// gradient's lanes each sum every 4th pixel of a row, over the images in order; a
// thread's share is a set of (channel pair, tap block) units, each summed whole, so the
// result is the same for any split.
//
// Geometry is im2col.ts's 16 int32 at `meta`, taps as convgemm.ts's tapTable; `scratch` holds
// convDirectScratchBytes(meta) bytes, 16-byte aligned, per thread.

import { C_, H_, HO, KH, KW, N_, O_, PH, PW, TAP, W_, WO, align16, m, tapTable } from './convgemm';
import { madd } from './util';

/**
 * Taps per block of the filter gradient. V8 loads all of an iteration's vectors before its
 * multiply-adds (in the loops it unrolls): 2 x 5 taps (10 accumulators + 7 vectors) spilled,
 * 2 x 4 (8 + 6) fits the 15 registers.
 */
const TB = 4;

/** The forward's channel block at `left` channels from the end: 6, the last ones 4 (O = 20: 6, 6, 4, 4). */
// @ts-ignore: decorator
@inline function blockRows(left: i32): i32 { return left > 8 || left == 6 || left == 5 ? 6 : 4; }

/** Channel pairs and tap blocks of the filter gradient. */
// @ts-ignore: decorator
@inline function pairs(O: i32): i32 { return (O + 1) >> 1; }
// @ts-ignore: decorator
@inline function tapBlocks(T: i32): i32 { return (T + TB - 1) / TB; }

/** Bytes of scratch for convDirectForwardImages and convDirectFilterUnits. */
export function convDirectScratchBytes(meta: usize): i32 {
  const O = m(meta, O_), T = m(meta, C_) * m(meta, KH) * m(meta, KW);
  const offsets = <usize>tapBlocks(T) * TB * TAP;
  const weights = align16(<usize>(T * (O + 5)) << 2); // panels of 6 or 4 rows: at most 3 padding rows
  const acc = <usize>(pairs(O) * tapBlocks(T)) * (2 * TB * 16);
  const tail = align16(<usize>(pairs(O) * 2 * tapBlocks(T) * TB) << 2);
  return <i32>(offsets + max(weights + 32, acc + tail));
}

/**
 * convgemm.ts's tap table for `count` taps: with stride 1, dilation 1 and no padding the
 * input of tap t at output pixel (y, x) is its `sum` field (at TAP*t + 12) plus y*W + x.
 * Taps past T (the filter gradient's last block) repeat tap 0: computed, never stored.
 */
function taps(meta: usize, table: usize, count: i32): void {
  tapTable(meta, table);
  const T = m(meta, C_) * m(meta, KH) * m(meta, KW);
  for (let t = T; t < count; t++) memory.copy(table + <usize>t * TAP, table, TAP);
}

/**
 * y[n0:n1] = conv4(w, x) for images [n0, n1), Wo >= 8 (threads split the batch). Output
 * channels go in blocks of 6, the last ones in blocks of 4 (O = 20: 6, 6, 4, 4); pixels in
 * runs of 8 along each output row, the last run moved left to end at the row's end (the
 * overlap is computed twice, the same values).
 */
export function convDirectForwardImages(x: usize, w: usize, y: usize, meta: usize, scratch: usize, n0: i32, n1: i32): void {
  const C = m(meta, C_), H = m(meta, H_), W = m(meta, W_), O = m(meta, O_);
  const kh = m(meta, KH), kw = m(meta, KW), Ho = m(meta, HO), Wo = m(meta, WO);
  const T = C * kh * kw;
  const off = scratch, wt = scratch + <usize>tapBlocks(T) * TB * TAP;
  const sink = wt + align16(<usize>(T * (O + 5)) << 2); // 8 floats that rows past O are stored to
  taps(meta, off, T);
  // Per channel block of `rows` (6 or 4), a [T][rows] panel: wt[t][r] = w[o0 + r, t], zero past O.
  let q = wt;
  for (let o0 = 0; o0 < O; o0 += blockRows(O - o0)) {
    const rows = blockRows(O - o0);
    for (let t = 0; t < T; t++) {
      for (let r = 0; r < rows; r++, q += 4) store<f32>(q, o0 + r < O ? load<f32>(w + ((<usize>(o0 + r) * <usize>T + <usize>t) << 2)) : 0);
    }
  }
  const plane = <usize>(Ho * Wo) << 2;
  const xBytes = <usize>(C * H * W) << 2, yBytes = <usize>O * plane;
  for (let n = n0; n < n1; n++) {
    const xn = x + <usize>n * xBytes, yn = y + <usize>n * yBytes;
    let wb = wt;
    for (let o0 = 0; o0 < O;) {
      const rows = blockRows(O - o0), live = min(rows, O - o0);
      for (let r = 0; r < Ho; r++) {
        const src = xn + ((<usize>(r * W)) << 2), dst = yn + <usize>o0 * plane + ((<usize>(r * Wo)) << 2);
        // Two call sites each: a kernel called once is inlined by the optimizer, and V8 then
        // spills its accumulators (the caller's values compete for the registers).
        let c = 0;
        for (; c + 8 < Wo; c += 8) {
          const b = <usize>c << 2;
          if (rows == 6) forwardTile6(T, off, src + b, wb, dst + b, plane, live, sink);
          else forwardTile4(T, off, src + b, wb, dst + b, plane, live, sink);
        }
        const b = <usize>(Wo - 8) << 2;
        if (rows == 6) forwardTile6(T, off, src + b, wb, dst + b, plane, live, sink);
        else forwardTile4(T, off, src + b, wb, dst + b, plane, live, sink);
      }
      wb += (<usize>(T * rows)) << 2;
      o0 += rows;
    }
  }
}

/**
 * 6 channels x 8 pixels: acc[r] = sum_t wt[t][r] * src[off[t] ..+8], stored to the first
 * `live` of the 6 output planes `plane` bytes apart. The loop runs on the tap-table pointer.
 */
function forwardTile6(T: i32, off: usize, src: usize, wt: usize, dst: usize, plane: usize, live: i32, sink: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0), c41 = f32x4.splat(0);
  let c50 = f32x4.splat(0), c51 = f32x4.splat(0);
  const end = off + <usize>T * TAP;
  while (off < end) {
    const p = src + (<usize>load<i32>(off, 12) << 2);
    const b0 = v128.load(p), b1 = v128.load(p, 16);
    let a = v128.load32_splat(wt);
    c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(wt, 4);
    c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(wt, 8);
    c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(wt, 12);
    c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    a = v128.load32_splat(wt, 16);
    c40 = madd(a, b0, c40); c41 = madd(a, b1, c41);
    a = v128.load32_splat(wt, 20);
    c50 = madd(a, b0, c50); c51 = madd(a, b1, c51);
    off += TAP; wt += 24;
  }
  v128.store(dst, c00); v128.store(dst, c01, 16);
  // rows past `live` go to the sink: a branch here would make V8 spill accumulators in the loop
  let d = dst;
  d = live > 1 ? d + plane : sink; v128.store(d, c10); v128.store(d, c11, 16);
  d = live > 2 ? d + plane : sink; v128.store(d, c20); v128.store(d, c21, 16);
  d = live > 3 ? d + plane : sink; v128.store(d, c30); v128.store(d, c31, 16);
  d = live > 4 ? d + plane : sink; v128.store(d, c40); v128.store(d, c41, 16);
  d = live > 5 ? d + plane : sink; v128.store(d, c50); v128.store(d, c51, 16);
}

/** forwardTile6 for 4 channels (8 accumulators). */
function forwardTile4(T: i32, off: usize, src: usize, wt: usize, dst: usize, plane: usize, live: i32, sink: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const end = off + <usize>T * TAP;
  while (off < end) {
    const p = src + (<usize>load<i32>(off, 12) << 2);
    const b0 = v128.load(p), b1 = v128.load(p, 16);
    let a = v128.load32_splat(wt);
    c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(wt, 4);
    c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(wt, 8);
    c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(wt, 12);
    c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    off += TAP; wt += 16;
  }
  v128.store(dst, c00); v128.store(dst, c01, 16);
  // rows past `live` go to the sink: a branch here would make V8 spill accumulators in the loop
  let d = dst;
  d = live > 1 ? d + plane : sink; v128.store(d, c10); v128.store(d, c11, 16);
  d = live > 2 ? d + plane : sink; v128.store(d, c20); v128.store(d, c21, 16);
  d = live > 3 ? d + plane : sink; v128.store(d, c30); v128.store(d, c31, 16);
}

/** Units of the filter gradient: (channel pair, tap block), pair-major. */
export function convDirectFilterUnitCount(meta: usize): i32 {
  return pairs(m(meta, O_)) * tapBlocks(m(meta, C_) * m(meta, KH) * m(meta, KW));
}

/**
 * dw = the filter gradient, for units [u0, u1) of convDirectFilterUnitCount (threads split
 * the units; each writes only its own elements of dw). Wo >= 4. Per unit, 8 accumulators
 * (2 channels x 4 taps) sum over the images in order, each row's pixels in f32x4 lanes
 * (lane l: pixels x = l mod 4) and the row's last Wo mod 4 pixels in scalars; then
 * dw[o, t] = ((l0 + l1) + (l2 + l3)) + tail.
 */
export function convDirectFilterUnits(x: usize, dy: usize, dw: usize, meta: usize, scratch: usize, u0: i32, u1: i32): void {
  const N = m(meta, N_), C = m(meta, C_), H = m(meta, H_), W = m(meta, W_), O = m(meta, O_);
  const T = C * m(meta, KH) * m(meta, KW), Ho = m(meta, HO), Wo = m(meta, WO);
  const nb = tapBlocks(T), units = u1 - u0;
  const off = scratch, acc = scratch + <usize>nb * TB * TAP;
  const tail = acc + <usize>units * (2 * TB * 16);
  taps(meta, off, nb * TB);
  memory.fill(acc, 0, <usize>units * (2 * TB * 16) + ((<usize>units * 2 * TB) << 2));
  const plane = <usize>(Ho * Wo) << 2, W4 = Wo & ~3;
  const xBytes = <usize>(C * H * W) << 2, yBytes = <usize>O * plane;
  for (let n = 0; n < N; n++) {
    const xn = x + <usize>n * xBytes, dn = dy + <usize>n * yBytes;
    for (let u = u0; u < u1; u++) {
      const pr = u / nb, b = u - pr * nb;
      const o0 = pr * 2, o1 = min(o0 + 1, O - 1); // an odd O's last pair repeats its channel
      const d0 = dn + <usize>o0 * plane, d1 = dn + <usize>o1 * plane;
      const to = off + <usize>(b * TB) * TAP;
      const a = acc + <usize>(u - u0) * (2 * TB * 16);
      // two call sites: a kernel called once is inlined, and V8 then spills in its loop
      if (n == 0) filterBlock(xn, d0, d1, to, a, Ho, Wo, W4, W);
      else filterBlock(xn, d0, d1, to, a, Ho, Wo, W4, W);
      if (W4 < Wo) filterTail(xn, d0, d1, to, tail + ((<usize>(u - u0) * 2 * TB) << 2), Ho, Wo, W4, W);
    }
  }
  // dw[o, t] from the lanes and the tail, for the live channels and taps of each unit
  for (let u = u0; u < u1; u++) {
    const pr = u / nb, b = u - pr * nb;
    const a = acc + <usize>(u - u0) * (2 * TB * 16), s = tail + ((<usize>(u - u0) * 2 * TB) << 2);
    for (let q = 0; q < 2; q++) {
      const o = pr * 2 + q;
      if (o >= O) break;
      for (let k = 0; k < TB; k++) {
        const t = b * TB + k;
        if (t >= T) break;
        const v = v128.load(a + <usize>(q * TB + k) * 16);
        const sum = (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
        store<f32>(dw + ((<usize>o * <usize>T + <usize>t) << 2), sum + load<f32>(s + (<usize>(q * TB + k) << 2)));
      }
    }
  }
}

/**
 * One image's part of one unit: acc[q][k] += dy_q[y, x..x+3] * x_n[tap k at (y, x..x+3)]
 * over every row y and x < W4 in steps of 4; acc holds 2 x TB f32x4 between images.
 */
function filterBlock(xn: usize, d0: usize, d1: usize, to: usize, acc: usize, Ho: i32, Wo: i32, W4: i32, W: i32): void {
  let a00 = v128.load(acc), a01 = v128.load(acc, 16), a02 = v128.load(acc, 32), a03 = v128.load(acc, 48);
  let a10 = v128.load(acc, 64), a11 = v128.load(acc, 80), a12 = v128.load(acc, 96), a13 = v128.load(acc, 112);
  const k0 = <usize>load<i32>(to, 12) << 2, k1 = <usize>load<i32>(to, TAP + 12) << 2;
  const k2 = <usize>load<i32>(to, 2 * TAP + 12) << 2, k3 = <usize>load<i32>(to, 3 * TAP + 12) << 2;
  const dd = d1 - d0, run = <usize>W4 << 2;
  for (let r = 0; r < Ho; r++) {
    let pd = d0 + ((<usize>(r * Wo)) << 2), px = xn + ((<usize>(r * W)) << 2);
    const pe = pd + run;
    while (pd < pe) {
      const e0 = v128.load(pd), e1 = v128.load(pd + dd);
      let v = v128.load(px + k0);
      a00 = madd(e0, v, a00); a10 = madd(e1, v, a10);
      v = v128.load(px + k1);
      a01 = madd(e0, v, a01); a11 = madd(e1, v, a11);
      v = v128.load(px + k2);
      a02 = madd(e0, v, a02); a12 = madd(e1, v, a12);
      v = v128.load(px + k3);
      a03 = madd(e0, v, a03); a13 = madd(e1, v, a13);
      pd += 16; px += 16;
    }
  }
  v128.store(acc, a00); v128.store(acc, a01, 16); v128.store(acc, a02, 32); v128.store(acc, a03, 48);
  v128.store(acc, a10, 64); v128.store(acc, a11, 80); v128.store(acc, a12, 96); v128.store(acc, a13, 112);
}

/** The pixels x in [W4, Wo) of every row, in scalar sums s[q][k] (one order, as the lanes'). */
function filterTail(xn: usize, d0: usize, d1: usize, to: usize, s: usize, Ho: i32, Wo: i32, W4: i32, W: i32): void {
  for (let k = 0; k < TB; k++) {
    const tk = xn + (<usize>load<i32>(to + <usize>k * TAP, 12) << 2);
    let s0 = load<f32>(s + (<usize>k << 2)), s1 = load<f32>(s + (<usize>(TB + k) << 2));
    for (let r = 0; r < Ho; r++) {
      for (let c = W4; c < Wo; c++) {
        const v = load<f32>(tk + ((<usize>(r * W + c)) << 2));
        const pd = <usize>(r * Wo + c) << 2;
        s0 += load<f32>(d0 + pd) * v; s1 += load<f32>(d1 + pd) * v;
      }
    }
    store<f32>(s + (<usize>k << 2), s0); store<f32>(s + (<usize>(TB + k) << 2), s1);
  }
}

/**
 * xp[n] = x[n] with ph zero rows above and below each plane and pw zero columns either
 * side, for images [n0, n1) (threads split the batch): the input of a padded convolution
 * as the direct kernels read it, with the geometry's H, W grown by the padding and ph = pw = 0.
 */
export function convPadImages(x: usize, xp: usize, meta: usize, n0: i32, n1: i32): void {
  const C = m(meta, C_), H = m(meta, H_), W = m(meta, W_), ph = m(meta, PH), pw = m(meta, PW);
  const row = <usize>W << 2, prow = <usize>(W + 2 * pw) << 2, side = <usize>pw << 2, band = <usize>ph * prow;
  let s = x + ((<usize>n0 * <usize>(C * H * W)) << 2);
  let d = xp + <usize>n0 * <usize>C * (<usize>(H + 2 * ph) * prow);
  for (let plane = n0 * C; plane < n1 * C; plane++) {
    memory.fill(d, 0, band); d += band;
    for (let r = 0; r < H; r++) {
      memory.fill(d, 0, side);
      memory.copy(d + side, s, row);
      memory.fill(d + side + row, 0, side);
      d += prow; s += row;
    }
    memory.fill(d, 0, band); d += band;
  }
}

/**
 * x[n] = the interior of xp[n] (convPadImages's layout: the border dropped), for images
 * [n0, n1): the data gradient of a padded convolution, computed unpadded on the padded shape.
 */
export function convCropImages(xp: usize, x: usize, meta: usize, n0: i32, n1: i32): void {
  const C = m(meta, C_), H = m(meta, H_), W = m(meta, W_), ph = m(meta, PH), pw = m(meta, PW);
  const row = <usize>W << 2, prow = <usize>(W + 2 * pw) << 2, band = <usize>ph * prow;
  let d = x + ((<usize>n0 * <usize>(C * H * W)) << 2);
  let s = xp + <usize>n0 * <usize>C * (<usize>(H + 2 * ph) * prow) + (<usize>pw << 2);
  for (let plane = n0 * C; plane < n1 * C; plane++) {
    s += band;
    for (let r = 0; r < H; r++) { memory.copy(d, s, row); d += row; s += prow; }
    s += band;
  }
}
