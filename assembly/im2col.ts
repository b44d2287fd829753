// Convolution (conv4): forward, filter gradient and data gradient; im2col and col2im.
//
// x is NCHW, w is OIHW, y is [N, O, Ho, Wo]. Per image n, the columns of x_n are
//   col[(c*kh + i)*kw + j, ho*Wo + wo] = x_n[c, ho*sh - ph + i'*dh, wo*sw - pw + j'*dw]
// (zero outside the image), with (i', j') = (i, j) for cross-correlation and
// (kh-1-i, kw-1-j) for true convolution (flip = 1). Then, with T = C*kh*kw taps:
//   forward          y_n[O, HoWo]  = w[O, T] · col_n[T, HoWo]
//   filter gradient  dw[O, T]      = sum_n dy_n[O, HoWo] · col_n^T
//   data gradient    dx_n          = col2im(w^T · dy_n)
// Each y_n / dx_n is written in place, in NCHW order.
//
// All three are implicit GEMMs on gemm.ts's 4x8 micro-kernel (convgemm.ts): no column
// buffer is ever written. The filter side is packed once per call; the forward packs
// im2col columns straight from the image into the micro-kernel's panels; the data
// gradient adds each micro-tile straight into dx (col2im fused into the tile's store);
// the filter gradient packs transposed columns straight from the images, its depth
// running over the pixels of all images. im2col and col2im are exported on their own.
//
// Geometry comes as 16 int32 at `meta`:
//   [N, C, H, W, O, kh, kw, Ho, Wo, ph, pw, sh, sw, dh, dw, flip]
// and `scratch` must hold conv4ScratchBytes(meta) bytes, 16-byte aligned.

import {
  C_, DH, DW, FLIP, H_, HO, KC, KH, KW, MR, N_, NR, O_, PC, PH, PW, SH, SW, TC, W_, WO,
  TAP, align16, blockSize, edgeStore, interior, m, microKernel, microKernelRows, packA, packFilterColumns, packImage, packRows, panelRows, panelSpan,
  packRowsT, packTapsT, scatterTile, tapTable,
} from './convgemm';

/** dst[0:n] = src[0:n] (floats), unaligned SIMD with a scalar tail. */
// @ts-ignore: decorator
@inline function copySpan(dst: usize, src: usize, n: i32): void {
  let k = 0;
  for (; k + 4 <= n; k += 4) v128.store(dst + (<usize>k << 2), v128.load(src + (<usize>k << 2)));
  for (; k < n; k++) store<f32>(dst + (<usize>k << 2), load<f32>(src + (<usize>k << 2)));
}

/** dst[0:n] += src[0:n] (floats). */
// @ts-ignore: decorator
@inline function addSpan(dst: usize, src: usize, n: i32): void {
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const d = dst + (<usize>k << 2);
    v128.store(d, f32x4.add(v128.load(d), v128.load(src + (<usize>k << 2))));
  }
  for (; k < n; k++) {
    const d = dst + (<usize>k << 2);
    store<f32>(d, load<f32>(d) + load<f32>(src + (<usize>k << 2)));
  }
}

/** Zeroes n floats at p. */
// @ts-ignore: decorator
@inline function zeroSpan(p: usize, n: i32): void {
  if (n > 0) memory.fill(p, 0, <usize>n << 2);
}

// The output columns wo whose input column wo*s + off lies in [0, W) are [lo, hi).
// @ts-ignore: decorator
@inline function spanLo(off: i32, s: i32): i32 { return off >= 0 ? 0 : (-off + s - 1) / s; }
// @ts-ignore: decorator
@inline function spanHi(off: i32, s: i32, W: i32, Wo: i32): i32 {
  const last = W - 1 - off; // largest wo*s allowed
  return last < 0 ? 0 : min(Wo, last / s + 1);
}

/**
 * The columns of one image: col[T, Ho*Wo] from x[C, H, W] (see the header). With
 * `accumulate` the direction is reversed (col2im): x[...] += col[...] for every entry
 * inside the image, so overlapping windows add up.
 */
