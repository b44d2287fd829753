// knet: the public API, and nothing else.

import './ops/methods.js';
export { Tensor } from './tensor.js';
export type { Shape } from './tensor.js';
export type { DType, DeviceName, MemoryInfo } from './device/device.js';
export { tensor, zeros, ones, full, rand, randn } from './create.js';
export type { CreateOptions } from './create.js';
export { setSeed } from './random.js';
export { tidy, keep } from './scope.js';
export { memory } from './memory.js';
export { devices } from './device/index.js';
export { simdLevel } from './device/cpu.js';

export { grad, gradloss } from './autograd/grad.js';
export { gradcheck, gradcheckWith } from './autograd/gradcheck.js';
export type { GradcheckOptions, GradcheckResult } from './autograd/gradcheck.js';

export { add, sub, mul, div, pow, maximum, minimum, gt, ge, eq } from './ops/arith.js';
export { neg, exp, log, sqrt, abs, tanh, sigm, relu, invx, square } from './ops/unary.js';
export { sum, mean, max, min, sumabs2, sumabs, broadcastTo } from './ops/reduce.js';
export { logsumexp, logp, softmax } from './ops/softmax.js';
export { reshape, mat, transpose, copy, float32 } from './ops/layout.js';
export { matmul } from './ops/matmul.js';
export { nll, accuracy, pick } from './ops/loss.js';
export * from './optim/index.js';

export * from './data/index.js';
export { minibatch, Batches } from './data/minibatch.js';
export type { MinibatchOptions } from './data/minibatch.js';
