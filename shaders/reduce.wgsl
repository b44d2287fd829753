// reduce.wgsl: reductions over the middle axis of x viewed as [outer, r, inner].
//   rows          inner == 1: one workgroup per run (or per chunk of a long run: the
//                 device then adds a second pass over the partial results); threads
//                 stride over the run, then a workgroup tree reduction
//   cols          inner > 1: one thread per (o, i), walking j; neighbouring threads read
//                 neighbouring addresses
//   argmax_rows / argmax_cols   int32 position of the first maximum; NaN counts as the
//                 largest value (NumPy, Julia and the cpu kernel agree)
//   softmax_rows / softmax_cols logsumexp (y is [outer, inner]), softmax, logsoftmax
//                 (y shaped like x), stable: max first, then sum exp(x - max)
//   pick          y[o, i] = x[o, labels[o, i], i]
//   unpick        dx[o, j, i] = labels[o, i] == j ? g[o, i] : 0 (one thread per element of
//                 dx, so no zeroing pass and no atomics)
//
// Labels outside [0, r) are never used as an address: pick writes 0 there and unpick
// scatters nothing; both record the first bad flat index o*inner+i in slot `slot` of the
// error buffer (atomicMax of 0xffffffff - index, so 0 means none and the largest stored
// value is the smallest index). The device reads the slots back at its next readback and
// throws there (see ts/device/webgpu/labels.ts).
//
// OP is the ReduceOp code (0 sum, 1 max, 2 min, 3 sumabs2, 4 sumabs); SM the SoftmaxOp code
// (0 logsumexp, 1 softmax, 2 logsoftmax). Both are overrides, so every op compiles to its
// own straight-line kernel. WG is a power of two chosen from the adapter's limits.

override WG: u32 = 256u;
override OP: u32 = 0u;
override SM: u32 = 0u;

fn linear(wid: vec3u, nwg: vec3u, li: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + li;
}
fn group_index(wid: vec3u, nwg: vec3u) -> u32 { return wid.x + wid.y * nwg.x; }

// Private variables, not constants: WGSL rejects Inf and NaN in constant expressions.
var<private> INF_BITS: u32 = 0x7f800000u;
var<private> NAN_BITS: u32 = 0x7fc00000u;
fn inf() -> f32 { return bitcast<f32>(INF_BITS); }
fn nan() -> f32 { return bitcast<f32>(NAN_BITS); }
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn fmax(a: f32, b: f32) -> f32 { return select(select(a, b, b > a), nan(), is_nan(a) || is_nan(b)); }
fn fmin(a: f32, b: f32) -> f32 { return select(select(a, b, b < a), nan(), is_nan(a) || is_nan(b)); }

fn identity() -> f32 {
  if (OP == 1u) { return -inf(); }
  if (OP == 2u) { return inf(); }
  return 0.0;
}
// folds one element into an accumulator
fn fold(acc: f32, v: f32) -> f32 {
  switch (OP) {
    case 1u: { return fmax(acc, v); }
    case 2u: { return fmin(acc, v); }
    case 3u: { return acc + v * v; }
    case 4u: { return acc + abs(v); }
    default: { return acc + v; }
  }
}
// merges two partial results
fn merge(a: f32, b: f32) -> f32 {
  switch (OP) {
    case 1u: { return fmax(a, b); }
    case 2u: { return fmin(a, b); }
    default: { return a + b; }
  }
}

fn exp_s(x: f32) -> f32 {
  if (x < -104.0) { return 0.0; }
  return exp(x);
}

//// rows
struct P { rows: u32, r: u32, chunk: u32, chunks: u32, xo: u32, yo: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
var<workgroup> part: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let w = group_index(wid, nwg);       // uniform across the workgroup
  let o = w / p.chunks;
  let c = w % p.chunks;
  let begin = c * p.chunk;
  let end = min(p.r, begin + p.chunk);
  var acc = identity();
  if (o < p.rows) {
    let base = p.xo + o * p.r;
    for (var j = begin + li; j < end; j += WG) { acc = fold(acc, x[base + j]); }
  }
  part[li] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (li < s) { part[li] = merge(part[li], part[li + s]); }
    workgroupBarrier();
  }
  if (li == 0u && o < p.rows) { y[p.yo + w] = part[0]; }
}

//// cols
struct P { outer: u32, r: u32, inner: u32, xo: u32, yo: u32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let t = linear(wid, nwg, li);
  if (t >= p.outer * p.inner) { return; }
  let o = t / p.inner;
  let i = t % p.inner;
  var at = p.xo + o * p.r * p.inner + i;
  var acc = identity();
  for (var j = 0u; j < p.r; j++) {
    acc = fold(acc, x[at]);
    at += p.inner;
  }
  y[p.yo + t] = acc;
}

//// argmax_rows
struct P { rows: u32, r: u32, xo: u32, yo: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<i32>;
var<workgroup> best: array<f32, WG>;
var<workgroup> where_: array<u32, WG>;

// true when (v, j) beats (w, k): larger, NaN above all, the first position on ties
fn beats(v: f32, j: u32, w: f32, k: u32) -> bool {
  let nv = is_nan(v);
  let nw = is_nan(w);
  if (nv != nw) { return nv; }
  if (nv || v == w) { return j < k; }
  return v > w;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let o = group_index(wid, nwg);
  var bv = -inf();
  var bj = 0xffffffffu;
  if (o < p.rows) {
    let base = p.xo + o * p.r;
    for (var j = li; j < p.r; j += WG) {
      let v = x[base + j];
      if (bj == 0xffffffffu || beats(v, j, bv, bj)) { bv = v; bj = j; }
    }
  }
  best[li] = bv;
  where_[li] = bj;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (li < s) {
      let k = where_[li + s];
      if (k != 0xffffffffu && (where_[li] == 0xffffffffu || beats(best[li + s], k, best[li], where_[li]))) {
        best[li] = best[li + s];
        where_[li] = k;
      }
    }
    workgroupBarrier();
  }
  if (li == 0u && o < p.rows) { y[p.yo + o] = select(i32(where_[0]), 0, where_[0] == 0xffffffffu); }
}

