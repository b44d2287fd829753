// Elementwise kernels: unary maps, binary ops with a scalar or with broadcasting, fill,
// int32 -> float32 conversion, and strided copies (transpose, permute, broadcastTo).
//
// Every op is defined once, on f32x4 lanes (`unaryv`, `binaryv`). Scalar tails and strided
// elements run the same lane code on a splat, so results never depend on position. Each
// exported kernel switches on the op code once, outside its loops: each `case` inlines a
// loop with a constant op, which the optimizer specializes.
//
// Unary op codes (UnaryOp on the TypeScript side):
//    0 copy   1 neg    2 exp    3 log    4 sqrt   5 abs    6 tanh
//    7 sigm   8 relu   9 invx (1/x)   10 step (x > 0 ? 1 : 0)   11 sign   12 square
// Binary op codes (BinaryOp), g(a, b):
//    0 add    1 sub    2 mul    3 div    4 max    5 min    6 pow
//    7 gt (a > b ? 1 : 0)    8 eq (a == b ? 1 : 0)    15 ge (a >= b ? 1 : 0)
//    fused gradients, a = incoming gradient:
//    9 reluBack  (b > 0 ? a : 0, b = x)      10 sigmBack (a*b*(1-b), b = y)
//   11 tanhBack  (a*(1-b*b), b = y)          12 invxBack (-a*b*b, b = y)
//   13 sqrtBack  (a*0.5/b, b = y)            14 absBack  (a*sign(b), b = x)
// max/min propagate NaN, like Math.max/Math.min.

import { madd } from './util';
import { expv, logv, tanhv, sigmv, signv } from './math';

const POW = 6;

// ---------------------------------------------------------------------------------------
// Op definitions

// @ts-ignore: decorator
@inline function unaryv(op: i32, x: v128): v128 {
  switch (op) {
    case 0: return x;
    case 1: return f32x4.neg(x);
    case 2: return expv(x);
    case 3: return logv(x);
    case 4: return f32x4.sqrt(x);
    case 5: return f32x4.abs(x);
    case 6: return tanhv(x);
    case 7: return sigmv(x);
    case 8: return f32x4.pmax(x, f32x4.splat(0)); // x < 0 ? 0 : x, so NaN stays NaN
    case 9: return f32x4.div(f32x4.splat(1), x);
    case 10: return v128.and(f32x4.gt(x, f32x4.splat(0)), f32x4.splat(1));
    case 11: return signv(x);
    case 12: return f32x4.mul(x, x);
  }
  unreachable();
  return x;
}

// @ts-ignore: decorator
@inline function binaryv(op: i32, a: v128, b: v128): v128 {
  const one = f32x4.splat(1);
  switch (op) {
    case 0: return f32x4.add(a, b);
    case 1: return f32x4.sub(a, b);
    case 2: return f32x4.mul(a, b);
    case 3: return f32x4.div(a, b);
    case 4: return f32x4.max(a, b);
    case 5: return f32x4.min(a, b);
    case 6: { // no SIMD pow: lane by lane through the correctly rounded Mathf.pow
      let r = f32x4.splat(Mathf.pow(f32x4.extract_lane(a, 0), f32x4.extract_lane(b, 0)));
      r = f32x4.replace_lane(r, 1, Mathf.pow(f32x4.extract_lane(a, 1), f32x4.extract_lane(b, 1)));
      r = f32x4.replace_lane(r, 2, Mathf.pow(f32x4.extract_lane(a, 2), f32x4.extract_lane(b, 2)));
      return f32x4.replace_lane(r, 3, Mathf.pow(f32x4.extract_lane(a, 3), f32x4.extract_lane(b, 3)));
    }
    case 7: return v128.and(f32x4.gt(a, b), one);
    case 8: return v128.and(f32x4.eq(a, b), one);
    case 9: return v128.and(f32x4.gt(b, f32x4.splat(0)), a);
    case 10: return f32x4.mul(f32x4.mul(a, b), f32x4.sub(one, b));
    case 11: return f32x4.mul(a, madd(f32x4.neg(b), b, one));
    case 12: return f32x4.mul(f32x4.neg(a), f32x4.mul(b, b));
    case 13: return f32x4.div(f32x4.mul(a, f32x4.splat(0.5)), b);
    case 14: return f32x4.mul(a, signv(b));
    case 15: return v128.and(f32x4.ge(a, b), one);
  }
  unreachable();
  return a;
}

