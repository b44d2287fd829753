// The op table shared by the op tests of every device (test/ops.test.ts on the cpu,
// test/gpu-ops.test.ts on the gpu): one row per op and shape, with its float64 reference
// and the domain its inputs are drawn from. Adding an op adds rows here.
import * as K from '../../ts/index.js';
import type { Tensor } from '../../ts/index.js';
import * as R from './ref.js';
import type { Arr } from './ref.js';

// 'grid'/'offgrid': multiples of 0.1, and those shifted by 0.05, so a pair never
// comes within gradcheck's step of a kink; 'distinct': spaced values in random order.
export type Domain = 'any' | 'nonzero' | 'positive' | 'grid' | 'offgrid' | 'distinct';
export interface Row {
  name: string;
  shapes: number[][];
  domain?: Domain[];
  run: (...x: Tensor[]) => Tensor;
  ref: (...x: Arr[]) => Arr;
  tol?: number;
  grad?: boolean;
}

export const rows: Row[] = [];
const sig = (v: number) => 1 / (1 + Math.exp(-v));

// unary
const unaries: [string, (x: Tensor) => Tensor, (v: number) => number, Domain][] = [
  ['neg', K.neg, (v) => -v, 'any'],
  ['exp', K.exp, Math.exp, 'any'],
  ['log', K.log, Math.log, 'positive'],
  ['sqrt', K.sqrt, Math.sqrt, 'positive'],
  ['abs', K.abs, Math.abs, 'nonzero'],
  ['tanh', K.tanh, Math.tanh, 'any'],
  ['sigm', K.sigm, sig, 'any'],
  ['relu', K.relu, (v) => Math.max(v, 0), 'nonzero'],
  ['invx', K.invx, (v) => 1 / v, 'nonzero'],
  ['square', K.square, (v) => v * v, 'any'],
];
for (const [name, f, g, d] of unaries) {
  for (const s of [[1], [5], [17], [3, 7], [2, 3, 4], []]) {
    rows.push({ name: `${name} ${JSON.stringify(s)}`, shapes: [s], domain: [d], run: f, ref: (x) => R.map(x, g) });
  }
}

// binary with broadcasting
const binaries: [string, (a: any, b: any) => Tensor, (a: number, b: number) => number, Domain, Domain][] = [
  ['add', K.add, (a, b) => a + b, 'any', 'any'],
  ['sub', K.sub, (a, b) => a - b, 'any', 'any'],
  ['mul', K.mul, (a, b) => a * b, 'any', 'any'],
  ['div', K.div, (a, b) => a / b, 'any', 'nonzero'],
  ['pow', K.pow, (a, b) => a ** b, 'positive', 'any'],
  ['maximum', K.maximum, Math.max, 'grid', 'offgrid'],
  ['minimum', K.minimum, Math.min, 'grid', 'offgrid'],
];
const pairs = [[[3, 4], [3, 4]], [[3, 4], [4]], [[3, 4], [3, 1]], [[2, 1, 5], [1, 3, 1]], [[1], [2, 3]],
  [[5], []], [[2, 3, 4, 5], [3, 1, 5]], [[7], [7]], [[4, 1], [1, 6]], [[1, 1], [1, 1]]];
for (const [name, f, g, da, db] of binaries) {
  for (const [sa, sb] of pairs) {
    rows.push({ name: `${name} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`, shapes: [sa, sb], domain: [da, db], run: f, ref: (a, b) => R.binary(a, b, g) });
  }
  // a plain number on either side
  const s = name === 'pow' ? 1.5 : name === 'div' ? 0.7 : 0.32; // off both grids that maximum/minimum draw from
  rows.push({ name: `${name} tensor,number`, shapes: [[3, 5]], domain: [da], run: (a) => f(a, s), ref: (a) => R.map(a, (v) => g(v, s)) });
  if (name !== 'pow' && name !== 'div') rows.push({ name: `${name} number,tensor`, shapes: [[6]], domain: [db], run: (b) => f(s, b), ref: (b) => R.map(b, (v) => g(s, v)) });
}
rows.push({ name: 'div number,tensor', shapes: [[6]], domain: ['nonzero'], run: (b) => K.div(2, b), ref: (b) => R.map(b, (v) => 2 / v) });
rows.push({ name: 'pow number,tensor', shapes: [[6]], run: (b) => K.pow(2, b), ref: (b) => R.map(b, (v) => 2 ** v) });

