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

  // Indexing and LSTM kernels (docs/kernels.md: gather.ts, lstm.ts). Optional: an op whose
  // kernel a device lacks throws "knet <op>: not implemented on the '<device>' device yet".
  /** out[idx . ostrides] = x[idx . xstrides] over `shape` (4-byte elements, any dtype);
   *  x and out are the first elements (views may carry offsets). */
  copyStrided?(x: Tensor, out: Tensor, shape: readonly number[], xstrides: readonly number[],
               ostrides: readonly number[]): void;
  /** out[o,j,i] = x[o, ids[j], i] with x [outer,n,inner], m = ids.size; returns -1 or the
   *  first j whose id is outside [0, n). */
  gather?(x: Tensor, ids: Tensor, out: Tensor, outer: number, n: number, inner: number): number;
  /** dx[o, ids[j], i] += g[o,j,i] (dx is not cleared); returns -1 or the first bad j. */
  scatterAdd?(g: Tensor, ids: Tensor, dx: Tensor, outer: number, n: number, inner: number): number;
  /** Fused LSTM cell over B rows, gates [f|i|o|z] (see lstm.ts); null = absent. */
  lstmForward?(xg: Tensor, hg: Tensor | null, bias: Tensor | null, cprev: Tensor, acts: Tensor,
               c: Tensor, h: Tensor, B: number, H: number): void;
  lstmBackward?(acts: Tensor, cprev: Tensor, c: Tensor, dh: Tensor, dh2: Tensor | null, dc: Tensor | null,
                dgates: Tensor, dcprev: Tensor, dbias: Tensor | null, B: number, H: number): void;

  // Convolution, pooling and dropout kernels (docs/kernels.md: im2col.ts, pool.ts,
  // dropout.ts). Optional: conv4, pool and dropout throw "not implemented on the '<device>'
  // device yet" where they are missing. Each overwrites its output.
  /** y[N,O,Ho,Wo] = conv4(w[O,C,kh,kw], x[N,C,H,W]): cross-correlation, or true convolution with g.flip. */
  conv4?(w: Tensor, x: Tensor, y: Tensor, g: ConvGeometry): void;
  /** dw = d conv4 / d w, given x and dy (cuDNN's backward filter). */
  conv4Filter?(x: Tensor, dy: Tensor, dw: Tensor, g: ConvGeometry): void;
  /** dx = d conv4 / d x, given w and dy (cuDNN's backward data). */
  conv4Data?(w: Tensor, dy: Tensor, dx: Tensor, g: ConvGeometry): void;
  /** y[N,C,Ho,Wo] = pool(x[N,C,H,W]) with g.mode 0 max, 1 average with padding, 2 average without. */
  pool?(x: Tensor, y: Tensor, g: PoolGeometry): void;
  /** dx = d pool / d x given x, y = pool(x) and dy; max routes dy to the first maximum. */
  poolBackward?(x: Tensor, y: Tensor, dy: Tensor, dx: Tensor, g: PoolGeometry): void;
  /** y = x * mask / (1 - p); the mask is a pure function of `key` (two uint32), so the
   *  same key gives the same mask (the gradient reuses it). */
  dropout?(x: Tensor, y: Tensor, p: number, key: readonly [number, number]): void;
}

/** conv4's shapes: x [N,C,H,W], w [O,C,kh,kw], y [N,O,Ho,Wo]; per-axis padding (ph, pw),
 *  stride (sh, sw) and dilation (dh, dw); flip = true convolution (Knet's mode 1). */
export interface ConvGeometry {
  N: number; C: number; H: number; W: number; O: number; kh: number; kw: number; Ho: number; Wo: number;
  ph: number; pw: number; sh: number; sw: number; dh: number; dw: number; flip: boolean;
}

/** pool's shapes: x [N,C,H,W], y [N,C,Ho,Wo]; window (kh, kw), padding, stride; mode as Knet's. */
export interface PoolGeometry {
  N: number; C: number; H: number; W: number; Ho: number; Wo: number;
  kh: number; kw: number; ph: number; pw: number; sh: number; sw: number; mode: number;
}