// One element through the lane code (pow directly: four scalar pows would be wasted).
// @ts-ignore: decorator
@inline function unarys(op: i32, x: f32): f32 {
  return f32x4.extract_lane(unaryv(op, f32x4.splat(x)), 0);
}
// @ts-ignore: decorator
@inline function binarys(op: i32, a: f32, b: f32): f32 {
  if (op == POW) return Mathf.pow(a, b);
  return f32x4.extract_lane(binaryv(op, f32x4.splat(a), f32x4.splat(b)), 0);
}

// Byte offset of element i at stride s (elements); wraps correctly for negative strides.
// @ts-ignore: decorator
@inline function at(i: i32, s: i32): usize { return <usize>(i * s) << 2; }

// ---------------------------------------------------------------------------------------
// unary, binaryScalar

// @ts-ignore: decorator
@inline function unaryLoop(op: i32, x: usize, y: usize, n: i32): void {
  const end = <usize>n << 2;
  const vend = <usize>(n & ~3) << 2;
  let o: usize = 0;
  for (; o < vend; o += 16) v128.store(y + o, unaryv(op, v128.load(x + o)));
  for (; o < end; o += 4) store<f32>(y + o, unarys(op, load<f32>(x + o)));
}

/** y[i] = f(x[i]) for i < n; y may equal x. */
export function unary(op: i32, x: usize, y: usize, n: i32): void {
  switch (op) {
    case 0: unaryLoop(0, x, y, n); break;
    case 1: unaryLoop(1, x, y, n); break;
    case 2: unaryLoop(2, x, y, n); break;
    case 3: unaryLoop(3, x, y, n); break;
    case 4: unaryLoop(4, x, y, n); break;
    case 5: unaryLoop(5, x, y, n); break;
    case 6: unaryLoop(6, x, y, n); break;
    case 7: unaryLoop(7, x, y, n); break;
    case 8: unaryLoop(8, x, y, n); break;
    case 9: unaryLoop(9, x, y, n); break;
    case 10: unaryLoop(10, x, y, n); break;
    case 11: unaryLoop(11, x, y, n); break;
    case 12: unaryLoop(12, x, y, n); break;
  }
}

// Row loops for the three SIMD stride patterns: vector-vector, vector-scalar, scalar-vector.
// @ts-ignore: decorator
@inline function loopVV(op: i32, a: usize, b: usize, y: usize, n: i32): void {
  const end = <usize>n << 2;
  const vend = <usize>(n & ~3) << 2;
  let o: usize = 0;
  for (; o < vend; o += 16) v128.store(y + o, binaryv(op, v128.load(a + o), v128.load(b + o)));
  for (; o < end; o += 4) store<f32>(y + o, binarys(op, load<f32>(a + o), load<f32>(b + o)));
}
// @ts-ignore: decorator
@inline function loopVS(op: i32, a: usize, bs: f32, y: usize, n: i32): void {
  const end = <usize>n << 2;
  const vend = <usize>(n & ~3) << 2;
  const bv = f32x4.splat(bs);
  let o: usize = 0;
  for (; o < vend; o += 16) v128.store(y + o, binaryv(op, v128.load(a + o), bv));
  for (; o < end; o += 4) store<f32>(y + o, binarys(op, load<f32>(a + o), bs));
}
// @ts-ignore: decorator
@inline function loopSV(op: i32, as: f32, b: usize, y: usize, n: i32): void {
  const end = <usize>n << 2;
  const vend = <usize>(n & ~3) << 2;
  const av = f32x4.splat(as);
  let o: usize = 0;
  for (; o < vend; o += 16) v128.store(y + o, binaryv(op, av, v128.load(b + o)));
  for (; o < end; o += 4) store<f32>(y + o, binarys(op, as, load<f32>(b + o)));
}

