// SIMD float32 approximations of exp, log, tanh and the logistic sigmoid, four lanes at a
// time. They are @inline so hot loops keep everything in registers. Each is accurate to a
// few ulp over the float32 range (see test/kernels-elementwise.test.ts) and handles the
// IEEE special values exactly: exp(-Inf) = 0 and overflow = +Inf, log(0) = -Inf,
// log(x < 0) = NaN, tanh and sigm saturate to their limits without NaN, NaN propagates.
// Scalar code runs the same lane code on a splat (expScalar, logScalar below), so a
// value's result never depends on where it sits in an array.
//
// Polynomials are the single-precision minimax fits from Cephes (expf, logf, tanhf).

import { madd } from './util';

// @ts-ignore: decorator
@inline const LOG2E: f32 = 1.44269504088896341;
// ln 2 split in two: LN2_HI has few mantissa bits, so n * LN2_HI is exact for |n| < 2^15.
// @ts-ignore: decorator
@inline const LN2_HI: f32 = 0.693359375;
// @ts-ignore: decorator
@inline const LN2_LO: f32 = -2.12194440e-4;

// @ts-ignore: decorator
@inline const MAGIC: f32 = 12582912; // 1.5 * 2^23
// @ts-ignore: decorator
@inline const MAGIC_BITS: i32 = 0x4b400000;

/** Lane-wise copysign for a non-negative `mag`: takes the sign bit of `sgn`. */
// @ts-ignore: decorator
@inline export function withSign(mag: v128, sgn: v128): v128 {
  return v128.or(mag, v128.and(sgn, i32x4.splat(0x80000000)));
}

/** Lane-wise e^x. */
// @ts-ignore: decorator
@inline export function expv(x: v128): v128 {
  // Clamp so that n below stays a small integer. Below -110 every result rounds to 0, above
  // 89 every result overflows; the clamp keeps both outcomes. pmax/pmin with x first keep a
  // NaN x, and are one instruction each where min/max are several.
  x = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-110)), f32x4.splat(89));
  // x = n ln2 + r with |r| <= ln2 / 2. Adding 1.5 * 2^23 rounds x log2(e) to an integer
  // held in the low mantissa bits: n as a float and as an int without a slow conversion.
  const t = madd(x, f32x4.splat(LOG2E), f32x4.splat(MAGIC));
  const n = f32x4.sub(t, f32x4.splat(MAGIC));
  const ni = i32x4.sub(t, i32x4.splat(MAGIC_BITS));
  let r = madd(n, f32x4.splat(-LN2_HI), x);
  r = madd(n, f32x4.splat(-LN2_LO), r);
  // e^r = 1 + r + r^2 P(r)
  let p = madd(f32x4.splat(1.9875691500e-4), r, f32x4.splat(1.3981999507e-3));
  p = madd(p, r, f32x4.splat(8.3334519073e-3));
  p = madd(p, r, f32x4.splat(4.1665795894e-2));
  p = madd(p, r, f32x4.splat(1.6666665459e-1));
  p = madd(p, r, f32x4.splat(5.0000001201e-1));
  p = madd(p, f32x4.mul(r, r), f32x4.add(r, f32x4.splat(1)));
  // Scale by 2^n in two steps, 2^(n>>1) * 2^(n - n>>1): each factor is a normal float for
  // n in [-159, 128], so overflow and gradual underflow happen only in the last multiply,
  // which rounds once like a correctly scaled result.
  const n1 = i32x4.shr_s(ni, 1);
  const n2 = i32x4.sub(ni, n1);
  const s1 = i32x4.shl(i32x4.add(n1, i32x4.splat(127)), 23);
  const s2 = i32x4.shl(i32x4.add(n2, i32x4.splat(127)), 23);
  return f32x4.mul(f32x4.mul(p, s1), s2);
}

// @ts-ignore: decorator
@inline const MIN_NORMAL: f32 = 1.17549435e-38;

// log x for positive, normal, finite lanes; ebias is added to the binary exponent.
// @ts-ignore: decorator
@inline function logNormal(x: v128, ebias: v128): v128 {
  // x = m 2^e with m in [sqrt(1/2), sqrt(2)), then log x = log1p(m - 1) + e ln2.
  let e = i32x4.add(i32x4.sub(i32x4.shr_u(x, 23), i32x4.splat(126)), ebias);
  let m = v128.or(v128.and(x, i32x4.splat(0x007fffff)), i32x4.splat(0x3f000000)); // [0.5, 1)
  const low = f32x4.lt(m, f32x4.splat(0.707106781186547524));
  e = i32x4.add(e, low); // the mask is -1 where m gets doubled
  // m - 1, or 2m - 1 where m was low: both exact (Sterbenz).
  m = f32x4.add(f32x4.sub(m, f32x4.splat(1)), v128.and(m, low));
  const ef = f32x4.convert_i32x4_s(e);
  const z = f32x4.mul(m, m);
  let p = madd(f32x4.splat(7.0376836292e-2), m, f32x4.splat(-1.1514610310e-1));
  p = madd(p, m, f32x4.splat(1.1676998740e-1));
  p = madd(p, m, f32x4.splat(-1.2420140846e-1));
  p = madd(p, m, f32x4.splat(1.4249322787e-1));
  p = madd(p, m, f32x4.splat(-1.6668057665e-1));
  p = madd(p, m, f32x4.splat(2.0000714765e-1));
  p = madd(p, m, f32x4.splat(-2.4999993993e-1));
  p = madd(p, m, f32x4.splat(3.3333331174e-1));
  let y = f32x4.mul(f32x4.mul(p, m), z);
  y = madd(ef, f32x4.splat(LN2_LO), y);
  y = madd(z, f32x4.splat(-0.5), y);
  return madd(ef, f32x4.splat(LN2_HI), f32x4.add(m, y));
}

