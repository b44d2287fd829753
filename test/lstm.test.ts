// The LSTM: the seed's plain-code lstm against a float64 reference and gradcheck; the fused
// lstmCell and the sequence op behind rnnForward against the plain code, in values and
// gradients; bad shapes; memory.
import { describe, expect, it } from 'vitest';
import * as K from '../ts/index.js';
import type { Tensor } from '../ts/index.js';
import { rng, worst } from './helpers/ref.js';

const gen = rng(11);
const randT = (...shape: number[]) => K.tensor(gen.uniform(shape).data, shape);

/** Every tensor in a structure, in order. */
function leaves(v: any, out: Tensor[] = []): Tensor[] {
  if (v instanceof K.Tensor) out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => leaves(x, out));
  else if (v && typeof v === 'object') Object.values(v).forEach((x) => leaves(x, out));
  return out;
}

function expectClose(a: any, b: any, tol = 1e-4): void {
  const la = leaves(a), lb = leaves(b);
  expect(la.length).toBe(lb.length);
  la.forEach((t, i) => {
    expect([...t.shape]).toEqual([...lb[i].shape]);
    expect(worst(t.dataSync(), lb[i].dataSync(), 1e-3)).toBeLessThan(tol);
  });
}

/** Float64 reference of the seed's lstm, rows are the batch. */
function refLstm(w: Float64Array, b: Float64Array, h: Float64Array, c: Float64Array, x: Float64Array, B: number, H: number, X: number) {
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const hn = new Float64Array(B * H), cn = new Float64Array(B * H);
  for (let r = 0; r < B; r++) {
    const g = new Float64Array(4 * H);
    for (let j = 0; j < 4 * H; j++) {
      let s = b[j];
      for (let k = 0; k < X; k++) s += x[r * X + k] * w[k * 4 * H + j];
      for (let k = 0; k < H; k++) s += h[r * H + k] * w[(X + k) * 4 * H + j];
      g[j] = s;
    }
    for (let j = 0; j < H; j++) {
      const f = sig(g[j]), i = sig(g[H + j]), o = sig(g[2 * H + j]), z = Math.tanh(g[3 * H + j]);
      cn[r * H + j] = c[r * H + j] * f + i * z;
      hn[r * H + j] = o * Math.tanh(cn[r * H + j]);
    }
  }
  return [hn, cn];
}

const params = (B: number, H: number, X: number) => ({
  w: randT(X + H, 4 * H), b: randT(1, 4 * H), h: randT(B, H), c: randT(B, H), x: randT(B, X),
});
type P = ReturnType<typeof params>;
/** A loss touching both outputs with distinct weights. */
const cellLoss = (cell: typeof K.lstm) => (p: P) => {
  const [h, c] = cell(p.w, p.b, p.h, p.c, p.x);
  return K.add(K.sum(K.mul(h, h)), K.sum(K.mul(K.tanh(c), c)));
};

describe('lstm (plain code, as the seed writes it)', () => {
  it('matches a float64 reference', () => {
    const [B, H, X] = [3, 5, 4];
    const p = params(B, H, X);
    const [h, c] = K.lstm(p.w, p.b, p.h, p.c, p.x);
    const f64 = (t: Tensor) => Float64Array.from(t.dataSync());
    const [hr, cr] = refLstm(f64(p.w), f64(p.b), f64(p.h), f64(p.c), f64(p.x), B, H, X);
    expect(worst(h.dataSync(), hr)).toBeLessThan(1e-4);
    expect(worst(c.dataSync(), cr)).toBeLessThan(1e-4);
  });
  it('gradcheck', () => {
    const r = K.gradcheckWith({ samples: 8, atol: 1e-2 })(cellLoss(K.lstm), params(2, 3, 2));
    expect(r.ok, JSON.stringify(r.worst)).toBe(true);
  });
});

