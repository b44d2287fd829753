// Methods on Tensor for the common ops (x.add(y), x.sum(0), ...), each the exported
// function of the same name. Kept here so tensor.ts stays free of op imports.

import { Tensor } from '../tensor.js';
import { add, sub, mul, div, pow } from './arith.js';
import { neg, exp, log, sqrt, abs, tanh, sigm, relu } from './unary.js';
import { sum, mean, max, min } from './reduce.js';
import { reshape, transpose, mat } from './layout.js';
import { matmul } from './matmul.js';

type Operand = Tensor | number;
type Axes = number | readonly number[];

declare module '../tensor.js' {
  interface Tensor {
    add(b: Operand): Tensor; sub(b: Operand): Tensor; mul(b: Operand): Tensor; div(b: Operand): Tensor;
    pow(b: Operand): Tensor;
    neg(): Tensor; exp(): Tensor; log(): Tensor; sqrt(): Tensor; abs(): Tensor; tanh(): Tensor;
    sigm(): Tensor; relu(): Tensor;
    sum(axes?: Axes, keepdims?: boolean): Tensor; mean(axes?: Axes, keepdims?: boolean): Tensor;
    max(axes?: Axes, keepdims?: boolean): Tensor; min(axes?: Axes, keepdims?: boolean): Tensor;
    reshape(shape: readonly number[]): Tensor; transpose(perm?: readonly number[]): Tensor; mat(dims?: number): Tensor;
    matmul(b: Tensor, transposeA?: boolean, transposeB?: boolean): Tensor;
  }
}

const binary = { add, sub, mul, div, pow };
const unary = { neg, exp, log, sqrt, abs, tanh, sigm, relu };
const reductions = { sum, mean, max, min };
const P = Tensor.prototype as any;
for (const [k, f] of Object.entries(binary)) P[k] = function (this: Tensor, b: Operand) { return f(this, b); };
for (const [k, f] of Object.entries(unary)) P[k] = function (this: Tensor) { return f(this); };
for (const [k, f] of Object.entries(reductions)) P[k] = function (this: Tensor, a?: Axes, kd?: boolean) { return f(this, a, kd); };
P.reshape = function (this: Tensor, s: readonly number[]) { return reshape(this, s); };
P.transpose = function (this: Tensor, p?: readonly number[]) { return transpose(this, p); };
P.mat = function (this: Tensor, d?: number) { return mat(this, d); };
P.matmul = function (this: Tensor, b: Tensor, ta?: boolean, tb?: boolean) { return matmul(this, b, ta, tb); };
