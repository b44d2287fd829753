// Unary elementwise ops: one table row per op, its kernel code beside its vjp.
// Fused gradient kernels (reluBack, sigmBack, ...) keep each backward step one pass.

import { UnaryOp } from '../device/device.js';
import { record } from '../autograd/tape.js';
import { empty, Tensor } from '../tensor.js';
import { arg } from './check.js';
import { binaryOp, mul, div } from './arith.js';

type UnaryVjp = (g: Tensor, x: Tensor, y: Tensor) => Tensor;

export type UnaryName = 'neg' | 'exp' | 'log' | 'sqrt' | 'abs' | 'tanh' | 'sigm' | 'relu' | 'invx' | 'square' | 'copy';

const unaries: Record<UnaryName, { code: UnaryOp; vjp: UnaryVjp }> = {
  neg: { code: UnaryOp.neg, vjp: (g) => neg(g) },
  exp: { code: UnaryOp.exp, vjp: (g, x, y) => mul(g, y) },
  log: { code: UnaryOp.log, vjp: (g, x) => div(g, x) },
  sqrt: { code: UnaryOp.sqrt, vjp: (g, x, y) => binaryOp('sqrtBack', g, y) },
  abs: { code: UnaryOp.abs, vjp: (g, x) => binaryOp('absBack', g, x) },
  tanh: { code: UnaryOp.tanh, vjp: (g, x, y) => binaryOp('tanhBack', g, y) },
  sigm: { code: UnaryOp.sigm, vjp: (g, x, y) => binaryOp('sigmBack', g, y) },
  relu: { code: UnaryOp.relu, vjp: (g, x) => binaryOp('reluBack', g, x) },
  invx: { code: UnaryOp.invx, vjp: (g, x, y) => binaryOp('invxBack', g, y) },
  square: { code: UnaryOp.square, vjp: (g, x) => mul(g, mul(x, 2)) },
  copy: { code: UnaryOp.copy, vjp: (g) => g },
};

export function unaryOp(name: UnaryName, x: Tensor): Tensor {
  arg(name, x);
  const { code, vjp } = unaries[name];
  const y = empty(x.shape, 'float32', x.device);
  if (y.size) x.device.unary(code, x, y);
  return record(y, [x], (g) => [vjp(g, x, y)]);
}

export const neg = (x: Tensor): Tensor => unaryOp('neg', x);
export const exp = (x: Tensor) => unaryOp('exp', x);
export const log = (x: Tensor) => unaryOp('log', x);
export const sqrt = (x: Tensor) => unaryOp('sqrt', x);
export const abs = (x: Tensor) => unaryOp('abs', x);
export const tanh = (x: Tensor) => unaryOp('tanh', x);
/** The logistic sigmoid 1/(1+exp(-x)), Knet's `sigm`. */
export const sigm = (x: Tensor) => unaryOp('sigm', x);
export const relu = (x: Tensor) => unaryOp('relu', x);
/** 1/x, Knet's `invx`. */
export const invx = (x: Tensor) => unaryOp('invx', x);
export const square = (x: Tensor) => unaryOp('square', x);
