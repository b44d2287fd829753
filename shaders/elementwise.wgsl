// elementwise.wgsl: float32 maps, one thread per output element.
//   unary   y = f(x)
//   scalar  y = g(x, s), or g(s, x) when swapped
//   flat    y = g(a, b), a and b contiguous with y's shape
//   binary  y = g(a, b) with NumPy broadcasting: per-input strides over y's shape
//
// This file is a template. The device (ts/device/webgpu/kernels/elementwise.ts) holds ONE
// table of op codes (the cpu's UnaryOp/BinaryOp) with a WGSL expression each, and makes one
// module per op by replacing UNARY_EXPR (in x) or BINARY_EXPR (in a, b) below, so every op
// compiles to a straight-line kernel with no switch in its loop.
//
// Sections: the text before the first `//// name` line is shared; each section is the
// entry point `main` of its own module. WG (threads per workgroup) is an override set
// from the adapter's limits. Big tensors use a 2-D grid of workgroups (at most 65535
// per dimension): the linear workgroup index is wid.x + wid.y * nwg.x.
//
// Element offsets (`xo`, `ao`, ...) let a kernel read a view that starts inside a buffer.

override WG: u32 = 256u;

fn linear(wid: vec3u, nwg: vec3u, li: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + li;
}

// IEEE-style helpers the op table uses. WGSL's builtins leave NaN and huge arguments to
// the implementation, so these spell out the cpu kernels' results (docs/kernels.md).

// Private variables, not constants: WGSL rejects Inf and NaN in constant expressions.
var<private> INF_BITS: u32 = 0x7f800000u;
var<private> NAN_BITS: u32 = 0x7fc00000u;
fn inf() -> f32 { return bitcast<f32>(INF_BITS); }
fn nan() -> f32 { return bitcast<f32>(NAN_BITS); }
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }

// NaN-propagating max/min, like Math.max.
fn fmax(a: f32, b: f32) -> f32 { return select(select(a, b, b > a), nan(), is_nan(a) || is_nan(b)); }
fn fmin(a: f32, b: f32) -> f32 { return select(select(a, b, b < a), nan(), is_nan(a) || is_nan(b)); }

// sign that keeps +-0 and NaN.
fn sgn(x: f32) -> f32 { return select(x, select(-1.0, 1.0, x > 0.0), abs(x) > 0.0); }

// tanh as the cpu's (Cephes tanhf): an odd polynomial below 0.625, where builtins that
// go through exp lose all relative precision near 0, and 1 - 2/(exp(2|x|) + 1) above,
// saturating without overflow.
fn tanh_s(x: f32) -> f32 {
  let ax = abs(x);
  if (ax < 0.625) {
    let z = x * x;
    let q = (((-5.70498872745e-3 * z + 2.06390887954e-2) * z - 5.37397155531e-2) * z
             + 1.33314422036e-1) * z - 3.33332819422e-1;
    return x + x * z * q;
  }
  if (is_nan(x)) { return x; }
  let r = 1.0 - 2.0 / (exp(2.0 * min(ax, 20.0)) + 1.0);
  return select(r, -r, x < 0.0);
}

fn sigm(x: f32) -> f32 {
  // exp(-x) overflows to Inf for x < -88, giving 1/Inf = 0: the right limit.
  return 1.0 / (1.0 + exp(-x));
}

fn exp_s(x: f32) -> f32 {
  // exact limits: 0 below the float32 range, Inf above it
  if (x < -104.0) { return 0.0; }
  if (x > 88.8) { return inf(); }
  return exp(x);
}

fn log_s(x: f32) -> f32 {
  if (x == 0.0) { return -inf(); }
  if (x < 0.0) { return nan(); }
  return log(x);
}