// reductions
const reductions: [string, typeof K.sum, number, (a: number, v: number) => number][] = [
  ['sum', K.sum, 0, (a, v) => a + v],
  ['max', K.max, -Infinity, Math.max],
  ['min', K.min, Infinity, Math.min],
  ['sumabs2', K.sumabs2, 0, (a, v) => a + v * v],
  ['sumabs', K.sumabs, 0, (a, v) => a + Math.abs(v)],
];
const axesCases: [number[], number | number[] | undefined, boolean][] = [
  [[3, 4], undefined, false], [[3, 4], 0, false], [[3, 4], 1, true], [[2, 3, 4], [0, 2], false],
  [[2, 3, 4], [1, 2], true], [[5], 0, false], [[2, 3, 4], -1, false], [[17, 9], 0, false], [[1, 5], 0, true],
];
for (const [name, f, init, acc] of reductions) {
  for (const [shape, axes, keep] of axesCases) {
    const ax = axes === undefined ? undefined : (typeof axes === 'number' ? [axes] : axes).map((a) => (a + shape.length) % shape.length);
    const domain: Domain = name === 'sumabs' ? 'nonzero' : name === 'max' || name === 'min' ? 'distinct' : 'any';
    rows.push({ name: `${name} ${JSON.stringify(shape)} axes=${JSON.stringify(axes)} keep=${keep}`, shapes: [shape], domain: [domain],
      run: (x) => f(x, axes, keep), ref: (x) => R.reduce(x, ax, keep, init, acc) });
  }
}
for (const [shape, axes] of [[[3, 4], undefined], [[2, 3, 4], [0, 2]], [[5], 0]] as const) {
  const ax = axes === undefined ? undefined : typeof axes === 'number' ? [axes] : [...axes];
  rows.push({ name: `mean ${JSON.stringify(shape)} ${JSON.stringify(axes)}`, shapes: [[...shape]], run: (x) => K.mean(x, ax),
    ref: (x) => { const s = R.reduce(x, ax, false, 0, (a, v) => a + v); const n = x.data.length / s.data.length; return R.map(s, (v) => v / n); } });
}

// softmax family
for (const [shape, axis] of [[[4, 6], 0], [[4, 6], 1], [[3, 5, 2], 1], [[7], 0], [[10, 3], 0]] as [number[], number][]) {
  const tag = `${JSON.stringify(shape)} axis=${axis}`;
  rows.push({ name: `logp ${tag}`, shapes: [shape], domain: ['any'], run: (x) => K.logp(x, axis),
    ref: (x) => R.alongAxis(x, axis, (v) => { const l = R.logsumexpFibre(v); return v.map((e) => e - l); }) });
  rows.push({ name: `softmax ${tag}`, shapes: [shape], run: (x) => K.softmax(x, axis),
    ref: (x) => R.alongAxis(x, axis, (v) => { const l = R.logsumexpFibre(v); return v.map((e) => Math.exp(e - l)); }) });
  rows.push({ name: `logsumexp ${tag} keepdims`, shapes: [shape], run: (x) => K.logsumexp(x, axis, true),
    ref: (x) => { const a = R.alongAxis(x, axis, (v) => v.map(() => R.logsumexpFibre(v))); return R.reduce(a, [axis], true, -Infinity, Math.max); } });
}
rows.push({ name: 'logsumexp all', shapes: [[3, 4]], run: (x) => K.logsumexp(x), ref: (x) => ({ shape: [], data: Float64Array.of(R.logsumexpFibre([...x.data])) }) });

// matmul in every transpose form
for (const [M, N, Kd] of [[3, 5, 4], [1, 7, 1], [9, 13, 17], [6, 1, 5]]) {
  for (const ta of [false, true]) for (const tb of [false, true]) {
    rows.push({ name: `matmul ${M}x${Kd}x${N} ta=${ta} tb=${tb}`, shapes: [ta ? [Kd, M] : [M, Kd], tb ? [N, Kd] : [Kd, N]],
      run: (a, b) => K.matmul(a, b, ta, tb), ref: (a, b) => R.matmul(a, b, ta, tb) });
  }
}

