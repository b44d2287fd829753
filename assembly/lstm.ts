// The fused LSTM cell: gate nonlinearities and the state update in one pass (forward), and
// its gradient in one pass (backward), over a batch of B rows.
//
// Gate layout, as in the seed's `lstm`: a row of the gates holds 4H pre-activations in the
// order forget, input, output, change: [f | i | o | z], each H wide. With p the
// pre-activations and cp the previous cell:
//   f = sigm(pf)  i = sigm(pi)  o = sigm(po)  z = tanh(pz)
//   c = cp*f + i*z            h = o*tanh(c)
// The forward pass stores the activations [f | i | o | z] for the backward pass, which
// recomputes tanh(c) rather than storing it.

import { madd } from './util';
import { sigmv, tanhv } from './math';

// One group of four lanes (vec) or one element (a splat; only lane 0 is stored), so the
// tail runs the same lane code as the body. Offsets are bytes within a row.
// @ts-ignore: decorator
@inline function ld(p: usize, vec: bool): v128 {
  return vec ? v128.load(p) : f32x4.splat(load<f32>(p));
}
// @ts-ignore: decorator
@inline function st(p: usize, v: v128, vec: bool): void {
  if (vec) v128.store(p, v);
  else store<f32>(p, f32x4.extract_lane(v, 0));
}

// @ts-ignore: decorator
@inline function forwardAt(
  xg: usize, hg: usize, bias: usize, cprev: usize, acts: usize, c: usize, h: usize,
  j: usize, hb: usize, vec: bool, hasH: bool, hasB: bool,
): void {
  // j: byte offset within a gate block of the row; hb: H in bytes
  let pf = ld(xg + j, vec), pi = ld(xg + hb + j, vec), po = ld(xg + 2 * hb + j, vec), pz = ld(xg + 3 * hb + j, vec);
  if (hasH) {
    pf = f32x4.add(pf, ld(hg + j, vec)); pi = f32x4.add(pi, ld(hg + hb + j, vec));
    po = f32x4.add(po, ld(hg + 2 * hb + j, vec)); pz = f32x4.add(pz, ld(hg + 3 * hb + j, vec));
  }
  if (hasB) {
    pf = f32x4.add(pf, ld(bias + j, vec)); pi = f32x4.add(pi, ld(bias + hb + j, vec));
    po = f32x4.add(po, ld(bias + 2 * hb + j, vec)); pz = f32x4.add(pz, ld(bias + 3 * hb + j, vec));
  }
  const f = sigmv(pf), i = sigmv(pi), o = sigmv(po), z = tanhv(pz);
  const cn = madd(ld(cprev + j, vec), f, f32x4.mul(i, z));
  st(acts + j, f, vec); st(acts + hb + j, i, vec); st(acts + 2 * hb + j, o, vec); st(acts + 3 * hb + j, z, vec);
  st(c + (j), cn, vec);
  st(h + (j), f32x4.mul(o, tanhv(cn)), vec);
}

// @ts-ignore: decorator
@inline function forwardRows(
  xg: usize, hg: usize, bias: usize, cprev: usize, acts: usize, c: usize, h: usize,
  B: i32, H: i32, hasH: bool, hasB: bool,
): void {
  const hb = <usize>H << 2, gb = hb << 2;
  const vend = <usize>(H & ~3) << 2;
  for (let r = 0; r < B; r++) {
    const ro = <usize>r;
    const xr = xg + ro * gb, hr = hg + ro * gb, ar = acts + ro * gb;
    const cpr = cprev + ro * hb, cr = c + ro * hb, hr2 = h + ro * hb;
    let j: usize = 0;
    for (; j < vend; j += 16) forwardAt(xr, hr, bias, cpr, ar, cr, hr2, j, hb, true, hasH, hasB);
    for (; j < hb; j += 4) forwardAt(xr, hr, bias, cpr, ar, cr, hr2, j, hb, false, hasH, hasB);
  }
}

/**
 * Forward cell over B rows. Gate pre-activations are xg + hg + bias: xg and hg are [B, 4H]
 * (hg = 0: absent), bias is [4H] (0: absent). cprev is [B, H]. Writes the activations
 * [B, 4H] to acts (which may equal xg or hg), and c, h [B, H].
 */
export function lstmForward(
  xg: usize, hg: usize, bias: usize, cprev: usize, acts: usize, c: usize, h: usize, B: i32, H: i32,
): void {
  if (hg != 0) {
    if (bias != 0) forwardRows(xg, hg, bias, cprev, acts, c, h, B, H, true, true);
    else forwardRows(xg, hg, bias, cprev, acts, c, h, B, H, true, false);
  } else {
    if (bias != 0) forwardRows(xg, hg, bias, cprev, acts, c, h, B, H, false, true);
    else forwardRows(xg, hg, bias, cprev, acts, c, h, B, H, false, false);
  }
}

