// Runtime smoke test, run by Node, Deno and the browser page: imports the built package,
// trains a few softmax steps on the given device (default: the cpu) and checks that the
// loss falls, and that the cpu device's threads (K.threads() of them) give one thread's
// bits. Prints one JSON line.
import * as K from '../../dist/index.js';

export async function smoke(device = 'cpu') {
  K.setSeed(1);
  const n = 64, d = 20, c = 3;
  const x = K.randn([d, n], { device: 'cpu' });
  const truth = K.randn([c, d], { device: 'cpu' });
  const labels = K.tidy(() => argmaxCols(K.matmul(truth, x), c, n));
  const on = (t) => (device === 'cpu' ? t : t.to(device));
  const X = on(x), y = on(K.tensor(labels, [n]));
  const w = [on(K.zeros(c, d)), on(K.zeros(c, 1))];
  const loss = (w, x, y) => K.nll(K.add(K.matmul(w[0], x), w[1]), y);
  const lossgrad = K.gradloss(loss);
  const opts = K.optimizers(w, K.Sgd, { lr: 0.5 });
  const losses = [];
  for (let i = 0; i < 20; i++) {
    const [g, l] = lossgrad(w, X, y);
    K.update(w, g, opts);
    losses.push((await l.data())[0]);
    l.dispose();
  }
  // save/load round trip through safetensors bytes (files in Node and Deno are tested elsewhere)
  const bytes = await K.save(typeof document === 'undefined' ? await tmpFile() : 'smoke.safetensors', { w });
  const back = (await K.load(bytes)).params.w;
  const same = (await back[0].data()).every((v, i, a) => Object.is(v, a[i])) &&
    String(await back[0].data()) === String(await w[0].data());
  // the cpu device's threads: a product big enough to be split gives one thread's bits
  const threads = K.threads();
  const a = K.randn([192, 160], { device: 'cpu' }), b = K.randn([160, 200], { device: 'cpu' });
  const many = await K.softmax(K.matmul(a, b), 0).data();
  await K.setThreads(1);
  const one = await K.softmax(K.matmul(a, b), 0).data();
  await K.setThreads(threads);
  const threadsSame = many.every((v, i) => Object.is(v, one[i]));
  return { device, simd: K.simdLevel(), threads, threadsSame, first: losses[0], last: losses.at(-1), falls: losses.at(-1) < losses[0] * 0.5, saved: same };
}

async function tmpFile() {
  if (typeof Deno !== 'undefined') return await Deno.makeTempFile({ suffix: '.safetensors' });
  const { tmpdir } = await import('node:os');
  return `${tmpdir()}/knet-smoke-${process.pid}.safetensors`;
}

function argmaxCols(s, c, n) {
  const v = s.dataSync(), out = new Int32Array(n);
  for (let j = 0; j < n; j++) for (let i = 1; i < c; i++) if (v[i * n + j] > v[out[j] * n + j]) out[j] = i;
  return out;
}

const main = typeof Deno !== 'undefined' || (typeof process !== 'undefined' && process.argv[1]?.endsWith('smoke.mjs'));
if (main) {
  const args = typeof Deno !== 'undefined' ? Deno.args : process.argv.slice(2);
  const device = args.includes('--gpu') ? await K.useBestDevice('gpu') : 'cpu';
  console.log(JSON.stringify(await smoke(device)));
}
