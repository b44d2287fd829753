// conv.wgsl: conv4 (NCHW images, OIHW filters) and pooling, forward and backward, with the
// cpu's geometry and semantics (assembly/im2col.ts, assembly/pool.ts). Direct kernels, one
// thread per output element, each summing in the same order for every thread:
//   conv_forward  y[n,o,ho,wo] = sum_{c,i,j} w[o,c,i,j] * x[n,c, ho*sh-ph+i'*dh, wo*sw-pw+j'*dw]
//                 where (i', j') = (i, j), or (kh-1-i, kw-1-j) for a true convolution (flip);
//                 positions outside the image count as 0
//   conv_filter   dw[o,c,i,j] = sum_{n,ho,wo} dy[n,o,ho,wo] * x[n,c, ho*sh-ph+i'*dh, wo*sw-pw+j'*dw]
//                 (conv_filter_split: the same sum, split over a workgroup, for long sums)
//   conv_data     dx[n,c,h,w] = sum of w[o,c,i,j] * dy[n,o,ho,wo] over the taps that read (h, w)
//   pool_forward  y[p,ho,wo] = max / mean of the window rows [ho*sh-ph, +kh), columns
//                 [wo*sw-pw, +kw) clipped to the image; mode 0 max (the first pixel, then
//                 a later one only when larger: a NaN first pixel stays), 1 mean over
//                 kh*kw, 2 mean over the pixels inside the image
//   pool_backward dx[p,h,w] = the sum, over the windows holding (h, w) in output order, of
//                 dy (max: only where (h, w) is the window's first maximum) or dy/count
// The geometry is 16 u32 in the uniforms, in the cpu's order.

override WG: u32 = 256u;

fn linear(wid: vec3u, nwg: vec3u, li: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + li;
}

struct Geo {
  N: u32, C: u32, H: u32, W: u32, O: u32, kh: u32, kw: u32, Ho: u32,
  Wo: u32, ph: u32, pw: u32, sh: u32, sw: u32, dh: u32, dw: u32, flip: u32,
}
// a tap's row offset within the window (flipped for a true convolution)
fn tap_i(g: Geo, i: u32) -> i32 { return i32(select(i, g.kh - 1u - i, g.flip != 0u) * g.dh); }
fn tap_j(g: Geo, j: u32) -> i32 { return i32(select(j, g.kw - 1u - j, g.flip != 0u) * g.dw); }

// Filter tap e of dw[o, c, i, j] (both filter-gradient kernels): its output and input
// channels, and the offsets its row and column add to an output position's (ho*sh, wo*sw).
struct FilterTap { o: u32, c: u32, di: i32, dj: i32 }
fn filter_tap(g: Geo, e: u32) -> FilterTap {
  let j = e % g.kw;
  let i = (e / g.kw) % g.kh;
  let c = (e / (g.kw * g.kh)) % g.C;
  let o = e / (g.kw * g.kh * g.C);
  return FilterTap(o, c, tap_i(g, i) - i32(g.ph), tap_j(g, j) - i32(g.pw));
}

//// conv_forward
struct P { g: Geo, xo: u32, wo_: u32, yo: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let g = p.g;
  let e = linear(wid, nwg, li);
  if (e >= g.N * g.O * g.Ho * g.Wo) { return; }
  let wo = e % g.Wo;
  let ho = (e / g.Wo) % g.Ho;
  let o = (e / (g.Wo * g.Ho)) % g.O;
  let n = e / (g.Wo * g.Ho * g.O);
  let h0 = i32(ho * g.sh) - i32(g.ph);
  let w0 = i32(wo * g.sw) - i32(g.pw);
  var acc = 0.0;
  for (var c = 0u; c < g.C; c++) {
    let xc = p.xo + (n * g.C + c) * g.H * g.W;
    let wc = p.wo_ + (o * g.C + c) * g.kh * g.kw;
    for (var i = 0u; i < g.kh; i++) {
      let h = h0 + tap_i(g, i);
      if (h < 0 || h >= i32(g.H)) { continue; }
      for (var j = 0u; j < g.kw; j++) {
        let ww = w0 + tap_j(g, j);
        if (ww < 0 || ww >= i32(g.W)) { continue; }
        acc = fma(w[wc + i * g.kw + j], x[xc + u32(h) * g.W + u32(ww)], acc);
      }
    }
  }
  y[p.yo + e] = acc;
}