// @ts-ignore: decorator
@inline function backwardAt(
  acts: usize, cprev: usize, c: usize, dh: usize, dh2: usize, dc: usize,
  dg: usize, dcprev: usize, dbias: usize, j: usize, hb: usize,
  vec: bool, hasDh2: bool, hasDc: bool, hasDb: bool,
): void {
  const one = f32x4.splat(1);
  const f = ld(acts + j, vec), i = ld(acts + hb + j, vec), o = ld(acts + 2 * hb + j, vec), z = ld(acts + 3 * hb + j, vec);
  let gh = ld(dh + j, vec);
  if (hasDh2) gh = f32x4.add(gh, ld(dh2 + j, vec));
  const tc = tanhv(ld(c + j, vec));
  const go = f32x4.mul(gh, tc);
  // gc = dc + gh*o*(1 - tc^2)
  let gc = f32x4.mul(f32x4.mul(gh, o), madd(f32x4.neg(tc), tc, one));
  if (hasDc) gc = f32x4.add(gc, ld(dc + j, vec));
  const gf = f32x4.mul(gc, ld(cprev + j, vec));
  const gi = f32x4.mul(gc, z);
  const gz = f32x4.mul(gc, i);
  // through the nonlinearities: sigm' = y(1-y), tanh' = 1-y^2
  const pf = f32x4.mul(f32x4.mul(gf, f), f32x4.sub(one, f));
  const pi = f32x4.mul(f32x4.mul(gi, i), f32x4.sub(one, i));
  const po = f32x4.mul(f32x4.mul(go, o), f32x4.sub(one, o));
  const pz = f32x4.mul(gz, madd(f32x4.neg(z), z, one));
  st(dcprev + j, f32x4.mul(gc, f), vec);
  st(dg + j, pf, vec); st(dg + hb + j, pi, vec); st(dg + 2 * hb + j, po, vec); st(dg + 3 * hb + j, pz, vec);
  if (hasDb) {
    st(dbias + j, f32x4.add(ld(dbias + j, vec), pf), vec);
    st(dbias + hb + j, f32x4.add(ld(dbias + hb + j, vec), pi), vec);
    st(dbias + 2 * hb + j, f32x4.add(ld(dbias + 2 * hb + j, vec), po), vec);
    st(dbias + 3 * hb + j, f32x4.add(ld(dbias + 3 * hb + j, vec), pz), vec);
  }
}

// @ts-ignore: decorator
@inline function backwardRows(
  acts: usize, cprev: usize, c: usize, dh: usize, dh2: usize, dc: usize,
  dg: usize, dcprev: usize, dbias: usize, B: i32, H: i32, j0: i32, j1: i32,
  hasDh2: bool, hasDc: bool, hasDb: bool,
): void {
  const hb = <usize>H << 2, gb = hb << 2;
  const jstart = <usize>j0 << 2, jend = <usize>j1 << 2;
  const vend = <usize>(j0 + ((j1 - j0) & ~3)) << 2;
  for (let r = 0; r < B; r++) {
    const ro = <usize>r;
    const ar = acts + ro * gb, gr = dg + ro * gb;
    const cpr = cprev + ro * hb, cr = c + ro * hb, dhr = dh + ro * hb, dh2r = dh2 + ro * hb;
    const dcr = dc + ro * hb, dcpr = dcprev + ro * hb;
    let j = jstart;
    for (; j < vend; j += 16) backwardAt(ar, cpr, cr, dhr, dh2r, dcr, gr, dcpr, dbias, j, hb, true, hasDh2, hasDc, hasDb);
    for (; j < jend; j += 4) backwardAt(ar, cpr, cr, dhr, dh2r, dcr, gr, dcpr, dbias, j, hb, false, hasDh2, hasDc, hasDb);
  }
}

/**
 * Backward cell over B rows, from the forward pass's acts [B, 4H], cprev and c [B, H], and
 * the incoming gradients dh (+ dh2, 0: absent) of h and dc (0: absent) of c, all [B, H].
 * Writes the gradient of the pre-activations to dg [B, 4H] (which may equal acts) and of
 * cprev to dcprev [B, H] (which may equal dc), and adds the column sums of dg to dbias
 * [4H] (0: absent).
 */
export function lstmBackward(
  acts: usize, cprev: usize, c: usize, dh: usize, dh2: usize, dc: usize,
  dg: usize, dcprev: usize, dbias: usize, B: i32, H: i32,
): void {
  lstmBackwardCols(acts, cprev, c, dh, dh2, dc, dg, dcprev, dbias, B, H, 0, H);
}

/**
 * lstmBackward for the columns [j0, j1) of every gate block only (j0 a multiple of 4).
 * Threads split columns, not rows: dbias adds up over the rows, and each column keeps
 * its row order this way, so any split gives the same bits.
 */
export function lstmBackwardCols(
  acts: usize, cprev: usize, c: usize, dh: usize, dh2: usize, dc: usize,
  dg: usize, dcprev: usize, dbias: usize, B: i32, H: i32, j0: i32, j1: i32,
): void {
  const k = (dh2 != 0 ? 4 : 0) | (dc != 0 ? 2 : 0) | (dbias != 0 ? 1 : 0);
  switch (k) {
    case 0: backwardRows(acts, cprev, c, dh, dh2, dc, dg, dcprev, dbias, B, H, j0, j1, false, false, false); break;
    case 1: backwardRows(acts, cprev, c, dh, dh2, dc, dg, dcprev, dbias, B, H, j0, j1, false, false, true); break;
    case 2: backwardRows(acts, cprev, c, dh, dh2, dc, dg, dcprev, dbias, B, H, j0, j1, false, true, false); break;
    case 3: backwardRows(acts, cprev, c, dh, dh2, dc, dg, dcprev, dbias, B, H, j0, j1, false, true, true); break;
    case 4: backwardRows(acts, cprev, c, dh, dh2, dc, dg, dcprev, dbias, B, H, j0, j1, true, false, false); break;
    case 5: backwardRows(acts, cprev, c, dh, dh2, dc, dg, dcprev, dbias, B, H, j0, j1, true, false, true); break;
    case 6: backwardRows(acts, cprev, c, dh, dh2, dc, dg, dcprev, dbias, B, H, j0, j1, true, true, false); break;
    case 7: backwardRows(acts, cprev, c, dh, dh2, dc, dg, dcprev, dbias, B, H, j0, j1, true, true, true); break;
  }
}
