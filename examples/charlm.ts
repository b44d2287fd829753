// The seed's character-level language model: an embedding, LSTM layers and a linear output
// layer predict each next character; trained with truncated backpropagation through time
// (BPTT) over windows of the text, carrying the LSTM state from one window to the next.
//
// Run:  npx tsx examples/charlm.ts [--text tinyshakespeare|hiawatha|path] [--epochs 1]
//         [--seqlen 100] [--batch 128] [--embed 256] [--hidden 256] [--layers 1]
//         [--optimizer adam] [--lr 0.002] [--gclip 5] [--save model.safetensors]
//         [--windows N (only the first N windows of each epoch)] [--device cpu|gpu]
//       npx tsx examples/charlm.ts --load model.safetensors --generate 1000 [--seed 1]
//
// Defaults follow the seed's benchmark (batch 128, embedding and hidden 256, BPTT 100) and
// the common practice for character models since Karpathy's char-rnn: Adam with lr 0.002
// and gradients clipped to norm 5 (per parameter), one LSTM layer. The loss is the average
// negative log likelihood per character in nats (bits = nats / ln 2).
//
// The text is cut into `batch` equal streams, one per row; window k of an epoch feeds
// characters [k*seqlen, (k+1)*seqlen) of every stream and predicts the characters one
// after. The state at the end of a window starts the next (gradients stop there); an
// epoch starts from zeros. --save writes a safetensors file with the vocabulary in its
// metadata; --load reads one (then --epochs defaults to 0); --generate N samples N
// characters from the model's distribution, starting after a newline, reproducibly for a
// given --seed.
import { pathToFileURL } from 'node:url';
import * as K from '../ts/index.js';
import type { LstmLayer, Tensor } from '../ts/index.js';
import { parseArgs, progress } from './args.js';

export interface CharModel { embed: Tensor; rnn: LstmLayer[]; out: { w: Tensor; b: Tensor } }
export interface State { h: Tensor[]; c: Tensor[] }

/** Parameters: embedding [V, E], LSTM layers (rnnInit), output projection [H, V] + [1, V]. */
export function initModel(vocab: number, embed: number, hidden: number, layers = 1, device: K.DeviceName = 'cpu'): CharModel {
  const uniform = (rows: number, cols: number) => {
    const bound = Math.sqrt(6 / (rows + cols)); // Xavier
    return K.tidy(() => K.mul(K.sub(K.mul(K.rand([rows, cols], { device }), 2), 1), bound));
  };
  return {
    embed: uniform(vocab, embed),
    rnn: K.rnnInit(embed, hidden, { layers, device }),
    out: { w: uniform(hidden, vocab), b: K.zeros([1, vocab], { device }) },
  };
}

/** Scores [T*B, V] for input ids [T, B] (time first), and the state after the last step. */
export function predict(m: CharModel, ids: Tensor, state: State | null): { scores: Tensor; state: State } {
  const [T, B] = ids.shape;
  // x = rows of the embedding for the ids (the seed's one-hot x * w[end-2]), fed to the LSTM
  // layers: rnnForward(m.rnn, K.gather(m.embed, ids), ...) computes the same; passing the
  // embedding lets it multiply the embedding into the input weights once per vocabulary
  // entry instead of once per position, half the arithmetic of a window.
  const r = K.rnnForward(m.rnn, ids, state?.h, state?.c, { embed: m.embed });   // y [T, B, H]
  const H = r.y.shape[2];
  const scores = K.add(K.matmul(K.reshape(r.y, [T * B, H]), m.out.w), m.out.b);
  return { scores, state: { h: r.h, c: r.c } };
}

/** Average loss per character; the final state goes to `out.state`, kept out of grad's cleanup. */
export function loss(m: CharModel, ids: Tensor, targets: Tensor, state: State | null, out: { state?: State } = {}): Tensor {
  const p = predict(m, ids, state);
  out.state = K.keep(p.state);
  return K.nll(p.scores, targets, 1);
}

/** A vocabulary: the distinct characters (code points) of a text, sorted. */
export function vocabulary(text: string): string[] {
  return [...new Set(text)].sort();
}

