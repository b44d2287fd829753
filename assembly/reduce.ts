// Reductions over the middle axis of x viewed as [outer, r, inner]: reduce (sum, max, min,
// sum of squares, sum of |x|), argmax, logsumexp, softmax, logsoftmax, and pick/unpick
// (gather/scatter by int32 labels along that axis).
//
// Two layouts: inner == 1 reduces contiguous runs of r (SIMD across j, several
// accumulators); inner > 1 walks the r rows of a block of columns (SIMD across i), up to 16
// columns (a cache line per row) at a time with the accumulators in registers, and writes
// y once.
//
// Reduce op codes (ReduceOp on the TypeScript side):
//    0 sum    1 max    2 min    3 sumabs2 (sum of squares)    4 sumabs (sum of |x|)
// max/min propagate NaN. argmax treats NaN as larger than every number (like NumPy and
// Julia) and returns the first position of the maximum.

import { madd } from './util';
import { expv, logv, expScalar, logScalar } from './math';

// ---------------------------------------------------------------------------------------
// Helpers

// @ts-ignore: decorator
@inline function rinit(op: i32): f32 {
  return op == 1 ? -Infinity : op == 2 ? Infinity : 0;
}

// Folds v into the accumulator acc, lane-wise.
// @ts-ignore: decorator
@inline function racc(op: i32, acc: v128, v: v128): v128 {
  switch (op) {
    case 1: return f32x4.max(acc, v);
    case 2: return f32x4.min(acc, v);
    case 3: return madd(v, v, acc);
    case 4: return f32x4.add(acc, f32x4.abs(v));
  }
  return f32x4.add(acc, v);
}

// Merges two accumulators (partial results).
// @ts-ignore: decorator
@inline function rmerge(op: i32, a: v128, b: v128): v128 {
  if (op == 1) return f32x4.max(a, b);
  if (op == 2) return f32x4.min(a, b);
  return f32x4.add(a, b);
}

// Merges the four lanes of an accumulator.
// @ts-ignore: decorator
@inline function rlanes(op: i32, v: v128): f32 {
  v = rmerge(op, v, f32x4.shuffle(v, v, 2, 3, 0, 1));
  v = rmerge(op, v, f32x4.shuffle(v, v, 1, 0, 3, 2));
  return f32x4.extract_lane(v, 0);
}

// A column block of x: four columns as one vector (wide) or one column splat to all lanes
// (the scalar tail, which then runs the same lane code and keeps lane 0).
// @ts-ignore: decorator
@inline function ld(p: usize, wide: bool): v128 {
  return wide ? v128.load(p) : f32x4.splat(load<f32>(p));
}
// @ts-ignore: decorator
@inline function st(p: usize, v: v128, wide: bool): void {
  if (wide) v128.store(p, v);
  else store<f32>(p, f32x4.extract_lane(v, 0));
}

// Reduction of a contiguous run x[0..r): four vector accumulators for throughput.
// @ts-ignore: decorator
@inline function reduceRun(op: i32, x: usize, r: i32): f32 {
  const init = f32x4.splat(rinit(op));
  let a0 = init, a1 = init, a2 = init, a3 = init;
  const end = <usize>r << 2;
  const end16 = <usize>(r & ~15) << 2;
  const end4 = <usize>(r & ~3) << 2;
  let o: usize = 0;
  for (; o < end16; o += 64) {
    a0 = racc(op, a0, v128.load(x + o));
    a1 = racc(op, a1, v128.load(x + o + 16));
    a2 = racc(op, a2, v128.load(x + o + 32));
    a3 = racc(op, a3, v128.load(x + o + 48));
  }
  for (; o < end4; o += 16) a0 = racc(op, a0, v128.load(x + o));
  // Tail elements go into lane 0 only; the other lanes get the identity.
  for (; o < end; o += 4) a1 = racc(op, a1, f32x4.replace_lane(init, 0, load<f32>(x + o)));
  return rlanes(op, rmerge(op, rmerge(op, a0, a1), rmerge(op, a2, a3)));
}

// ---------------------------------------------------------------------------------------
// reduce

