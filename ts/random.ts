// The seedable generator behind rand, randn and dropout: xoshiro128** seeded by splitmix32.

let s0 = 0, s1 = 0, s2 = 0, s3 = 0;

function splitmix32(a: number): () => number {
  return () => {
    a = (a + 0x9e3779b9) | 0;
    let z = a;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Reseeds the global generator; the same seed gives the same rand/randn/dropout draws. */
export function setSeed(seed: number): void {
  const sm = splitmix32(seed >>> 0);
  s0 = sm(); s1 = sm(); s2 = sm(); s3 = sm();
}
setSeed(Date.now() ^ 0x5eed);

/** Next 32 random bits. */
export function nextU32(): number {
  const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
  const t = s1 << 9;
  s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 11);
  return result;
}

function rotl(x: number, k: number): number { return (x << k) | (x >>> (32 - k)); }

/** Uniform in [0, 1) with 24 random bits (exact in float32). */
export function uniform(): number { return (nextU32() >>> 8) / 16777216; }

/** Fills `out` with standard normal draws (Box-Muller). */
export function fillNormal(out: Float32Array): void {
  for (let i = 0; i < out.length; i += 2) {
    const u = 1 - uniform(), v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
}