function im2colImage(x: usize, col: usize, meta: usize, accumulate: bool): void {
  const C = m(meta, C_), H = m(meta, H_), W = m(meta, W_), kh = m(meta, KH), kw = m(meta, KW);
  const Ho = m(meta, HO), Wo = m(meta, WO), ph = m(meta, PH), pw = m(meta, PW);
  const sh = m(meta, SH), sw = m(meta, SW), dh = m(meta, DH), dw = m(meta, DW), flip = m(meta, FLIP);
  const rowBytes = <usize>(Ho * Wo) << 2;
  const srcStep = <usize>(sh * W) << 2, dstStep = <usize>Wo << 2, colStep = <usize>sw << 2;
  let row = col;
  for (let c = 0; c < C; c++) {
    const plane = x + ((<usize>c * <usize>H * <usize>W) << 2);
    for (let i = 0; i < kh; i++) {
      // output rows whose input row ho*sh + roff lies inside the image: [hlo, hhi)
      const roff = (flip ? kh - 1 - i : i) * dh - ph;
      const hlo = min(Ho, spanLo(roff, sh));
      const hhi = max(hlo, spanHi(roff, sh, H, Ho));
      for (let j = 0; j < kw; j++, row += rowBytes) {
        // output columns whose input column wo*sw + off lies inside the image: [lo, hi)
        const off = (flip ? kw - 1 - j : j) * dw - pw;
        const lo = min(Wo, spanLo(off, sw));
        const hi = max(lo, spanHi(off, sw, W, Wo));
        const n = hi - lo;
        if (!accumulate) {
          zeroSpan(row, hlo * Wo);
          zeroSpan(row + (<usize>(hhi * Wo) << 2), (Ho - hhi) * Wo);
        }
        if (hlo == hhi) continue;
        let src = plane + (<usize>((hlo * sh + roff) * W + off + lo * sw) << 2);
        let dst = row + (<usize>(hlo * Wo + lo) << 2);
        if (accumulate) {
          for (let ho = hlo; ho < hhi; ho++, src += srcStep, dst += dstStep) {
            if (sw == 1) addSpan(src, dst, n);
            else {
              let s = src, d = dst;
              for (let k = 0; k < n; k++, s += colStep, d += 4) store<f32>(s, load<f32>(s) + load<f32>(d));
            }
          }
        } else if (sw == 1 && n == Wo) { // the common interior case: plain row copies
          for (let ho = hlo; ho < hhi; ho++, src += srcStep, dst += dstStep) copySpan(dst, src, n);
        } else {
          const left = <usize>lo << 2;
          for (let ho = hlo; ho < hhi; ho++, src += srcStep, dst += dstStep) {
            zeroSpan(dst - left, lo);
            if (sw == 1) copySpan(dst, src, n);
            else {
              let s = src, d = dst;
              for (let k = 0; k < n; k++, s += colStep, d += 4) store<f32>(d, load<f32>(s));
            }
            zeroSpan(dst + (<usize>n << 2), Wo - hi);
          }
        }
      }
    }
  }
}

/** col[C*kh*kw, Ho*Wo] = the columns of one image x[C, H, W] (meta's N is ignored). */
export function im2col(x: usize, col: usize, meta: usize): void {
  im2colImage(x, col, meta, false);
}

/** x[C, H, W] = col2im(col): the sum of every column entry at its input position. */
export function col2im(col: usize, x: usize, meta: usize): void {
  zeroSpan(x, m(meta, C_) * m(meta, H_) * m(meta, W_));
  im2colImage(x, col, meta, true);
}

/** Bytes of scratch that conv4Forward, conv4BackwardFilter and conv4BackwardData need. */
export function conv4ScratchBytes(meta: usize): i32 {
  const N = m(meta, N_), O = m(meta, O_), T = m(meta, C_) * m(meta, KH) * m(meta, KW);
  const P = m(meta, HO) * m(meta, WO);
  const fwd = packedBytes(T, O, T, blockSize(P, PC, NR)); // filter side O x T
  const data = packedBytes(T, T, O, blockSize(P, PC, NR)); // filter side T x O
  const filter = packedBytes(T, O, blockSize(N * P, KC, 4), blockSize(T, TC, NR)); // dy side O x depth
  return max(fwd, max(data, filter));
}

/** Tap table, an M x K operand in MR-row panels, a K x n operand in NR panels (K blocked by KC), one tile. */
function packedBytes(taps: i32, M: i32, K: i32, n: i32): i32 {
  return <i32>(align16(<usize>taps * TAP) + align16(<usize>(panelSpan(M) * K) << 2) +
    align16(<usize>(n * blockSize(K, KC, 1)) << 2)) + MR * NR * 4;
}

/** y[N, O, Ho, Wo] = conv4(w[O, C, kh, kw], x[N, C, H, W]). */
export function conv4Forward(x: usize, w: usize, y: usize, meta: usize, scratch: usize): void {
  conv4ForwardImages(x, w, y, meta, scratch, 0, m(meta, N_));
}

