// Pooling over the two spatial axes of NCHW tensors, forward and backward, as Knet's
// pool (cuDNN's modes): 0 max, 1 average counting padding, 2 average excluding padding.
//
// x is viewed as NC planes of H x W, y as NC planes of Ho x Wo. Output (ho, wo) pools the
// window rows [ho*sh - ph, ho*sh - ph + kh) and columns [wo*sw - pw, wo*sw - pw + kw),
// clipped to the image: padded positions never win a max and never count in mode 2.
// The caller guarantees ph < kh and pw < kw, so every window holds at least one pixel.
//
// Max picks the first maximum in row-major window order (a later equal value does not
// win); the backward pass recomputes that position from x, so the gradient goes exactly
// where the forward value came from. NaN: a window whose first pixel is NaN gives NaN,
// other NaNs are skipped (f32x4.pmax semantics), in the SIMD and scalar paths alike.
//
// The common 2x2 window with stride 2 and no padding has a SIMD path: four outputs from
// two rows of eight pixels, deinterleaved with shuffles.
//
// Geometry: 12 int32 at `meta` = [NC, H, W, Ho, Wo, kh, kw, ph, pw, sh, sw, mode].

const NC_ = 0, H_ = 1, W_ = 2, HO = 3, WO = 4, KH = 5, KW = 6, PH = 7, PW = 8, SH = 9, SW = 10, MODE = 11;

// @ts-ignore: decorator
@inline function m(meta: usize, k: i32): i32 { return load<i32>(meta + (<usize>k << 2)); }
// @ts-ignore: decorator
@inline function at(p: usize, i: i32): usize { return p + (<usize>i << 2); }

// @ts-ignore: decorator
@inline function isFast2x2(meta: usize): bool {
  return m(meta, KH) == 2 && m(meta, KW) == 2 && m(meta, SH) == 2 && m(meta, SW) == 2 &&
    m(meta, PH) == 0 && m(meta, PW) == 0;
}

// Even and odd lanes of the 8 floats [a, b].
// @ts-ignore: decorator
@inline function evens(a: v128, b: v128): v128 { return v128.shuffle<f32>(a, b, 0, 2, 4, 6); }
// @ts-ignore: decorator
@inline function odds(a: v128, b: v128): v128 { return v128.shuffle<f32>(a, b, 1, 3, 5, 7); }

/** y = pool(x). */
export function poolForward(x: usize, y: usize, meta: usize): void {
  poolForwardPlanes(x, y, meta, 0, m(meta, NC_));
}

/** poolForward for planes [p0, p1) only (planes are independent: threads split them). */
export function poolForwardPlanes(x: usize, y: usize, meta: usize, p0: i32, p1: i32): void {
  const H = m(meta, H_), W = m(meta, W_), Ho = m(meta, HO), Wo = m(meta, WO);
  const mode = m(meta, MODE);
  const fast = isFast2x2(meta);
  for (let p = p0; p < p1; p++) {
    const xp = x + ((<usize>p * <usize>H * <usize>W) << 2);
    const yp = y + ((<usize>p * <usize>Ho * <usize>Wo) << 2);
    if (fast) {
      if (mode == 0) forward2x2(xp, yp, W, Ho, Wo, false);
      else forward2x2(xp, yp, W, Ho, Wo, true);
    } else forwardPlane(xp, yp, meta);
  }
}

// @ts-ignore: decorator
@inline function forward2x2(xp: usize, yp: usize, W: i32, Ho: i32, Wo: i32, avg: bool): void {
  const quarter = f32x4.splat(0.25);
  for (let ho = 0; ho < Ho; ho++) {
    const r0 = at(xp, 2 * ho * W), r1 = at(r0, W), out = at(yp, ho * Wo);
    let wo = 0;
    for (; wo + 4 <= Wo; wo += 4) {
      const o = <usize>wo << 3;
      const a0 = v128.load(r0 + o), a1 = v128.load(r0 + o, 16);
      const b0 = v128.load(r1 + o), b1 = v128.load(r1 + o, 16);
      let v: v128;
      if (avg) {
        const s0 = f32x4.add(a0, b0), s1 = f32x4.add(a1, b1);
        v = f32x4.mul(f32x4.add(evens(s0, s1), odds(s0, s1)), quarter);
      } else {
        // the scan order of the scalar path: 00, 01, 10, 11
        v = f32x4.pmax(f32x4.pmax(f32x4.pmax(evens(a0, a1), odds(a0, a1)), evens(b0, b1)), odds(b0, b1));
      }
      v128.store(at(out, wo), v);
    }
    for (; wo < Wo; wo++) {
      const x00 = load<f32>(at(r0, 2 * wo)), x01 = load<f32>(at(r0, 2 * wo + 1));
      const x10 = load<f32>(at(r1, 2 * wo)), x11 = load<f32>(at(r1, 2 * wo + 1));
      // the same operations, in the same order, as a SIMD lane
      const v: f32 = avg ? ((x00 + x10) + (x01 + x11)) * 0.25 : pmax(pmax(pmax(x00, x01), x10), x11);
      store<f32>(at(out, wo), v);
    }
  }
}

