// Multi-layer LSTMs over whole sequences, in the spirit of Knet's rnninit/rnnforw:
//   const w = rnnInit(inputSize, hiddenSize, { layers: 2 });
//   const { y, h, c } = rnnForward(w, x, h0, c0);     // x [T, B, X] -> y [T, B, H]
// Each layer keeps the seed's parameters, w [X+H, 4H] and b [1, 4H] (gates forget, input,
// output, change), so lstm(w, b, h, c, x) run step by step gives the same results.
//
// Why a layer is one recorded op and not T lstm() calls: the input projection of all T
// steps is one large matmul; each step then does one [B,H]x[H,4H] matmul and one fused cell
// kernel, writing straight into one buffer of all hidden states; the backward pass runs the
// steps in reverse into one buffer of gate gradients, so the weight gradient is one large
// matmul too, and no per-step gradient of a slice ever touches a whole-sequence tensor.

import { record } from '../autograd/tape.js';
import { full, tensor } from '../create.js';
import { UnaryOp } from '../device/device.js';
import type { DeviceName, Device } from '../device/device.js';
import { getDevice } from '../device/index.js';
import { uniform } from '../random.js';
import { arg, describe, deviceKernel, sameDevice } from '../ops/check.js';
import { gather } from '../ops/gather.js';
import { reshape } from '../ops/layout.js';
import { matmul } from '../ops/matmul.js';
import { rawView, slice } from '../ops/slice.js';
import { empty, type Tensor } from '../tensor.js';
import { noSecond, onTape } from './lstm.js';

/** One LSTM layer's parameters: w [X+H, 4H] (input rows, then hidden rows) and b [1, 4H]. */
export interface LstmLayer { w: Tensor; b: Tensor }

export interface RnnInitOptions {
  /** Stacked layers (default 1); layer k > 0 takes layer k-1's hidden state as input. */
  layers?: number;
  device?: DeviceName | Device;
  /** Forget-gate bias (default 1, as Knet's rnninit: remember by default); other biases 0. */
  forgetBias?: number;
}

/**
 * Parameters of a multi-layer LSTM: one { w, b } per layer. Weights are Xavier-uniform per
 * gate block (±sqrt(6/(fan_in+fan_out))), as Knet's rnninit; biases are 0, except the
 * forget gate's (options.forgetBias, default 1).
 */
export function rnnInit(inputSize: number, hiddenSize: number, options: RnnInitOptions = {}): LstmLayer[] {
  const { layers = 1, device, forgetBias = 1 } = options;
  for (const [k, v] of [['inputSize', inputSize], ['hiddenSize', hiddenSize], ['layers', layers]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`knet rnnInit: ${k} must be a positive integer, got ${v}`);
  }
  const dev = getDevice(device);
  const H = hiddenSize;
  const out: LstmLayer[] = [];
  for (let l = 0; l < layers; l++) {
    const X = l === 0 ? inputSize : H;
    const w = new Float32Array((X + H) * 4 * H);
    for (let r = 0; r < X + H; r++) {
      const bound = Math.sqrt(6 / ((r < X ? X : H) + H));
      for (let j = 0; j < 4 * H; j++) w[r * 4 * H + j] = (2 * uniform() - 1) * bound;
    }
    const b = new Float32Array(4 * H);
    b.fill(forgetBias, 0, H);
    out.push({ w: tensor(w, [X + H, 4 * H], { device: dev }), b: tensor(b, [1, 4 * H], { device: dev }) });
  }
  return out;
}

/**
 * One LSTM layer over T steps, given the input projections of every step, xproj
 * [T*B, 4H] (= x·w_x, without the bias), the recurrent weight wh [H, 4H], the bias [4H] and
 * the initial state h0, c0 [B, H]. Returns y [T, B, H] (every step's hidden state) and the
 * final h, c [B, H]. One recorded op; its gradient runs the steps in reverse.
 */