// Columns [0, width) of one outer block (rows `inner` floats apart), y[i] = R_j x[j, i].
// Each column's lane code is the same in the 16-, 4- and 1-column loops, so a column's
// result does not depend on which loop (or which thread's range) it falls in.
// @ts-ignore: decorator
@inline function reduceCols(op: i32, x: usize, y: usize, r: i32, inner: i32, width: i32): void {
  const init = f32x4.splat(rinit(op));
  const rb = <usize>inner << 2;
  const xe = x + <usize>r * rb;
  let i = 0;
  for (; i + 16 <= width; i += 16) {
    let a0 = init, a1 = init, a2 = init, a3 = init;
    for (let p = x + (<usize>i << 2); p < xe; p += rb) {
      a0 = racc(op, a0, v128.load(p));
      a1 = racc(op, a1, v128.load(p + 16));
      a2 = racc(op, a2, v128.load(p + 32));
      a3 = racc(op, a3, v128.load(p + 48));
    }
    const q = y + (<usize>i << 2);
    v128.store(q, a0);
    v128.store(q + 16, a1);
    v128.store(q + 32, a2);
    v128.store(q + 48, a3);
  }
  for (; i + 4 <= width; i += 4) {
    let a = init;
    for (let p = x + (<usize>i << 2); p < xe; p += rb) a = racc(op, a, v128.load(p));
    v128.store(y + (<usize>i << 2), a);
  }
  for (; i < width; i++) {
    let a = init;
    for (let p = x + (<usize>i << 2); p < xe; p += rb) a = racc(op, a, f32x4.splat(load<f32>(p)));
    store<f32>(y + (<usize>i << 2), f32x4.extract_lane(a, 0));
  }
}

// Outer blocks [o0, o1), columns [i0, i1) (threads split outer or inner, never r).
// @ts-ignore: decorator
@inline function reduceOp(op: i32, x: usize, y: usize, r: i32, inner: i32, o0: i32, o1: i32, i0: i32, i1: i32): void {
  if (inner == 1) {
    const rb = <usize>r << 2;
    for (let o = o0; o < o1; o++) store<f32>(y + (<usize>o << 2), reduceRun(op, x + <usize>o * rb, r));
  } else {
    const xb = <usize>r * <usize>inner << 2;
    const yb = <usize>inner << 2;
    const off = <usize>i0 << 2;
    for (let o = o0; o < o1; o++) reduceCols(op, x + <usize>o * xb + off, y + <usize>o * yb + off, r, inner, i1 - i0);
  }
}

/** y[o, i] = R_{j<r} x[o, j, i]. */
export function reduce(op: i32, x: usize, y: usize, outer: i32, r: i32, inner: i32): void {
  reduceRange(op, x, y, outer, r, inner, 0, outer, 0, inner);
}

/** `reduce` for outer blocks [o0, o1) and columns [i0, i1) only (outer is not read). */
export function reduceRange(op: i32, x: usize, y: usize, outer: i32, r: i32, inner: i32,
                            o0: i32, o1: i32, i0: i32, i1: i32): void {
  switch (op) {
    case 0: reduceOp(0, x, y, r, inner, o0, o1, i0, i1); break;
    case 1: reduceOp(1, x, y, r, inner, o0, o1, i0, i1); break;
    case 2: reduceOp(2, x, y, r, inner, o0, o1, i0, i1); break;
    case 3: reduceOp(3, x, y, r, inner, o0, o1, i0, i1); break;
    case 4: reduceOp(4, x, y, r, inner, o0, o1, i0, i1); break;
  }
}

// ---------------------------------------------------------------------------------------
// argmax

// Lanes where v beats the best so far: strictly greater (so the first maximum stays), or
// a NaN over a number.
// @ts-ignore: decorator
@inline function beats(v: v128, best: v128): v128 {
  return v128.or(f32x4.gt(v, best), v128.andnot(f32x4.eq(best, best), f32x4.eq(v, v)));
}

// First j < r with x[j] equal to the maximum (NaN matching NaN).
function argmaxRun(x: usize, r: i32): i32 {
  const m = reduceRun(1, x, r);
  const mv = f32x4.splat(m);
  const nan = i32x4.splat(m != m ? -1 : 0);
  const end4 = <usize>(r & ~3) << 2;
  let o: usize = 0;
  for (; o < end4; o += 16) {
    const v = v128.load(x + o);
    const hit = v128.or(f32x4.eq(v, mv), v128.and(f32x4.ne(v, v), nan));
    if (v128.any_true(hit)) return <i32>(o >> 2) + ctz(i32x4.bitmask(hit));
  }
  for (let j = <i32>(o >> 2); j < r; j++) {
    const v = load<f32>(x + (<usize>j << 2));
    if (v == m || (v != v && m != m)) return j;
  }
  return 0; // r == 0
}

