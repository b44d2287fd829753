// Two gemm kernels without packing, for the shapes of a small dense layer's training step,
// where gemm.ts's packing of a whole operand costs as much as the arithmetic it feeds
// (a [784, 100] batch packed for a product with 10 rows) and a 10-row product wastes a
// sixth of gemm.ts's 4-row micro-tiles:
//
//   gemmRowsBlock  C = alpha * A * B + beta * C      (NN), for few rows of C: rows of B
//                  are read where they lie, 8 columns at a time, against 4, 2 or 1 rows of A.
//   gemmDotBlock   C = alpha * A * B^T + beta * C    (NT), for a short K: row i of A and
//                  row j of B are both contiguous along k, so C[i, j] is a dot product of
//                  two rows; 2 x 4 of them at a time, each as 4 lane sums then added across.
//
// Like gemmBlock, each computes any rectangle [m0, m1) x [n0, n1) of C, and every element's
// arithmetic is the same wherever the rectangle's edges fall (the same madds in the same
// order; edge rows and columns run the same lane operations on vectors filled lane by
// lane), so a threaded caller may cut C anywhere and get one thread's result bit for bit.
// Which kernel a product uses is chosen from its whole shape (ts/device/wasm/device.ts).

import { madd } from './util';

/** alpha * s + beta * c on one vector; with beta == 0, c is ignored (it may hold NaN). */
// @ts-ignore: decorator
@inline function finish(s: v128, va: v128, vb: v128, beta: f32, c: v128): v128 {
  return beta == 0 ? f32x4.mul(s, va) : madd(s, va, f32x4.mul(c, vb));
}

/** C[p:p+4] = alpha * s + beta * C[p:p+4]; beta == 0 never reads C. */
// @ts-ignore: decorator
@inline function put(p: usize, s: v128, va: v128, vb: v128, beta: f32): void {
  v128.store(p, finish(s, va, vb, beta, beta == 0 ? f32x4.splat(0) : v128.load(p)));
}