describe('lstmCell (fused) equals lstm', () => {
  for (const [B, H, X] of [[3, 8, 5], [1, 4, 1], [4, 5, 3], [2, 13, 6]]) {
    it(`B=${B} H=${H} X=${X}: values and gradients of every argument`, () => {
      const p = params(B, H, X);
      expectClose(K.lstmCell(p.w, p.b, p.h, p.c, p.x), K.lstm(p.w, p.b, p.h, p.c, p.x));
      expectClose(K.grad(cellLoss(K.lstmCell))(p), K.grad(cellLoss(K.lstm))(p));
    });
  }
  it('with a [4H] bias, and with only one output used', () => {
    const p = params(2, 4, 3);
    const b1 = K.reshape(p.b, [16]);
    const only = (cell: typeof K.lstm, k: 0 | 1) => (q: P) => K.sum(cell(q.w, b1, q.h, q.c, q.x)[k]);
    for (const k of [0, 1] as const) expectClose(K.grad(only(K.lstmCell, k))(p), K.grad(only(K.lstm, k))(p));
  });
  it('differentiating its gradient again is a clear error', () => {
    const p = params(2, 4, 3);
    const f = (x: Tensor) => K.sum(K.grad((q: P) => K.sum(K.lstmCell(q.w, q.b, q.h, q.c, q.x)[0]))({ ...p, x }).x);
    expect(() => K.grad(f)(p.x)).toThrow(/knet grad: the derivative of lstmCell's gradient is not implemented/);
  });
  it('bad shapes name the op and every shape', () => {
    const p = params(2, 4, 3);
    expect(() => K.lstmCell(p.w, p.b, p.h, p.c, randT(2, 4))).toThrow(
      /knet lstmCell: shapes do not fit an LSTM with batch B=2, hidden H=4, input X=4: need weight \[X\+H,4H\] = \[8,16\]/);
    expect(() => K.lstmCell(p.w, p.b, p.h, randT(3, 4), p.x)).toThrow(/cell \[2,4\]/);
    expect(() => K.lstmCell(p.w, randT(1, 12), p.h, p.c, p.x)).toThrow(/bias \[1,16\]/);
    expect(() => K.lstmCell(p.w, p.b, randT(4), p.c, p.x)).toThrow(/knet lstmCell: hidden, input and weight must be 2-d/);
  });
});

describe('rnnForward (multi-layer, whole sequences) equals lstm step by step', () => {
  const [T, B, X, H, L] = [5, 3, 4, 6, 2];
  K.setSeed(3);
  const w = K.rnnInit(X, H, { layers: L });
  const x = randT(T, B, X);
  const h0 = [randT(B, H), randT(B, H)], c0 = [randT(B, H), randT(B, H)];

  /** The same network as a loop over the seed's lstm. */
  function plain(w: K.LstmLayer[], x: Tensor, h0?: Tensor[] | null, c0?: Tensor[] | null) {
    const hs = w.map((_, l) => h0?.[l] ?? K.zeros(B, H)), cs = w.map((_, l) => c0?.[l] ?? K.zeros(B, H));
    const ys: Tensor[] = [];
    for (let t = 0; t < T; t++) {
      let input = K.index(x, [t]);
      w.forEach((layer, l) => { [hs[l], cs[l]] = K.lstm(layer.w, layer.b, hs[l], cs[l], input); input = hs[l]; });
      ys.push(K.reshape(input, [1, B, H]));
    }
    return { y: K.concat(ys, 0), h: hs, c: cs };
  }
  const r = randT(T, B, H), rh = randT(B, H), rc = randT(B, H);
  const lossOf = (run: typeof K.rnnForward) => (q: { w: K.LstmLayer[]; x: Tensor; h0: Tensor[]; c0: Tensor[] }) => {
    const o = run(q.w, q.x, q.h0, q.c0);
    return K.add(K.add(K.sum(K.mul(o.y, r)), K.sum(K.mul(o.h[0], rh))), K.sum(K.mul(o.c[1], rc)));
  };

  it('values, with given and with zero initial states, with and without a tape', () => {
    expectClose(K.rnnForward(w, x, h0, c0), plain(w, x, h0, c0));
    expectClose(K.rnnForward(w, x), plain(w, x));
    // under grad the forward pass keeps every step; outside it reuses two buffers
    let taped: any;
    K.grad((q: any) => { taped = K.keep(K.rnnForward(q, x, h0, c0)); return K.sum(taped.y); })(w);
    expectClose(taped, K.rnnForward(w, x, h0, c0));
  });
  it('gradients of w, x, h0 and c0, through y and the final h and c', () => {
    const q = { w, x, h0, c0 };
    expectClose(K.grad(lossOf(K.rnnForward))(q), K.grad(lossOf(plain as any))(q));
  });
  it('gradient through y only (the language-model case)', () => {
    const f = (run: any) => (w: K.LstmLayer[]) => K.sum(K.mul(run(w, x).y, r));
    expectClose(K.grad(f(K.rnnForward))(w), K.grad(f(plain))(w));
  });
  it('with an embedding: ids in, the same values and gradients as gathering the rows first', () => {
    for (const V of [4, 40]) { // V < T*B: projection per vocabulary entry; V >= T*B: per position
      const embed = randT(V, X);
      const ids = K.tensor(Int32Array.from({ length: T * B }, (_, i) => (i * 5 + 1) % V), [T, B], { dtype: 'int32' });
      const viaIds = (q: any) => K.rnnForward(q.w, ids, h0, c0, { embed: q.embed });
      const viaRows = (q: any) => K.rnnForward(q.w, K.gather(q.embed, ids), h0, c0);
      const q = { w, embed };
      expectClose(viaIds(q), viaRows(q));
      const f = (run: any) => (q: any) => K.sum(K.mul(run(q).y, r));
      expectClose(K.grad(f(viaIds))(q), K.grad(f(viaRows))(q));
    }
    expect(() => K.rnnForward(w, x, null, null, { embed: randT(4, X) })).toThrow(/knet rnnForward: x \(ids\) must be int32, got float32 \[5,3,4\]/);
  });
  it('gradcheck', () => {
    const small = K.rnnInit(2, 3, { layers: 2 });
    const xs = randT(3, 2, 2), rr = randT(3, 2, 3);
    const res = K.gradcheckWith({ samples: 6, atol: 1e-2 })((q: any) => K.sum(K.mul(K.rnnForward(q.w, q.x).y, rr)), { w: small, x: xs });
    expect(res.ok, JSON.stringify(res.worst)).toBe(true);
  });
  it('rnnInit: the seed layout, Xavier weights, forget bias 1', () => {
    const p = K.rnnInit(7, 5, { layers: 3 });
    expect(p.map((l) => [[...l.w.shape], [...l.b.shape]])).toEqual([[[12, 20], [1, 20]], [[10, 20], [1, 20]], [[10, 20], [1, 20]]]);
    expect(Array.from(p[0].b.dataSync())).toEqual([...Array(5).fill(1), ...Array(15).fill(0)]);
    const bound = Math.sqrt(6 / (7 + 5));
    expect(Math.max(...Array.from(p[0].w.dataSync()).slice(0, 7 * 20).map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(() => K.rnnInit(0, 5)).toThrow(/knet rnnInit: inputSize must be a positive integer, got 0/);
  });
  it('bad arguments', () => {
    expect(() => K.rnnForward(w, randT(B, X))).toThrow(/knet rnnForward: x must be \[T, B, X\] \(time, batch, features\), got float32 \[3,4\]/);
    expect(() => K.rnnForward(w, randT(T, B, X + 1))).toThrow(/knet rnnForward: layer 0's w is float32 \[10,24\]; with input size 5 and hidden size 6 it must be \[11,24\]/);
    expect(() => K.rnnForward(w, x, [h0[0]])).toThrow(/knet rnnForward: h0 must hold one \[B, H\] = \[3,6\] tensor per layer \(2\)/);
    expect(() => K.rnnForward(w, x, [randT(2, H), h0[1]])).toThrow(/knet rnnForward: shapes do not fit an LSTM layer with batch B=2/);
    expect(() => K.rnnForward(w, K.zeros(0, B, X))).toThrow(/knet rnnForward: the sequence has no steps/);
    expect(() => K.rnnForward({ w: w[0].w } as any, x)).toThrow(/knet rnnForward: w must be the array of \{ w, b \} layers/);
  });
  it('leaves no memory behind', () => {
    const q = { w, x, h0, c0 };
    const before = K.memory().cpu!.live;
    for (let i = 0; i < 3; i++) {
      for (const g of leaves(K.grad(lossOf(K.rnnForward))(q))) g.dispose();
      K.tidy(() => { K.rnnForward(w, x, h0, c0); });
    }
    expect(K.memory().cpu!.live).toBe(before);
  });
});
