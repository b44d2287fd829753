// copy.wgsl: data movement, one thread per output element.
//   fill      y = a 32-bit pattern (float32 or int32: the device passes the bits)
//   cast      y (float32) = x (int32)
//   strided   y (contiguous) = x viewed with per-axis strides over y's shape: transpose,
//             permute, broadcastTo (stride 0); copies bits, so it serves int32 too
//   transpose y[j, i] = x[i, j] for a batch of 2-D matrices, through a workgroup tile so
//             that both the reads and the writes are contiguous
//   copy_strided  y[idx . ystrides] = x[idx . xstrides] over a shape (slices that are not
//             views, concatenation, the gradient of a slice); bits, any 4-byte dtype
//   gather    y[o, j, i] = x[o, ids[j], i]; bits, any 4-byte dtype
//   scatter_add  dx[o, ids[j], i] += g[o, j, i] in float32, one thread per element of g,
//             added with a compare-and-swap loop so that repeated ids accumulate (the
//             order of the additions, unlike the cpu's, is not fixed)
// gather and scatter_add never use an id outside [0, n) as an address: they skip it and
// record the first bad j in error slot `slot` (as pick does, see reduce.wgsl).
//
// The text before the first `//// name` line is shared; each section is its own module
// (entry point `main`). WG and TILE are overrides chosen from the adapter's limits.

override WG: u32 = 256u;

fn linear(wid: vec3u, nwg: vec3u, li: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + li;
}

//// fill
struct P { n: u32, yo: u32, bits: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> y: array<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let i = linear(wid, nwg, li);
  if (i < p.n) { y[p.yo + i] = p.bits; }
}

//// cast
struct P { n: u32, xo: u32, yo: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<i32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let i = linear(wid, nwg, li);
  if (i < p.n) { y[p.yo + i] = f32(x[p.xo + i]); }
}

//// strided
// Strides may be 0 (broadcast) or negative; up to 8 axes.
struct P {
  n: u32, xo: u32, yo: u32, ndim: u32,
  shape: array<vec4u, 2>, xstr: array<vec4i, 2>,
}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> y: array<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let i = linear(wid, nwg, li);
  if (i >= p.n) { return; }
  var rest = i;
  var xi = i32(p.xo);
  for (var d = i32(p.ndim) - 1; d >= 0; d--) {
    let q = u32(d) / 4u;
    let r = u32(d) % 4u;
    let len = p.shape[q][r];
    xi += i32(rest % len) * p.xstr[q][r];
    rest = rest / len;
  }
  y[p.yo + i] = x[xi];
}

//// transpose
// x is [batch, rows, cols] and y is [batch, cols, rows]. One workgroup moves one TILE x TILE
// block; the grid is (col tiles, row tiles * batch).
override TILE: u32 = 16u;
struct P { rows: u32, cols: u32, xo: u32, yo: u32, rowTiles: u32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> y: array<u32>;
var<workgroup> tile: array<u32, TILE * (TILE + 1u)>;

@compute @workgroup_size(TILE, TILE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let batch = wid.y / p.rowTiles;
  let r0 = (wid.y % p.rowTiles) * TILE;
  let c0 = wid.x * TILE;
  let base = batch * p.rows * p.cols;
  // read rows of x (contiguous along cols)
  let r = r0 + lid.y;
  let c = c0 + lid.x;
  if (r < p.rows && c < p.cols) { tile[lid.y * (TILE + 1u) + lid.x] = x[p.xo + base + r * p.cols + c]; }
  workgroupBarrier();
  // write rows of y (contiguous along rows of x)
  let yr = c0 + lid.y;
  let yc = r0 + lid.x;
  if (yr < p.cols && yc < p.rows) { y[p.yo + base + yr * p.rows + yc] = tile[lid.x * (TILE + 1u) + lid.y]; }
}

//// copy_strided
struct P {
  n: u32, xo: u32, yo: u32, ndim: u32,
  shape: array<vec4u, 2>, xstr: array<vec4i, 2>, ystr: array<vec4i, 2>,
}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> y: array<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let i = linear(wid, nwg, li);
  if (i >= p.n) { return; }
  var rest = i;
  var xi = i32(p.xo);
  var yi = i32(p.yo);
  for (var d = i32(p.ndim) - 1; d >= 0; d--) {
    let q = u32(d) / 4u;
    let r = u32(d) % 4u;
    let len = p.shape[q][r];
    let c = i32(rest % len);
    rest = rest / len;
    xi += c * p.xstr[q][r];
    yi += c * p.ystr[q][r];
  }
  y[yi] = x[xi];
}

//// gather
struct P { outer: u32, n: u32, inner: u32, m: u32, xo: u32, io: u32, yo: u32, slot: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read> ids: array<i32>;
@group(0) @binding(3) var<storage, read_write> y: array<u32>;
@group(0) @binding(4) var<storage, read_write> err: array<atomic<u32>>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let e = linear(wid, nwg, li);
  if (e >= p.outer * p.m * p.inner) { return; }
  let i = e % p.inner;
  let j = (e / p.inner) % p.m;
  let o = e / (p.inner * p.m);
  let id = ids[p.io + j];
  if (id < 0 || u32(id) >= p.n) {
    y[p.yo + e] = 0u;
    atomicMax(&err[p.slot], 0xffffffffu - j);
    return;
  }
  y[p.yo + e] = x[p.xo + (o * p.n + u32(id)) * p.inner + i];
}

//// scatter_add
struct P { outer: u32, n: u32, inner: u32, m: u32, go: u32, io: u32, dxo: u32, slot: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> ids: array<i32>;
@group(0) @binding(3) var<storage, read_write> dx: array<atomic<u32>>;
@group(0) @binding(4) var<storage, read_write> err: array<atomic<u32>>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let e = linear(wid, nwg, li);
  if (e >= p.outer * p.m * p.inner) { return; }
  let i = e % p.inner;
  let j = (e / p.inner) % p.m;
  let o = e / (p.inner * p.m);
  let id = ids[p.io + j];
  if (id < 0 || u32(id) >= p.n) {
    atomicMax(&err[p.slot], 0xffffffffu - j);
    return;
  }
  let v = g[p.go + e];
  let at = p.dxo + (o * p.n + u32(id)) * p.inner + i;
  var old = atomicLoad(&dx[at]);
  loop {
    let r = atomicCompareExchangeWeak(&dx[at], old, bitcast<u32>(bitcast<f32>(old) + v));
    if (r.exchanged) { break; }
    old = r.old_value;
  }
}
