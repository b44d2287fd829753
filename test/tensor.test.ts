// Small Tensor API: toString (and Node's inspect), `await x.data()` on the cpu, and the
// seeded generator behind randn/rand.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import * as K from '../ts/index.js';

describe('toString', () => {
  it('shows dtype, shape, device and the values', () => {
    expect(K.tensor([[1, 2.5, 3], [4, 5, -6]]).toString()).toBe('Tensor(float32 [2,3] on cpu)\n[[1, 2.5, 3],\n [4, 5, -6]]');
    expect(K.tensor(Int32Array.of(7, -1, 0), [3]).toString()).toBe('Tensor(int32 [3] on cpu)\n[7, -1, 0]');
    expect(String(K.tensor(3.25))).toBe('Tensor(float32 [] on cpu)\n3.25');
    expect(K.zeros(0, 3).toString()).toBe('Tensor(float32 [0,3] on cpu)\n[]');
  });
  it('rounds to 5 significant digits and elides long axes', () => {
    expect(K.tensor([1 / 3, -0.125, 123456]).toString()).toBe('Tensor(float32 [3] on cpu)\n[0.33333, -0.125, 1.2346e+5]');
    const s = K.tensor(Float32Array.from({ length: 20 }, (_, i) => i), [20]).toString();
    expect(s).toBe('Tensor(float32 [20] on cpu)\n[0, 1, 2, 3, ..., 16, 17, 18, 19]');
  });
  it('says when the tensor is disposed, and Node\'s inspect uses it', () => {
    const x = K.ones(2, 2);
    expect(inspect(x)).toBe(x.toString());
    expect(inspect({ w: x })).toContain('Tensor(float32 [2,2] on cpu)');
    x.dispose();
    expect(x.toString()).toBe('Tensor(float32 [2,2], disposed)');
  });
});

describe('await x.data() on the cpu', () => {
  it('resolves to a copy of the values, typed by dtype', async () => {
    const x = K.tensor([[1, 2], [3, 4]]);
    const d = await x.data();
    expect(d).toBeInstanceOf(Float32Array);
    expect(Array.from(d)).toEqual([1, 2, 3, 4]);
    d[0] = 99; // a copy: the tensor is unchanged
    expect(x.toArray()).toEqual([[1, 2], [3, 4]]);
    const y = K.tensor(Int32Array.of(5, -5), [2]);
    const e = await y.data();
    expect(e).toBeInstanceOf(Int32Array);
    expect(Array.from(e)).toEqual([5, -5]);
  });
  it('reads views at their offset, and rejects once disposed', async () => {
    const x = K.tensor([1, 2, 3, 4, 5, 6], [6]);
    const v = K.slice(x, 0, 2, 5);
    expect(Array.from(await v.data())).toEqual([3, 4, 5]);
    x.dispose();
    await expect(x.data()).rejects.toThrow(/already disposed/);
  });
});

describe('setSeed and randn', () => {
  it('the same seed gives the same draws, another seed other draws', () => {
    K.setSeed(42);
    const a = K.randn(3, 5).dataSync();
    K.setSeed(42);
    const b = K.randn(3, 5).dataSync();
    expect(Array.from(b)).toEqual(Array.from(a));
    K.setSeed(43);
    const c = K.randn(3, 5).dataSync();
    expect(Array.from(c)).not.toEqual(Array.from(a));
    // the stream moves on without a reseed
    K.setSeed(42);
    K.randn(3, 5);
    expect(Array.from(K.randn(3, 5).dataSync())).not.toEqual(Array.from(a));
  });
  it('draws look standard normal', () => {
    K.setSeed(1);
    const d = K.randn(20000).dataSync();
    const mean = d.reduce((s, v) => s + v, 0) / d.length;
    const sd = Math.sqrt(d.reduce((s, v) => s + (v - mean) ** 2, 0) / d.length);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(sd - 1)).toBeLessThan(0.03);
    expect(new Set(d).size).toBeGreaterThan(19990);
  });
});
