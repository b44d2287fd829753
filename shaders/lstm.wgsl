// lstm.wgsl: the fused LSTM cell (docs/kernels.md, lstm.ts), one thread per (row b, unit h).
// A row of gates holds 4H values in the seed's order [f | i | o | z].
//   forward   p = xg + hg + bias; f, i, o = sigm(p_f, p_i, p_o), z = tanh(p_z);
//             acts = [f|i|o|z]; c = cprev*f + i*z; h = o*tanh(c)
//   backward  gh = dh + dh2; tc = tanh(c); gc = dc + gh*o*(1-tc^2);
//             dg = [gc*cprev*f(1-f) | gc*z*i(1-i) | gh*tc*o(1-o) | gc*i*(1-z^2)]; dcprev = gc*f
//   bias_sum  dbias[j] += sum_b dg[b, j] (one thread per column; a separate kernel keeps
//             backward within 8 storage bindings, WebGPU's minimum limit)
// The cpu kernel lets outputs alias inputs (acts may be xg or hg, c may be cprev, dg may
// be acts, dcprev may be dc), and the ops pass views of one buffer for several tensors
// (h and c of a step, every step's c). WebGPU forbids binding a buffer writable twice, or
// writable and read-only, in one dispatch; the device binds a temporary buffer for such
// an output and copies the written range back (kernels/nn.ts). Each thread reads all it
// needs before writing, so in-place use is safe either way. Absent optional inputs (hg,
// bias, dh2, dc) are flagged in `has` (bit 0, 1) and bound to a dummy.

override WG: u32 = 256u;

fn linear(wid: vec3u, nwg: vec3u, li: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + li;
}
fn sigm(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }
// tanh as elementwise.wgsl's tanh_s (an odd polynomial near 0, saturating far from it)
fn tanh_s(x: f32) -> f32 {
  let ax = abs(x);
  if (ax < 0.625) {
    let z = x * x;
    let q = (((-5.70498872745e-3 * z + 2.06390887954e-2) * z - 5.37397155531e-2) * z
             + 1.33314422036e-1) * z - 3.33332819422e-1;
    return x + x * z * q;
  }
  let r = 1.0 - 2.0 / (exp(2.0 * min(ax, 20.0)) + 1.0);
  return select(r, -r, x < 0.0);
}

//// forward
struct P { B: u32, H: u32, has: u32, xgo: u32, hgo: u32, bo: u32, cpo: u32, ao: u32, co: u32, ho: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> xg: array<f32>;
@group(0) @binding(2) var<storage, read> hg: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> cprev: array<f32>;
@group(0) @binding(5) var<storage, read_write> acts: array<f32>;
@group(0) @binding(6) var<storage, read_write> c: array<f32>;
@group(0) @binding(7) var<storage, read_write> h: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let t = linear(wid, nwg, li);
  if (t >= p.B * p.H) { return; }
  let b = t / p.H;
  let u = t % p.H;
  let row = b * 4u * p.H;
  var pre: array<f32, 4>;
  for (var k = 0u; k < 4u; k++) {
    let j = k * p.H + u;
    var v = xg[p.xgo + row + j];
    if ((p.has & 1u) != 0u) { v += hg[p.hgo + row + j]; }
    if ((p.has & 2u) != 0u) { v += bias[p.bo + j]; }
    pre[k] = v;
  }
  let cp = cprev[p.cpo + t];
  let f = sigm(pre[0]);
  let i = sigm(pre[1]);
  let o = sigm(pre[2]);
  let z = tanh_s(pre[3]);
  acts[p.ao + row + u] = f;
  acts[p.ao + row + p.H + u] = i;
  acts[p.ao + row + 2u * p.H + u] = o;
  acts[p.ao + row + 3u * p.H + u] = z;
  let cn = cp * f + i * z;
  c[p.co + t] = cn;
  h[p.ho + t] = o * tanh_s(cn);
}

//// backward
struct P { B: u32, H: u32, has: u32, ao: u32, cpo: u32, co: u32, dho: u32, dh2o: u32, dco: u32, dgo: u32, dcpo: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> acts: array<f32>;
@group(0) @binding(2) var<storage, read> cprev: array<f32>;
@group(0) @binding(3) var<storage, read> c: array<f32>;
@group(0) @binding(4) var<storage, read> dh: array<f32>;
@group(0) @binding(5) var<storage, read> dh2: array<f32>;
@group(0) @binding(6) var<storage, read> dc: array<f32>;
@group(0) @binding(7) var<storage, read_write> dg: array<f32>;
@group(0) @binding(8) var<storage, read_write> dcprev: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let t = linear(wid, nwg, li);
  if (t >= p.B * p.H) { return; }
  let b = t / p.H;
  let u = t % p.H;
  let row = b * 4u * p.H;
  let f = acts[p.ao + row + u];
  let i = acts[p.ao + row + p.H + u];
  let o = acts[p.ao + row + 2u * p.H + u];
  let z = acts[p.ao + row + 3u * p.H + u];
  let cp = cprev[p.cpo + t];
  var gh = dh[p.dho + t];
  if ((p.has & 1u) != 0u) { gh += dh2[p.dh2o + t]; }
  let tc = tanh_s(c[p.co + t]);
  var gc = gh * o * (1.0 - tc * tc);
  if ((p.has & 2u) != 0u) { gc += dc[p.dco + t]; }
  dg[p.dgo + row + u] = gc * cp * f * (1.0 - f);
  dg[p.dgo + row + p.H + u] = gc * z * i * (1.0 - i);
  dg[p.dgo + row + 2u * p.H + u] = gh * tc * o * (1.0 - o);
  dg[p.dgo + row + 3u * p.H + u] = gc * i * (1.0 - z * z);
  dcprev[p.dcpo + t] = gc * f;
}

//// bias_sum
struct P { B: u32, cols: u32, dgo: u32, dbo: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> dg: array<f32>;
@group(0) @binding(2) var<storage, read_write> dbias: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let j = linear(wid, nwg, li);
  if (j >= p.cols) { return; }
  var s = 0.0;
  for (var b = 0u; b < p.B; b++) { s += dg[p.dgo + b * p.cols + j]; }
  dbias[p.dbo + j] += s;
}
