// grad and gradloss, as in AutoGrad.jl: grad(f, argnum) is a function taking f's
// arguments and returning df/d(argument argnum) in that argument's structure.
//
// Ownership: everything f and the backward pass allocate belongs to the call; when it
// returns, all of it is disposed except the gradients (and the loss, for gradloss).
// Inside an outer grad, the intermediates are handed to the outer call instead, since
// the outer tape may still need them.

import { add } from '../ops/arith.js';
import { copy, reshape } from '../ops/layout.js';
import { full } from '../create.js';
import { closeScope, openScope } from '../scope.js';
import { fmtShape, Tensor } from '../tensor.js';
import { activeTapes, leaf, type Node, nodeOn, Tape } from './tape.js';

function mapTensors(v: any, fn: (t: Tensor) => any, path = 'w'): any {
  if (v instanceof Tensor) return fn(v);
  if (Array.isArray(v)) return v.map((x, i) => mapTensors(x, fn, `${path}[${i}]`));
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const o: Record<string, any> = {};
    for (const k of Object.keys(v)) o[k] = mapTensors(v[k], fn, `${path}.${k}`);
    return o;
  }
  return null;
}

function runGrad(f: (...args: any[]) => Tensor, argnum: number, args: any[], name: string): [any, Tensor] {
  if (argnum < 0 || argnum >= args.length) {
    throw new Error(`knet ${name}: argnum ${argnum} is out of range: the function got ${args.length} argument(s)`);
  }
  const tape = new Tape();
  const nested = activeTapes.length > 0;
  const scope = openScope();
  let result: [any, Tensor];
  try {
    const leaves = new Map<Tensor, [Tensor, Node]>();
    const boxed = mapTensors(args[argnum], (t) => {
      if (t.disposed) throw new Error(`knet ${name}: a parameter of shape ${fmtShape(t.shape)} was already disposed`);
      let box = leaves.get(t);
      if (!box) {
        // reshape, not a bare view: under an outer grad the box stays on the outer tape.
        const v = reshape(t, t.shape);
        leaves.set(t, (box = [v, leaf(v, tape)]));
      }
      return box[0];
    });
    const a = args.slice();
    a[argnum] = boxed;
    activeTapes.push(tape);
    let loss: unknown;
    try { loss = f(...a); } finally { activeTapes.splice(activeTapes.indexOf(tape), 1); }
    if (!(loss instanceof Tensor) || loss.size !== 1 || loss.dtype !== 'float32') {
      const what = loss instanceof Tensor ? `a ${loss.dtype} tensor of shape ${fmtShape(loss.shape)}` : typeof loss;
      throw new Error(`knet ${name}: the function must return a scalar float32 loss (one element); it returned ${what}. ` +
        `Reduce it with sum() or mean().`);
    }
    const grads = backward(tape, loss);
    const used = new Set<Tensor>();
    const g = mapTensors(args[argnum], (t) => {
      let gt = grads.get(leaves.get(t)![1]);
      if (!gt) gt = full(t.shape, 0, { device: t.device });      // f did not use this parameter
      else if (used.has(gt) || gt.storage === t.storage) gt = copy(gt); // one tensor per leaf, never a view of w
      used.add(gt);
      return gt;
    });
    result = [g, loss];
  } catch (e) {
    closeScope(scope, new Set(), nested);
    throw e;
  }
  const keep = new Set<Tensor>([...collect(result[0]), result[1]]);
  if (!nested) for (const t of keep) t.nodes = null;
  closeScope(scope, keep, nested);
  return result;
}

function collect(v: any, out: Tensor[] = []): Tensor[] {
  if (v instanceof Tensor) out.push(v);
  else if (Array.isArray(v)) for (const x of v) collect(x, out);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) collect(x, out);
  return out;
}

/** Reverse pass over the tape: returns the gradient of each node reached. */
function backward(tape: Tape, loss: Tensor): Map<Node, Tensor> {
  const grads = new Map<Node, Tensor>();
  const lossNode = nodeOn(loss, tape);
  if (!lossNode) return grads;
  grads.set(lossNode, full(loss.shape, 1, { device: loss.device }));
  for (let i = tape.nodes.length - 1; i >= 0; i--) {
    const node = tape.nodes[i];
    const g = grads.get(node);
    if (!g || !node.vjp) continue;
    const gs = node.vjp(g, node.parents.map((p) => p !== null));
    node.parents.forEach((p, j) => {
      const gj = gs[j];
      if (!p || !gj) return;
      const prev = grads.get(p);
      grads.set(p, prev ? add(prev, gj) : gj);
    });
  }
  return grads;
}

/** The gradient of f with respect to argument `argnum` (0-based), in its structure. */
export function grad<A extends any[]>(f: (...args: A) => Tensor, argnum = 0): (...args: A) => any {
  return (...args: A) => {
    const [g, loss] = runGrad(f, argnum, args, 'grad');
    loss.dispose();
    return g;
  };
}

/** Like grad, but returns [gradient, loss]; the loss is a one-element tensor. */
export function gradloss<A extends any[]>(f: (...args: A) => Tensor, argnum = 0): (...args: A) => [any, Tensor] {
  return (...args: A) => runGrad(f, argnum, args, 'gradloss');
}
