// Gradients on the gpu against float64: for every row of the shared op table
// (test/helpers/op-table.ts), and for rows sized to miss every workgroup and tile size and
// to reach each reduction path (one thread per run, a workgroup per run, chunked runs, one
// thread per output column), the gpu's analytic gradient of sum(op(x) .* r), read back
// with await, is compared with central differences of the float64 reference computed on
// the host (test/helpers/gpu-gradcheck.ts). test/gpu-ops.test.ts compares the same
// gradients with the cpu's; this file needs no cpu at all.
import { describe, expect, it } from 'vitest';
import * as K from '../ts/index.js';
import type { Tensor } from '../ts/index.js';
import * as R from './helpers/ref.js';
import type { Arr } from './helpers/ref.js';
import { draw, rows, type Row } from './helpers/op-table.js';
import { gpuDevice, gpuOk } from './helpers/gpu.js';
import { refGradcheck } from './helpers/gpu-gradcheck.js';

/**
 * The pass marks for the coordinate check (see RefGradResult.worst) and the directional one:
 * about ten times the worst seen on lavapipe (1.1e-5 for logp and matmul, 8e-7).
 */
const TOL = 1e-4, DIR_TOL = 1e-5;

async function check(row: Row, seed: number): Promise<void> {
  const r = R.rng(seed);
  const xs = row.shapes.map((s, j) => draw(r, s, row.domain?.[j]));
  const edge = gpuOk ? gpuDevice().ctx.wg : 256;
  const res = await refGradcheck(row.run, row.ref, xs, { seed: seed + 1, edge });
  expect(res.worst, `worst at ${JSON.stringify(res.at)}`).toBeLessThan(Math.max(TOL, row.tol ?? 0));
  expect(res.directional).toBeLessThan(DIR_TOL);
}

describe.skipIf(!gpuOk)('gpu gradients against float64 central differences: the op table', () => {
  rows.filter((row) => row.grad !== false).forEach((row, i) => it(row.name, () => check(row, 9000 + 7 * i)));
});

// Rows beyond the table: sizes that are not multiples of the workgroup size (256 here, or
// the adapter's smaller limit) and that take the other kernel paths.
const extra: Row[] = [];
const sig = (v: number) => 1 / (1 + Math.exp(-v));
const unaries: [string, (x: Tensor) => Tensor, (v: number) => number, 'any' | 'positive' | 'nonzero'][] = [
  ['neg', K.neg, (v) => -v, 'any'], ['exp', K.exp, Math.exp, 'any'], ['log', K.log, Math.log, 'positive'],
  ['sqrt', K.sqrt, Math.sqrt, 'positive'], ['abs', K.abs, Math.abs, 'nonzero'], ['tanh', K.tanh, Math.tanh, 'any'],
  ['sigm', K.sigm, sig, 'any'], ['relu', K.relu, (v) => Math.max(v, 0), 'nonzero'], ['invx', K.invx, (v) => 1 / v, 'nonzero'],
  ['square', K.square, (v) => v * v, 'any'],
];
for (const [name, f, g, d] of unaries) {
  for (const s of [[257], [17, 31]]) extra.push({ name: `${name} ${JSON.stringify(s)}`, shapes: [s], domain: [d], run: f, ref: (x) => R.map(x, g) });
}
const binaries: [string, (a: Tensor, b: Tensor) => Tensor, (a: number, b: number) => number, 'any' | 'positive' | 'nonzero' | 'grid' | 'offgrid', 'any' | 'nonzero' | 'offgrid'][] = [
  ['add', K.add, (a, b) => a + b, 'any', 'any'], ['sub', K.sub, (a, b) => a - b, 'any', 'any'],
  ['mul', K.mul, (a, b) => a * b, 'any', 'any'], ['div', K.div, (a, b) => a / b, 'any', 'nonzero'],
  ['pow', K.pow, (a, b) => a ** b, 'positive', 'any'], ['maximum', K.maximum, Math.max, 'grid', 'offgrid'],
  ['minimum', K.minimum, Math.min, 'grid', 'offgrid'],
];
for (const [name, f, g, da, db] of binaries) {
  for (const [sa, sb] of [[[5, 67], [67]], [[3, 1, 130], [1, 4, 1]], [[300], [300]]]) {
    extra.push({ name: `${name} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`, shapes: [sa, sb], domain: [da, db], run: f, ref: (a, b) => R.binary(a, b, g) });
  }
}
// [rows, r] with r > 64 and few rows: a workgroup per run; r > 4096: chunked runs and a
// second pass; many short runs or (on adapters that run on a CPU) >= 128 runs: a thread
// per run; inner > 1: a thread per output column.
const reductions: [string, typeof K.sum, number, (a: number, v: number) => number][] = [
  ['sum', K.sum, 0, (a, v) => a + v], ['max', K.max, -Infinity, Math.max], ['min', K.min, Infinity, Math.min],
  ['sumabs2', K.sumabs2, 0, (a, v) => a + v * v], ['sumabs', K.sumabs, 0, (a, v) => a + Math.abs(v)],
];
const paths: [number[], number | undefined][] = [[[3, 4097], 1], [[5, 100], 1], [[130, 70], 1], [[300, 7], 0], [[2, 300, 3], 1], [[9001], undefined]];
for (const [name, f, init, acc] of reductions) {
  for (const [shape, axis] of paths) {
    const ax = axis === undefined ? undefined : [axis];
    const domain = name === 'sumabs' ? 'nonzero' : name === 'max' || name === 'min' ? 'distinct' : 'any';
    extra.push({ name: `${name} ${JSON.stringify(shape)} axis=${axis}`, shapes: [shape], domain: [domain],
      run: (x) => f(x, axis), ref: (x) => R.reduce(x, ax, false, init, acc) });
  }
}
for (const [shape, axis] of [[[5, 4097], 1], [[300, 7], 0]] as [number[], number][]) {
  extra.push({ name: `mean ${JSON.stringify(shape)} axis=${axis}`, shapes: [shape], run: (x) => K.mean(x, axis),
    ref: (x) => R.map(R.reduce(x, [axis], false, 0, (a, v) => a + v), (v) => v / shape[axis]) });
}
for (const [shape, axis] of [[[3, 130], 1], [[130, 3], 0], [[200, 70], 1], [[2, 70, 3], 1], [[2, 5000], 1]] as [number[], number][]) {
  const tag = `${JSON.stringify(shape)} axis=${axis}`;
  extra.push({ name: `logp ${tag}`, shapes: [shape], run: (x) => K.logp(x, axis),
    ref: (x) => R.alongAxis(x, axis, (v) => { const l = R.logsumexpFibre(v); return v.map((e) => e - l); }) });
  extra.push({ name: `softmax ${tag}`, shapes: [shape], run: (x) => K.softmax(x, axis),
    ref: (x) => R.alongAxis(x, axis, (v) => { const l = R.logsumexpFibre(v); return v.map((e) => Math.exp(e - l)); }) });
  extra.push({ name: `logsumexp ${tag}`, shapes: [shape], run: (x) => K.logsumexp(x, axis),
    ref: (x) => R.reduce(R.alongAxis(x, axis, (v) => { const l = R.logsumexpFibre(v); return v.map(() => l); }), [axis], false, -Infinity, Math.max) });
}
for (const [M, N, Kd] of [[65, 67, 129], [9, 130, 20], [1, 300, 7], [33, 17, 1]]) {
  for (const ta of [false, true]) for (const tb of [false, true]) {
    extra.push({ name: `matmul ${M}x${Kd}x${N} ta=${ta} tb=${tb}`, shapes: [ta ? [Kd, M] : [M, Kd], tb ? [N, Kd] : [Kd, N]],
      run: (a, b) => K.matmul(a, b, ta, tb), ref: (a, b) => R.matmul(a, b, ta, tb) });
  }
}
for (const [shape, perm] of [[[67, 130], [1, 0]], [[3, 33, 17], [0, 2, 1]], [[5, 6, 7, 8], [3, 1, 0, 2]]] as [number[], number[]][]) {
  extra.push({ name: `transpose ${JSON.stringify(shape)} ${JSON.stringify(perm)}`, shapes: [shape], run: (x) => K.transpose(x, perm), ref: (x) => R.transpose(x, perm) });
}
extra.push({ name: 'broadcastTo [3,1,5] to [2,3,43,5]', shapes: [[3, 1, 5]], run: (x) => K.broadcastTo(x, [2, 3, 43, 5]),
  ref: (x) => R.binary(x, { data: new Float64Array(2 * 3 * 43 * 5), shape: [2, 3, 43, 5] }, (a) => a) });
