// Shared by the classification examples: running totals kept on the device, and accuracy
// counted on the device with one readback, so the gpu pipeline never stalls per batch.
import * as K from '../ts/index.js';
import type { Tensor } from '../ts/index.js';

/** Adds `more` to the running total `sum` on its device, freeing both inputs. */
export function accumulate(sum: Tensor, more: Tensor): Tensor {
  const t = K.add(sum, more);
  sum.dispose(); more.dispose();
  return t;
}

/** Fraction of `data` that `predict(w, x)` classifies correctly (classes on axis 0). */
export async function accuracy(predict: (w: Tensor[], x: Tensor) => Tensor, w: Tensor[], data: K.Batches,
                               device: 'cpu' | 'gpu'): Promise<number> {
  let hits = K.zeros([], { device }), n = 0;
  for (const [x, y] of data) {
    hits = accumulate(hits, K.tidy(() => K.hits(predict(w, x), y)));
    n += y.size;
  }
  const total = await hits.itemAsync();
  hits.dispose();
  return total / n;
}
