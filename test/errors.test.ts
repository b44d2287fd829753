// Bad input: each a thrown error that names the op and the shapes, never a wrong answer.
import { describe, expect, it } from 'vitest';
import * as K from '../ts/index.js';
import type { Tensor } from '../ts/index.js';

describe('bad input gives a clear error', () => {
  it('shape mismatch in broadcasting and matmul', () => {
    expect(() => K.add(K.zeros(2, 3), K.zeros(4, 3))).toThrow(/knet add: shapes \[2,3\] and \[4,3\] do not broadcast/);
    expect(() => K.matmul(K.zeros(2, 3), K.zeros(4, 5))).toThrow(/knet matmul: inner dimensions differ: a is 2x3 and b is 4x5/);
    expect(() => K.matmul(K.zeros(2, 3, 1), K.zeros(4, 5))).toThrow(/knet matmul: both operands must be 2-D/);
  });
  it('wrong dtype', () => {
    const labels = K.tensor(Int32Array.of(1, 2), [2]);
    expect(() => K.exp(labels)).toThrow(/knet exp: x must be float32, got int32 \[2\].*float32\(x\)/);
    expect(() => K.nll(K.zeros(3, 2), K.zeros(2))).toThrow(/knet nll: labels float32 \[2\] do not match scores float32 \[3,2\]/);
  });
  it('not a tensor', () => {
    expect(() => K.relu([1, 2] as any)).toThrow(/knet relu: x must be a Tensor, got an array \(wrap it with tensor\(\)\)/);
    expect(() => K.add(1, 2)).toThrow(/knet add: at least one operand must be a Tensor/);
  });
  it('a disposed tensor', () => {
    const x = K.ones(3);
    x.dispose();
    expect(() => K.exp(x)).toThrow(/knet exp: a tensor of shape \[3\] was already disposed/);
    expect(() => x.dataSync()).toThrow(/already disposed/);
  });
  it('a non-scalar loss given to grad', () => {
    const f = (w: Tensor) => K.mul(w, 2);
    expect(() => K.grad(f)(K.ones(3))).toThrow(/knet grad: the function must return a scalar float32 loss.*shape \[3\].*sum\(\) or mean\(\)/);
  });
  it('an unknown option', () => {
    expect(() => K.nll(K.zeros(3, 2), K.tensor(Int32Array.of(0, 1), [2]), 0, { averge: true } as any)).toThrow(/knet nll: unknown option 'averge'/);
  });
  it('labels out of range, and the inputs stay intact', () => {
    const scores = K.tensor([[1, 2], [3, 4], [5, 6]]);
    expect(() => K.nll(scores, K.tensor(Int32Array.of(0, 3), [2]))).toThrow(/knet pick: label 3 at position 1 is outside \[0, 3\)/);
    expect(() => K.nll(scores, K.tensor(Int32Array.of(-1, 0), [2]))).toThrow(/label -1 at position 0/);
    expect(scores.toArray()).toEqual([[1, 2], [3, 4], [5, 6]]);
  });
  it('bad axes, reshape and shapes', () => {
    expect(() => K.sum(K.zeros(2, 3), 2)).toThrow(/knet sum: axis 2 is out of range for shape \[2,3\]/);
    expect(() => K.reshape(K.zeros(2, 3), [4, 2])).toThrow(/knet reshape: cannot reshape \[2,3\] \(6 elements\) to \[4,2\]/);
    expect(() => K.logp(K.zeros(2, 3), undefined as any)).toThrow(/knet logp: give the axis of the classes/);
    expect(() => K.transpose(K.zeros(2, 3), [0, 0])).toThrow(/knet transpose: \[0,0\] is not a permutation/);
    expect(() => K.tensor([1, 2, 3], [2, 2])).toThrow(/knet tensor: 3 values do not fill shape \[2,2\]/);
    expect(() => K.zeros(2, -1)).toThrow(/invalid shape \[2,-1\]/);
    expect(() => K.ones(2).item()).toThrow(/knet item: the tensor has shape \[2\]/);
  });
});