// @ts-ignore: decorator
@inline function argmaxCols(x: usize, y: usize, r: i32, rb: usize, wide: bool): void {
  let best = f32x4.splat(-Infinity);
  let idx = i32x4.splat(0);
  for (let j = 0; j < r; j++) {
    const v = ld(x + <usize>j * rb, wide);
    const b = beats(v, best);
    best = v128.bitselect(v, best, b);
    idx = v128.bitselect(i32x4.splat(j), idx, b);
  }
  if (wide) v128.store(y, idx);
  else store<i32>(y, i32x4.extract_lane(idx, 0));
}

/** y[o, i] = first j maximizing x[o, j, i]; y is int32. */
export function argmax(x: usize, y: usize, outer: i32, r: i32, inner: i32): void {
  if (inner == 1) {
    for (let o = 0; o < outer; o++) store<i32>(y + (<usize>o << 2), argmaxRun(x + (<usize>o * <usize>r << 2), r));
    return;
  }
  const rb = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    const xo = x + <usize>o * <usize>r * rb;
    const yo = y + <usize>o * rb;
    let i = 0;
    for (; i + 4 <= inner; i += 4) argmaxCols(xo + (<usize>i << 2), yo + (<usize>i << 2), r, rb, true);
    for (; i < inner; i++) argmaxCols(xo + (<usize>i << 2), yo + (<usize>i << 2), r, rb, false);
  }
}

// ---------------------------------------------------------------------------------------
// logsumexp, softmax, logsoftmax: shift by the maximum so exp never overflows.

// The shift for logsumexp: the maximum, or 0 when it is infinite, so that all -Inf gives
// log 0 = -Inf and any +Inf gives +Inf rather than Inf - Inf = NaN.
// @ts-ignore: decorator
@inline function lseShift(m: v128): v128 {
  return v128.and(m, f32x4.lt(f32x4.abs(m), f32x4.splat(Infinity)));
}

// sum_j exp(x[j] - m) over a contiguous run, storing the terms to y when store is set.
// @ts-ignore: decorator
@inline function sumExpRun(x: usize, y: usize, r: i32, m: f32, store_: bool): f32 {
  const mv = f32x4.splat(m);
  let s0 = f32x4.splat(0), s1 = s0;
  const end = <usize>r << 2;
  const end8 = <usize>(r & ~7) << 2;
  const end4 = <usize>(r & ~3) << 2;
  let o: usize = 0;
  for (; o < end8; o += 32) {
    const e0 = expv(f32x4.sub(v128.load(x + o), mv));
    const e1 = expv(f32x4.sub(v128.load(x + o + 16), mv));
    if (store_) { v128.store(y + o, e0); v128.store(y + o + 16, e1); }
    s0 = f32x4.add(s0, e0);
    s1 = f32x4.add(s1, e1);
  }
  for (; o < end4; o += 16) {
    const e = expv(f32x4.sub(v128.load(x + o), mv));
    if (store_) v128.store(y + o, e);
    s0 = f32x4.add(s0, e);
  }
  let s = rlanes(0, f32x4.add(s0, s1));
  for (; o < end; o += 4) {
    const e = expScalar(load<f32>(x + o) - m);
    if (store_) store<f32>(y + o, e);
    s += e;
  }
  return s;
}

// y[j] = x[j] * c over a contiguous run (y may be x).
// @ts-ignore: decorator
@inline function scaleRun(x: usize, y: usize, r: i32, c: f32): void {
  const cv = f32x4.splat(c);
  const end = <usize>r << 2;
  const end4 = <usize>(r & ~3) << 2;
  let o: usize = 0;
  for (; o < end4; o += 16) v128.store(y + o, f32x4.mul(v128.load(x + o), cv));
  for (; o < end; o += 4) store<f32>(y + o, load<f32>(x + o) * c);
}

// y[j] = (x[j] - m) - c over a contiguous run.
// @ts-ignore: decorator
@inline function shiftRun(x: usize, y: usize, r: i32, m: f32, c: f32): void {
  const mv = f32x4.splat(m);
  const cv = f32x4.splat(c);
  const end = <usize>r << 2;
  const end4 = <usize>(r & ~3) << 2;
  let o: usize = 0;
  for (; o < end4; o += 16) v128.store(y + o, f32x4.sub(f32x4.sub(v128.load(x + o), mv), cv));
  for (; o < end; o += 4) store<f32>(y + o, (load<f32>(x + o) - m) - c);
}

