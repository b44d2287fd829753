// The demo page: loads MNIST from the project's data/, trains the seed's MLP with knet
// on the best device there is, plots loss and accuracy live, and classifies a digit
// drawn with the mouse.
import * as K from '../dist/index.js';

const $ = (id) => document.getElementById(id);
const state = { w: null, opts: null, batches: null, xtst: null, ytst: null, history: [], epoch: 0, step: 0 };
window.knetDemo = state; // for tests

const device = await chooseDevice();
$('device').textContent = `device: ${device.name}` + (device.name === 'cpu' ? ` (WebAssembly, ${K.simdLevel()}, ${K.threads()} thread${K.threads() > 1 ? 's' : ''})` : ` (WebGPU: ${device.info})`)
  + (crossOriginIsolated ? ', cross-origin isolated' : '');

async function chooseDevice() {
  const name = await K.useBestDevice(); // gpu where WebGPU gives an adapter, else WebAssembly
  if (name === 'cpu') return { name };
  const info = await K.initGpu();
  return { name, info: info.description || info.vendor || 'adapter' };
}

// Two models, as the seed writes them: the MLP (784-64-10) and LeNet (conv-pool twice, two dense).
const modelName = new URLSearchParams(location.search).get('model') === 'lenet' ? 'lenet' : 'mlp';
$('model').value = modelName;
$('model').onchange = () => { location.search = `?model=${$('model').value}`; };
state.model = modelName;

$('status').textContent = 'loading MNIST…';
const data = await K.mnist();
const on = { device: device.name };
const cpuOnly = { device: 'cpu' };
K.setSeed(1);
const uniform = (shape) => K.tidy(() => K.sub(K.mul(K.rand(shape, on), 0.2), 0.1)); // -0.1+0.2*rand
let predict, toInput;
if (modelName === 'mlp') {
  // x: [784, batch], one example per column
  state.w = [uniform([64, 784]), K.zeros([64, 1], on), uniform([10, 64]), K.zeros([10, 1], on)];
  predict = (w, x) => K.add(K.matmul(w[2], K.relu(K.add(K.matmul(w[0], x), w[1]))), w[3]);
  toInput = (pixels) => K.tensor(pixels, [784, 1], on);
  const columns = (x, n) => K.tidy(() => K.transpose(K.tensor(x, [n, 784], cpuOnly))); // batched on the cpu, then moved
  const xtrn = columns(data.xtrn, 60000), xtst = columns(data.xtst, 10000);
  state.batches = K.minibatch(xtrn, { data: data.ytrn, shape: [60000] }, 100, { shuffle: true, seed: 1, ...on });
  state.test = K.minibatch(xtst, { data: data.ytst, shape: [10000] }, 1000, on);
  xtrn.dispose(); xtst.dispose();
} else {
  // x: [batch, 1, 28, 28] (NCHW); the dense layers keep the seed's [classes, batch] scores
  state.w = [uniform([20, 1, 5, 5]), K.zeros([1, 20, 1, 1], on), uniform([50, 20, 5, 5]), K.zeros([1, 50, 1, 1], on),
    uniform([500, 800]), K.zeros([500, 1], on), uniform([10, 500]), K.zeros([10, 1], on)];
  predict = (w, x0) => {
    const x1 = K.pool(K.relu(K.add(K.conv4(w[0], x0), w[1])));
    const x2 = K.pool(K.relu(K.add(K.conv4(w[2], x1), w[3])));
    const x3 = K.relu(K.add(K.matmul(w[4], K.mat(x2), false, true), w[5]));
    return K.add(K.matmul(w[6], x3), w[7]);
  };
  toInput = (pixels) => K.tensor(pixels, [1, 1, 28, 28], on);
  state.batches = K.minibatch({ data: data.xtrn, shape: [60000, 1, 28, 28] }, { data: data.ytrn, shape: [60000] }, 100,
    { shuffle: true, seed: 1, axis: 0, ...on });
  state.test = K.minibatch({ data: data.xtst, shape: [10000, 1, 28, 28] }, { data: data.ytst, shape: [10000] }, 1000, { axis: 0, ...on });
  $('lr').value = '0.1';
}
const lossgrad = K.gradloss((w, x, y) => K.nll(predict(w, x), y));

/** Test accuracy: hits counted on the device, one readback. */
async function testAccuracy() {
  let hits = K.zeros([], on), n = 0;
  for (const [x, y] of state.test) {
    const h = K.tidy(() => K.add(hits, K.hits(predict(state.w, x), y)));
    hits.dispose();
    hits = h;
    n += y.size;
  }
  const total = await hits.itemAsync();
  hits.dispose();
  return total / n;
}

state.history.push({ step: 0, loss: NaN, acc: await testAccuracy() });
draw();
$('status').textContent = `ready: test accuracy ${state.history[0].acc.toFixed(4)} before training`;
$('train').disabled = false;
$('classify').disabled = false;