/** f32x4.pmax on one lane: a < b ? b : a (b wins only when larger). */
// @ts-ignore: decorator
@inline function pmax(a: f32, b: f32): f32 { return a < b ? b : a; }

function forwardPlane(xp: usize, yp: usize, meta: usize): void {
  const H = m(meta, H_), W = m(meta, W_), Ho = m(meta, HO), Wo = m(meta, WO);
  const kh = m(meta, KH), kw = m(meta, KW), ph = m(meta, PH), pw = m(meta, PW);
  const sh = m(meta, SH), sw = m(meta, SW), mode = m(meta, MODE);
  const full: f32 = <f32>(kh * kw);
  for (let ho = 0; ho < Ho; ho++) {
    const h0 = ho * sh - ph, hs = max(h0, 0), he = min(h0 + kh, H);
    for (let wo = 0; wo < Wo; wo++) {
      const w0 = wo * sw - pw, ws = max(w0, 0), we = min(w0 + kw, W);
      let v: f32;
      if (mode == 0) {
        v = load<f32>(at(xp, hs * W + ws));
        for (let h = hs; h < he; h++) {
          const row = at(xp, h * W);
          for (let w = ws; w < we; w++) v = pmax(v, load<f32>(at(row, w)));
        }
      } else {
        let s: f32 = 0;
        for (let h = hs; h < he; h++) {
          const row = at(xp, h * W);
          for (let w = ws; w < we; w++) s += load<f32>(at(row, w));
        }
        v = s / (mode == 1 ? full : <f32>((he - hs) * (we - ws)));
      }
      store<f32>(at(yp, ho * Wo + wo), v);
    }
  }
}

/** dx = the gradient of pool at x given dy (overwrites dx). y is not read. */
export function poolBackward(x: usize, y: usize, dy: usize, dx: usize, meta: usize): void {
  poolBackwardPlanes(x, y, dy, dx, meta, 0, m(meta, NC_));
}

/** poolBackward for planes [p0, p1) only. */
export function poolBackwardPlanes(x: usize, y: usize, dy: usize, dx: usize, meta: usize, p0: i32, p1: i32): void {
  const H = m(meta, H_), W = m(meta, W_), Ho = m(meta, HO), Wo = m(meta, WO);
  const mode = m(meta, MODE);
  const fast = isFast2x2(meta);
  for (let p = p0; p < p1; p++) {
    const xp = x + ((<usize>p * <usize>H * <usize>W) << 2);
    const dxp = dx + ((<usize>p * <usize>H * <usize>W) << 2);
    const gp = dy + ((<usize>p * <usize>Ho * <usize>Wo) << 2);
    if (fast) {
      if (mode == 0) backward2x2(xp, gp, dxp, H, W, Ho, Wo, false);
      else backward2x2(xp, gp, dxp, H, W, Ho, Wo, true);
    } else backwardPlane(xp, gp, dxp, meta);
  }
}

