// Runtime smoke test, run by Node, Deno and the browser page: imports the built package,
// trains a few softmax steps on the given device (default: the cpu) and checks that the
// loss falls; that save() then load() from every source this runtime's load() takes
// gives back the saved tensors bit for bit (`loaded`: source → ok; `saved`: all ok); and
// that the cpu device's threads (K.threads() of them) give one thread's bits. Prints one
// JSON line.
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
  const loaded = await saveAndLoad({ w, special: specialValues(), y });
  // the cpu device's threads: a product big enough to be split gives one thread's bits
  const threads = K.threads();
  const a = K.randn([192, 160], { device: 'cpu' }), b = K.randn([160, 200], { device: 'cpu' });
  const many = await K.softmax(K.matmul(a, b), 0).data();
  await K.setThreads(1);
  const one = await K.softmax(K.matmul(a, b), 0).data();
  await K.setThreads(threads);
  const threadsSame = many.every((v, i) => Object.is(v, one[i]));
  const saved = Object.keys(loaded).length > 0 && Object.values(loaded).every((ok) => ok === true);
  return { device, simd: K.simdLevel(), threads, threadsSame, first: losses[0], last: losses.at(-1), falls: losses.at(-1) < losses[0] * 0.5, saved, loaded };
}

/** Float32 values a lossy round trip would change: -0, NaNs with a payload and a sign, infinities, a subnormal, the extremes. */
function specialValues() {
  const bits = Uint32Array.from([0x80000000, 0x7fc00001, 0xffc00000, 0x7f800000, 0xff800000, 0x00000001, 0x7f7fffff, 0xff7fffff, 0x3f800000]);
  return K.tensor(new Float32Array(bits.buffer), [3, 3], { device: 'cpu' });
}

/** The 32-bit patterns of a Float32Array or Int32Array. */
const bitsOf = (a) => new Uint32Array(a.buffer, a.byteOffset, a.length);

/** Whether two typed arrays are of one kind and hold the same bits. */
function sameBits(a, b) {
  if (a.constructor !== b.constructor || a.length !== b.length) return false;
  const x = bitsOf(a), y = bitsOf(b);
  return x.every((v, i) => v === y[i]);
}

/**
 * Saves `params` (a path in Node and Deno, a download in a browser) and loads it back from
 * each source load() takes here; for each, whether every tensor came back with its dtype,
 * shape and bits (or the error).
 */
async function saveAndLoad(params) {
  const flat = (p) => [['w0', p.w[0]], ['w1', p.w[1]], ['special', p.special], ['y', p.y]];
  const want = [];
  for (const [k, t] of flat(params)) want.push([k, t.dtype, String(t.shape), await t.data()]);
  const browser = typeof document !== 'undefined';
  const file = browser ? null : await tmpFile();
  const bytes = await K.save(file ?? 'smoke.safetensors', params);
  const sources = { bytes, arrayBuffer: bytes.slice().buffer, blob: new Blob([bytes]), response: new Response(bytes) };
  if (browser) {
    sources.file = new File([bytes], 'smoke.safetensors');
    sources.url = URL.createObjectURL(new Blob([bytes]));
    // the origin private file system: save() to a FileSystemFileHandle, load() from it
    const handle = await (await navigator.storage.getDirectory()).getFileHandle('smoke.safetensors', { create: true });
    await K.save(handle, params);
    sources.handle = handle;
  } else {
    const { pathToFileURL } = await import('node:url');
    sources.path = file;
    sources.fileUrl = pathToFileURL(file);
  }
  const out = {};
  for (const [name, source] of Object.entries(sources)) {
    try {
      const back = (await K.load(source)).params;
      let ok = true;
      for (const [[k, t], [, dtype, shape, data]] of flat(back).map((x, i) => [x, want[i]])) {
        ok &&= t.dtype === dtype && String(t.shape) === shape && sameBits(await t.data(), data);
        if (!ok) { out[name] = `${k} differs`; break; }
      }
      if (ok) out[name] = true;
    } catch (e) { out[name] = String(e?.message ?? e); }
  }
  if (browser) URL.revokeObjectURL(sources.url);
  else await removeFile(file);
  return out;
}

async function tmpFile() {
  if (typeof Deno !== 'undefined') return await Deno.makeTempFile({ suffix: '.safetensors' });
  const { tmpdir } = await import('node:os');
  return `${tmpdir()}/knet-smoke-${process.pid}.safetensors`;
}

async function removeFile(path) {
  if (typeof Deno !== 'undefined') return await Deno.remove(path);
  const { rm } = await import('node:fs/promises');
  await rm(path, { force: true });
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