// layout
for (const [shape, perm] of [[[3, 4], undefined], [[2, 3, 4], [2, 0, 1]], [[2, 3, 4], [1, 0, 2]], [[2, 3, 4, 5], [3, 1, 0, 2]], [[1, 5], undefined]] as [number[], number[] | undefined][]) {
  const p = perm ?? shape.map((_, i) => shape.length - 1 - i);
  rows.push({ name: `transpose ${JSON.stringify(shape)} ${JSON.stringify(perm)}`, shapes: [shape], run: (x) => K.transpose(x, perm), ref: (x) => R.transpose(x, p) });
}
rows.push({ name: 'reshape', shapes: [[2, 3, 4]], run: (x) => K.reshape(x, [4, -1]), ref: (x) => ({ data: x.data, shape: [4, 6] }) });
rows.push({ name: 'mat', shapes: [[2, 3, 4]], run: (x) => K.mat(x), ref: (x) => ({ data: x.data, shape: [2, 12] }) });
rows.push({ name: 'broadcastTo', shapes: [[3, 1]], run: (x) => K.broadcastTo(x, [2, 3, 4]), ref: (x) => R.binary(x, { data: new Float64Array(24), shape: [2, 3, 4] }, (a) => a) });

// Size 0: tensors with a 0 dimension, in every op family where the result is defined.
// Appended last, so the rows above keep their seeds. An empty sum is 0 (and an empty mean
// NaN, as in NumPy and PyTorch); max/min/logsumexp/softmax over an empty axis are errors,
// tested in test/errors.test.ts; K = 0 in matmul gives zeros.
for (const [name, f, g] of unaries.filter(([n]) => ['neg', 'exp', 'log', 'relu', 'square'].includes(n))) {
  for (const s of [[0], [2, 0, 3]]) rows.push({ name: `${name} ${JSON.stringify(s)} (size 0)`, shapes: [s], run: f, ref: (x) => R.map(x, g) });
}
const emptyPairs = [[[0], [0]], [[2, 0], [2, 0]], [[0, 3], [3]], [[0, 3], [1, 3]], [[2, 0], [2, 1]], [[0], []], [[0, 1], [1, 4]], [[1], [0]], [[3, 1, 0], [4, 1]]];
for (const [name, f, g, da, db] of binaries) {
  for (const [sa, sb] of emptyPairs) {
    rows.push({ name: `${name} ${JSON.stringify(sa)} ${JSON.stringify(sb)} (size 0)`, shapes: [sa, sb], domain: [da, db], run: f, ref: (a, b) => R.binary(a, b, g) });
  }
  rows.push({ name: `${name} tensor,number (size 0)`, shapes: [[0, 3]], domain: [da], run: (a) => f(a, 0.5), ref: (a) => R.map(a, (v) => g(v, 0.5)) });
}
const emptyAxes: [number[], number | number[] | undefined, boolean][] = [
  [[0, 3], 1, false], [[0, 3], 1, true], [[3, 0], 0, false], [[2, 0, 3], [0, 2], true], [[2, 0, 3], -1, false],
];
for (const [name, f, init, acc] of reductions) {
  // reductions over non-empty axes of a tensor with a 0 dimension: an empty result
  for (const [shape, axes, keep] of emptyAxes) {
    const ax = (typeof axes === 'number' ? [axes] : axes!).map((a) => (a + shape.length) % shape.length);
    rows.push({ name: `${name} ${JSON.stringify(shape)} axes=${JSON.stringify(axes)} keep=${keep} (size 0)`, shapes: [shape],
      run: (x) => f(x, axes, keep), ref: (x) => R.reduce(x, ax, keep, init, acc) });
  }
  if (name === 'max' || name === 'min') continue;
  // over the empty axes themselves: the sum of nothing is 0
  for (const [shape, axes, keep] of [[[0], undefined, false], [[2, 0], undefined, true], [[0, 3], 0, false], [[3, 0, 2], 1, true], [[2, 0, 3], [1, 2], false]] as [number[], number | number[] | undefined, boolean][]) {
    const ax = axes === undefined ? undefined : (typeof axes === 'number' ? [axes] : axes).map((a) => (a + shape.length) % shape.length);
    rows.push({ name: `${name} ${JSON.stringify(shape)} axes=${JSON.stringify(axes)} keep=${keep} (empty sum)`, shapes: [shape],
      run: (x) => f(x, axes, keep), ref: (x) => R.reduce(x, ax, keep, init, acc) });
  }
}
rows.push({ name: 'mean [0,3] axis 1 (size 0)', shapes: [[0, 3]], run: (x) => K.mean(x, 1), ref: () => ({ shape: [0], data: new Float64Array(0) }) });
rows.push({ name: 'mean [2,0] (empty mean is NaN)', shapes: [[2, 0]], grad: false, run: (x) => K.mean(x), ref: () => ({ shape: [], data: Float64Array.of(NaN) }) });
for (const [shape, axis] of [[[0, 4], 1], [[4, 0, 2], 2]] as [number[], number][]) {
  rows.push({ name: `softmax ${JSON.stringify(shape)} axis=${axis} (size 0)`, shapes: [shape], run: (x) => K.softmax(x, axis), ref: (x) => x });
  rows.push({ name: `logp ${JSON.stringify(shape)} axis=${axis} (size 0)`, shapes: [shape], run: (x) => K.logp(x, axis), ref: (x) => x });
  rows.push({ name: `logsumexp ${JSON.stringify(shape)} axis=${axis} (size 0)`, shapes: [shape], run: (x) => K.logsumexp(x, axis),
    ref: (x) => ({ shape: x.shape.filter((_, i) => i !== axis), data: new Float64Array(0) }) });
}
for (const [M, N, Kd] of [[0, 5, 4], [3, 0, 4], [3, 5, 0], [0, 0, 0], [0, 5, 0]]) {
  for (const ta of [false, true]) for (const tb of [false, true]) {
    rows.push({ name: `matmul ${M}x${Kd}x${N} ta=${ta} tb=${tb} (size 0)`, shapes: [ta ? [Kd, M] : [M, Kd], tb ? [N, Kd] : [Kd, N]],
      run: (a, b) => K.matmul(a, b, ta, tb), ref: (a, b) => R.matmul(a, b, ta, tb) });
  }
}
rows.push({ name: 'transpose [0,3] (size 0)', shapes: [[0, 3]], run: (x) => K.transpose(x), ref: (x) => R.transpose(x, [1, 0]) });
rows.push({ name: 'transpose [2,0,3] [2,0,1] (size 0)', shapes: [[2, 0, 3]], run: (x) => K.transpose(x, [2, 0, 1]), ref: (x) => R.transpose(x, [2, 0, 1]) });
rows.push({ name: 'reshape [0,3] to [-1,6] (size 0)', shapes: [[0, 3]], run: (x) => K.reshape(x, [-1, 6]), ref: (x) => ({ data: x.data, shape: [0, 6] }) });
rows.push({ name: 'broadcastTo [1,3] to [0,3] (size 0)', shapes: [[1, 3]], run: (x) => K.broadcastTo(x, [0, 3]), ref: () => ({ data: new Float64Array(0), shape: [0, 3] }) });

export function draw(r: ReturnType<typeof R.rng>, shape: number[], d: Domain = 'any'): Arr {
  if (d === 'positive') return r.uniform(shape, 0.2, 2);
  if (d === 'grid' || d === 'offgrid') return R.map(r.uniform(shape, -1, 1), (v) => Math.fround(Math.round(v * 10) / 10 + (d === 'offgrid' ? 0.05 : 0)));
  if (d === 'distinct') {
    const n = R.size(shape), v = Array.from({ length: n }, (_, i) => Math.fround((i - n / 2) * 0.05));
    for (let i = n - 1; i > 0; i--) { const j = r.int(i + 1); [v[i], v[j]] = [v[j], v[i]]; }
    return { shape, data: Float64Array.from(v) };
  }
  const x = r.uniform(shape, -1, 1);
  if (d === 'nonzero') return R.map(x, (v) => Math.fround(v < 0 ? v - 0.1 : v + 0.1));
  return x;
}
