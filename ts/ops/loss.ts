// Losses and metrics over class scores: nll (negative log likelihood of the correct
// class, from unnormalised scores, as Knet's nll), accuracy, and the pick op (select
// one entry per column by int32 label) whose vjp scatters the gradient back.

import { record } from '../autograd/tape.js';
import { empty, fmtShape, sameShape, Tensor } from '../tensor.js';
import { arg, describe, normAxes, sameDevice, split3 } from './check.js';
import { div, eq, mul } from './arith.js';
import { neg } from './unary.js';
import { mean, sum } from './reduce.js';
import { logp } from './softmax.js';

function labelCheck(op: string, scores: Tensor, labels: Tensor, axis: number): [number, number, number] {
  const want = scores.shape.filter((_, i) => i !== axis);
  if (!sameShape(labels.shape, want)) {
    throw new Error(`knet ${op}: labels ${describe(labels)} do not match scores ${describe(scores)} with classes on axis ${axis}: ` +
      `int32 labels need shape ${fmtShape(want)} (one per example), or give one-hot float32 labels shaped like the scores`);
  }
  return split3(scores.shape, axis, axis + 1);
}

function oneHotCheck(op: string, scores: Tensor, labels: Tensor): void {
  if (!sameShape(labels.shape, scores.shape)) {
    throw new Error(`knet ${op}: labels ${describe(labels)} do not match scores ${describe(scores)}: float32 labels are ` +
      `one-hot and must have the scores' shape; class indices must be int32 (e.g. tensor(Int32Array.from(y), shape))`);
  }
}

function badLabel(op: string, labels: Tensor, at: number, r: number): Error {
  const v = labels.device.name === 'cpu' ? labels.dataSync()[at] : '?';
  return new Error(`knet ${op}: label ${v} at position ${at} is outside [0, ${r}) for ${r} classes; labels are 0-based int32`);
}

/** x[..., labels, ...] along `axis`: one entry per position of `labels`. */
export function pick(x: Tensor, labels: Tensor, axis = 0): Tensor {
  arg('pick', x);
  arg('pick', labels, 'labels', 'int32');
  const dev = sameDevice('pick', x, labels);
  const [ax] = normAxes('pick', x.shape, axis);
  const [outer, r, inner] = labelCheck('pick', x, labels, ax);
  const y = empty(labels.shape, 'float32', dev);
  const bad = y.size ? dev.pick(x, labels, y, outer, r, inner) : -1;
  if (bad >= 0) { y.dispose(); throw badLabel('pick', labels, bad, r); }
  return record(y, [x], (g) => {
    const dx = empty(x.shape, 'float32', dev);
    dev.unpick(g, labels, dx, outer, r, inner);
    return [dx];
  });
}

/**
 * Mean negative log likelihood of the correct classes given unnormalised scores:
 * -mean(logp(scores, axis)[labels]). Labels are 0-based int32 (one per example) or
 * one-hot float32 shaped like the scores. The classes are on axis 0 by default, as in
 * the seed's [classes, batch] layout; pass 1 for [batch, classes].
 */
export function nll(scores: Tensor, labels: Tensor, axis = 0, opts: { average?: boolean } = {}): Tensor {
  arg('nll', scores, 'scores');
  arg('nll', labels, 'labels', null);
  sameDevice('nll', scores, labels);
  for (const k of Object.keys(opts)) if (k !== 'average') throw new Error(`knet nll: unknown option '${k}' (known: average)`);
  const average = opts.average ?? true;
  const [ax] = normAxes('nll', scores.shape, axis);
  if (labels.dtype === 'int32') {
    labelCheck('nll', scores, labels, ax);
    const lp = pick(logp(scores, ax), labels, ax);
    return neg(average ? mean(lp) : sum(lp));
  }
  oneHotCheck('nll', scores, labels);
  const total = sum(mul(logp(scores, ax), labels));
  return neg(average ? div(total, scores.size / scores.shape[ax]) : total);
}

/** Fraction of examples whose highest score is the label (int32 or one-hot). */
export function accuracy(scores: Tensor, labels: Tensor, axis = 0): number {
  arg('accuracy', scores, 'scores');
  arg('accuracy', labels, 'labels', null);
  sameDevice('accuracy', scores, labels);
  if (scores.device.name !== 'cpu') {
    throw new Error(`knet accuracy: the scores live on '${scores.device.name}', whose readback is asynchronous; ` +
      `use \`await accuracyAsync(scores, labels)\`, or add up \`hits(scores, labels)\` over the batches on the ` +
      `device and read the total once.`);
  }
  const [ax] = normAxes('accuracy', scores.shape, axis);
  const [outer, r, inner] = split3(scores.shape, ax, ax + 1);
  const predicted = argmaxAlong(scores, outer, r, inner);
  let truth: Int32Array;
  if (labels.dtype === 'int32') {
    labelCheck('accuracy', scores, labels, ax);
    truth = labels.dataSync() as Int32Array;
  } else {
    oneHotCheck('accuracy', scores, labels);
    truth = argmaxAlong(labels, outer, r, inner);
  }
  let hits = 0;
  for (let i = 0; i < truth.length; i++) if (truth[i] === predicted[i]) hits++;
  return truth.length ? hits / truth.length : 0;
}

/**
 * How many examples' highest score is the label (int32 or one-hot), as a one-element
 * float32 tensor on the scores' device: no readback, so a loop over gpu batches can add
 * these up and read the total once.
 */
export function hits(scores: Tensor, labels: Tensor, axis = 0): Tensor {
  arg('hits', scores, 'scores');
  arg('hits', labels, 'labels', null);
  const dev = sameDevice('hits', scores, labels);
  const [ax] = normAxes('hits', scores.shape, axis);
  const [outer, r, inner] = split3(scores.shape, ax, ax + 1);
  if (labels.dtype === 'int32') labelCheck('hits', scores, labels, ax);
  else oneHotCheck('hits', scores, labels);
  const n = outer * inner;
  const temps: Tensor[] = [];
  const asFloat = (x: Tensor): Tensor => {
    if (x.dtype === 'float32') return x;
    const f = empty([n], 'float32', dev);
    temps.push(f);
    if (n) dev.castToFloat(x, f);
    return f;
  };
  const argmaxOf = (x: Tensor): Tensor => {
    const out = empty([n], 'int32', dev);
    temps.push(out);
    if (n) dev.argmax(x, out, outer, r, inner);
    return asFloat(out);
  };
  try {
    const predicted = argmaxOf(scores);
    const truth = labels.dtype === 'int32' ? asFloat(labels) : argmaxOf(labels);
    const same = eq(predicted, truth);
    temps.push(same);
    return sum(same);
  } finally { for (const t of temps) t.dispose(); }
}

/** accuracy() on any device: awaits the gpu's readback (one number). */
export async function accuracyAsync(scores: Tensor, labels: Tensor, axis = 0): Promise<number> {
  const h = hits(scores, labels, axis);
  const [ax] = normAxes('accuracyAsync', scores.shape, axis);
  const [outer, , inner] = split3(scores.shape, ax, ax + 1);
  try {
    return outer * inner ? (await h.itemAsync()) / (outer * inner) : 0;
  } finally { h.dispose(); }
}

function argmaxAlong(x: Tensor, outer: number, r: number, inner: number): Int32Array {
  const out = empty([outer * inner], 'int32', x.device);
  try {
    if (out.size) x.device.argmax(x, out, outer, r, inner);
    return out.dataSync() as Int32Array;
  } finally { out.dispose(); }
}

