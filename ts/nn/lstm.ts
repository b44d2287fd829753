// The LSTM cell, twice:
// - lstm(): the seed's function, written as plain code over ops (hcat, matmul, slicing,
//   sigm, tanh), so that it doubles as proof that user code like it works and gets
//   correct gradients;
// - lstmCell(): the same function and arguments with the gate nonlinearities and the state
//   update fused into one kernel (assembly/lstm.ts), and its gradient into another.
// Both take the seed's layout: rows are the batch; one weight [X+H, 4H] and one bias [1, 4H]
// (or [4H]) hold all four gates in the order forget, input, output, change.

import { activeTapes, nodeOn, record } from '../autograd/tape.js';
import { full } from '../create.js';
import { add, mul } from '../ops/arith.js';
import { arg, describe, deviceKernel, sameDevice } from '../ops/check.js';
import { hcat } from '../ops/concat.js';
import { reshape } from '../ops/layout.js';
import { matmul } from '../ops/matmul.js';
import { rawView, slice } from '../ops/slice.js';
import { sigm, tanh } from '../ops/unary.js';
import { empty, type Tensor } from '../tensor.js';

/**
 * The seed's LSTM, line by line:
 *   gates   = hcat(input,hidden) * weight .+ bias
 *   forget  = sigm(gates[:,1:hsize]);  ingate = sigm(gates[:,1+hsize:2hsize])
 *   outgate = sigm(gates[:,1+2hsize:3hsize]);  change = tanh(gates[:,1+3hsize:end])
 *   cell    = cell .* forget + ingate .* change;  hidden = outgate .* tanh(cell)
 * Returns [hidden, cell].
 */
export function lstm(weight: Tensor, bias: Tensor, hidden: Tensor, cell: Tensor, input: Tensor): [Tensor, Tensor] {
  const gates = add(matmul(hcat(input, hidden), weight), bias);
  const hsize = hidden.shape[1];
  const forget = sigm(slice(gates, 1, 0, hsize));
  const ingate = sigm(slice(gates, 1, hsize, 2 * hsize));
  const outgate = sigm(slice(gates, 1, 2 * hsize, 3 * hsize));
  const change = tanh(slice(gates, 1, 3 * hsize));
  cell = add(mul(cell, forget), mul(ingate, change));
  hidden = mul(outgate, tanh(cell));
  return [hidden, cell];
}

/** Checks the shapes shared by lstm-style calls; returns [B, H, X]. */
export function lstmShapes(op: string, weight: Tensor, bias: Tensor, hidden: Tensor, cell: Tensor, input: Tensor): [number, number, number] {
  arg(op, weight, 'weight'); arg(op, bias, 'bias'); arg(op, hidden, 'hidden'); arg(op, cell, 'cell'); arg(op, input, 'input');
  sameDevice(op, weight, bias, hidden, cell, input);
  const all = () => `weight ${describe(weight)}, bias ${describe(bias)}, hidden ${describe(hidden)}, cell ${describe(cell)}, input ${describe(input)}`;
  if (hidden.ndim !== 2 || input.ndim !== 2 || weight.ndim !== 2) {
    throw new Error(`knet ${op}: hidden, input and weight must be 2-d (rows are the batch); got ${all()}`);
  }
  const [B, H] = hidden.shape, X = input.shape[1];
  if (cell.shape.length !== 2 || cell.shape[0] !== B || cell.shape[1] !== H || input.shape[0] !== B ||
      weight.shape[0] !== X + H || weight.shape[1] !== 4 * H || bias.size !== 4 * H) {
    throw new Error(`knet ${op}: shapes do not fit an LSTM with batch B=${B}, hidden H=${H}, input X=${X}: need ` +
      `weight [X+H,4H] = [${X + H},${4 * H}], bias [1,${4 * H}], cell [${B},${H}], input [${B},${X}]; got ${all()}`);
  }
  return [B, H, X];
}

/** True when some active tape holds one of xs (the op will be recorded). */
export function onTape(...xs: (Tensor | null)[]): boolean {
  return activeTapes.some((tp) => xs.some((x) => x && nodeOn(x, tp)));
}

/** Marks a gradient made by a fused kernel: differentiating it again is an error. */
export function noSecond<T extends Tensor | null>(t: T, inputs: unknown[], what: string): T {
  if (!t) return t;
  return record(t, inputs, () => {
    throw new Error(`knet grad: the derivative of ${what} is not implemented (a fused kernel's gradient; ` +
      `higher-order gradients through it are not supported yet)`);
  }) as T;
}

/**
 * The fused cell's core: from pre-activation gates [B, 4H] (without the bias), the bias
 * [4H] and the previous cell [B, H], one kernel computes the new [hidden, cell].
 */
export function lstmGates(gates: Tensor, bias: Tensor, cell: Tensor): [Tensor, Tensor] {
  const op = 'lstmCell';
  const dev = sameDevice(op, gates, bias, cell);
  const [B, H] = cell.shape;
  const fwd = deviceKernel(op, dev, 'lstmForward');
  const acts = empty([B, 4 * H], 'float32', dev);
  // h and c in one block, so that one recorded node carries both gradients
  const hc = empty([2 * B * H], 'float32', dev);
  const hv = rawView(hc, 0, [B, H]), cv = rawView(hc, B * H, [B, H]);
  try { fwd(gates, null, bias, cell, acts, cv, hv, B, H); } finally { hv.dispose(); cv.dispose(); }
  const keepActs = onTape(gates, bias, cell);
  if (!keepActs) acts.dispose();
  record(hc, [gates, bias, cell], (g, [ng, nb, nc]) => {
    const bwd = deviceKernel(op, dev, 'lstmBackward');
    const dgates = empty([B, 4 * H], 'float32', dev);
    const dcell = empty([B, H], 'float32', dev);
    const dbias = nb ? full(bias.shape, 0, { device: dev }) : null;
    const gh = rawView(g, 0, [B, H]), gc = rawView(g, B * H, [B, H]), cv2 = rawView(hc, B * H, [B, H]);
    try { bwd(acts, cell, cv2, gh, null, gc, dgates, dcell, dbias, B, H); } finally { gh.dispose(); gc.dispose(); cv2.dispose(); }
    if (!nc) dcell.dispose();
    const second = [g, gates, bias, cell];
    return [noSecond(ng ? dgates : (dgates.dispose(), null), second, 'lstmCell\'s gradient'),
      noSecond(dbias, second, 'lstmCell\'s gradient'), noSecond(nc ? dcell : null, second, 'lstmCell\'s gradient')];
  });
  return [reshape(slice(hc, 0, 0, B * H), [B, H]), reshape(slice(hc, 0, B * H), [B, H])];
}

/**
 * lstm() fused: the same arguments and results ([hidden, cell]), with one matmul for the
 * gates and one kernel for the nonlinearities and the state update (and one for their
 * gradient). Use it where speed matters; lstm() is the readable reference.
 */
export function lstmCell(weight: Tensor, bias: Tensor, hidden: Tensor, cell: Tensor, input: Tensor): [Tensor, Tensor] {
  lstmShapes('lstmCell', weight, bias, hidden, cell, input);
  return lstmGates(matmul(hcat(input, hidden), weight), bias, cell);
}