// @ts-ignore: decorator
@inline function binaryScalarOp(op: i32, x: usize, s: f32, y: usize, n: i32, swap: i32): void {
  if (swap) loopSV(op, s, x, y, n);
  else loopVS(op, x, s, y, n);
}

/** y[i] = g(x[i], s), or g(s, x[i]) when swap != 0; y may equal x. */
export function binaryScalar(op: i32, x: usize, s: f32, y: usize, n: i32, swap: i32): void {
  switch (op) {
    case 0: binaryScalarOp(0, x, s, y, n, swap); break;
    case 1: binaryScalarOp(1, x, s, y, n, swap); break;
    case 2: binaryScalarOp(2, x, s, y, n, swap); break;
    case 3: binaryScalarOp(3, x, s, y, n, swap); break;
    case 4: binaryScalarOp(4, x, s, y, n, swap); break;
    case 5: binaryScalarOp(5, x, s, y, n, swap); break;
    case 6: binaryScalarOp(6, x, s, y, n, swap); break;
    case 7: binaryScalarOp(7, x, s, y, n, swap); break;
    case 8: binaryScalarOp(8, x, s, y, n, swap); break;
    case 9: binaryScalarOp(9, x, s, y, n, swap); break;
    case 10: binaryScalarOp(10, x, s, y, n, swap); break;
    case 11: binaryScalarOp(11, x, s, y, n, swap); break;
    case 12: binaryScalarOp(12, x, s, y, n, swap); break;
    case 13: binaryScalarOp(13, x, s, y, n, swap); break;
    case 14: binaryScalarOp(14, x, s, y, n, swap); break;
    case 15: binaryScalarOp(15, x, s, y, n, swap); break;
  }
}

// ---------------------------------------------------------------------------------------
// binary with broadcasting

// One innermost row: y[i] = g(a[i*sa], b[i*sb]). SIMD when both strides are 1 or one is 0.
// @ts-ignore: decorator
@inline function binaryRowOp(op: i32, a: usize, sa: i32, b: usize, sb: i32, y: usize, n: i32): void {
  if (sa == 1 && sb == 1) loopVV(op, a, b, y, n);
  else if (sa == 1 && sb == 0) loopVS(op, a, load<f32>(b), y, n);
  else if (sa == 0 && sb == 1) loopSV(op, load<f32>(a), b, y, n);
  else {
    for (let i = 0; i < n; i++) {
      store<f32>(y + (<usize>i << 2), binarys(op, load<f32>(a + at(i, sa)), load<f32>(b + at(i, sb))));
    }
  }
}

function binaryRow(op: i32, a: usize, sa: i32, b: usize, sb: i32, y: usize, n: i32): void {
  switch (op) {
    case 0: binaryRowOp(0, a, sa, b, sb, y, n); break;
    case 1: binaryRowOp(1, a, sa, b, sb, y, n); break;
    case 2: binaryRowOp(2, a, sa, b, sb, y, n); break;
    case 3: binaryRowOp(3, a, sa, b, sb, y, n); break;
    case 4: binaryRowOp(4, a, sa, b, sb, y, n); break;
    case 5: binaryRowOp(5, a, sa, b, sb, y, n); break;
    case 6: binaryRowOp(6, a, sa, b, sb, y, n); break;
    case 7: binaryRowOp(7, a, sa, b, sb, y, n); break;
    case 8: binaryRowOp(8, a, sa, b, sb, y, n); break;
    case 9: binaryRowOp(9, a, sa, b, sb, y, n); break;
    case 10: binaryRowOp(10, a, sa, b, sb, y, n); break;
    case 11: binaryRowOp(11, a, sa, b, sb, y, n); break;
    case 12: binaryRowOp(12, a, sa, b, sb, y, n); break;
    case 13: binaryRowOp(13, a, sa, b, sb, y, n); break;
    case 14: binaryRowOp(14, a, sa, b, sb, y, n); break;
    case 15: binaryRowOp(15, a, sa, b, sb, y, n); break;
  }
}