/** The first n (1-3) floats at p as a vector, the other lanes zero. */
// @ts-ignore: decorator
@inline function loadPart(p: usize, n: i32): v128 {
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (n > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (n > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

/** Stores the first n (1-3) lanes of v at p. */
// @ts-ignore: decorator
@inline function storePart(p: usize, v: v128, n: i32): void {
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (n > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

/**
 * NN, rows of B read in place: C[m0:m1, n0:n1] = alpha * A[m0:m1, :] * B[:, n0:n1] + beta * C.
 * A is [M, K] (row stride lda), B is [K, N] (ldb), C is [M, N] (ldc), all in floats.
 * Each C element is sum_k A[i, k] * B[k, j] accumulated in k order from zero.
 */
export function gemmRowsBlock(
  m0: i32, m1: i32, n0: i32, n1: i32, K: i32, alpha: f32,
  A: usize, lda: i32, B: usize, ldb: i32, beta: f32, C: usize, ldc: i32,
): void {
  const va = f32x4.splat(alpha), vb = f32x4.splat(beta);
  const la = <usize>lda << 2, lb = <usize>ldb << 2, lc = <usize>ldc << 2;
  touch(B + (<usize>n0 << 2), K, (n1 - n0) << 2, lb);
  let j = n0;
  for (; j + 8 <= n1; j += 8) {
    let i = m0;
    for (; i + 4 <= m1; i += 4) rows4x8(i, j, K, A, la, B, lb, C, lc, va, vb, beta);
    if (i + 2 <= m1) { rows2x8(i, j, K, A, la, B, lb, C, lc, va, vb, beta); i += 2; }
    if (i < m1) rows1(i, j, 8, K, A, la, B, lb, C, lc, va, vb, beta);
  }
  for (; j < n1; j += 4) {
    const n = min(4, n1 - j);
    for (let i = m0; i < m1; i++) rows1(i, j, n, K, A, la, B, lb, C, lc, va, vb, beta);
  }
}

/**
 * Reads one float of every cache line of `rows` rows of `bytes` bytes, in memory order,
 * before the kernel walks them 8 columns at a time: a batch of inputs that is not in cache
 * yet then streams in at the memory's bandwidth instead of line by line down a column
 * (the first strip of a [784, 100] batch cost the forward product twice its arithmetic).
 */
function touch(p: usize, rows: i32, bytes: i32, stride: usize): void {
  let x = touched;
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < bytes; o += 64) x += load<f32>(p + <usize>o);
    x += load<f32>(p + <usize>(bytes - 4));
    p += stride;
  }
  touched = x; // a global both read and written, so no optimizer drops the loads as unused
}
let touched: f32 = 0;

/** Rows i..i+3, columns j..j+7: 8 accumulators, B's two vectors loaded once per k. */
function rows4x8(i: i32, j: i32, K: i32, A: usize, la: usize, B: usize, lb: usize,
                 C: usize, lc: usize, va: v128, vb: v128, beta: f32): void {
  let a = A + <usize>i * la;
  let b = B + (<usize>j << 2);
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let k = 0; k < K; k++) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    const a0 = v128.load32_splat(a);
    c00 = madd(a0, b0, c00); c01 = madd(a0, b1, c01);
    const a1 = v128.load32_splat(a + la);
    c10 = madd(a1, b0, c10); c11 = madd(a1, b1, c11);
    const a2 = v128.load32_splat(a + 2 * la);
    c20 = madd(a2, b0, c20); c21 = madd(a2, b1, c21);
    const a3 = v128.load32_splat(a + 3 * la);
    c30 = madd(a3, b0, c30); c31 = madd(a3, b1, c31);
    a += 4; b += lb;
  }
  let c = C + <usize>i * lc + (<usize>j << 2);
  put(c, c00, va, vb, beta); put(c + 16, c01, va, vb, beta); c += lc;
  put(c, c10, va, vb, beta); put(c + 16, c11, va, vb, beta); c += lc;
  put(c, c20, va, vb, beta); put(c + 16, c21, va, vb, beta); c += lc;
  put(c, c30, va, vb, beta); put(c + 16, c31, va, vb, beta);
}

/** Rows i, i+1, columns j..j+7. */
function rows2x8(i: i32, j: i32, K: i32, A: usize, la: usize, B: usize, lb: usize,
                 C: usize, lc: usize, va: v128, vb: v128, beta: f32): void {
  let a = A + <usize>i * la;
  let b = B + (<usize>j << 2);
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  for (let k = 0; k < K; k++) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    const a0 = v128.load32_splat(a), a1 = v128.load32_splat(a + la);
    c00 = madd(a0, b0, c00); c01 = madd(a0, b1, c01);
    c10 = madd(a1, b0, c10); c11 = madd(a1, b1, c11);
    a += 4; b += lb;
  }
  let c = C + <usize>i * lc + (<usize>j << 2);
  put(c, c00, va, vb, beta); put(c + 16, c01, va, vb, beta); c += lc;
  put(c, c10, va, vb, beta); put(c + 16, c11, va, vb, beta);
}

/** Row i, columns j..j+n-1 (n = 8, or 1-4 at C's right edge), the same lane arithmetic. */
function rows1(i: i32, j: i32, n: i32, K: i32, A: usize, la: usize, B: usize, lb: usize,
               C: usize, lc: usize, va: v128, vb: v128, beta: f32): void {
  let a = A + <usize>i * la;
  let b = B + (<usize>j << 2);
  const c = C + <usize>i * lc + (<usize>j << 2);
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0);
  if (n == 8) {
    for (let k = 0; k < K; k++) {
      const a0 = v128.load32_splat(a);
      s0 = madd(a0, v128.load(b), s0); s1 = madd(a0, v128.load(b, 16), s1);
      a += 4; b += lb;
    }
    put(c, s0, va, vb, beta); put(c + 16, s1, va, vb, beta);
  } else if (n == 4) {
    for (let k = 0; k < K; k++) {
      s0 = madd(v128.load32_splat(a), v128.load(b), s0);
      a += 4; b += lb;
    }
    put(c, s0, va, vb, beta);
  } else {
    for (let k = 0; k < K; k++) {
      s0 = madd(v128.load32_splat(a), loadPart(b, n), s0);
      a += 4; b += lb;
    }
    storePart(c, finish(s0, va, vb, beta, beta == 0 ? f32x4.splat(0) : loadPart(c, n)), n);
  }
}