// C powf semantics (the cpu kernel's): WGSL's pow is exp2(b*log2(a)), undefined for a <= 0
// and a few ulp off for integer exponents, which training code uses most (x^2, x^-1).
fn powf(a: f32, b: f32) -> f32 {
  if (b == 0.0 || a == 1.0) { return 1.0; }
  if (is_nan(a) || is_nan(b)) { return nan(); }
  let bint = floor(b) == b;
  let odd = bint && abs(b) < 16777216.0 && (i32(abs(b)) & 1) == 1;
  if (bint && abs(b) <= 64.0) {
    // exact-as-possible repeated squaring for small integer exponents (any sign of a)
    var e = u32(abs(b));
    var base = a;
    var r = 1.0;
    loop {
      if ((e & 1u) == 1u) { r *= base; }
      e >>= 1u;
      if (e == 0u) { break; }
      base *= base;
    }
    return select(r, 1.0 / r, b < 0.0);
  }
  let m = abs(a);
  var r: f32;
  if (m == 0.0) {
    r = select(0.0, inf(), b < 0.0);
  } else if (m == inf()) {
    r = select(inf(), 0.0, b < 0.0);
  } else {
    r = exp2(b * log2(m));
  }
  if (bitcast<u32>(a) >= 0x80000000u) {
    // negative base (or -0): defined for integer exponents, odd ones keep the sign; the
    // zeros and infinities follow C (pow(-0, 0.5) = 0, pow(-inf, 0.5) = inf)
    if (m == 0.0 || m == inf()) { return select(r, -r, odd); }
    if (!bint) { return nan(); }
    return select(r, -r, odd);
  }
  return r;
}

fn unary_f(x: f32) -> f32 { return UNARY_EXPR; }
fn binary_f(a: f32, b: f32) -> f32 { return BINARY_EXPR; }

//// unary
struct P { n: u32, xo: u32, yo: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let i = linear(wid, nwg, li);
  if (i < p.n) { y[p.yo + i] = unary_f(x[p.xo + i]); }
}

//// scalar
struct P { n: u32, xo: u32, yo: u32, swap: u32, s: f32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let i = linear(wid, nwg, li);
  if (i < p.n) {
    let v = x[p.xo + i];
    y[p.yo + i] = select(binary_f(v, p.s), binary_f(p.s, v), p.swap != 0u);
  }
}

//// flat
struct P { n: u32, ao: u32, bo: u32, yo: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let i = linear(wid, nwg, li);
  if (i < p.n) { y[p.yo + i] = binary_f(a[p.ao + i], b[p.bo + i]); }
}

//// binary
// Up to 8 axes (the ops collapse contiguous axes, so 1-3 is usual); arrays of vec4 because
// uniform arrays need a 16-byte element stride.
struct P {
  n: u32, ao: u32, bo: u32, yo: u32,
  ndim: u32, pad0: u32, pad1: u32, pad2: u32,
  shape: array<vec4u, 2>, astr: array<vec4i, 2>, bstr: array<vec4i, 2>,
}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let i = linear(wid, nwg, li);
  if (i >= p.n) { return; }
  var rest = i;
  var ai = i32(p.ao);
  var bi = i32(p.bo);
  for (var d = i32(p.ndim) - 1; d >= 0; d--) {
    let q = u32(d) / 4u;
    let r = u32(d) % 4u;
    let len = p.shape[q][r];
    let c = i32(rest % len);
    rest = rest / len;
    ai += c * p.astr[q][r];
    bi += c * p.bstr[q][r];
  }
  y[p.yo + i] = binary_f(a[ai], b[bi]);
}

//// dropout
// Inverted dropout with the cpu's counter-based mask (assembly/dropout.ts), bit for bit:
// element i is kept when the top 24 bits of fmix32(fmix32(i + k0) ^ k1) are at least
// `threshold` = round(p * 2^24); kept elements are scaled by 1/(1-p).
struct P { n: u32, xo: u32, yo: u32, threshold: u32, k0: u32, k1: u32, scale: f32, pad: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

// MurmurHash3's finalizer (u32 arithmetic wraps, as i32x4.mul does)
fn fmix(h0: u32) -> u32 {
  var h = h0;
  h ^= h >> 16u;
  h *= 0x85ebca6bu;
  h ^= h >> 13u;
  h *= 0xc2b2ae35u;
  h ^= h >> 16u;
  return h;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let i = linear(wid, nwg, li);
  if (i >= p.n) { return; }
  let u = fmix(fmix(i + p.k0) ^ p.k1) >> 8u;
  y[p.yo + i] = select(0.0, x[p.xo + i] * p.scale, u >= p.threshold);
}