//// conv_filter
struct P { g: Geo, xo: u32, dyo: u32, dwo: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dw: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let g = p.g;
  let e = linear(wid, nwg, li);
  if (e >= g.O * g.C * g.kh * g.kw) { return; }
  let t = filter_tap(g, e);
  var acc = 0.0;
  for (var n = 0u; n < g.N; n++) {
    let xc = p.xo + (n * g.C + t.c) * g.H * g.W;
    let yc = p.dyo + (n * g.O + t.o) * g.Ho * g.Wo;
    for (var ho = 0u; ho < g.Ho; ho++) {
      let h = i32(ho * g.sh) + t.di;
      if (h < 0 || h >= i32(g.H)) { continue; }
      for (var wo = 0u; wo < g.Wo; wo++) {
        let ww = i32(wo * g.sw) + t.dj;
        if (ww < 0 || ww >= i32(g.W)) { continue; }
        acc = fma(dy[yc + ho * g.Wo + wo], x[xc + u32(h) * g.W + u32(ww)], acc);
      }
    }
  }
  dw[p.dwo + e] = acc;
}

//// conv_filter_split
// conv_filter for long sums (N*Ho*Wo products per filter tap: 57,600 for LeNet's first
// layer, whose 500 taps would leave a GPU almost idle at one thread each): one workgroup
// per tap, its SPLIT threads taking the (n, ho) rows r = t, t + SPLIT, ... in order, then
// a fixed-order tree over the partial sums. Deterministic; SPLIT times the parallelism.
const SPLIT: u32 = 64u;
struct P { g: Geo, xo: u32, dyo: u32, dwo: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dw: array<f32>;
var<workgroup> part: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let g = p.g;
  let e = wid.x + wid.y * nwg.x; // the tap: uniform across the workgroup (barriers below)
  let valid = e < g.O * g.C * g.kh * g.kw;
  var acc = 0.0;
  if (valid) {
    let t = filter_tap(g, e);
    for (var r = li; r < g.N * g.Ho; r += SPLIT) {
      let n = r / g.Ho;
      let ho = r % g.Ho;
      let h = i32(ho * g.sh) + t.di;
      if (h < 0 || h >= i32(g.H)) { continue; }
      let xr = p.xo + ((n * g.C + t.c) * g.H + u32(h)) * g.W;
      let yr = p.dyo + ((n * g.O + t.o) * g.Ho + ho) * g.Wo;
      for (var wo = 0u; wo < g.Wo; wo++) {
        let ww = i32(wo * g.sw) + t.dj;
        if (ww < 0 || ww >= i32(g.W)) { continue; }
        acc = fma(dy[yr + wo], x[xr + u32(ww)], acc);
      }
    }
  }
  part[li] = acc;
  workgroupBarrier();
  for (var s = SPLIT / 2u; s > 0u; s = s >> 1u) {
    if (li < s) { part[li] = part[li] + part[li + s]; }
    workgroupBarrier();
  }
  if (li == 0u && valid) { dw[p.dwo + e] = part[0]; }
}

//// conv_data
struct P { g: Geo, wo_: u32, dyo: u32, dxo: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let g = p.g;
  let e = linear(wid, nwg, li);
  if (e >= g.N * g.C * g.H * g.W) { return; }
  let ww = i32(e % g.W);
  let h = i32((e / g.W) % g.H);
  let c = (e / (g.W * g.H)) % g.C;
  let n = e / (g.W * g.H * g.C);
  var acc = 0.0;
  for (var o = 0u; o < g.O; o++) {
    let wc = p.wo_ + (o * g.C + c) * g.kh * g.kw;
    let yc = p.dyo + (n * g.O + o) * g.Ho * g.Wo;
    for (var i = 0u; i < g.kh; i++) {
      // the output row that reads row h through tap i: ho*sh = h + ph - i'*dh
      let th = h + i32(g.ph) - tap_i(g, i);
      if (th < 0 || th % i32(g.sh) != 0) { continue; }
      let ho = u32(th) / g.sh;
      if (ho >= g.Ho) { continue; }
      for (var j = 0u; j < g.kw; j++) {
        let tw = ww + i32(g.pw) - tap_j(g, j);
        if (tw < 0 || tw % i32(g.sw) != 0) { continue; }
        let wo = u32(tw) / g.sw;
        if (wo >= g.Wo) { continue; }
        acc = fma(w[wc + i * g.kw + j], dy[yc + ho * g.Wo + wo], acc);
      }
    }
  }
  dx[p.dxo + e] = acc;
}

