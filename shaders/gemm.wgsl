// gemm.wgsl: C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C (beta == 0 ignores C).
// op(A) is A (stored M x K, row stride lda) or, when TA, A^T (A stored K x M); likewise B
// with TB. Same contract as the cpu kernel (docs/kernels.md, gemm). Two kernels; the
// device picks one for its adapter (ts/device/webgpu/kernels/gemm.ts):
//
// tiled     for GPUs. A workgroup computes a BM x BN block of C, walking K in steps of
//           BK: each step copies an A tile and a B tile into workgroup memory, k-major
//           (As[k][m], Bs[k][n]), reading global memory along its contiguous axis whatever
//           the transposes are, so NN, NT, TN and TT run the same inner loop. The tiles
//           are read as vec4<f32> where an operand's layout allows (its contiguous axis and
//           offset multiples of 4), as f32 otherwise: one loader per operand, chosen per
//           call. Each thread accumulates a TM x TN block in registers, rows ty + r*TY and
//           columns tx + c*TX, so neighbouring threads touch neighbouring words.
// rowblock  for adapters that run on a CPU (lavapipe, SwiftShader), where the invocations
//           of a workgroup are the lanes of SIMD registers: a load whose address is the
//           same for the whole workgroup is one scalar load and a broadcast, any other
//           load a gather, and workgroup barriers are costly. No workgroup memory; each
//           thread owns RM consecutive rows (uniform: loads of A are broadcasts) and RN
//           columns n0 + lid.x + c*TX (loads of B are gathers, one per column per k),
//           so a k step costs RN gathers for RM*RN fused multiply-adds. The register block
//           is generated as plain variables (RM*RN accumulators) so that the driver keeps
//           it in registers; array-indexed blocks ran at half the speed.
//
// Edges (M, N, K not multiples of the tile) load zeros or clamp, and skip the stores.

override TA: bool = false;
override TB: bool = false;

struct P {
  M: u32, N: u32, K: u32, lda: u32,
  ldb: u32, ldc: u32, ao: u32, bo: u32,
  co: u32, pad0: u32, alpha: f32, beta: f32,
}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;

//// tiled
override TX: u32 = 16u;
override TY: u32 = 16u;
override TM: u32 = 4u;     // rows per thread
override TN: u32 = 4u;     // columns per thread
override BK: u32 = 16u;
const MAXT: u32 = 8u;      // register block bound: TM, TN <= MAXT

// A and B again, bound as vec4s over the same buffers, for the vec4 tile loaders below.
// An entry point may use only one of the two variables at a binding, so the device builds
// one module per pair of loaders, whose names it writes over the two TILE_ words in main.
@group(0) @binding(1) var<storage, read> A4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> B4: array<vec4<f32>>;

var<workgroup> As: array<f32, BK * TY * TM>;
var<workgroup> Bs: array<f32, BK * TX * TN>;

// Tile loaders: copy the BM x BK tile of op(A) at (m0, k0) into As[k * BM + m], and the
// BK x BN tile of op(B) at (k0, n0) into Bs[k * BN + n], zeros outside op(A) and op(B).
// Consecutive threads read consecutive addresses along the operand's contiguous axis (k
// for A, m for A^T, n for B, k for B^T), in all four transpose forms.
//
// Scalar loaders (tileA1, tileB1): one f32 per read; any shape, stride and offset.
// Vec4 loaders (tileA4, tileB4): one vec4<f32> (16 bytes) per read, four consecutive
// elements of the contiguous axis. The device uses them only when that axis's length and
// the row stride are multiples of 4 and the offset is too (kernels/gemm.ts, vec4Loads), so
// each vec4 is 16-byte aligned and lies wholly inside or wholly outside the operand.
// Tile sides are multiples of 4 (TM = TN = 4, BK a power of two >= 4: chooseTile).
fn tileA1(m0: u32, k0: u32, li: u32) {
  let BM = TY * TM;
  for (var e = li; e < BM * BK; e += TX * TY) {
    var m: u32; var k: u32;
    if (TA) { k = e / BM; m = e % BM; } else { m = e / BK; k = e % BK; }
    let gm = m0 + m;
    let gk = k0 + k;
    var v = 0.0;
    if (gm < p.M && gk < p.K) {
      if (TA) { v = A[p.ao + gk * p.lda + gm]; } else { v = A[p.ao + gm * p.lda + gk]; }
    }
    As[k * BM + m] = v;
  }
}