/**
 * NT as dot products: C[m0:m1, n0:n1] = alpha * A[m0:m1, :] * B[n0:n1, :]^T + beta * C.
 * A is [M, K] (lda), B is [N, K] (ldb), C is [M, N] (ldc). Each C element: lane l sums
 * A[i, k] * B[j, k] over k = l, l + 4, ... below K4 = K rounded down to 4, the lanes are
 * added as (l0 + l1) + (l2 + l3), then the last K - K4 products are added in k order.
 */
export function gemmDotBlock(
  m0: i32, m1: i32, n0: i32, n1: i32, K: i32, alpha: f32,
  A: usize, lda: i32, B: usize, ldb: i32, beta: f32, C: usize, ldc: i32,
): void {
  const va = f32x4.splat(alpha), vb = f32x4.splat(beta);
  const la = <usize>lda << 2, lb = <usize>ldb << 2, lc = <usize>ldc << 2;
  // j outermost: the 4 rows of B stay in L1 while every row pair of A passes them.
  let j = n0;
  for (; j + 4 <= n1; j += 4) {
    let i = m0;
    for (; i + 2 <= m1; i += 2) dot2x4(i, j, K, A, la, B, lb, C, lc, va, vb, beta);
    if (i < m1) dot1(i, j, 4, K, A, la, B, lb, C, lc, va, vb, beta);
  }
  if (j < n1) for (let i = m0; i < m1; i++) dot1(i, j, n1 - j, K, A, la, B, lb, C, lc, va, vb, beta);
}

/** [s(j0), s(j1), s(j2), s(j3)] from four lane-sum vectors: (l0 + l1) + (l2 + l3) each. */
// @ts-ignore: decorator
@inline function across(s0: v128, s1: v128, s2: v128, s3: v128): v128 {
  const t0 = v128.shuffle<f32>(s0, s1, 0, 4, 1, 5); // s0.l0 s1.l0 s0.l1 s1.l1
  const t1 = v128.shuffle<f32>(s0, s1, 2, 6, 3, 7); // s0.l2 s1.l2 s0.l3 s1.l3
  const t2 = v128.shuffle<f32>(s2, s3, 0, 4, 1, 5);
  const t3 = v128.shuffle<f32>(s2, s3, 2, 6, 3, 7);
  const l0 = v128.shuffle<f32>(t0, t2, 0, 1, 4, 5), l1 = v128.shuffle<f32>(t0, t2, 2, 3, 6, 7);
  const l2 = v128.shuffle<f32>(t1, t3, 0, 1, 4, 5), l3 = v128.shuffle<f32>(t1, t3, 2, 3, 6, 7);
  return f32x4.add(f32x4.add(l0, l1), f32x4.add(l2, l3));
}

/** The last K - K4 products of rows a (of A) against the 4 B rows starting at b, lane by lane. */
// @ts-ignore: decorator
@inline function tail4(s: v128, a: usize, b: usize, lb: usize, k: i32, K: i32): v128 {
  for (; k < K; k++) {
    const o = <usize>k << 2;
    let bv = f32x4.splat(load<f32>(b + o));
    bv = f32x4.replace_lane(bv, 1, load<f32>(b + lb + o));
    bv = f32x4.replace_lane(bv, 2, load<f32>(b + 2 * lb + o));
    bv = f32x4.replace_lane(bv, 3, load<f32>(b + 3 * lb + o));
    s = madd(v128.load32_splat(a + o), bv, s);
  }
  return s;
}

