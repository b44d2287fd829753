// Inverted dropout with a counter-based mask: element i is kept when a hash of (i, key)
// clears a threshold, so the mask is a pure function of the key. The forward pass and
// its gradient call this kernel with the same key and get the same mask without storing
// it; the key comes from the seedable JavaScript generator, one per call.
//
// hash(i) = fmix32(fmix32(i + k0) ^ k1), fmix32 being MurmurHash3's finalizer (a
// bijection with full avalanche); its top 24 bits are a uniform integer u in [0, 2^24),
// and element i is dropped when u < threshold = round(p * 2^24).

// @ts-ignore: decorator
@inline function fmix(h: v128): v128 {
  h = v128.xor(h, i32x4.shr_u(h, 16));
  h = i32x4.mul(h, i32x4.splat(0x85ebca6b));
  h = v128.xor(h, i32x4.shr_u(h, 13));
  h = i32x4.mul(h, i32x4.splat(0xc2b2ae35));
  return v128.xor(h, i32x4.shr_u(h, 16));
}

/** All-ones lanes where the element with that index is kept. */
// @ts-ignore: decorator
@inline function keepMask(idx: v128, k0: v128, k1: v128, threshold: v128): v128 {
  const u = i32x4.shr_u(fmix(v128.xor(fmix(i32x4.add(idx, k0)), k1)), 8);
  return i32x4.ge_s(u, threshold);
}

/**
 * y[i] = keep(i) ? x[i] * scale : 0 for i < n; y may equal x. keep(i) is the mask of
 * (k0, k1) described above; threshold is in [0, 2^24].
 */
export function dropout(x: usize, y: usize, n: i32, threshold: i32, scale: f32, k0: i32, k1: i32): void {
  const vk0 = i32x4.splat(k0), vk1 = i32x4.splat(k1), vt = i32x4.splat(threshold);
  const vs = f32x4.splat(scale);
  let idx = i32x4(0, 1, 2, 3);
  const four = i32x4.splat(4);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const p = <usize>i << 2;
    v128.store(y + p, v128.and(f32x4.mul(v128.load(x + p), vs), keepMask(idx, vk0, vk1, vt)));
    idx = i32x4.add(idx, four);
  }
  for (; i < n; i++) { // the same lane code on one element
    const p = <usize>i << 2;
    const k = keepMask(i32x4.splat(i), vk0, vk1, vt);
    store<f32>(y + p, i32x4.extract_lane(k, 0) ? load<f32>(x + p) * scale : 0);
  }
}
