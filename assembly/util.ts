// Shared helpers for the kernels.

/** First byte after the module's static data: TypeScript's allocator starts here. */
export function heapBase(): usize { return __heap_base; }

/** a*b + c on f32x4 lanes: one fused instruction where relaxed SIMD is on. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}
