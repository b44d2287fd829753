// Optimizer steps (Knet's update!): one fused, in-place pass over a parameter w, its
// gradient g and up to two state arrays s1, s2 of the same length n.
//
// Kind codes (OptimKind on the TypeScript side) and the formulas, with ge = gs * g where
// gs is the gradient-clipping scale (below):
//    0 sgd       w -= lr * ge
//    1 momentum  v = gamma*v + lr*ge;  w -= v                          (s1 = v)
//    2 nesterov  v1 = gamma*v;  w -= v1;  v = v1 - lr*ge;  w += (1+gamma)*v   (s1 = v)
//    3 adagrad   G += ge^2;  w -= lr * ge / sqrt(G + eps)              (s1 = G)
//    4 adadelta  G = rho*G + (1-rho)*ge^2;  d = ge * sqrt(delta + eps) / sqrt(G + eps);
//                delta = rho*delta + (1-rho)*d^2;  w -= lr * d          (s1 = G, s2 = delta)
//    5 rmsprop   G = rho*G + (1-rho)*ge^2;  w -= lr * ge / sqrt(G + eps)    (s1 = G)
//    6 adam      m = b1*m + (1-b1)*ge;  v = b2*v + (1-b2)*ge^2;
//                w -= lr * (m*c1) / (sqrt(v*c2) + eps)                 (s1 = m, s2 = v)
//                with c1 = 1/(1-b1^t), c2 = 1/(1-b2^t) computed by the caller.
// Argument a is gamma (momentum, nesterov), rho (adadelta, rmsprop) or beta1 (adam);
// b is beta2 (adam). Unused arguments and state pointers are ignored (pass 0).
//
// Gradient clipping (Knet's gclip!): when gclip > 0 a first pass computes ||g|| (sum of
// squares accumulated in f64); if ||g|| > gclip, gs = gclip / ||g||, else gs = 1. g itself
// is not written. The kind switch is outside the loops: each case is its own loop.

import { madd } from './util';

// A block of four elements (wide) or one element splat to all lanes (the scalar tail,
// which runs the same lane code and keeps lane 0), so tail and body round alike.
// @ts-ignore: decorator
@inline function ld(p: usize, wide: bool): v128 {
  return wide ? v128.load(p) : f32x4.splat(load<f32>(p));
}
// @ts-ignore: decorator
@inline function st(p: usize, v: v128, wide: bool): void {
  if (wide) v128.store(p, v);
  else store<f32>(p, f32x4.extract_lane(v, 0));
}

/**
 * The gradient scale for gclip: min(1, gclip / ||g||), or 1 when gclip <= 0. Exported so
 * that a threaded caller computes it once (its f64 sum runs in one order) and hands it to
 * optimStepScaled on each thread's range.
 */
export function optimClipScale(g: usize, n: i32, gclip: f32): f32 {
  if (!(gclip > 0)) return 1;
  let a0 = f64x2.splat(0), a1 = f64x2.splat(0);
  const end4 = <usize>(n & ~3) << 2;
  const end = <usize>n << 2;
  let o: usize = 0;
  for (; o < end4; o += 16) {
    const v = v128.load(g + o);
    const lo = f64x2.promote_low_f32x4(v);
    const hi = f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1));
    a0 = f64x2.add(a0, f64x2.mul(lo, lo));
    a1 = f64x2.add(a1, f64x2.mul(hi, hi));
  }
  const a = f64x2.add(a0, a1);
  let s = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
  for (; o < end; o += 4) {
    const x = <f64>load<f32>(g + o);
    s += x * x;
  }
  const norm = Math.sqrt(s);
  return norm > <f64>gclip ? <f32>(<f64>gclip / norm) : 1;
}

// One block of each kind. pw, pg, p1, p2 point at the same element of w, g, s1, s2.

// @ts-ignore: decorator
@inline function sgd(wide: bool, pw: usize, pg: usize, gs: v128, lr: v128): void {
  const ge = f32x4.mul(ld(pg, wide), gs);
  st(pw, f32x4.sub(ld(pw, wide), f32x4.mul(lr, ge)), wide);
}

// @ts-ignore: decorator
@inline function momentum(wide: bool, pw: usize, pg: usize, p1: usize, gs: v128, lr: v128, gamma: v128): void {
  const ge = f32x4.mul(ld(pg, wide), gs);
  const v = madd(gamma, ld(p1, wide), f32x4.mul(lr, ge));
  st(p1, v, wide);
  st(pw, f32x4.sub(ld(pw, wide), v), wide);
}

// @ts-ignore: decorator
@inline function nesterov(wide: bool, pw: usize, pg: usize, p1: usize, gs: v128, lr: v128, gamma: v128, gamma1: v128): void {
  const ge = f32x4.mul(ld(pg, wide), gs);
  const v1 = f32x4.mul(gamma, ld(p1, wide));
  const w1 = f32x4.sub(ld(pw, wide), v1);
  const v = f32x4.sub(v1, f32x4.mul(lr, ge));
  st(p1, v, wide);
  st(pw, madd(gamma1, v, w1), wide);
}

// @ts-ignore: decorator
@inline function adagrad(wide: bool, pw: usize, pg: usize, p1: usize, gs: v128, lr: v128, eps: v128): void {
  const ge = f32x4.mul(ld(pg, wide), gs);
  const G = madd(ge, ge, ld(p1, wide));
  st(p1, G, wide);
  const step = f32x4.div(ge, f32x4.sqrt(f32x4.add(G, eps)));
  st(pw, f32x4.sub(ld(pw, wide), f32x4.mul(lr, step)), wide);
}