// Column blocks for inner > 1: kind 0 logsumexp, 1 softmax, 2 logsoftmax. Per row j of
// one column vector: the second pass adds exp(x - m) to s (softmax stores it too), the
// third writes the result given c (1 / s for softmax, log s for logsoftmax).
// @ts-ignore: decorator
@inline function expStep(kind: i32, p: usize, q: usize, m: v128, s: v128, wide: bool): v128 {
  const e = expv(f32x4.sub(ld(p, wide), m));
  if (kind == 1) st(q, e, wide);
  return f32x4.add(s, e);
}
// @ts-ignore: decorator
@inline function expFinal(kind: i32, p: usize, q: usize, m: v128, c: v128, wide: bool): void {
  if (kind == 1) st(q, f32x4.mul(ld(q, wide), c), wide);
  else st(q, f32x4.sub(f32x4.sub(ld(p, wide), m), c), wide);
}
// @ts-ignore: decorator
@inline function expC(kind: i32, s: v128): v128 {
  return kind == 1 ? f32x4.div(f32x4.splat(1), s) : logv(s);
}

// Four columns (wide) or one (splat).
// @ts-ignore: decorator
@inline function expCols(kind: i32, x: usize, y: usize, r: i32, rb: usize, wide: bool): void {
  const xe = x + <usize>r * rb;
  let m = f32x4.splat(-Infinity);
  for (let p = x; p < xe; p += rb) m = f32x4.max(m, ld(p, wide));
  if (kind == 0) m = lseShift(m);
  let s = f32x4.splat(0);
  for (let p = x, q = y; p < xe; p += rb, q += rb) s = expStep(kind, p, q, m, s, wide);
  if (kind == 0) {
    st(y, f32x4.add(m, logv(s)), wide);
    return;
  }
  const c = expC(kind, s);
  for (let p = x, q = y; p < xe; p += rb, q += rb) expFinal(kind, p, q, m, c, wide);
}

// Sixteen columns: a whole cache line of each row per visit.
// @ts-ignore: decorator
@inline function expCols16(kind: i32, x: usize, y: usize, r: i32, rb: usize): void {
  const xe = x + <usize>r * rb;
  let m0 = f32x4.splat(-Infinity), m1 = m0, m2 = m0, m3 = m0;
  for (let p = x; p < xe; p += rb) {
    m0 = f32x4.max(m0, v128.load(p));
    m1 = f32x4.max(m1, v128.load(p + 16));
    m2 = f32x4.max(m2, v128.load(p + 32));
    m3 = f32x4.max(m3, v128.load(p + 48));
  }
  if (kind == 0) { m0 = lseShift(m0); m1 = lseShift(m1); m2 = lseShift(m2); m3 = lseShift(m3); }
  let s0 = f32x4.splat(0), s1 = s0, s2 = s0, s3 = s0;
  for (let p = x, q = y; p < xe; p += rb, q += rb) {
    s0 = expStep(kind, p, q, m0, s0, true);
    s1 = expStep(kind, p + 16, q + 16, m1, s1, true);
    s2 = expStep(kind, p + 32, q + 32, m2, s2, true);
    s3 = expStep(kind, p + 48, q + 48, m3, s3, true);
  }
  if (kind == 0) {
    v128.store(y, f32x4.add(m0, logv(s0)));
    v128.store(y + 16, f32x4.add(m1, logv(s1)));
    v128.store(y + 32, f32x4.add(m2, logv(s2)));
    v128.store(y + 48, f32x4.add(m3, logv(s3)));
    return;
  }
  const c0 = expC(kind, s0), c1 = expC(kind, s1), c2 = expC(kind, s2), c3 = expC(kind, s3);
  for (let p = x, q = y; p < xe; p += rb, q += rb) {
    expFinal(kind, p, q, m0, c0, true);
    expFinal(kind, p + 16, q + 16, m1, c1, true);
    expFinal(kind, p + 32, q + 32, m2, c2, true);
    expFinal(kind, p + 48, q + 48, m3, c3, true);
  }
}

