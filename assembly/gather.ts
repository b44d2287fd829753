// Indexing kernels: block copies with strides on both sides (slices that are not views,
// concatenation, the zero-padded gradient of a slice), and integer-array gathers with their
// scatter-add gradient (embedding lookups).
//
// Everything here moves 4-byte elements without looking at them, so it serves float32 and
// int32 alike, except scatterAdd, which adds float32. Ids are data, so gather and scatterAdd
// check them and return the position of the first bad one (-1 when all are good).

// Byte offset of element i at stride s (elements); wraps correctly for negative strides.
// @ts-ignore: decorator
@inline function at(i: i32, s: i32): usize { return <usize>(i * s) << 2; }

// ---------------------------------------------------------------------------------------
// copyStrided

function copyAxis(x: usize, y: usize, d: i32, ndim: i32, meta: usize): void {
  const n = load<i32>(meta + (<usize>d << 2));
  const sx = load<i32>(meta + (<usize>(ndim + d) << 2));
  const sy = load<i32>(meta + (<usize>(2 * ndim + d) << 2));
  if (d == ndim - 1) {
    if (sx == 1 && sy == 1) memory.copy(y, x, <usize>n << 2);
    else for (let i = 0; i < n; i++) store<u32>(y + at(i, sy), load<u32>(x + at(i, sx)));
    return;
  }
  for (let i = 0; i < n; i++) copyAxis(x + at(i, sx), y + at(i, sy), d + 1, ndim, meta);
}

/**
 * y[idx . ystrides] = x[idx . xstrides] for every index idx of `shape`. meta: i32[3*ndim] =
 * shape, x's strides, y's strides (elements). Innermost runs with both strides 1 are one
 * memory.copy. x and y must not overlap. ndim == 0 copies one element.
 */
export function copyStrided(x: usize, y: usize, ndim: i32, meta: usize): void {
  if (ndim <= 0) store<u32>(y, load<u32>(x));
  else copyAxis(x, y, 0, ndim, meta);
}

// ---------------------------------------------------------------------------------------
// gather, scatterAdd: x is viewed as [outer, n, inner], ids as m positions, y as
// [outer, m, inner]; y[o, j, :] = x[o, ids[j], :].

/**
 * y[o, j, i] = x[o, ids[j], i] for o < outer, j < m, i < inner. Returns -1, or the first j
 * with ids[j] outside [0, n) (every id is checked before anything is written).
 */
export function gather(x: usize, ids: usize, y: usize, outer: i32, n: i32, inner: i32, m: i32): i32 {
  for (let j = 0; j < m; j++) {
    if (<u32>load<i32>(ids + (<usize>j << 2)) >= <u32>n) return j;
  }
  const row = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    const xo = x + <usize>o * <usize>n * row;
    const yo = y + <usize>o * <usize>m * row;
    for (let j = 0; j < m; j++) {
      memory.copy(yo + <usize>j * row, xo + <usize>load<i32>(ids + (<usize>j << 2)) * row, row);
    }
  }
  return -1;
}

// dst[0..k) += src[0..k), four lanes at a time.
// @ts-ignore: decorator
@inline function addRow(dst: usize, src: usize, k: i32): void {
  const end = <usize>k << 2;
  const vend = <usize>(k & ~3) << 2;
  let o: usize = 0;
  for (; o < vend; o += 16) v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  for (; o < end; o += 4) store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
}

/**
 * dx[o, ids[j], i] += g[o, j, i] (float32; repeated ids accumulate, in order of j). dx is
 * not cleared: the caller zeroes it for a plain gradient. Returns -1, or the first j with
 * ids[j] outside [0, n) (checked before anything is written).
 */
export function scatterAdd(g: usize, ids: usize, dx: usize, outer: i32, n: i32, inner: i32, m: i32): i32 {
  for (let j = 0; j < m; j++) {
    if (<u32>load<i32>(ids + (<usize>j << 2)) >= <u32>n) return j;
  }
  const row = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    const go = g + <usize>o * <usize>m * row;
    const dxo = dx + <usize>o * <usize>n * row;
    for (let j = 0; j < m; j++) {
      addRow(dxo + <usize>load<i32>(ids + (<usize>j << 2)) * row, go + <usize>j * row, inner);
    }
  }
  return -1;
}