$('train').onclick = async () => {
  $('train').disabled = true;
  state.opts = K.optimizers(state.w, K.Sgd, { lr: Number($('lr').value) || 0.5 });
  const t0 = performance.now();
  let i = 0, sum = null;
  for (const [x, y] of state.batches) {
    const [g, l] = lossgrad(state.w, x, y);
    K.update(state.w, g, state.opts);
    // add the losses up where they are; read them back once per 50 batches
    const next = sum ? K.add(sum, l) : l;
    if (sum) { sum.dispose(); l.dispose(); }
    sum = next;
    state.step++;
    if (++i % 50 === 0) {
      const total = (await sum.data())[0];
      sum.dispose();
      sum = null;
      state.history.push({ step: state.step, loss: total / 50, acc: NaN });
      draw();
      $('status').textContent = `epoch ${state.epoch + 1}: batch ${i}/${state.batches.length}`;
      await new Promise((r) => setTimeout(r)); // let the page paint
    }
  }
  state.epoch++;
  const acc = await testAccuracy();
  state.history.at(-1).acc = acc;
  draw();
  $('status').textContent = `epoch ${state.epoch}: test accuracy ${acc.toFixed(4)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`;
  state.lastAccuracy = acc;
  $('train').disabled = false;
};

function draw() {
  const c = $('plot'), g = c.getContext('2d'), W = c.width, H = c.height, pad = 30;
  g.clearRect(0, 0, W, H);
  g.strokeStyle = '#ccc'; g.strokeRect(pad, 5, W - pad - 5, H - pad - 5);
  g.fillStyle = '#222'; g.font = '12px sans-serif';
  g.fillText('loss (blue, 0..2.5) and test accuracy (green, 0..1) by batch', pad, H - 8);
  const maxStep = Math.max(600, state.step);
  const X = (s) => pad + (s / maxStep) * (W - pad - 5), Y = (v, max) => 5 + (1 - Math.min(v / max, 1)) * (H - pad - 5);
  const line = (pts, color, max) => {
    g.strokeStyle = color; g.fillStyle = color; g.beginPath();
    pts.forEach((p, i) => (i ? g.lineTo(X(p.step), Y(p.v, max)) : g.moveTo(X(p.step), Y(p.v, max))));
    g.stroke();
    for (const p of pts) g.fillRect(X(p.step) - 2, Y(p.v, max) - 2, 4, 4);
  };
  line(state.history.filter((h) => !Number.isNaN(h.loss)).map((h) => ({ step: h.step, v: h.loss })), '#36c', 2.5);
  line(state.history.filter((h) => !Number.isNaN(h.acc)).map((h) => ({ step: h.step, v: h.acc })), '#393', 1);
}

// Drawing pad: white strokes on black, as MNIST digits are.
const pad = $('pad'), pg = pad.getContext('2d');
pg.fillStyle = '#000'; pg.fillRect(0, 0, 280, 280);
let down = false;
pad.onpointerdown = (e) => { down = true; stroke(e); };
pad.onpointermove = (e) => { if (down) stroke(e); };
window.onpointerup = () => { down = false; };
function stroke(e) {
  const r = pad.getBoundingClientRect();
  pg.fillStyle = '#fff'; pg.beginPath(); pg.arc(e.clientX - r.left, e.clientY - r.top, 12, 0, 2 * Math.PI); pg.fill();
}
$('clear').onclick = () => { pg.fillStyle = '#000'; pg.fillRect(0, 0, 280, 280); $('prediction').textContent = ''; $('probs').textContent = ''; };

/** The drawing as MNIST does it: the digit's bounding box scaled into 20x20, centred in 28x28. */
function digitPixels() {
  const img = pg.getImageData(0, 0, 280, 280).data;
  let x0 = 280, y0 = 280, x1 = -1, y1 = -1;
  for (let y = 0; y < 280; y++) for (let x = 0; x < 280; x++) if (img[(y * 280 + x) * 4] > 0) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
  const out = new Float32Array(784);
  if (x1 < 0) return out;
  const side = Math.max(x1 - x0, y1 - y0) + 1, small = document.createElement('canvas');
  small.width = small.height = 28;
  const sg = small.getContext('2d');
  sg.fillStyle = '#000'; sg.fillRect(0, 0, 28, 28);
  sg.imageSmoothingQuality = 'high';
  const dw = (20 * (x1 - x0 + 1)) / side, dh = (20 * (y1 - y0 + 1)) / side;
  sg.drawImage(pad, x0, y0, x1 - x0 + 1, y1 - y0 + 1, 14 - dw / 2, 14 - dh / 2, dw, dh);
  const s = sg.getImageData(0, 0, 28, 28).data;
  for (let i = 0; i < 784; i++) out[i] = s[i * 4] / 255;
  return out;
}

$('classify').onclick = async () => {
  const x = toInput(digitPixels());
  const p = K.tidy(() => K.softmax(predict(state.w, x), 0));
  const probs = Array.from(await p.data());
  p.dispose(); x.dispose();
  const best = probs.indexOf(Math.max(...probs));
  $('prediction').textContent = `prediction: ${best}`;
  state.prediction = best;
  $('probs').innerHTML = probs.map((v, i) => `<div>${i} <span class="bar" style="width:${(v * 150).toFixed(0)}px"></span> ${(v * 100).toFixed(1)}%</div>`).join('');
};