/** Rows i, i+1 of A against rows j..j+3 of B: 8 lane-sum accumulators. */
function dot2x4(i: i32, j: i32, K: i32, A: usize, la: usize, B: usize, lb: usize,
                C: usize, lc: usize, va: v128, vb: v128, beta: f32): void {
  const a0 = A + <usize>i * la, a1 = a0 + la;
  const b0 = B + <usize>j * lb, b1 = b0 + lb, b2 = b1 + lb, b3 = b2 + lb;
  let s00 = f32x4.splat(0), s01 = f32x4.splat(0), s02 = f32x4.splat(0), s03 = f32x4.splat(0);
  let s10 = f32x4.splat(0), s11 = f32x4.splat(0), s12 = f32x4.splat(0), s13 = f32x4.splat(0);
  const K4 = K & ~3;
  for (let k = 0; k < K4; k += 4) {
    const o = <usize>k << 2;
    const x0 = v128.load(b0 + o), x1 = v128.load(b1 + o), x2 = v128.load(b2 + o), x3 = v128.load(b3 + o);
    const p = v128.load(a0 + o);
    s00 = madd(p, x0, s00); s01 = madd(p, x1, s01); s02 = madd(p, x2, s02); s03 = madd(p, x3, s03);
    const q = v128.load(a1 + o);
    s10 = madd(q, x0, s10); s11 = madd(q, x1, s11); s12 = madd(q, x2, s12); s13 = madd(q, x3, s13);
  }
  const r0 = tail4(across(s00, s01, s02, s03), a0, b0, lb, K4, K);
  const r1 = tail4(across(s10, s11, s12, s13), a1, b0, lb, K4, K);
  const c0 = C + <usize>i * lc + (<usize>j << 2), c1 = c0 + lc;
  // Written out, not through put(): with put() binaryen's output ran this kernel ~15% slower.
  v128.store(c0, finish(r0, va, vb, beta, beta == 0 ? f32x4.splat(0) : v128.load(c0)));
  v128.store(c1, finish(r1, va, vb, beta, beta == 0 ? f32x4.splat(0) : v128.load(c1)));
}

/** Row i of A against rows j..j+n-1 of B (n = 1-4), the same lane arithmetic as dot2x4. */
function dot1(i: i32, j: i32, n: i32, K: i32, A: usize, la: usize, B: usize, lb: usize,
              C: usize, lc: usize, va: v128, vb: v128, beta: f32): void {
  const a = A + <usize>i * la;
  const b0 = B + <usize>j * lb;
  // Rows past n repeat the last real row, so every load stays inside B; their lanes are dropped.
  const b1 = n > 1 ? b0 + lb : b0, b2 = n > 2 ? b0 + 2 * lb : b1, b3 = n > 3 ? b0 + 3 * lb : b2;
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
  const K4 = K & ~3;
  for (let k = 0; k < K4; k += 4) {
    const o = <usize>k << 2;
    const p = v128.load(a + o);
    s0 = madd(p, v128.load(b0 + o), s0); s1 = madd(p, v128.load(b1 + o), s1);
    s2 = madd(p, v128.load(b2 + o), s2); s3 = madd(p, v128.load(b3 + o), s3);
  }
  let r = across(s0, s1, s2, s3);
  for (let k = K4; k < K; k++) {
    const o = <usize>k << 2;
    let bv = f32x4.splat(load<f32>(b0 + o));
    bv = f32x4.replace_lane(bv, 1, load<f32>(b1 + o));
    bv = f32x4.replace_lane(bv, 2, load<f32>(b2 + o));
    bv = f32x4.replace_lane(bv, 3, load<f32>(b3 + o));
    r = madd(v128.load32_splat(a + o), bv, r);
  }
  const c = C + <usize>i * lc + (<usize>j << 2);
  if (n == 4) v128.store(c, finish(r, va, vb, beta, beta == 0 ? f32x4.splat(0) : v128.load(c)));
  else storePart(c, finish(r, va, vb, beta, beta == 0 ? f32x4.splat(0) : loadPart(c, n)), n);
}