// nll over 257 examples, classes on either axis (pick/unpick and the softmax family)
const labels = Int32Array.from({ length: 257 }, (_, i) => (i * 7) % 10);
for (const axis of [0, 1]) {
  const shape = axis === 0 ? [10, 257] : [257, 10];
  extra.push({ name: `nll ${JSON.stringify(shape)} classes on axis ${axis}`, shapes: [shape],
    run: (x) => K.nll(x, K.tensor(labels, [257], { device: x.device.name }), axis),
    ref: (x) => {
      const lp = R.alongAxis(x, axis, (v) => { const l = R.logsumexpFibre(v); return v.map((e) => e - l); });
      let s = 0;
      labels.forEach((y, n) => { s -= lp.data[axis === 0 ? y * 257 + n : n * 10 + y]; });
      return { shape: [], data: Float64Array.of(s / 257) };
    } });
}

describe.skipIf(!gpuOk)('gpu gradients against float64 central differences: odd sizes and every kernel path', () => {
  extra.forEach((row, i) => it(row.name, () => check(row, 20000 + 7 * i)));
});

describe.skipIf(!gpuOk)('the float64 gradient check fails on wrong gradients', () => {
  const x = (n: number): Arr => R.rng(5).uniform([n]);
  it('a reference off by 0.05% everywhere', async () => {
    const res = await refGradcheck(K.tanh, (a) => R.map(a, (v) => 1.0005 * Math.tanh(v)), [x(300)]);
    expect(res.worst).toBeGreaterThan(TOL);
  });
  it('one coordinate wrong, outside the sample, caught by the directional derivative', async () => {
    const n = 5000, bad = 3333;
    const res = await refGradcheck(K.tanh, (a) => ({ shape: a.shape, data: a.data.map((v, i) => (i === bad ? 2 : 1) * Math.tanh(v)) }), [x(n)], { samples: 4 });
    expect(res.checked).toBeLessThan(n);
    expect(res.directional).toBeGreaterThan(DIR_TOL);
  });
  it('a wrong op', async () => {
    const res = await refGradcheck(K.sigm, (a) => R.map(a, Math.tanh), [x(20)]);
    expect(res.worst).toBeGreaterThan(0.1);
  });
});