// Axis d of the output; returns the output pointer after the written block. Recursion
// (depth <= ndim <= 8) keeps the axis counters in locals: kernels own no memory.
function binaryAxis(op: i32, a: usize, b: usize, y: usize, d: i32, ndim: i32, meta: usize): usize {
  const n = load<i32>(meta + (<usize>d << 2));
  const sa = load<i32>(meta + (<usize>(ndim + d) << 2));
  const sb = load<i32>(meta + (<usize>(2 * ndim + d) << 2));
  if (d == ndim - 1) {
    binaryRow(op, a, sa, b, sb, y, n);
    return y + (<usize>n << 2);
  }
  for (let i = 0; i < n; i++) y = binaryAxis(op, a + at(i, sa), b + at(i, sb), y, d + 1, ndim, meta);
  return y;
}

/**
 * Broadcasting y = g(a, b). meta: i32[3*ndim] = out shape, a's strides, b's strides
 * (elements, 0 on broadcast axes). y is contiguous and may equal a or b when that operand
 * has the output's shape and contiguous strides.
 */
export function binary(op: i32, a: usize, b: usize, y: usize, ndim: i32, meta: usize): void {
  if (ndim <= 0) binaryRow(op, a, 0, b, 0, y, 1); // a 0-d tensor: one element
  else binaryAxis(op, a, b, y, 0, ndim, meta);
}

/**
 * `binary` for positions [i0, i1) of the outermost axis only (ndim >= 1): threads split
 * that axis. Elements are computed by the same lane code wherever they fall, so any split
 * gives the same bits.
 */
export function binaryOuter(op: i32, a: usize, b: usize, y: usize, ndim: i32, meta: usize, i0: i32, i1: i32): void {
  const sa = load<i32>(meta + (<usize>ndim << 2));
  const sb = load<i32>(meta + (<usize>(2 * ndim) << 2));
  let block = 1; // output elements per position of axis 0
  for (let d = 1; d < ndim; d++) block *= load<i32>(meta + (<usize>d << 2));
  a += at(i0, sa); b += at(i0, sb); y += <usize>i0 * <usize>block << 2;
  if (ndim == 1) { binaryRow(op, a, sa, b, sb, y, i1 - i0); return; }
  for (let i = i0; i < i1; i++, a += at(1, sa), b += at(1, sb)) y = binaryAxis(op, a, b, y, 1, ndim, meta);
}

// ---------------------------------------------------------------------------------------
// fill, i32ToF32

/** y[i] = v for i < n. */
export function fill(y: usize, n: i32, v: f32): void {
  const end = <usize>n << 2;
  const vend = <usize>(n & ~3) << 2;
  const vv = f32x4.splat(v);
  let o: usize = 0;
  for (; o < vend; o += 16) v128.store(y + o, vv);
  for (; o < end; o += 4) store<f32>(y + o, v);
}

/** y[i] = float(x[i]) for int32 x, rounded to nearest. */
export function i32ToF32(x: usize, y: usize, n: i32): void {
  const end = <usize>n << 2;
  const vend = <usize>(n & ~3) << 2;
  let o: usize = 0;
  for (; o < vend; o += 16) v128.store(y + o, f32x4.convert_i32x4_s(v128.load(x + o)));
  for (; o < end; o += 4) store<f32>(y + o, <f32>load<i32>(x + o));
}

// ---------------------------------------------------------------------------------------
// stridedCopy

// y[0..n) = x[i*s]: a vector copy at stride 1, a splat fill at stride 0, else a gather.
function copyRow(x: usize, s: i32, y: usize, n: i32): void {
  if (s == 1) {
    const end = <usize>n << 2;
    const vend = <usize>(n & ~3) << 2;
    let o: usize = 0;
    for (; o < vend; o += 16) v128.store(y + o, v128.load(x + o));
    for (; o < end; o += 4) store<f32>(y + o, load<f32>(x + o));
  } else if (s == 0) {
    fill(y, n, load<f32>(x));
  } else {
    for (let i = 0; i < n; i++) store<f32>(y + (<usize>i << 2), load<f32>(x + at(i, s)));
  }
}

