// optim.wgsl: one fused, in-place optimizer step (Knet's update!), one thread per element.
// The formulas and argument meanings are those of the cpu kernel (docs/kernels.md, optim):
// KIND is the OptimKind code (0 sgd, 1 momentum, 2 nesterov, 3 adagrad, 4 adadelta,
// 5 rmsprop, 6 adam), an override, so each kind compiles to its own kernel.
//
// Gradient clipping needs ||g|| before any element is updated: when `clip` is set, the
// device first reduces g to its sum of squares with the `rows` kernel of reduce.wgsl into
// the one-element buffer `norm2`, and every thread here scales its g by
// gclip / ||g|| when ||g|| > gclip. Without clipping `norm2` is a dummy, never read.
// s1/s2 are dummies for kinds without that state.

override WG: u32 = 256u;
override KIND: u32 = 0u;

fn linear(wid: vec3u, nwg: vec3u, li: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + li;
}

//// step
struct P {
  n: u32, wo: u32, go: u32, s1o: u32,
  s2o: u32, clip: u32, pad0: u32, pad1: u32,
  lr: f32, gclip: f32, a: f32, b: f32,
  eps: f32, c1: f32, c2: f32, pad2: f32,
}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> w: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> s1: array<f32>;
@group(0) @binding(4) var<storage, read_write> s2: array<f32>;
@group(0) @binding(5) var<storage, read> norm2: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let i = linear(wid, nwg, li);
  if (i >= p.n) { return; }
  var scale = 1.0;
  if (p.clip != 0u) {
    let norm = sqrt(norm2[0]);
    if (norm > p.gclip) { scale = p.gclip / norm; }
  }
  let ge = g[p.go + i] * scale;
  let wi = p.wo + i;
  switch (KIND) {
    case 1u: {
      let v = p.a * s1[p.s1o + i] + p.lr * ge;
      s1[p.s1o + i] = v;
      w[wi] = w[wi] - v;
    }
    case 2u: {
      let v1 = p.a * s1[p.s1o + i];
      let v = v1 - p.lr * ge;
      s1[p.s1o + i] = v;
      w[wi] = (w[wi] - v1) + (1.0 + p.a) * v;
    }
    case 3u: {
      let G = s1[p.s1o + i] + ge * ge;
      s1[p.s1o + i] = G;
      w[wi] = w[wi] - p.lr * ge / sqrt(G + p.eps);
    }
    case 4u: {
      let G = p.a * s1[p.s1o + i] + (1.0 - p.a) * ge * ge;
      s1[p.s1o + i] = G;
      let d = ge * sqrt(s2[p.s2o + i] + p.eps) / sqrt(G + p.eps);
      s2[p.s2o + i] = p.a * s2[p.s2o + i] + (1.0 - p.a) * d * d;
      w[wi] = w[wi] - p.lr * d;
    }
    case 5u: {
      let G = p.a * s1[p.s1o + i] + (1.0 - p.a) * ge * ge;
      s1[p.s1o + i] = G;
      w[wi] = w[wi] - p.lr * ge / sqrt(G + p.eps);
    }
    case 6u: {
      let m = p.a * s1[p.s1o + i] + (1.0 - p.a) * ge;
      let v = p.b * s2[p.s2o + i] + (1.0 - p.b) * ge * ge;
      s1[p.s1o + i] = m;
      s2[p.s2o + i] = v;
      w[wi] = w[wi] - p.lr * (m * p.c1) / (sqrt(v * p.c2) + p.eps);
    }
    default: {
      w[wi] = w[wi] - p.lr * ge;
    }
  }
}
