// The seedable generator behind rand, randn and dropout: xoshiro128** seeded by splitmix32.
// One global stream (setSeed), and private ones (`generator(seed)`) for code that must not
// move the global stream, such as minibatch's shuffles.

function splitmix32(a: number): () => number {
  return () => {
    a = (a + 0x9e3779b9) | 0;
    let z = a;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function rotl(x: number, k: number): number { return (x << k) | (x >>> (32 - k)); }

export class Generator {
  private s0 = 0; private s1 = 0; private s2 = 0; private s3 = 0;
  constructor(seed: number) { this.seed(seed); }

  /** Restarts the stream; the same seed gives the same draws. */
  seed(seed: number): void {
    const sm = splitmix32(seed >>> 0);
    this.s0 = sm(); this.s1 = sm(); this.s2 = sm(); this.s3 = sm();
  }

  /** Next 32 random bits. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0; this.s3 ^= this.s1; this.s1 ^= this.s2; this.s0 ^= this.s3; this.s2 ^= t; this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 24 random bits (exact in float32). */
  uniform(): number { return (this.nextU32() >>> 8) / 16777216; }
}

const global = new Generator(Date.now() ^ 0x5eed);

/** A private generator: its draws leave the global stream (setSeed) untouched. */
export function generator(seed: number): Generator { return new Generator(seed); }

/** Reseeds the global generator; the same seed gives the same rand/randn/dropout draws. */
export function setSeed(seed: number): void { global.seed(seed); }

/** Next 32 random bits of the global stream. */
export function nextU32(): number { return global.nextU32(); }

/** Uniform in [0, 1) with 24 random bits (exact in float32), from the global stream. */
export function uniform(): number { return global.uniform(); }

/** Fills `out` with standard normal draws (Box-Muller) from the global stream. */
export function fillNormal(out: Float32Array): void {
  for (let i = 0; i < out.length; i += 2) {
    const u = 1 - uniform(), v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
}
