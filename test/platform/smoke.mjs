// Runtime smoke test, run by Node, Deno and (bundled by nothing) the browser page:
// imports the built package, trains a few softmax steps on the cpu device, and checks
// that the loss falls. Prints one JSON line.
import * as K from '../../dist/index.js';

export async function smoke() {
  K.setSeed(1);
  const n = 64, d = 20, c = 3;
  const x = K.randn(d, n);
  const truth = K.randn(c, d);
  const y = K.tensor(Int32Array.from(await K.tidy(() => argmaxCols(K.matmul(truth, x), c, n))), [n]);
  const w = [K.zeros(c, d), K.zeros(c, 1)];
  const loss = (w, x, y) => K.nll(K.add(K.matmul(w[0], x), w[1]), y);
  const lossgrad = K.gradloss(loss);
  const opts = K.optimizers(w, K.Sgd, { lr: 0.5 });
  const losses = [];
  for (let i = 0; i < 20; i++) {
    const [g, l] = lossgrad(w, x, y);
    K.update(w, g, opts);
    losses.push((await l.data())[0]);
    l.dispose();
  }
  return { simd: K.simdLevel(), first: losses[0], last: losses.at(-1), falls: losses.at(-1) < losses[0] * 0.5 };
}

function argmaxCols(s, c, n) {
  const v = s.dataSync(), out = new Int32Array(n);
  for (let j = 0; j < n; j++) for (let i = 1; i < c; i++) if (v[i * n + j] > v[out[j] * n + j]) out[j] = i;
  return out;
}

if (typeof Deno !== 'undefined' || (typeof process !== 'undefined' && process.argv[1]?.endsWith('smoke.mjs'))) {
  console.log(JSON.stringify(await smoke()));
}
