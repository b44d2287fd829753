// The Device interface: what every device (WebAssembly, WebGPU, ...) implements.
// Ops call these kernels with tensors whose storage lives on that device; shapes are
// checked by the ops before any kernel runs, so devices trust their arguments.

import type { Tensor } from '../tensor.js';

export type DeviceName = 'cpu' | 'gpu';
export type DType = 'float32' | 'int32';

/** A block of device memory shared by a tensor and its views (reference counted). */
export interface Storage {
  device: Device;
  /** Device handle: a byte offset into WebAssembly memory, or a GPUBuffer. */
  handle: any;
  /** Bytes asked for (the pool may hold a larger block). */
  bytes: number;
  refs: number;
}

export enum UnaryOp {
  copy = 0, neg, exp, log, sqrt, abs, tanh, sigm, relu, invx, step, sign, square,
}
export enum BinaryOp {
  add = 0, sub, mul, div, max, min, pow, gt, eq, reluBack, sigmBack, tanhBack, invxBack,
  sqrtBack, absBack, ge,
}
export enum ReduceOp { sum = 0, max, min, sumabs2, sumabs }
export enum SoftmaxOp { logsumexp = 0, softmax, logsoftmax }
/** Optimizer kernels (assembly/optim.ts); the formulas are in docs/kernels.md. */
export enum OptimKind { sgd = 0, momentum, nesterov, adagrad, adadelta, rmsprop, adam }

/** A broadcast plan: output shape and per-input strides (0 on broadcast axes). */
export interface Broadcast { shape: number[]; astrides: number[]; bstrides: number[] }

export interface MemoryInfo { live: number; pooled: number; tensors: number }

export interface Device {
  readonly name: DeviceName;
  alloc(bytes: number): Storage;
  /** Returns storage to the device pool (called when its last reference goes). */
  release(s: Storage): void;
  write(t: Tensor, data: Float32Array | Int32Array): void;
  read(t: Tensor): Promise<Float32Array | Int32Array>;
  readSync(t: Tensor): Float32Array | Int32Array;
  memory(): MemoryInfo;

  // kernels; `out` is allocated by the caller with the right shape
  fill(out: Tensor, value: number): void;
  unary(op: UnaryOp, x: Tensor, out: Tensor): void;
  binaryScalar(op: BinaryOp, x: Tensor, s: number, out: Tensor, swap: boolean): void;
  binary(op: BinaryOp, a: Tensor, b: Tensor, out: Tensor, plan: Broadcast): void;
  /** out = x viewed with `strides` over out's shape (transpose, broadcastTo). */
  stridedCopy(x: Tensor, out: Tensor, strides: number[]): void;
  castToFloat(x: Tensor, out: Tensor): void;
  matmul(transA: boolean, transB: boolean, a: Tensor, b: Tensor, out: Tensor,
         M: number, N: number, K: number, alpha: number, beta: number): void;
  reduce(op: ReduceOp, x: Tensor, out: Tensor, outer: number, r: number, inner: number): void;
  softmax(op: SoftmaxOp, x: Tensor, out: Tensor, outer: number, r: number, inner: number): void;
  argmax(x: Tensor, out: Tensor, outer: number, r: number, inner: number): void;
  /** out[o,i] = x[o, labels[o,i], i]; returns -1 or the flat index of a bad label. */
  pick(x: Tensor, labels: Tensor, out: Tensor, outer: number, r: number, inner: number): number;
  unpick(g: Tensor, labels: Tensor, dx: Tensor, outer: number, r: number, inner: number): number;
  /** One in-place optimizer step on w and its state s1, s2 (null where the kind has none),
   *  reading g; hyper = [lr, gclip, a, b, eps, c1, c2] as in docs/kernels.md (optim.ts). */
  optimStep(kind: OptimKind, w: Tensor, g: Tensor, s1: Tensor | null, s2: Tensor | null,
            hyper: readonly number[]): void;
}