/** The text as ids in the vocabulary; a character outside it is an error. */
export function encode(text: string, vocab: readonly string[]): Int32Array {
  const index = new Map(vocab.map((ch, i) => [ch, i]));
  const chars = [...text];
  return Int32Array.from(chars, (ch, i) => {
    const id = index.get(ch);
    if (id === undefined) throw new Error(`charlm: character ${JSON.stringify(ch)} at position ${i} is not in the model's vocabulary`);
    return id;
  });
}

/** BPTT windows: for each, input ids [T, B] and target ids [T*B], both time first. */
export function windows(ids: Int32Array, batch: number, seqlen: number): { x: Int32Array; y: Int32Array }[] {
  const stream = Math.floor(ids.length / batch);
  if (stream < seqlen + 1) {
    throw new Error(`charlm: the text has ${ids.length} characters, too few for one window: batch ${batch} x ` +
      `(seqlen ${seqlen} + 1) = ${batch * (seqlen + 1)} are needed. Use a longer text, or a smaller --batch or --seqlen.`);
  }
  const out: { x: Int32Array; y: Int32Array }[] = [];
  for (let s = 0; s + seqlen < stream; s += seqlen) {
    const T = Math.min(seqlen, stream - 1 - s);
    if (T < seqlen) break; // a partial last window would change the shapes; skip it
    const x = new Int32Array(T * batch), y = new Int32Array(T * batch);
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < batch; b++) {
        x[t * batch + b] = ids[b * stream + s + t];
        y[t * batch + b] = ids[b * stream + s + t + 1];
      }
    }
    out.push({ x, y });
  }
  return out;
}

export function disposeState(s: State | null | undefined): void {
  if (s) for (const t of [...s.h, ...s.c]) t.dispose();
}

/** Samples n characters, starting after `start` from a zero state; u: n uniform draws. */
export function generate(m: CharModel, vocab: readonly string[], n: number, u: ArrayLike<number>, start = '\n'): string {
  const device = m.embed.device.name;
  let cur = Math.max(0, vocab.indexOf(start));
  let state: State | null = null;
  let text = '';
  for (let i = 0; i < n; i++) {
    const r = K.tidy(() => {
      const p = predict(m, K.tensor(Int32Array.of(cur), [1, 1], { dtype: 'int32', device }), state);
      return { probs: K.softmax(p.scores, 1), state: p.state };
    });
    disposeState(state);
    state = r.state;
    const probs = r.probs.dataSync();
    r.probs.dispose();
    // inverse CDF: the first id whose cumulative probability exceeds the draw
    let acc = 0, next = probs.length - 1;
    for (let k = 0; k < probs.length; k++) { acc += probs[k]; if (u[i] < acc) { next = k; break; } }
    cur = next;
    text += vocab[cur];
  }
  disposeState(state);
  return text;
}

const optimizerKinds: Record<string, any> = {
  sgd: K.Sgd, momentum: K.Momentum, nesterov: K.Nesterov, adam: K.Adam, adagrad: K.Adagrad, adadelta: K.Adadelta, rmsprop: K.Rmsprop,
};