export function lstmLayer(xproj: Tensor, wh: Tensor, bias: Tensor, h0: Tensor, c0: Tensor): { y: Tensor; h: Tensor; c: Tensor } {
  const op = 'rnnForward';
  for (const [n, t] of [['xproj', xproj], ['wh', wh], ['bias', bias], ['h0', h0], ['c0', c0]] as const) arg(op, t, n);
  const dev = sameDevice(op, xproj, wh, bias, h0, c0);
  const [B, H] = h0.shape;
  const G = 4 * H;
  if (h0.ndim !== 2 || c0.ndim !== 2 || c0.shape[0] !== B || c0.shape[1] !== H || wh.ndim !== 2 || wh.shape[0] !== H ||
      wh.shape[1] !== G || bias.size !== G || xproj.ndim !== 2 || xproj.shape[1] !== G || xproj.shape[0] % B !== 0 || B === 0) {
    throw new Error(`knet ${op}: shapes do not fit an LSTM layer with batch B=${B} and hidden H=${H}: need xproj [T*B,${G}], ` +
      `wh [${H},${G}], bias [1,${G}], h0 and c0 [${B},${H}]; got xproj ${describe(xproj)}, wh ${describe(wh)}, ` +
      `bias ${describe(bias)}, h0 ${describe(h0)}, c0 ${describe(c0)}`);
  }
  const T = xproj.shape[0] / B;
  if (T === 0) throw new Error(`knet ${op}: the sequence has no steps (xproj ${describe(xproj)}); give at least one`);
  const BH = B * H, BG = B * G;
  const fwd = deviceKernel(op, dev, 'lstmForward');
  const grads = onTape(xproj, wh, bias, h0, c0);
  // hs: h0, h1 .. hT, then cT: all outputs in one block, so one node carries every gradient
  const hs = empty([(T + 1) * BH + BH], 'float32', dev);
  const cs = empty([(grads ? T + 1 : 2) * BH], 'float32', dev);   // c0 .. cT (two alternating when no gradient)
  const acts = empty([(grads ? T : 1) * BG], 'float32', dev);
  const hw = empty([B, G], 'float32', dev);
  const views: Tensor[] = [];
  const v = (t: Tensor, off: number, shape: number[]) => { const r = rawView(t, off, shape); views.push(r); return r; };
  const cAt = (t: number) => (grads ? t : t % 2) * BH;
  try {
    dev.unary(UnaryOp.copy, h0, v(hs, 0, [B, H]));
    dev.unary(UnaryOp.copy, c0, v(cs, 0, [B, H]));
    for (let t = 0; t < T; t++) {
      dev.matmul(false, false, v(hs, t * BH, [B, H]), wh, hw, B, G, H, 1, 0);
      fwd(v(xproj, t * BG, [B, G]), hw, bias, v(cs, cAt(t), [B, H]), v(acts, grads ? t * BG : 0, [B, G]),
        v(cs, cAt(t + 1), [B, H]), v(hs, (t + 1) * BH, [B, H]), B, H);
      for (const r of views.splice(0)) r.dispose();
    }
    dev.unary(UnaryOp.copy, v(cs, cAt(T), [B, H]), v(hs, (T + 1) * BH, [B, H]));
  } finally {
    for (const r of views.splice(0)) r.dispose();
    hw.dispose();
    if (!grads) { cs.dispose(); acts.dispose(); }
  }
  if (grads) {
    record(hs, [xproj, wh, bias, h0, c0], (g, needs) => {
      const bwd = deviceKernel(op, dev, 'lstmBackward');
      const dG = empty([T * B, G], 'float32', dev);
      const dc = empty([B, H], 'float32', dev);
      const dh = empty([B, H], 'float32', dev);
      const db = needs[2] ? full(bias.shape, 0, { device: dev }) : null;
      try {
        for (let t = T - 1; t >= 0; t--) {
          const last = t === T - 1;
          const dGt = v(dG, t * BG, [B, G]);
          // h_{t+1} gets g's row t+1 plus, below the last step, the recurrent gradient in dh;
          // c_{t+1} gets cT's gradient at the last step, then what the step above passed down.
          bwd(v(acts, t * BG, [B, G]), v(cs, t * BH, [B, H]), v(cs, (t + 1) * BH, [B, H]),
            v(g, (t + 1) * BH, [B, H]), last ? null : dh, last ? v(g, (T + 1) * BH, [B, H]) : dc,
            dGt, dc, db, B, H);
          if (t > 0 || needs[3]) dev.matmul(false, true, dGt, wh, dh, B, H, G, 1, 0);
          for (const r of views.splice(0)) r.dispose();
        }
      } finally { for (const r of views.splice(0)) r.dispose(); }
      let dwh: Tensor | null = null;
      if (needs[1]) {
        // all steps at once: dwh = [h0 .. h_{T-1}]ᵀ · dG
        dwh = empty([H, G], 'float32', dev);
        const hprev = rawView(hs, 0, [T * B, H]);
        try { dev.matmul(true, false, hprev, dG, dwh, H, G, T * B, 1, 0); } finally { hprev.dispose(); }
      }
      // h0 also gets g's row 0 (zero unless T = 0, which the shape check rules out)
      const out = [needs[0] ? dG : null, dwh, db, needs[3] ? dh : null, needs[4] ? dc : null];
      if (!needs[0]) dG.dispose();
      if (!needs[3]) dh.dispose();
      if (!needs[4]) dc.dispose();
      const second = [g, xproj, wh, bias, h0, c0];
      return out.map((t) => noSecond(t, second, 'rnnForward\'s gradient'));
    });
  }
  const y = reshape(slice(hs, 0, BH, (T + 1) * BH), [T, B, H]);
  const h = reshape(slice(hs, 0, T * BH, (T + 1) * BH), [B, H]);
  const c = reshape(slice(hs, 0, (T + 1) * BH), [B, H]);
  return { y, h, c };
}