//// argmax_cols
struct P { outer: u32, r: u32, inner: u32, xo: u32, yo: u32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<i32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let t = linear(wid, nwg, li);
  if (t >= p.outer * p.inner) { return; }
  let o = t / p.inner;
  let i = t % p.inner;
  let base = p.xo + o * p.r * p.inner + i;
  var bv = -inf();
  var bj = 0u;
  for (var j = 0u; j < p.r; j++) {
    let v = x[base + j * p.inner];
    // strict comparisons keep the first maximum; the first NaN wins and stays
    if (!is_nan(bv) && (v > bv || is_nan(v) || j == 0u)) { bv = v; bj = j; }
  }
  y[p.yo + t] = i32(bj);
}

//// softmax_rows
struct P { rows: u32, r: u32, xo: u32, yo: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
var<workgroup> part: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let o = group_index(wid, nwg);
  let live = o < p.rows;
  let base = p.xo + o * p.r;
  // the maximum
  var m = -inf();
  if (live) { for (var j = li; j < p.r; j += WG) { m = fmax(m, x[base + j]); } }
  part[li] = m;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (li < s) { part[li] = fmax(part[li], part[li + s]); }
    workgroupBarrier();
  }
  m = part[0];
  workgroupBarrier();
  // sum of exp(x - m); an infinite m makes x - m NaN or -Inf, as on the cpu
  var acc = 0.0;
  if (live) { for (var j = li; j < p.r; j += WG) { acc += exp_s(x[base + j] - m); } }
  part[li] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (li < s) { part[li] = part[li] + part[li + s]; }
    workgroupBarrier();
  }
  let total = part[0];
  if (!live) { return; }
  if (SM == 0u) {
    if (li == 0u) {
      // logsumexp of a run with an infinite maximum is that maximum
      y[p.yo + o] = select(m + log(total), m, abs(m) == inf());
    }
  } else if (SM == 1u) {
    let inv = 1.0 / total;
    for (var j = li; j < p.r; j += WG) { y[p.yo + o * p.r + j] = exp_s(x[base + j] - m) * inv; }
  } else {
    let l = m + log(total);
    for (var j = li; j < p.r; j += WG) { y[p.yo + o * p.r + j] = x[base + j] - l; }
  }
}

//// softmax_cols
struct P { outer: u32, r: u32, inner: u32, xo: u32, yo: u32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let t = linear(wid, nwg, li);
  if (t >= p.outer * p.inner) { return; }
  let o = t / p.inner;
  let i = t % p.inner;
  let base = p.xo + o * p.r * p.inner + i;
  var m = -inf();
  for (var j = 0u; j < p.r; j++) { m = fmax(m, x[base + j * p.inner]); }
  var total = 0.0;
  for (var j = 0u; j < p.r; j++) { total += exp_s(x[base + j * p.inner] - m); }
  if (SM == 0u) {
    y[p.yo + t] = select(m + log(total), m, abs(m) == inf());
  } else if (SM == 1u) {
    let inv = 1.0 / total;
    let out = p.yo + o * p.r * p.inner + i;
    for (var j = 0u; j < p.r; j++) { y[out + j * p.inner] = exp_s(x[base + j * p.inner] - m) * inv; }
  } else {
    let l = m + log(total);
    let out = p.yo + o * p.r * p.inner + i;
    for (var j = 0u; j < p.r; j++) { y[out + j * p.inner] = x[base + j * p.inner] - l; }
  }
}

//// pick
struct P { outer: u32, r: u32, inner: u32, xo: u32, lo: u32, yo: u32, slot: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<i32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> err: array<atomic<u32>>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let t = linear(wid, nwg, li);
  if (t >= p.outer * p.inner) { return; }
  let l = labels[p.lo + t];
  if (l < 0 || u32(l) >= p.r) {
    y[p.yo + t] = 0.0;
    atomicMax(&err[p.slot], 0xffffffffu - t);
    return;
  }
  let o = t / p.inner;
  let i = t % p.inner;
  y[p.yo + t] = x[p.xo + (o * p.r + u32(l)) * p.inner + i];
}

//// unpick
struct P { outer: u32, r: u32, inner: u32, go: u32, lo: u32, dxo: u32, slot: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<i32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@group(0) @binding(4) var<storage, read_write> err: array<atomic<u32>>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let e = linear(wid, nwg, li);
  if (e >= p.outer * p.r * p.inner) { return; }
  let i = e % p.inner;
  let j = (e / p.inner) % p.r;
  let o = e / (p.inner * p.r);
  let t = o * p.inner + i;
  let l = labels[p.lo + t];
  if (j == 0u && (l < 0 || u32(l) >= p.r)) { atomicMax(&err[p.slot], 0xffffffffu - t); }
  dx[p.dxo + e] = select(0.0, g[p.go + t], l == i32(j));
}
