// Optimizers and update(): Knet's update! with Sgd, Momentum, Nesterov, Adagrad, Adadelta,
// Rmsprop and Adam, each step one fused kernel per parameter.
export { Optimizer, Sgd, Momentum, Nesterov, Adagrad, Adadelta, Rmsprop, Adam } from './optimizers.js';
export type {
  SgdOptions, MomentumOptions, NesterovOptions, AdagradOptions, AdadeltaOptions, RmspropOptions, AdamOptions,
} from './optimizers.js';
export { update, optimizers } from './update.js';
