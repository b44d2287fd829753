// dropout, as Knet's: inverted dropout (kept values scaled by 1/(1-p)) while training,
// that is while grad() is recording, and the identity otherwise.
//
// The mask is drawn in the kernel from a key of two uint32 taken from the seedable
// generator (setSeed), one key per call, so training is reproducible. The mask is a pure
// function of the key: the gradient applies the same kernel with the same key to the
// incoming gradient (dropout is linear in x given its mask) and nothing is stored.

import { record, recording } from '../autograd/tape.js';
import { empty, Tensor } from '../tensor.js';
import { nextU32 } from '../random.js';
import { arg, deviceKernel } from '../ops/check.js';
import { checkOptions } from './conv.js';

export interface DropoutOptions {
  /** Drop (true) or pass x through (false); default: whether grad() is recording. */
  drop?: boolean;
}

/**
 * Knet's dropout(x, p): each entry is zeroed with probability p and the others are divided
 * by 1-p, while training (inside grad); outside grad it returns x itself.
 */
export function dropout(x: Tensor, p: number, opts: DropoutOptions = {}): Tensor {
  arg('dropout', x, 'x');
  checkOptions('dropout', opts, ['drop']);
  if (typeof p !== 'number' || !(p >= 0 && p < 1)) {
    throw new Error(`knet dropout: p is the probability of dropping an entry and must be in [0, 1), got ${p}`);
  }
  const drop = opts.drop ?? recording();
  if (!drop || p === 0) return x;
  return masked(x, p, [nextU32(), nextU32()]);
}

function masked(x: Tensor, p: number, key: readonly [number, number]): Tensor {
  const y = empty(x.shape, 'float32', x.device);
  if (y.size) deviceKernel('dropout', x.device, 'dropout')(x, y, p, key);
  return record(y, [x], (g) => [masked(g, p, key)]);
}