// Vectors with a lane that is subnormal, zero, negative, infinite or NaN: out of line.
function logSpecial(x: v128): v128 {
  // Subnormals: scale by 2^23 into the normal range and take 23 off the exponent.
  const tiny = f32x4.lt(x, f32x4.splat(MIN_NORMAL));
  const xs = v128.bitselect(f32x4.mul(x, f32x4.splat(8388608)), x, tiny);
  let res = logNormal(xs, v128.and(tiny, i32x4.splat(-23)));
  // +Inf and NaN map to themselves, x < 0 (and -Inf) to NaN, ±0 to -Inf.
  res = v128.bitselect(res, x, f32x4.lt(x, f32x4.splat(Infinity)));
  res = v128.bitselect(f32x4.splat(NaN), res, f32x4.lt(x, f32x4.splat(0)));
  return v128.bitselect(f32x4.splat(-Infinity), res, f32x4.eq(x, f32x4.splat(0)));
}

/** Lane-wise natural logarithm. */
// @ts-ignore: decorator
@inline export function logv(x: v128): v128 {
  // The range test is false for NaN too; the branch is almost always taken.
  const ok = v128.and(f32x4.ge(x, f32x4.splat(MIN_NORMAL)), f32x4.lt(x, f32x4.splat(Infinity)));
  if (i32x4.all_true(ok)) return logNormal(x, i32x4.splat(0));
  return logSpecial(x);
}

/** Lane-wise hyperbolic tangent. */
// @ts-ignore: decorator
@inline export function tanhv(x: v128): v128 {
  const ax = f32x4.abs(x);
  // |x| < 0.625: odd polynomial, since 1 - e^(-2|x|) would cancel.
  const z = f32x4.mul(x, x);
  let p = madd(f32x4.splat(-5.70498872745e-3), z, f32x4.splat(2.06390887954e-2));
  p = madd(p, z, f32x4.splat(-5.37397155531e-2));
  p = madd(p, z, f32x4.splat(1.33314422036e-1));
  p = madd(p, z, f32x4.splat(-3.33332819422e-1));
  const small = madd(f32x4.mul(p, z), x, x);
  // Otherwise (1 - e) / (1 + e) with e = e^(-2|x|) <= 0.29: no cancellation, and e = 0
  // for large |x| gives exactly 1.
  const e = expv(f32x4.mul(ax, f32x4.splat(-2)));
  const one = f32x4.splat(1);
  const big = withSign(f32x4.div(f32x4.sub(one, e), f32x4.add(one, e)), x);
  return v128.bitselect(small, big, f32x4.lt(ax, f32x4.splat(0.625)));
}

/** Lane-wise logistic sigmoid 1 / (1 + e^-x). */
// @ts-ignore: decorator
@inline export function sigmv(x: v128): v128 {
  // e = e^-|x| <= 1 never overflows; sigm(x) = 1 / (1 + e) for x >= 0 and e / (1 + e)
  // for x < 0, which keeps full relative accuracy down to the subnormals.
  const e = expv(f32x4.neg(f32x4.abs(x)));
  const num = v128.bitselect(f32x4.splat(1), e, f32x4.ge(x, f32x4.splat(0)));
  return f32x4.div(num, f32x4.add(f32x4.splat(1), e));
}

/** Lane-wise sign: ±1 for nonzero x, x itself for ±0 and NaN (like Math.sign). */
// @ts-ignore: decorator
@inline export function signv(x: v128): v128 {
  const unit = withSign(f32x4.splat(1), x);
  return v128.bitselect(unit, x, f32x4.gt(f32x4.abs(x), f32x4.splat(0)));
}

/** Scalar e^x through the lane code. */
// @ts-ignore: decorator
@inline export function expScalar(x: f32): f32 { return f32x4.extract_lane(expv(f32x4.splat(x)), 0); }

/** Scalar natural logarithm through the lane code. */
// @ts-ignore: decorator
@inline export function logScalar(x: f32): f32 { return f32x4.extract_lane(logv(f32x4.splat(x)), 0); }
