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

  it('max and min over an empty axis (sum over one is 0)', () => {
    const x = K.zeros(0, 3);
    expect(() => K.max(x, 0)).toThrow(/knet max: cannot reduce over an empty axis: axis 0 of shape \[0,3\] has size 0.*sum, sumabs and sumabs2 give 0/);
    expect(() => K.min(x)).toThrow(/knet min: cannot reduce over an empty axis: axis 0 of shape \[0,3\]/);
    expect(() => K.max(K.zeros(2, 0, 0), [1, 2])).toThrow(/knet max: .*axes 1, 2 of shape \[2,0,0\] have size 0/);
    expect(() => K.logsumexp(x, 0)).toThrow(/knet logsumexp: cannot take it over an empty axis/);
    expect(K.max(x, 1).shape).toEqual([0]);
    expect(K.sum(x, 0).toArray()).toEqual([0, 0, 0]);
  });
});

describe('matmul: a mismatch says what would fix it', () => {
  it('names the transpose flags that would make the inner dimensions agree', () => {
    // a [2,3], b [4,3]: b is stored transposed
    expect(() => K.matmul(K.zeros(2, 3), K.zeros(4, 3))).toThrow(
      /^knet matmul: inner dimensions differ: a is 2x3 and b is 4x3 \(a \[2,3\], b \[4,3\], transposeA=false, transposeB=false\); the columns of a must equal the rows of b\. If an operand is stored the other way round, pass the transpose flags: matmul\(a, b, false, true\) multiplies a 2x3 by bᵀ 3x4\.$/);
    // transposeA given where it should not be
    expect(() => K.matmul(K.zeros(2, 3), K.zeros(3, 5), true)).toThrow(/aᵀ is 3x2 and b is 3x5.*matmul\(a, b, false, false\) multiplies a 2x3 by b 3x5/);
    // several fixes: a [3,3], b [2,3] works with tb, and with ta, tb
    expect(() => K.matmul(K.zeros(3, 3), K.zeros(2, 3))).toThrow(/matmul\(a, b, false, true\) multiplies a 3x3 by bᵀ 3x2; or matmul\(a, b, true, true\) multiplies aᵀ 3x3 by bᵀ 3x2/);
  });
  it('suggests a reshape when no flag helps', () => {
    let msg = '';
    try { K.matmul(K.zeros(2, 3), K.zeros(4, 6)); } catch (e) { msg = (e as Error).message; }
    expect(msg).toMatch(/knet matmul: inner dimensions differ: a is 2x3 and b is 4x6/);
    expect(msg).toMatch(/No transpose flag makes them agree.*reshape\(b, \[3, -1\]\)/);
    expect(msg).not.toMatch(/pass the transpose flags/);
    // the suggested reshape does work
    expect(K.matmul(K.zeros(2, 3), K.reshape(K.zeros(4, 6), [3, -1])).shape).toEqual([2, 8]);
  });
});

