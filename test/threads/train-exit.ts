// Child process for test/threads.test.ts: trains a small MLP with two threads and prints
// one JSON line. The test checks that the process then exits on its own: the pool's
// workers must not keep Node alive.
import * as K from '../../ts/index.js';
import type { Tensor } from '../../ts/index.js';

const n = await K.setThreads(2);
K.setSeed(1);
const w = [K.mul(K.randn(64, 256), 0.1), K.zeros(64, 1), K.mul(K.randn(10, 64), 0.1), K.zeros(10, 1)];
const x = K.randn(256, 200), y = K.tensor(Int32Array.from({ length: 200 }, (_, i) => i % 10), [200]);
const predict = (w: Tensor[], x: Tensor) => K.add(K.matmul(w[2], K.relu(K.add(K.matmul(w[0], x), w[1]))), w[3]);
const lossgrad = K.gradloss((w: Tensor[], x: Tensor, y: Tensor) => K.nll(predict(w, x), y));
const opts = K.optimizers(w, K.Adam, { lr: 0.01 });
let first = 0, last = 0;
for (let i = 0; i < 30; i++) {
  const [g, loss] = lossgrad(w, x, y);
  K.update(w, g, opts);
  last = loss.item();
  if (i === 0) first = last;
  loss.dispose();
}
console.log(JSON.stringify({ threads: n, now: K.threads(), falls: last < first }));
