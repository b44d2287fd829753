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
export { devices, defaultDevice, setDefaultDevice } from './device/index.js';
export { simdLevel, setThreads, threads } from './device/cpu.js';
export { initGpu, gpuAvailable, useBestDevice } from './device/webgpu/init.js';
export type { GpuInfo, GpuOptions } from './device/webgpu/init.js';
export { gpu, cpu } from './device/webgpu/transfer.js';

export { grad, gradloss } from './autograd/grad.js';
export { gradcheck, gradcheckWith } from './autograd/gradcheck.js';
export type { GradcheckOptions, GradcheckResult } from './autograd/gradcheck.js';

export { add, sub, mul, div, pow, maximum, minimum, gt, ge, eq } from './ops/arith.js';
export { neg, exp, log, sqrt, abs, tanh, sigm, relu, invx, square } from './ops/unary.js';
export { sum, mean, max, min, sumabs2, sumabs, broadcastTo } from './ops/reduce.js';
export { logsumexp, logp, softmax } from './ops/softmax.js';
export { reshape, mat, transpose, copy, float32 } from './ops/layout.js';
export { matmul } from './ops/matmul.js';
export { nll, accuracy, accuracyAsync, hits, pick } from './ops/loss.js';
export { slice, index } from './ops/slice.js';
export type { IndexEntry } from './ops/slice.js';
export { concat, hcat, vcat } from './ops/concat.js';
export { gather, scatterAdd } from './ops/gather.js';
export { lstm, lstmCell } from './nn/lstm.js';
export { rnnInit, rnnForward, lstmLayer } from './nn/rnn.js';
export type { LstmLayer, RnnInitOptions, RnnForwardOptions } from './nn/rnn.js';
export { saveParams, loadParams, encodeSafetensors, decodeSafetensors } from './io/params.js';
export type { Metadata, LoadedParams } from './io/params.js';
export { conv4, type ConvOptions } from './nn/conv.js';
export { pool, type PoolOptions } from './nn/pool.js';
export { dropout, type DropoutOptions } from './nn/dropout.js';
export * from './optim/index.js';

export * from './data/index.js';
export { minibatch, Batches } from './data/minibatch.js';
export type { MinibatchOptions } from './data/minibatch.js';
export { save, load, optimizerState, restoreOptimizerState } from './io/save.js';
export type { SaveTarget, LoadSource } from './io/save.js';