/**
 * conv4Forward for images [n0, n1) only: each image's output depends on that image alone,
 * so threads split the batch, each with its own scratch (conv4ScratchBytes).
 */
export function conv4ForwardImages(x: usize, w: usize, y: usize, meta: usize, scratch: usize, n0: i32, n1: i32): void {
  const C = m(meta, C_), H = m(meta, H_), W = m(meta, W_), O = m(meta, O_);
  const K = C * m(meta, KH) * m(meta, KW), P = m(meta, HO) * m(meta, WO);
  const kcMax = blockSize(K, KC, 1), pcMax = blockSize(P, PC, NR);
  const table = scratch;
  const packedW = table + align16(<usize>K * TAP);
  const packedX = packedW + align16(<usize>(panelSpan(O) * K) << 2);
  const tile = packedX + align16(<usize>(pcMax * kcMax) << 2);
  tapTable(meta, table);
  const pr = panelRows(O);
  packA(w, O, K, false, packedW, pr);
  const xBytes = <usize>(C * H * W) << 2, yBytes = <usize>(O * P) << 2;
  for (let n = n0; n < n1; n++) {
    const xn = x + <usize>n * xBytes, yn = y + <usize>n * yBytes;
    for (let q0 = 0; q0 < P; q0 += pcMax) {
      const np = min(pcMax, P - q0);
      for (let k0 = 0; k0 < K; k0 += kcMax) {
        const kc = min(kcMax, K - k0), add = k0 > 0; // later depth blocks add to y
        packImage(xn, meta, table, q0, np, k0, kc, packedX);
        for (let jp = 0; jp < np; jp += NR) {
          const nr = min(NR, np - jp);
          const b = packedX + ((<usize>jp * <usize>kc) << 2);
          for (let ip = 0; ip < O; ip += pr) {
            const mr = min(pr, O - ip);
            const a = packedW + ((<usize>ip * <usize>K + <usize>k0 * <usize>pr) << 2);
            const c = yn + ((<usize>ip * <usize>P + <usize>(q0 + jp)) << 2);
            if (mr == pr && nr == NR) microKernel(kc, a, b, c, P, add, pr, pr);
            else {
              microKernel(kc, a, b, tile, NR, false, mr, pr);
              edgeStore(tile, mr, nr, c, P, add);
            }
          }
        }
      }
    }
  }
}

/**
 * dw[O, C, kh, kw] = sum over images of dy_n · col(x_n)^T (overwrites dw). The depth of
 * this product runs over the output pixels of all images, in blocks of up to KC pixels
 * that may span images; the taps go in chunks of up to TC.
 */
export function conv4BackwardFilter(x: usize, dy: usize, dw: usize, meta: usize, scratch: usize): void {
  conv4BackwardFilterTaps(x, dy, dw, meta, scratch, 0, m(meta, C_) * m(meta, KH) * m(meta, KW));
}

/**
 * conv4BackwardFilter for the taps (columns of dw as [O, T]) [ta, tb) only, ta a multiple
 * of NR. Threads split the taps rather than the images: every dw element then adds its
 * depth blocks (which span images) in the same order as one call does, so the sum is
 * bit-identical for any number of threads.
 */