// @ts-ignore: decorator
@inline function backward2x2(xp: usize, gp: usize, dxp: usize, H: i32, W: i32, Ho: i32, Wo: i32, avg: bool): void {
  const quarter = f32x4.splat(0.25);
  for (let ho = 0; ho < Ho; ho++) {
    const r0 = at(xp, 2 * ho * W), r1 = at(r0, W);
    const d0 = at(dxp, 2 * ho * W), d1 = at(d0, W);
    const g = at(gp, ho * Wo);
    let wo = 0;
    for (; wo + 4 <= Wo; wo += 4) {
      const o = <usize>wo << 3;
      const gv = v128.load(at(g, wo));
      let g00: v128, g01: v128, g10: v128, g11: v128;
      if (avg) {
        g00 = g01 = g10 = g11 = f32x4.mul(gv, quarter);
      } else {
        const a0 = v128.load(r0 + o), a1 = v128.load(r0 + o, 16);
        const b0 = v128.load(r1 + o), b1 = v128.load(r1 + o, 16);
        const x00 = evens(a0, a1), x01 = odds(a0, a1), x10 = evens(b0, b1), x11 = odds(b0, b1);
        // the first maximum in the order 00, 01, 10, 11: a later value wins only if larger
        let best = x00;
        const m01 = f32x4.gt(x01, best); best = v128.bitselect(x01, best, m01);
        const m10 = f32x4.gt(x10, best); best = v128.bitselect(x10, best, m10);
        const m11 = f32x4.gt(x11, best);
        g11 = v128.and(gv, m11);
        g10 = v128.and(gv, v128.andnot(m10, m11));
        g01 = v128.and(gv, v128.andnot(v128.andnot(m01, m10), m11));
        g00 = v128.andnot(gv, v128.or(v128.or(m01, m10), m11));
      }
      v128.store(d0 + o, v128.shuffle<f32>(g00, g01, 0, 4, 1, 5));
      v128.store(d0 + o, v128.shuffle<f32>(g00, g01, 2, 6, 3, 7), 16);
      v128.store(d1 + o, v128.shuffle<f32>(g10, g11, 0, 4, 1, 5));
      v128.store(d1 + o, v128.shuffle<f32>(g10, g11, 2, 6, 3, 7), 16);
    }
    for (; wo < Wo; wo++) {
      const gv = load<f32>(at(g, wo));
      let g00: f32 = 0, g01: f32 = 0, g10: f32 = 0, g11: f32 = 0;
      if (avg) {
        g00 = g01 = g10 = g11 = gv * 0.25;
      } else {
        const x00 = load<f32>(at(r0, 2 * wo)), x01 = load<f32>(at(r0, 2 * wo + 1));
        const x10 = load<f32>(at(r1, 2 * wo)), x11 = load<f32>(at(r1, 2 * wo + 1));
        let best = x00, k = 0;
        if (x01 > best) { best = x01; k = 1; }
        if (x10 > best) { best = x10; k = 2; }
        if (x11 > best) k = 3;
        if (k == 0) g00 = gv; else if (k == 1) g01 = gv; else if (k == 2) g10 = gv; else g11 = gv;
      }
      store<f32>(at(d0, 2 * wo), g00); store<f32>(at(d0, 2 * wo + 1), g01);
      store<f32>(at(d1, 2 * wo), g10); store<f32>(at(d1, 2 * wo + 1), g11);
    }
    if (W > 2 * Wo) { // an odd last column no window covers
      store<f32>(at(d0, W - 1), 0); store<f32>(at(d1, W - 1), 0);
    }
  }
  if (H > 2 * Ho) memory.fill(at(dxp, (H - 1) * W), 0, <usize>W << 2);
}

function backwardPlane(xp: usize, gp: usize, dxp: usize, meta: usize): void {
  const H = m(meta, H_), W = m(meta, W_), Ho = m(meta, HO), Wo = m(meta, WO);
  const kh = m(meta, KH), kw = m(meta, KW), ph = m(meta, PH), pw = m(meta, PW);
  const sh = m(meta, SH), sw = m(meta, SW), mode = m(meta, MODE);
  const full: f32 = <f32>(kh * kw);
  memory.fill(dxp, 0, <usize>(H * W) << 2);
  for (let ho = 0; ho < Ho; ho++) {
    const h0 = ho * sh - ph, hs = max(h0, 0), he = min(h0 + kh, H);
    for (let wo = 0; wo < Wo; wo++) {
      const w0 = wo * sw - pw, ws = max(w0, 0), we = min(w0 + kw, W);
      const g = load<f32>(at(gp, ho * Wo + wo));
      if (mode == 0) {
        let k = hs * W + ws;
        let best = load<f32>(at(xp, k));
        for (let h = hs; h < he; h++) {
          for (let w = ws; w < we; w++) {
            const v = load<f32>(at(xp, h * W + w));
            if (v > best) { best = v; k = h * W + w; }
          }
        }
        const d = at(dxp, k);
        store<f32>(d, load<f32>(d) + g);
      } else {
        const v = g / (mode == 1 ? full : <f32>((he - hs) * (we - ws)));
        for (let h = hs; h < he; h++) {
          for (let w = ws; w < we; w++) {
            const d = at(dxp, h * W + w);
            store<f32>(d, load<f32>(d) + v);
          }
        }
      }
    }
  }
}