// Outer blocks [o0, o1), columns [i0, i1), as reduceOp.
// @ts-ignore: decorator
@inline function expFamily(kind: i32, x: usize, y: usize, r: i32, inner: i32, o0: i32, o1: i32, i0: i32, i1: i32): void {
  if (inner == 1) {
    const rb = <usize>r << 2;
    for (let o = o0; o < o1; o++) {
      const xo = x + <usize>o * rb;
      const m = reduceRun(1, xo, r);
      if (kind == 0) {
        const sh = Mathf.abs(m) < Infinity ? m : 0; // as lseShift
        store<f32>(y + (<usize>o << 2), sh + logScalar(sumExpRun(xo, 0, r, sh, false)));
      } else if (kind == 1) {
        const yo = y + <usize>o * rb;
        scaleRun(yo, yo, r, 1 / sumExpRun(xo, yo, r, m, true));
      } else {
        shiftRun(xo, y + <usize>o * rb, r, m, logScalar(sumExpRun(xo, 0, r, m, false)));
      }
    }
    return;
  }
  const rb = <usize>inner << 2;
  const yb = kind == 0 ? rb : <usize>r * rb; // y per outer block: [inner] or [r, inner]
  for (let o = o0; o < o1; o++) {
    const xo = x + <usize>o * <usize>r * rb;
    const yo = y + <usize>o * yb;
    let i = i0;
    for (; i + 16 <= i1; i += 16) expCols16(kind, xo + (<usize>i << 2), yo + (<usize>i << 2), r, rb);
    for (; i + 4 <= i1; i += 4) expCols(kind, xo + (<usize>i << 2), yo + (<usize>i << 2), r, rb, true);
    for (; i < i1; i++) expCols(kind, xo + (<usize>i << 2), yo + (<usize>i << 2), r, rb, false);
  }
}

/** y[o, i] = log sum_j exp(x[o, j, i]), computed stably. */
export function logsumexp(x: usize, y: usize, outer: i32, r: i32, inner: i32): void {
  expFamily(0, x, y, r, inner, 0, outer, 0, inner);
}

/** y[o, j, i] = exp(x[o, j, i] - m) / sum_j exp(x[o, j, i] - m), m the maximum over j. */
export function softmax(x: usize, y: usize, outer: i32, r: i32, inner: i32): void {
  expFamily(1, x, y, r, inner, 0, outer, 0, inner);
}

/** y[o, j, i] = (x[o, j, i] - m) - log sum_j exp(x[o, j, i] - m). */
export function logsoftmax(x: usize, y: usize, outer: i32, r: i32, inner: i32): void {
  expFamily(2, x, y, r, inner, 0, outer, 0, inner);
}

/**
 * kind 0 logsumexp, 1 softmax, 2 logsoftmax for outer blocks [o0, o1) and columns
 * [i0, i1) only: threads split outer or inner, never the reduced axis.
 */
export function softmaxRange(kind: i32, x: usize, y: usize, outer: i32, r: i32, inner: i32,
                             o0: i32, o1: i32, i0: i32, i1: i32): void {
  if (kind == 0) expFamily(0, x, y, r, inner, o0, o1, i0, i1);
  else if (kind == 1) expFamily(1, x, y, r, inner, o0, o1, i0, i1);
  else expFamily(2, x, y, r, inner, o0, o1, i0, i1);
}

// ---------------------------------------------------------------------------------------
// pick, unpick: labels are data, so they are checked here (the caller cannot cheaply).

/** y[o, i] = x[o, labels[o, i], i]. Returns -1, or o*inner+i of the first label not in [0, r). */
export function pick(x: usize, labels: usize, y: usize, outer: i32, r: i32, inner: i32): i32 {
  let k = 0; // flat index o*inner + i
  for (let o = 0; o < outer; o++) {
    const xo = x + (<usize>o * <usize>r * <usize>inner << 2);
    for (let i = 0; i < inner; i++, k++) {
      const l = load<i32>(labels + (<usize>k << 2));
      if (<u32>l >= <u32>r) return k;
      store<f32>(y + (<usize>k << 2), load<f32>(xo + (<usize>(l * inner + i) << 2)));
    }
  }
  return -1;
}

/**
 * dx = 0, then dx[o, labels[o, i], i] = g[o, i]. Returns -1, or o*inner+i of the first label
 * not in [0, r).
 */
export function unpick(g: usize, labels: usize, dx: usize, outer: i32, r: i32, inner: i32): i32 {
  const n = <usize>outer * <usize>r * <usize>inner;
  memory.fill(dx, 0, n << 2);
  let k = 0;
  for (let o = 0; o < outer; o++) {
    const dxo = dx + (<usize>o * <usize>r * <usize>inner << 2);
    for (let i = 0; i < inner; i++, k++) {
      const l = load<i32>(labels + (<usize>k << 2));
      if (<u32>l >= <u32>r) return k;
      store<f32>(dxo + (<usize>(l * inner + i) << 2), load<f32>(g + (<usize>k << 2)));
    }
  }
  return -1;
}