export function conv4BackwardFilterTaps(x: usize, dy: usize, dw: usize, meta: usize, scratch: usize, ta: i32, tb: i32): void {
  const N = m(meta, N_), C = m(meta, C_), H = m(meta, H_), W = m(meta, W_), O = m(meta, O_);
  const T = C * m(meta, KH) * m(meta, KW), P = m(meta, HO) * m(meta, WO), total = N * P;
  // (never wider than a whole call's block: conv4ScratchBytes is sized for that one)
  const kcMax = blockSize(total, KC, 4), ncMax = min(blockSize(tb - ta, TC, NR), blockSize(T, TC, NR));
  const table = scratch;
  const packedDy = table + align16(<usize>T * TAP);
  const packedX = packedDy + align16(<usize>(panelSpan(O) * kcMax) << 2);
  const pr = panelRows(O);
  const tile = packedX + align16(<usize>(ncMax * kcMax) << 2);
  tapTable(meta, table);
  for (let o = 0; o < O; o++) zeroSpan(dw + ((<usize>o * <usize>T + <usize>ta) << 2), tb - ta);
  const xBytes = <usize>(C * H * W) << 2, yBytes = <usize>(O * P) << 2;
  for (let g0 = 0; g0 < total; g0 += kcMax) {
    const kc = min(kcMax, total - g0);
    // the block's pixels, image by image: (n, q) segments at depth koff
    for (let g = g0; g < g0 + kc;) {
      const n = g / P, q = g % P, len = min(P - q, g0 + kc - g);
      packRowsT(dy + <usize>n * yBytes, O, P, q, len, g - g0, kc, packedDy, pr);
      g += len;
    }
    for (let t0 = ta; t0 < tb; t0 += ncMax) {
      const nt = min(ncMax, tb - t0);
      for (let g = g0; g < g0 + kc;) {
        const n = g / P, q = g % P, len = min(P - q, g0 + kc - g);
        packTapsT(x + <usize>n * xBytes, meta, table, q, len, g - g0, kc, t0, nt, packedX);
        g += len;
      }
      for (let jp = 0; jp < nt; jp += NR) {
        const nr = min(NR, nt - jp);
        const b = packedX + ((<usize>jp * <usize>kc) << 2);
        for (let ip = 0; ip < O; ip += pr) {
          const mr = min(pr, O - ip);
          const a = packedDy + ((<usize>ip * <usize>kc) << 2);
          const c = dw + ((<usize>ip * <usize>T + <usize>(t0 + jp)) << 2);
          if (mr == pr && nr == NR) microKernel(kc, a, b, c, T, true, pr, pr);
          else {
            microKernel(kc, a, b, tile, NR, false, mr, pr);
            edgeStore(tile, mr, nr, c, T, true);
          }
        }
      }
    }
  }
}

/** dx[N, C, H, W] = col2im(w^T · dy_n) per image (overwrites dx). */
export function conv4BackwardData(w: usize, dy: usize, dx: usize, meta: usize, scratch: usize): void {
  conv4BackwardDataImages(w, dy, dx, meta, scratch, 0, m(meta, N_));
}

/** conv4BackwardData for images [n0, n1) only (threads split the batch, as the forward). */
export function conv4BackwardDataImages(w: usize, dy: usize, dx: usize, meta: usize, scratch: usize, n0: i32, n1: i32): void {
  const C = m(meta, C_), H = m(meta, H_), W = m(meta, W_), O = m(meta, O_);
  const M = C * m(meta, KH) * m(meta, KW), Wo = m(meta, WO), P = m(meta, HO) * Wo, sh = m(meta, SH);
  const kcMax = blockSize(O, KC, 1), pcMax = blockSize(P, PC, NR);
  const table = scratch;
  const packedW = table + align16(<usize>M * TAP);
  const packedY = packedW + align16(<usize>(panelSpan(M) * O) << 2);
  const tile = packedY + align16(<usize>(pcMax * kcMax) << 2);
  // taps by kernel column (tapTable: a panel's tiles never overlap in dx)
  tapTable(meta, table, true);
  const pr = 4; // 4-row panels (microKernelRows)
  packFilterColumns(w, meta, packedW, pr); // w^T: [taps x O]
  const xBytes = <usize>(C * H * W) << 2, yBytes = <usize>(O * P) << 2;
  for (let n = n0; n < n1; n++) {
    const dxn = dx + <usize>n * xBytes, dyn = dy + <usize>n * yBytes;
    zeroSpan(dxn, C * H * W);
    for (let q0 = 0; q0 < P; q0 += pcMax) {
      const np = min(pcMax, P - q0);
      // depth blocks (over O) each add their partial tile into dx: col2im is linear
      for (let k0 = 0; k0 < O; k0 += kcMax) {
        const kc = min(kcMax, O - k0);
        packRows(dyn, P, k0, kc, q0, np, packedY);
        for (let jp = 0; jp < np; jp += NR) {
          const nr = min(NR, np - jp);
          const b = packedY + ((<usize>jp * <usize>kc) << 2);
          const p = q0 + jp, inside = nr == NR && interior(meta, p, NR);
          // dx of tap t at these 8 pixels: base + the tap's offset (when inside the image)
          const base = dxn + (<usize>(p / Wo * sh * W + p % Wo) << 2);
          for (let ip = 0; ip < M; ip += pr) {
            const a = packedW + ((<usize>ip * <usize>O + <usize>k0 * <usize>pr) << 2);
            if (inside && ip + pr <= M) {
              microKernelRows(kc, a, b, base, table + <usize>ip * TAP);
            } else {
              microKernel(kc, a, b, tile, NR, false, min(pr, M - ip), pr);
              scatterTile(tile, min(pr, M - ip), nr, ip, p, dxn, meta, table);
            }
          }
        }
      }
    }
  }
}