// Column width of a transpose tile pass: 64 source rows stay in cache while 4-row strips
// of the output are written.
const TILE = 64;

// y[i, j] = x[i + j*s1] for i < n0, j < n1: the last two axes swapped (source stride 1 on
// the outer one). 4x4 blocks: four contiguous source loads, a register transpose, four
// contiguous stores.
function transposeTiles(x: usize, s1: i32, y: usize, n0: i32, n1: i32): void {
  const n04 = n0 & ~3;
  const n14 = n1 & ~3;
  const ry = <usize>n1 << 2; // output row bytes
  for (let jc = 0; jc < n14; jc += TILE) {
    const je = min(jc + TILE, n14);
    for (let i = 0; i < n04; i += 4) {
      const yi = y + <usize>i * ry;
      const p = x + (<usize>i << 2);
      for (let j = jc; j < je; j += 4) {
        const c0 = v128.load(p + at(j, s1));
        const c1 = v128.load(p + at(j + 1, s1));
        const c2 = v128.load(p + at(j + 2, s1));
        const c3 = v128.load(p + at(j + 3, s1));
        const t0 = f32x4.shuffle(c0, c1, 0, 4, 1, 5);
        const t1 = f32x4.shuffle(c2, c3, 0, 4, 1, 5);
        const t2 = f32x4.shuffle(c0, c1, 2, 6, 3, 7);
        const t3 = f32x4.shuffle(c2, c3, 2, 6, 3, 7);
        const q = yi + (<usize>j << 2);
        v128.store(q, f32x4.shuffle(t0, t1, 0, 1, 4, 5));
        v128.store(q + ry, f32x4.shuffle(t0, t1, 2, 3, 6, 7));
        v128.store(q + 2 * ry, f32x4.shuffle(t2, t3, 0, 1, 4, 5));
        v128.store(q + 3 * ry, f32x4.shuffle(t2, t3, 2, 3, 6, 7));
      }
    }
  }
  // Edges: the last n1 % 4 columns of every row, then the last n0 % 4 rows.
  for (let i = 0; i < n0; i++) {
    const j0 = i < n04 ? n14 : 0;
    const yi = y + <usize>i * ry;
    for (let j = j0; j < n1; j++) store<f32>(yi + (<usize>j << 2), load<f32>(x + (<usize>i << 2) + at(j, s1)));
  }
}

function copyAxis(x: usize, y: usize, d: i32, ndim: i32, meta: usize): usize {
  const n = load<i32>(meta + (<usize>d << 2));
  const s = load<i32>(meta + (<usize>(ndim + d) << 2));
  if (d == ndim - 1) {
    copyRow(x, s, y, n);
    return y + (<usize>n << 2);
  }
  if (d == ndim - 2 && s == 1) {
    const n1 = load<i32>(meta + (<usize>(d + 1) << 2));
    const s1 = load<i32>(meta + (<usize>(ndim + d + 1) << 2));
    if (s1 != 1 && s1 != 0 && n >= 4 && n1 >= 4) {
      transposeTiles(x, s1, y, n, n1);
      return y + (<usize>n * <usize>n1 << 2);
    }
  }
  for (let i = 0; i < n; i++) y = copyAxis(x + at(i, s), y, d + 1, ndim, meta);
  return y;
}

/**
 * y (contiguous) = x viewed with the given strides. meta: i32[2*ndim] = out shape, then
 * x's stride (elements, possibly 0 or negative) for each output axis. y must not overlap x.
 */
export function stridedCopy(x: usize, y: usize, ndim: i32, meta: usize): void {
  if (ndim <= 0) store<f32>(y, load<f32>(x));
  else copyAxis(x, y, 0, ndim, meta);
}