describe('creation options are checked', () => {
  const fns: [string, (o: any) => K.Tensor][] = [
    ['tensor', (o) => K.tensor([1, 2], undefined, o)],
    ['zeros', (o) => K.zeros([2, 3], o)],
    ['ones', (o) => K.ones(2, 3, o)],
    ['full', (o) => K.full([2], 7, o)],
    ['rand', (o) => K.rand([2, 3], o)],
    ['randn', (o) => K.randn(4, o)],
  ];
  for (const [name, f] of fns) {
    it(`${name}: an unknown key, a bad dtype, a bad device`, () => {
      expect(() => f({ dvice: 'gpu' })).toThrow(new RegExp(`^knet ${name}: unknown option 'dvice' \\(did you mean 'device'\\?\\); valid options: dtype, device$`));
      expect(() => f({ device: 'cpu', shape: [2] })).toThrow(new RegExp(`knet ${name}: unknown option 'shape'; valid options: dtype, device`));
      expect(() => f({ dtype: 'float64' })).toThrow(new RegExp(`knet ${name}: dtype 'float64' is not supported; valid dtypes.*'float32'`));
      expect(() => f({ device: 42 })).toThrow(new RegExp(`knet ${name}: device must be a device name such as 'cpu' or 'gpu', got 42`));
      expect(() => f({ device: 'tpu' })).toThrow(/device 'tpu' is not available/);
      expect(() => f('gpu')).toThrow();
      // the valid spellings still work
      const t = f({ dtype: 'float32', device: 'cpu' });
      expect(t.dtype).toBe('float32');
      expect(t.device.name).toBe('cpu');
    });
  }
  it('int32: integer data only, the first bad value named', () => {
    expect(() => K.tensor([1, 2, 2.5, 3.5], undefined, { dtype: 'int32' })).toThrow(/knet tensor: dtype 'int32' needs integers in \[-2\^31, 2\^31\), but the value at index 2 is 2\.5; round the data first/);
    expect(() => K.tensor(Float32Array.of(0, 1, NaN), [3], { dtype: 'int32' })).toThrow(/value at index 2 is NaN/);
    expect(() => K.tensor([[1, 2], [3, 2 ** 31]], undefined, { dtype: 'int32' })).toThrow(/value at index 3 is 2147483648/);
    expect(() => K.full([2], 0.5, { dtype: 'int32' })).toThrow(/knet full: dtype 'int32' needs integers.*index 0 is 0\.5/);
    expect(() => K.rand([2], { dtype: 'int32' })).toThrow(/knet rand: dtype 'int32' is not supported; valid dtypes for rand: 'float32' \(its draws are not integers/);
    expect(() => K.randn([2], { dtype: 'int32' })).toThrow(/knet randn: dtype 'int32' is not supported; valid dtypes for randn: 'float32'/);
    // integers are fine, float32 data included
    expect(Array.from(K.tensor(Float32Array.of(3, -1, 0), [3], { dtype: 'int32' }).dataSync())).toEqual([3, -1, 0]);
    expect(K.zeros([2], { dtype: 'int32' }).dtype).toBe('int32');
    expect(Array.from(K.full([2], -7, { dtype: 'int32' }).dataSync())).toEqual([-7, -7]);
  });
});

describe('gradcheckWith options are checked', () => {
  const f = (w: Tensor) => K.sum(K.square(w));
  it('an unknown key or a bad value is an error', () => {
    expect(() => K.gradcheckWith({ sample: 3 } as any)).toThrow(/^knet gradcheckWith: unknown option 'sample'; valid options: samples, eps, rtol, atol$/);
    expect(() => K.gradcheckWith({ samples: 2.5 })).toThrow(/knet gradcheckWith: option 'samples' must be a positive integer, got 2\.5/);
    expect(() => K.gradcheckWith({ eps: -1 })).toThrow(/option 'eps' must be a positive finite number, got -1/);
    expect(() => K.gradcheckWith({ rtol: '0.1' } as any)).toThrow(/option 'rtol' must be a positive finite number, got '0\.1'/);
    expect(() => K.gradcheckWith(null as any)).toThrow(/knet gradcheckWith: options must be an object/);
  });
  it('valid options are used', () => {
    const res = K.gradcheckWith({ samples: 2 })(f, K.tensor([1, 2, 3, 4]));
    expect(res.checked).toBe(2);
    expect(res.ok).toBe(true);
  });
});

describe('a failed op leaves its inputs intact', () => {
  const cases: [string, () => K.Tensor[], (...x: K.Tensor[]) => unknown, RegExp][] = [
    ['add, shapes that do not broadcast', () => [K.tensor([[1, 2, 3], [4, 5, 6]]), K.tensor([[1, 2], [3, 4]])], (a, b) => K.add(a, b), /do not broadcast/],
    ['matmul, inner dimensions differ', () => [K.tensor([[1, 2, 3], [4, 5, 6]]), K.tensor([[1, 2], [3, 4]])], (a, b) => K.matmul(a, b), /inner dimensions differ/],
    ['sum, an axis out of range', () => [K.tensor([[1, 2, 3], [4, 5, 6]])], (x) => K.sum(x, 2), /axis 2 is out of range/],
    ['max, an empty axis after a non-empty one', () => [K.zeros(0, 2, 3)], (x) => K.max(x, [0, 2]), /empty axis/],
    ['reshape to the wrong size', () => [K.tensor([[1, 2, 3], [4, 5, 6]])], (x) => K.reshape(x, [4, 2]), /cannot reshape/],
  ];
  for (const [name, make, op, error] of cases) {
    it(name, () => {
      const xs = make();
      const before = xs.map((x) => x.toArray());
      const live = K.memory().cpu!.live, count = K.memory().cpu!.tensors;
      expect(() => op(...xs)).toThrow(error);
      expect(K.memory().cpu!.live).toBe(live);
      expect(K.memory().cpu!.tensors).toBe(count);
      for (const [i, x] of xs.entries()) {
        expect(x.disposed).toBe(false);
        expect(x.toArray()).toEqual(before[i]);
      }
      // and they still work
      expect(K.sum(xs[0]).shape).toEqual([]);
      for (const x of xs) x.dispose();
    });
  }
  it('the same inside grad(): the error propagates, the parameters survive', () => {
    const w = K.tensor([[1, 2, 3], [4, 5, 6]]);
    const live = K.memory().cpu!.live;
    expect(() => K.grad((p: Tensor) => K.sum(K.matmul(K.mul(p, 2), p)))(w)).toThrow(/inner dimensions differ/);
    expect(K.memory().cpu!.live).toBe(live);
    expect(w.disposed).toBe(false);
    expect(w.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
  });
});
