// Binary elementwise ops with NumPy broadcasting, a plain number allowed on either side.
// Each row of the table gives the kernel op code and the vjp beside it.

import { BinaryOp } from '../device/device.js';
import { record } from '../autograd/tape.js';
import { empty, type Shape, Tensor } from '../tensor.js';
import { arg, sameDevice } from './check.js';
import { broadcastShape, plan } from './broadcast.js';
import { sumTo } from './reduce.js';
import { neg, unaryOp } from './unary.js';

type Operand = Tensor | number;
/** vjp of out = f(a, b): gradients for a and b (before un-broadcasting). */
type BinaryVjp = (g: Tensor, a: Operand, b: Operand, out: Tensor, needs: readonly boolean[]) => [Tensor | null, Tensor | null];

const noSecond = (name: string): BinaryVjp => () => {
  throw new Error(`knet grad: the derivative of ${name} is not implemented (it is itself a gradient rule; higher-order gradients through it are not supported yet)`);
};

const binaries: Record<string, { code: BinaryOp; vjp: BinaryVjp }> = {
  add: { code: BinaryOp.add, vjp: (g) => [g, g] },
  sub: { code: BinaryOp.sub, vjp: (g, a, b, y, [, nb]) => [g, nb ? neg(g) : null] },
  mul: { code: BinaryOp.mul, vjp: (g, a, b, y, [na, nb]) => [na ? mul(g, b) : null, nb ? mul(g, a) : null] },
  div: { code: BinaryOp.div, vjp: (g, a, b, y, [na, nb]) => [na ? div(g, b) : null, nb ? neg(mul(g, div(y, b))) : null] },
  pow: {
    code: BinaryOp.pow,
    vjp: (g, a, b, y) => [
      mul(g, typeof b === 'number' ? mul(pow(a, b - 1), b) : mul(b, pow(a, sub(b, 1)))),
      mul(g, typeof a === 'number' ? mul(y, Math.log(a)) : mul(y, unaryOp('log', a))),
    ],
  },
  maximum: { code: BinaryOp.max, vjp: (g, a, b) => [mul(g, cmp(BinaryOp.ge, a, b)), mul(g, cmp(BinaryOp.gt, b, a))] },
  minimum: { code: BinaryOp.min, vjp: (g, a, b) => [mul(g, cmp(BinaryOp.ge, b, a)), mul(g, cmp(BinaryOp.gt, a, b))] },
  // fused gradient forms used by unary vjps (a = incoming gradient)
  reluBack: { code: BinaryOp.reluBack, vjp: noSecond('relu\'s gradient') },
  sigmBack: { code: BinaryOp.sigmBack, vjp: noSecond('sigm\'s gradient') },
  tanhBack: { code: BinaryOp.tanhBack, vjp: noSecond('tanh\'s gradient') },
  invxBack: { code: BinaryOp.invxBack, vjp: noSecond('invx\'s gradient') },
  sqrtBack: { code: BinaryOp.sqrtBack, vjp: noSecond('sqrt\'s gradient') },
  absBack: { code: BinaryOp.absBack, vjp: noSecond('abs\'s gradient') },
};

/** Comparisons give 0/1 masks; they are constants to autograd. */
function cmp(code: BinaryOp, a: Operand, b: Operand): Tensor {
  return kernel('compare', code, a, b);
}

function kernel(name: string, code: BinaryOp, a: Operand, b: Operand): Tensor {
  if (typeof a === 'number' && typeof b === 'number') {
    throw new Error(`knet ${name}: at least one operand must be a Tensor (got two numbers)`);
  }
  if (typeof a === 'number' || typeof b === 'number') {
    const swap = typeof a === 'number';
    const x = arg(name, swap ? b : a, swap ? 'b' : 'a');
    const s = (swap ? a : b) as number;
    const out = empty(x.shape, 'float32', x.device);
    x.device.binaryScalar(code, x, s, out, swap);
    return out;
  }
  const ta = arg(name, a, 'a'), tb = arg(name, b, 'b');
  const dev = sameDevice(name, ta, tb);
  const shape = broadcastShape(name, ta.shape, tb.shape);
  const p = plan(name, ta.shape, tb.shape);
  const out = empty(shape, 'float32', dev);
  if (out.size) dev.binary(code, ta, tb, out, p);
  return out;
}

export function binaryOp(name: keyof typeof binaries, a: Operand, b: Operand): Tensor {
  const { code, vjp } = binaries[name];
  const out = kernel(name, code, a, b);
  return record(out, [a, b], (g, needs) => {
    const [ga, gb] = vjp(g, a, b, out, needs);
    return [
      ga && a instanceof Tensor ? sumTo(ga, a.shape) : null,
      gb && b instanceof Tensor ? sumTo(gb, b.shape) : null,
    ];
  });
}

export const add = (a: Operand, b: Operand) => binaryOp('add', a, b);
export const sub = (a: Operand, b: Operand) => binaryOp('sub', a, b);
export const mul = (a: Operand, b: Operand) => binaryOp('mul', a, b);
export const div = (a: Operand, b: Operand) => binaryOp('div', a, b);
export const pow = (a: Operand, b: Operand) => binaryOp('pow', a, b);
/** Elementwise maximum (NumPy's `maximum`); `max` is the reduction. */
export const maximum = (a: Operand, b: Operand) => binaryOp('maximum', a, b);
export const minimum = (a: Operand, b: Operand) => binaryOp('minimum', a, b);

/** Comparison masks (float 0/1), constants to autograd. */
export const gt = (a: Operand, b: Operand) => cmp(BinaryOp.gt, a, b);
export const ge = (a: Operand, b: Operand) => cmp(BinaryOp.ge, a, b);
export const eq = (a: Operand, b: Operand) => cmp(BinaryOp.eq, a, b);

export type { Shape };