// @ts-ignore: decorator
@inline function adadelta(wide: bool, pw: usize, pg: usize, p1: usize, p2: usize, gs: v128, lr: v128,
                          rho: v128, rho1: v128, eps: v128): void {
  const ge = f32x4.mul(ld(pg, wide), gs);
  const G = madd(rho, ld(p1, wide), f32x4.mul(rho1, f32x4.mul(ge, ge)));
  st(p1, G, wide);
  const delta = ld(p2, wide);
  const d = f32x4.div(f32x4.mul(ge, f32x4.sqrt(f32x4.add(delta, eps))), f32x4.sqrt(f32x4.add(G, eps)));
  st(p2, madd(rho, delta, f32x4.mul(rho1, f32x4.mul(d, d))), wide);
  st(pw, f32x4.sub(ld(pw, wide), f32x4.mul(lr, d)), wide);
}

// @ts-ignore: decorator
@inline function rmsprop(wide: bool, pw: usize, pg: usize, p1: usize, gs: v128, lr: v128,
                         rho: v128, rho1: v128, eps: v128): void {
  const ge = f32x4.mul(ld(pg, wide), gs);
  const G = madd(rho, ld(p1, wide), f32x4.mul(rho1, f32x4.mul(ge, ge)));
  st(p1, G, wide);
  const step = f32x4.div(ge, f32x4.sqrt(f32x4.add(G, eps)));
  st(pw, f32x4.sub(ld(pw, wide), f32x4.mul(lr, step)), wide);
}

// @ts-ignore: decorator
@inline function adam(wide: bool, pw: usize, pg: usize, p1: usize, p2: usize, gs: v128, lr: v128,
                      b1: v128, b11: v128, b2: v128, b21: v128, eps: v128, c1: v128, c2: v128): void {
  const ge = f32x4.mul(ld(pg, wide), gs);
  const m = madd(b1, ld(p1, wide), f32x4.mul(b11, ge));
  const v = madd(b2, ld(p2, wide), f32x4.mul(b21, f32x4.mul(ge, ge)));
  st(p1, m, wide);
  st(p2, v, wide);
  const step = f32x4.div(f32x4.mul(m, c1), f32x4.add(f32x4.sqrt(f32x4.mul(v, c2)), eps));
  st(pw, f32x4.sub(ld(pw, wide), f32x4.mul(lr, step)), wide);
}

/**
 * One optimizer step on n elements, in place: w, s1, s2 are updated, g is only read.
 * w, g, s1, s2 must not overlap. See the table at the top for kinds and arguments.
 */
export function optimStep(kind: i32, w: usize, g: usize, s1: usize, s2: usize, n: i32,
                          lr: f32, gclip: f32, a: f32, b: f32, eps: f32, c1: f32, c2: f32): void {
  optimStepScaled(kind, w, g, s1, s2, n, optimClipScale(g, n, gclip), lr, a, b, eps, c1, c2);
}

/**
 * optimStep with the clipping scale given (ge = gscale * g): the per-element pass alone,
 * which threads run on ranges of w, g, s1, s2 (elements are independent).
 */
export function optimStepScaled(kind: i32, w: usize, g: usize, s1: usize, s2: usize, n: i32,
                                gscale: f32, lr: f32, a: f32, b: f32, eps: f32, c1: f32, c2: f32): void {
  const gs = f32x4.splat(gscale);
  const vlr = f32x4.splat(lr);
  const va = f32x4.splat(a), va1 = f32x4.splat(1 - a);
  const vb = f32x4.splat(b), vb1 = f32x4.splat(1 - b);
  const veps = f32x4.splat(eps);
  const end4 = <usize>(n & ~3) << 2;
  const end = <usize>n << 2;
  let o: usize = 0;
  switch (kind) {
    case 0: {
      for (; o < end4; o += 16) sgd(true, w + o, g + o, gs, vlr);
      for (; o < end; o += 4) sgd(false, w + o, g + o, gs, vlr);
      break;
    }
    case 1: {
      for (; o < end4; o += 16) momentum(true, w + o, g + o, s1 + o, gs, vlr, va);
      for (; o < end; o += 4) momentum(false, w + o, g + o, s1 + o, gs, vlr, va);
      break;
    }
    case 2: {
      const va1p = f32x4.splat(1 + a);
      for (; o < end4; o += 16) nesterov(true, w + o, g + o, s1 + o, gs, vlr, va, va1p);
      for (; o < end; o += 4) nesterov(false, w + o, g + o, s1 + o, gs, vlr, va, va1p);
      break;
    }
    case 3: {
      for (; o < end4; o += 16) adagrad(true, w + o, g + o, s1 + o, gs, vlr, veps);
      for (; o < end; o += 4) adagrad(false, w + o, g + o, s1 + o, gs, vlr, veps);
      break;
    }
    case 4: {
      for (; o < end4; o += 16) adadelta(true, w + o, g + o, s1 + o, s2 + o, gs, vlr, va, va1, veps);
      for (; o < end; o += 4) adadelta(false, w + o, g + o, s1 + o, s2 + o, gs, vlr, va, va1, veps);
      break;
    }
    case 5: {
      for (; o < end4; o += 16) rmsprop(true, w + o, g + o, s1 + o, gs, vlr, va, va1, veps);
      for (; o < end; o += 4) rmsprop(false, w + o, g + o, s1 + o, gs, vlr, va, va1, veps);
      break;
    }
    case 6: {
      const vc1 = f32x4.splat(c1), vc2 = f32x4.splat(c2);
      for (; o < end4; o += 16) adam(true, w + o, g + o, s1 + o, s2 + o, gs, vlr, va, va1, vb, vb1, veps, vc1, vc2);
      for (; o < end; o += 4) adam(false, w + o, g + o, s1 + o, s2 + o, gs, vlr, va, va1, vb, vb1, veps, vc1, vc2);
      break;
    }
  }
}