export interface RnnForwardOptions {
  /**
   * An embedding matrix [V, E]: x is then int32 ids [T, B] into its rows, and the first
   * layer's input is those rows. Same results as rnnForward(w, gather(embed, x)), but when
   * V < T*B the input projection is computed once per vocabulary entry (embed · w_x, V rows)
   * and its rows gathered, instead of once per position (T*B rows): the one-hot algebra of
   * the seed's `x * w[end-2]`, which halves a character model's arithmetic.
   */
  embed?: Tensor;
}

/**
 * Runs a multi-layer LSTM (from rnnInit) over a sequence x [T, B, X] (time first; rows of
 * each step are the batch), or int32 ids [T, B] with options.embed. h0 and c0 hold one
 * [B, H] state per layer (null or omitted: zeros). Returns y [T, B, H], the last layer's
 * hidden state at every step, and the final h and c of every layer. Gradients flow to w, x
 * (or embed), h0 and c0.
 */
export function rnnForward(w: readonly LstmLayer[], x: Tensor, h0?: readonly Tensor[] | null, c0?: readonly Tensor[] | null,
                           options: RnnForwardOptions = {}): { y: Tensor; h: Tensor[]; c: Tensor[] } {
  const op = 'rnnForward';
  if (!Array.isArray(w) || w.length === 0 || w.some((l) => !l || typeof l !== 'object' || !('w' in l) || !('b' in l))) {
    throw new Error(`knet ${op}: w must be the array of { w, b } layers that rnnInit returns`);
  }
  const embed = options.embed;
  if (embed) {
    arg(op, embed, 'embed');
    arg(op, x, 'x (ids)', 'int32');
    if (embed.ndim !== 2 || x.ndim !== 2) {
      throw new Error(`knet ${op}: with an embedding, x must be int32 ids [T, B] and embed [V, E]; got x ${describe(x)}, embed ${describe(embed)}`);
    }
  } else {
    arg(op, x, 'x');
    if (x.ndim !== 3) throw new Error(`knet ${op}: x must be [T, B, X] (time, batch, features), got ${describe(x)}`);
  }
  const [T, B] = x.shape;
  const H = w[0].w.shape[1] / 4;
  for (const [name, s] of [['h0', h0], ['c0', c0]] as const) {
    if (s && (!Array.isArray(s) || s.length !== w.length)) {
      throw new Error(`knet ${op}: ${name} must hold one [B, H] = [${B},${H}] tensor per layer (${w.length}), or be null for zeros`);
    }
  }
  let input: Tensor | null = embed ? null : reshape(x, [T * B, x.shape[2]]);
  const hs: Tensor[] = [], cs: Tensor[] = [];
  let y!: Tensor;
  w.forEach((layer, l) => {
    const X = input ? input.shape[1] : embed!.shape[1];
    if (layer.w.ndim !== 2 || layer.w.shape[0] !== X + H || layer.w.shape[1] !== 4 * H) {
      throw new Error(`knet ${op}: layer ${l}'s w is ${describe(layer.w)}; with input size ${X} and hidden size ${H} ` +
        `it must be [${X + H},${4 * H}]`);
    }
    const zeros = () => full([B, H], 0, { device: x.device });
    const wx = slice(layer.w, 0, 0, X);
    let xproj: Tensor;
    if (input) xproj = matmul(input, wx);
    else {
      const ids = reshape(x, [T * B]);
      xproj = embed!.shape[0] < T * B ? gather(matmul(embed!, wx), ids) : matmul(gather(embed!, ids), wx);
    }
    const r = lstmLayer(xproj, slice(layer.w, 0, X), layer.b, h0?.[l] ?? zeros(), c0?.[l] ?? zeros());
    hs.push(r.h); cs.push(r.c);
    y = r.y;
    input = reshape(r.y, [T * B, H]);
  });
  return { y, h: hs, c: cs };
}