async function main(): Promise<void> {
  const args = parseArgs({
    text: 'tinyshakespeare', epochs: -1, seqlen: 100, batch: 128, embed: 256, hidden: 256, layers: 1,
    optimizer: 'adam', lr: 0.002, gclip: 5, seed: 1, save: '', load: '', generate: 0, device: 'cpu', windows: 0,
  });
  if (!optimizerKinds[args.optimizer]) throw new Error(`--optimizer must be one of ${Object.keys(optimizerKinds).join(', ')}`);
  if (args.device !== 'cpu' && args.device !== 'gpu') throw new Error(`--device must be cpu or gpu, got '${args.device}'`);
  const device = args.device as K.DeviceName;
  if (device === 'gpu' && !K.devices().includes('gpu')) {
    const init = (K as any).initGpu;
    if (typeof init !== 'function') throw new Error(`charlm: --device gpu: this build of knet has no gpu device yet; use --device cpu`);
    await init();
  }
  K.setSeed(args.seed);
  const epochs = args.epochs >= 0 ? args.epochs : args.load ? 0 : 1;

  let model: CharModel, vocab: string[];
  let text: string | null = null;
  if (args.load) {
    const { params, metadata } = await K.loadParams(args.load, { device });
    if (!metadata.vocab) throw new Error(`charlm: ${args.load} has no vocabulary in its metadata; was it saved by this example?`);
    model = params as CharModel;
    vocab = JSON.parse(metadata.vocab);
    console.log(`loaded ${args.load}: vocabulary ${vocab.length}, embedding ${model.embed.shape[1]}, ` +
      `hidden ${model.rnn[0].w.shape[1] / 4}, ${model.rnn.length} layer(s)`);
  } else {
    text = await K.text(args.text);
    if (text.length === 0) throw new Error(`charlm: the text '${args.text}' is empty`);
    vocab = vocabulary(text);
    model = initModel(vocab.length, args.embed, args.hidden, args.layers, device);
  }

  if (epochs > 0) {
    text ??= await K.text(args.text);
    if (text.length === 0) throw new Error(`charlm: the text '${args.text}' is empty`);
    let all = windows(encode(text, vocab), args.batch, args.seqlen);
    if (args.windows > 0) all = all.slice(0, args.windows);
    const opts = K.optimizers(model, optimizerKinds[args.optimizer], { lr: args.lr, gclip: args.gclip });
    const lossgrad = K.gradloss(loss);
    const T = args.seqlen, B = args.batch;
    console.log(`charlm on ${args.text}: ${[...text].length} characters, vocabulary ${vocab.length}, ${all.length} windows of ` +
      `${B}x${T}; embedding ${model.embed.shape[1]}, hidden ${model.rnn[0].w.shape[1] / 4}, ${model.rnn.length} layer(s); ` +
      `${args.optimizer} lr=${args.lr} gclip=${args.gclip}; ${device}${device === 'cpu' ? ` (${K.simdLevel()})` : ''}`);
    for (let epoch = 1; epoch <= epochs; epoch++) {
      let state: State | null = null;
      let total = 0;
      const t0 = performance.now();
      for (let i = 0; i < all.length; i++) {
        const x = K.tensor(all[i].x, [T, B], { dtype: 'int32', device });
        const y = K.tensor(all[i].y, [T * B], { dtype: 'int32', device });
        const out: { state?: State } = {};
        const [g, l] = lossgrad(model, x, y, state, out);
        K.update(model, g, opts);
        x.dispose(); y.dispose();
        disposeState(state);
        // the state's storage is the layer's whole output; keep a copy of the last step only
        state = { h: out.state!.h.map((t) => K.copy(t)), c: out.state!.c.map((t) => K.copy(t)) };
        disposeState(out.state);
        total += (await l.data())[0];
        l.dispose();
        const secs = (performance.now() - t0) / 1000;
        progress(`epoch ${epoch}`, i + 1, all.length, `loss ${(total / (i + 1)).toFixed(4)} ${Math.round((i + 1) * B * T / secs)} chars/s`);
        if ((i + 1) % 10 === 0 && !process.stderr.isTTY) {
          console.log(`epoch ${epoch} window ${i + 1}/${all.length}: loss ${(total / (i + 1)).toFixed(4)}`);
        }
      }
      disposeState(state);
      const secs = (performance.now() - t0) / 1000;
      const avg = total / all.length;
      console.log(`epoch ${epoch}: loss ${avg.toFixed(4)} per char (${(avg / Math.LN2).toFixed(3)} bits), ` +
        `${secs.toFixed(1)} s, ${Math.round(all.length * B * T / secs)} chars/s`);
    }
  }
  if (args.save) {
    await K.saveParams(args.save, model, { vocab: JSON.stringify(vocab), model: 'knet charlm' });
    console.log(`saved ${args.save}`);
  }
  if (args.generate > 0) {
    K.setSeed(args.seed);
    const u = K.tidy(() => K.rand([args.generate]).dataSync());
    console.log(generate(model, vocab, args.generate, u));
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => { console.error(e instanceof Error ? e.message : e); process.exitCode = 1; });
}