fn tileA4(m0: u32, k0: u32, li: u32) {
  let BM = TY * TM;
  for (var e = li; e < BM * BK / 4u; e += TX * TY) {
    var m: u32; var k: u32;
    if (TA) { k = e / (BM / 4u); m = (e % (BM / 4u)) * 4u; } else { m = e / (BK / 4u); k = (e % (BK / 4u)) * 4u; }
    let gm = m0 + m;
    let gk = k0 + k;
    var v = vec4f(0.0);
    if (gm < p.M && gk < p.K) {
      if (TA) { v = A4[(p.ao + gk * p.lda + gm) / 4u]; } else { v = A4[(p.ao + gm * p.lda + gk) / 4u]; }
    }
    if (TA) {          // four consecutive m at one k
      let at = k * BM + m;
      As[at] = v.x; As[at + 1u] = v.y; As[at + 2u] = v.z; As[at + 3u] = v.w;
    } else {           // four consecutive k at one m
      let at = k * BM + m;
      As[at] = v.x; As[at + BM] = v.y; As[at + 2u * BM] = v.z; As[at + 3u * BM] = v.w;
    }
  }
}

fn tileB1(n0: u32, k0: u32, li: u32) {
  let BN = TX * TN;
  for (var e = li; e < BN * BK; e += TX * TY) {
    var n: u32; var k: u32;
    if (TB) { n = e / BK; k = e % BK; } else { k = e / BN; n = e % BN; }
    let gn = n0 + n;
    let gk = k0 + k;
    var v = 0.0;
    if (gn < p.N && gk < p.K) {
      if (TB) { v = B[p.bo + gn * p.ldb + gk]; } else { v = B[p.bo + gk * p.ldb + gn]; }
    }
    Bs[k * BN + n] = v;
  }
}

fn tileB4(n0: u32, k0: u32, li: u32) {
  let BN = TX * TN;
  for (var e = li; e < BN * BK / 4u; e += TX * TY) {
    var n: u32; var k: u32;
    if (TB) { n = e / (BK / 4u); k = (e % (BK / 4u)) * 4u; } else { k = e / (BN / 4u); n = (e % (BN / 4u)) * 4u; }
    let gn = n0 + n;
    let gk = k0 + k;
    var v = vec4f(0.0);
    if (gn < p.N && gk < p.K) {
      if (TB) { v = B4[(p.bo + gn * p.ldb + gk) / 4u]; } else { v = B4[(p.bo + gk * p.ldb + gn) / 4u]; }
    }
    if (TB) {          // four consecutive k at one n
      let at = k * BN + n;
      Bs[at] = v.x; Bs[at + BN] = v.y; Bs[at + 2u * BN] = v.z; Bs[at + 3u * BN] = v.w;
    } else {           // four consecutive n at one k
      let at = k * BN + n;
      Bs[at] = v.x; Bs[at + 1u] = v.y; Bs[at + 2u] = v.z; Bs[at + 3u] = v.w;
    }
  }
}

@compute @workgroup_size(TX, TY)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let BM = TY * TM;
  let BN = TX * TN;
  let m0 = wid.y * BM;
  let n0 = wid.x * BN;
  var acc: array<array<f32, MAXT>, MAXT>;
  for (var r = 0u; r < TM; r++) { for (var c = 0u; c < TN; c++) { acc[r][c] = 0.0; } }

  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    TILE_A(m0, k0, li);
    TILE_B(n0, k0, li);
    workgroupBarrier();
    for (var k = 0u; k < BK; k++) {
      var a: array<f32, MAXT>;
      var b: array<f32, MAXT>;
      for (var r = 0u; r < TM; r++) { a[r] = As[k * BM + lid.y + r * TY]; }
      for (var c = 0u; c < TN; c++) { b[c] = Bs[k * BN + lid.x + c * TX]; }
      for (var r = 0u; r < TM; r++) {
        for (var c = 0u; c < TN; c++) { acc[r][c] = fma(a[r], b[c], acc[r][c]); }
      }
    }
    workgroupBarrier();
  }

  for (var r = 0u; r < TM; r++) {
    let gm = m0 + lid.y + r * TY;
    if (gm >= p.M) { continue; }
    for (var c = 0u; c < TN; c++) {
      let gn = n0 + lid.x + c * TX;
      if (gn >= p.N) { continue; }
      let at = p.co + gm * p.ldc + gn;
      var v = p.alpha * acc[r][c];
      if (p.beta != 0.0) { v += p.beta * C[at]; }
      C[at] = v;
    }
  }
}

//// rowblock
// RM, RN and the marked lines are filled in by the device (kernels/gemm.ts).
override TX: u32 = 32u;

@compute @workgroup_size(TX)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let m0 = wid.y * RM;
  let n0 = wid.x * TX * RN;
  // ROWBLOCK_SETUP: row_r = min(m0 + r, M - 1), col_c = min(n0 + lid.x + c*TX, N - 1), acc_r_c = 0
  ROWBLOCK_SETUP
  for (var k = 0u; k < p.K; k++) {
    // ROWBLOCK_STEP: b_c = op(B)[k, col_c]; for each r: a_r = op(A)[row_r, k], acc_r_c += a_r * b_c
    ROWBLOCK_STEP
  }
  // ROWBLOCK_STORE: C[m0 + r, n0 + lid.x + c*TX] = alpha * acc_r_c (+ beta * C), inside the bounds
  ROWBLOCK_STORE
}