//// pool_forward
struct Pool { NC: u32, H: u32, W: u32, Ho: u32, Wo: u32, kh: u32, kw: u32, ph: u32, pw: u32, sh: u32, sw: u32, mode: u32 }
struct P { q: Pool, xo: u32, yo: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let q = p.q;
  let e = linear(wid, nwg, li);
  if (e >= q.NC * q.Ho * q.Wo) { return; }
  let wo = e % q.Wo;
  let ho = (e / q.Wo) % q.Ho;
  let pl = e / (q.Wo * q.Ho);
  let h0 = i32(ho * q.sh) - i32(q.ph);
  let w0 = i32(wo * q.sw) - i32(q.pw);
  let hs = u32(max(h0, 0));
  let he = u32(min(h0 + i32(q.kh), i32(q.H)));
  let ws = u32(max(w0, 0));
  let we = u32(min(w0 + i32(q.kw), i32(q.W)));
  let xp = p.xo + pl * q.H * q.W;
  var v: f32;
  if (q.mode == 0u) {
    v = x[xp + hs * q.W + ws];
    for (var h = hs; h < he; h++) {
      for (var w = ws; w < we; w++) {
        let u = x[xp + h * q.W + w];
        v = select(v, u, v < u);     // pmax: a NaN v stays, a NaN u is skipped
      }
    }
  } else {
    var s = 0.0;
    for (var h = hs; h < he; h++) { for (var w = ws; w < we; w++) { s += x[xp + h * q.W + w]; } }
    v = s / select(f32((he - hs) * (we - ws)), f32(q.kh * q.kw), q.mode == 1u);
  }
  y[p.yo + e] = v;
}

//// pool_backward
struct Pool { NC: u32, H: u32, W: u32, Ho: u32, Wo: u32, kh: u32, kw: u32, ph: u32, pw: u32, sh: u32, sw: u32, mode: u32 }
struct P { q: Pool, xo: u32, dyo: u32, dxo: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let q = p.q;
  let e = linear(wid, nwg, li);
  if (e >= q.NC * q.H * q.W) { return; }
  let w = i32(e % q.W);
  let h = i32((e / q.W) % q.H);
  let pl = e / (q.W * q.H);
  let xp = p.xo + pl * q.H * q.W;
  let gp = p.dyo + pl * q.Ho * q.Wo;
  // windows holding row h: ho*sh - ph <= h < ho*sh - ph + kh
  let hlo = max(0, (h + i32(q.ph) - i32(q.kh) + i32(q.sh)) / i32(q.sh));
  let hhi = min(i32(q.Ho) - 1, (h + i32(q.ph)) / i32(q.sh));
  let wlo = max(0, (w + i32(q.pw) - i32(q.kw) + i32(q.sw)) / i32(q.sw));
  let whi = min(i32(q.Wo) - 1, (w + i32(q.pw)) / i32(q.sw));
  var acc = 0.0;
  for (var ho = hlo; ho <= hhi; ho++) {
    let h0 = ho * i32(q.sh) - i32(q.ph);
    let hs = max(h0, 0);
    let he = min(h0 + i32(q.kh), i32(q.H));
    for (var wo = wlo; wo <= whi; wo++) {
      let w0 = wo * i32(q.sw) - i32(q.pw);
      let ws = max(w0, 0);
      let we = min(w0 + i32(q.kw), i32(q.W));
      let gv = dy[gp + u32(ho) * q.Wo + u32(wo)];
      if (q.mode == 0u) {
        // the window's first maximum, as the forward pass chose it
        var best = x[xp + u32(hs) * q.W + u32(ws)];
        var bh = hs;
        var bw = ws;
        for (var r = hs; r < he; r++) {
          for (var s = ws; s < we; s++) {
            let v = x[xp + u32(r) * q.W + u32(s)];
            if (v > best) { best = v; bh = r; bw = s; }
          }
        }
        if (bh == h && bw == w) { acc += gv; }
      } else {
        acc += gv / select(f32((he - hs) * (we - ws)), f32(q.kh * q.kw), q.mode == 1u);
      }
    }
  }
  dx[p.dxo + e] = acc;
}
