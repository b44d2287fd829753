// dropout: the identity outside grad; inside, a mask with the right statistics, scaled by
// 1/(1-p), reproducible under setSeed, and the same mask in the gradient.
import { describe, expect, it } from 'vitest';
import * as K from '../ts/index.js';
import type { Tensor } from '../ts/index.js';
import { raw } from './helpers/raw.js';

/** Runs dropout inside grad and returns [its output, the gradient of sum(y .* r)] as arrays. */
function underGrad(x: Tensor, p: number, r: Tensor): [Float32Array, Float32Array] {
  let y!: Float32Array;
  const g = K.grad((t: Tensor) => {
    const d = K.dropout(t, p);
    y = d.dataSync() as Float32Array;
    return K.sum(K.mul(d, r));
  })(x);
  const out: [Float32Array, Float32Array] = [y, g.dataSync() as Float32Array];
  g.dispose();
  return out;
}

describe('dropout', () => {
  const n = 100_003; // odd: the scalar tail runs too
  const x = K.add(K.rand([n]), 0.5); // no zeros, so a zero output means dropped
  const r = K.sub(K.rand([n]), 0.5);
  const xs = x.dataSync(), rs = r.dataSync();

  it('is the identity outside grad (x itself, as Knet)', () => {
    expect(K.dropout(x, 0.5)).toBe(x);
    expect(K.dropout(x, 0.5, { drop: false })).toBe(x);
  });

  for (const p of [0.1, 0.5, 0.9]) {
    it(`drops a fraction p = ${p} inside grad and scales the rest by 1/(1-p)`, () => {
      const [y] = underGrad(x, p, r);
      let dropped = 0, bad = 0, pairs = 0;
      for (let i = 0; i < n; i++) {
        if (y[i] === 0) dropped++;
        else if (Math.abs(y[i] - xs[i] / (1 - p)) > 1e-6 * Math.abs(y[i])) bad++;
        if (i > 0 && y[i] === 0 && y[i - 1] === 0) pairs++;
      }
      const sigma = Math.sqrt(p * (1 - p) / n);
      expect(Math.abs(dropped / n - p)).toBeLessThan(5 * sigma);
      expect(bad).toBe(0);
      // neighbours are independent: both dropped with probability p^2
      expect(Math.abs(pairs / (n - 1) - p * p)).toBeLessThan(5 * Math.sqrt(p * p * (1 - p * p) / n));
    });
  }

  it('the gradient uses the same mask', () => {
    const p = 0.3;
    const [y, g] = underGrad(x, p, r);
    for (let i = 0; i < n; i++) {
      const want = y[i] === 0 ? 0 : rs[i] / (1 - p);
      if (Math.abs(g[i] - want) > 1e-6 * Math.abs(want)) throw new Error(`entry ${i}: gradient ${g[i]}, want ${want} (y ${y[i]})`);
    }
  });

  it('is reproducible under setSeed, and a new call draws a new mask', () => {
    K.setSeed(7);
    const [a] = underGrad(x, 0.5, r);
    const [b] = underGrad(x, 0.5, r);
    K.setSeed(7);
    const [c] = underGrad(x, 0.5, r);
    expect(c).toEqual(a);
    let same = 0;
    for (let i = 0; i < n; i++) if ((a[i] === 0) === (b[i] === 0)) same++;
    expect(Math.abs(same / n - 0.5)).toBeLessThan(0.01); // independent masks agree half the time
  });

  it('p = 0 is the identity inside grad; drop: true drops outside grad', () => {
    const [y] = underGrad(x, 0, r);
    expect(y).toEqual(xs);
    const d = K.dropout(x, 0.5, { drop: true });
    const zeros = (d.dataSync() as Float32Array).filter((v) => v === 0).length;
    expect(Math.abs(zeros / n - 0.5)).toBeLessThan(0.01);
    d.dispose();
  });

  it('gradcheck with a fixed mask', () => {
    const w = K.randn([5, 7]), s = K.randn([5, 7]);
    // reseeding inside f gives every evaluation the same mask
    const f = (t: Tensor) => { K.setSeed(3); return K.sum(K.mul(K.dropout(t, 0.4, { drop: true }), s)); };
    const res = K.gradcheck(f, w);
    expect(res.maxError, JSON.stringify(res.worst)).toBeLessThan(2e-2);
  });

  it('the kernel: the mask is a function of (key, index) alone, SIMD lanes and tail alike', async () => {
    const rk = await raw();
    const src = rk.f32(Array.from({ length: 13 }, (_, i) => i + 1));
    const a = rk.alloc(13), c = rk.alloc(13);
    rk.k.dropout(src, a, 13, 1 << 23, 2, 12345, -777); // elements 4..6 in SIMD lanes
    rk.k.dropout(src, c, 7, 1 << 23, 2, 12345, -777);  // elements 4..6 in the scalar tail
    const all = rk.readF32(a, 13);
    expect(Array.from(rk.readF32(c, 7))).toEqual(Array.from(all.slice(0, 7)));
    for (let i = 0; i < 13; i++) expect([0, 2 * (i + 1)]).toContain(all[i]);
  });

  it('bad p and options', () => {
    expect(() => K.dropout(x, 1)).toThrow(/knet dropout: p is the probability of dropping an entry and must be in \[0, 1\), got 1/);
    expect(() => K.dropout(x, -0.1)).toThrow(/must be in \[0, 1\)/);
    expect(() => K.dropout(x, NaN)).toThrow(/must be in \[0, 1\)/);
    expect(() => K.dropout(x, '0.5' as any)).toThrow(/must be in \[0, 1\)/);
    expect(() => K.dropout(x, 0.5, { training: true } as any)).toThrow(/knet dropout: unknown option 'training' \(known: drop\)/);
    expect(() => K.dropout(K.tensor(new Int32Array(3), [3]), 0.5)).toThrow(/knet dropout: x must be float32/);
  });
});
