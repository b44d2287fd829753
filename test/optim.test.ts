// Optimizers and update(): each step against a float64 reference of Knet's formula
// (src/update.jl), gradient clipping, convergence on a convex problem, optimizers() over
// nested structures, checked errors that leave everything untouched, and flat memory.
//
// The references (g after clipping: if gclip > 0 and ||g|| > gclip, g *= gclip/||g||):
//   Sgd       w -= lr*g
//   Momentum  v = gamma*v + lr*g;  w -= v
//   Nesterov  v1 = gamma*v;  w -= v1;  v = v1 - lr*g;  w += (1+gamma)*v
//   Adagrad   G += g^2;  w -= lr*g/sqrt(G+eps)
//   Adadelta  G = rho*G + (1-rho)*g^2;  d = g*sqrt(delta+eps)/sqrt(G+eps);
//             delta = rho*delta + (1-rho)*d^2;  w -= lr*d
//   Rmsprop   G = rho*G + (1-rho)*g^2;  w -= lr*g/sqrt(G+eps)
//   Adam      t += 1;  m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2;
//             w -= lr*(m/(1-b1^t))/(sqrt(v/(1-b2^t)) + eps)
import { setFlagsFromString } from 'node:v8';
import { beforeAll, describe, expect, it } from 'vitest';
import * as K from '../ts/index.js';
import type { Tensor } from '../ts/index.js';
import { empty } from '../ts/tensor.js';
import { WasmDevice } from '../ts/device/wasm/device.js';
import { loadKernels } from '../ts/device/wasm/module.js';
import { OptimKind } from '../ts/device/device.js';
import { rng } from './helpers/ref.js';
import { raw, type Raw } from './helpers/raw.js';

const vals = (x: Tensor) => Array.from(x.dataSync());
const f32 = (a: ArrayLike<number>, shape?: number[]) => K.tensor(Float32Array.from(a), shape ?? [a.length]);

type Name = 'Sgd' | 'Momentum' | 'Nesterov' | 'Adagrad' | 'Adadelta' | 'Rmsprop' | 'Adam';
const classes = { Sgd: K.Sgd, Momentum: K.Momentum, Nesterov: K.Nesterov, Adagrad: K.Adagrad, Adadelta: K.Adadelta, Rmsprop: K.Rmsprop, Adam: K.Adam };
const KNET_DEFAULTS: Record<Name, Record<string, number>> = {
  Sgd: { lr: 0.001, gclip: 0 },
  Momentum: { lr: 0.001, gclip: 0, gamma: 0.9 },
  Nesterov: { lr: 0.001, gclip: 0, gamma: 0.9 },
  Adagrad: { lr: 0.1, gclip: 0, eps: 1e-6 },
  Adadelta: { lr: 0.01, gclip: 0, rho: 0.9, eps: 1e-6 },
  Rmsprop: { lr: 0.001, gclip: 0, rho: 0.9, eps: 1e-6 },
  Adam: { lr: 0.001, gclip: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8 },
};

/** Float64 reference of one optimizer on one parameter. */
class Ref {
  s1: Float64Array; s2: Float64Array; t = 0;
  constructor(readonly name: Name, readonly o: Record<string, number>, n: number) {
    this.s1 = new Float64Array(n); this.s2 = new Float64Array(n);
  }
  step(w: Float64Array, g0: ArrayLike<number>): void {
    const o = this.o, n = w.length;
    let scale = 1;
    if (o.gclip > 0) {
      let ss = 0; for (let i = 0; i < n; i++) ss += g0[i] * g0[i];
      const norm = Math.sqrt(ss);
      if (norm > o.gclip) scale = o.gclip / norm;
    }
    const g = Float64Array.from(g0, (x) => x * scale);
    const { s1, s2 } = this;
    if (this.name === 'Adam') this.t++;
    for (let i = 0; i < n; i++) {
      switch (this.name) {
        case 'Sgd': w[i] -= o.lr * g[i]; break;
        case 'Momentum': s1[i] = o.gamma * s1[i] + o.lr * g[i]; w[i] -= s1[i]; break;
        case 'Nesterov': { const v1 = o.gamma * s1[i]; w[i] -= v1; s1[i] = v1 - o.lr * g[i]; w[i] += (1 + o.gamma) * s1[i]; break; }
        case 'Adagrad': s1[i] += g[i] * g[i]; w[i] -= o.lr * g[i] / Math.sqrt(s1[i] + o.eps); break;
        case 'Adadelta': {
          s1[i] = o.rho * s1[i] + (1 - o.rho) * g[i] * g[i];
          const d = g[i] * Math.sqrt(s2[i] + o.eps) / Math.sqrt(s1[i] + o.eps);
          s2[i] = o.rho * s2[i] + (1 - o.rho) * d * d;
          w[i] -= o.lr * d;
          break;
        }
        case 'Rmsprop': s1[i] = o.rho * s1[i] + (1 - o.rho) * g[i] * g[i]; w[i] -= o.lr * g[i] / Math.sqrt(s1[i] + o.eps); break;
        case 'Adam': {
          s1[i] = o.beta1 * s1[i] + (1 - o.beta1) * g[i];
          s2[i] = o.beta2 * s2[i] + (1 - o.beta2) * g[i] * g[i];
          const mhat = s1[i] / (1 - o.beta1 ** this.t), vhat = s2[i] / (1 - o.beta2 ** this.t);
          w[i] -= o.lr * mhat / (Math.sqrt(vhat) + o.eps);
          break;
        }
      }
    }
  }
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= tol * (1 + Math.abs(want[i])))) {
      throw new Error(`${what}: element ${i}: got ${got[i]}, want ${want[i]} (error ${err})`);
    }
  }
}

// Options for the reference tests: Knet's defaults, larger rates so steps are visible, and clipping.
const CASES: [Name, Record<string, number>][] = [
  ['Sgd', {}], ['Sgd', { lr: 0.1, gclip: 0.5 }],
  ['Momentum', {}], ['Momentum', { lr: 0.1, gamma: 0.8, gclip: 1 }],
  ['Nesterov', {}], ['Nesterov', { lr: 0.1, gamma: 0.7, gclip: 1 }],
  ['Adagrad', {}], ['Adagrad', { lr: 0.5, eps: 1e-3, gclip: 0.8 }],
  ['Adadelta', {}], ['Adadelta', { lr: 1, rho: 0.5, eps: 1e-4, gclip: 1 }],
  ['Rmsprop', {}], ['Rmsprop', { lr: 0.05, rho: 0.8, eps: 1e-4, gclip: 1 }],
  ['Adam', {}], ['Adam', { lr: 0.05, beta1: 0.5, beta2: 0.9, eps: 1e-6, gclip: 0.7 }],
];
const STATE: Record<Name, string[]> = {
  Sgd: [], Momentum: ['velocity'], Nesterov: ['velocity'], Adagrad: ['G'], Adadelta: ['G', 'delta'], Rmsprop: ['G'], Adam: ['fstm', 'scndm'],
};

describe('optimizers: defaults and options', () => {
  it("use Knet's option names and defaults", () => {
    for (const [name, defaults] of Object.entries(KNET_DEFAULTS) as [Name, Record<string, number>][]) {
      const o: any = new classes[name]();
      for (const [k, v] of Object.entries(defaults)) expect(o[k], `${name}.${k}`).toBe(v);
      expect(String(o)).toContain(name);
    }
    const a = new K.Adam({ lr: 0.01, beta2: 0.99 });
    expect([a.lr, a.beta1, a.beta2, a.eps, a.gclip, a.t]).toEqual([0.01, 0.9, 0.99, 1e-8, 0, 0]);
  });

  it('reject unknown options, naming the optimizer and the known ones', () => {
    expect(() => new K.Adam({ lrr: 1 } as any)).toThrow(/Adam: unknown option 'lrr'.*lr=0\.001.*beta1=0\.9.*beta2=0\.999.*eps=1e-8/);
    expect(() => new K.Sgd({ gamma: 0.9 } as any)).toThrow(/Sgd: unknown option 'gamma'; Sgd takes lr=0\.001, gclip=0/);
    expect(() => new K.Momentum({ rho: 0.9 } as any)).toThrow(/Momentum.*'rho'.*gamma=0\.9/);
    expect(() => new K.Rmsprop({ lr: 'fast' } as any)).toThrow(/Rmsprop: option lr = fast must be a finite number/);
    expect(() => new K.Adam({ beta2: 1 })).toThrow(/Adam: option beta2 = 1 must be in \[0, 1\)/);
    expect(() => new K.Sgd({ gclip: -1 })).toThrow(/gclip/);
    expect(() => new K.Adagrad(3 as any)).toThrow(/Adagrad: options must be an object/);
    expect(() => K.optimizers([K.zeros(2)], K.Adam, { lrr: 1 } as any)).toThrow(/Adam: unknown option 'lrr'/);
    expect(() => K.optimizers([K.zeros(2)], new K.Adam() as any)).toThrow(/optimizers: the second argument must be an optimizer class.*pass the class itself/);
  });
});

describe('update against float64 references', () => {
  for (const [name, opts] of CASES) {
    it(`${name}(${JSON.stringify(opts)}): 5 steps, sizes 1, 7, 33`, () => {
      const r = rng(name.length * 7919 + Object.keys(opts).length);
      for (const n of [1, 7, 33]) {
        const opt: any = new classes[name](opts as any);
        const ref = new Ref(name, { ...KNET_DEFAULTS[name], ...opts }, n);
        const w0 = r.uniform([n]).data;
        const w = f32(w0);
        const wref = Float64Array.from(w0);
        for (let step = 0; step < 5; step++) {
          // gradients of norm up to ~3 so that clipping happens in the gclip cases
          const g0 = r.uniform([n], -1, 1).data.map((x) => Math.fround(x * (step % 2 ? 0.3 : 2)));
          const g = f32(g0);
          K.update(w, g, opt);
          ref.step(wref, g0);
          expect(g.disposed, 'update consumes the gradient').toBe(true);
          expectClose(vals(w), wref, 2e-6, `${name} n=${n} step ${step + 1} w`);
          STATE[name].forEach((k, j) => expectClose(vals(opt[k]), j ? ref.s2 : ref.s1, 2e-6, `${name} n=${n} step ${step + 1} ${k}`));
        }
        if (name === 'Adam') expect(opt.t).toBe(5);
        opt.dispose();
        w.dispose();
      }
    });
  }

  it('reads options at every step (a learning-rate schedule)', () => {
    const w = f32([1, 2, 3]), opt = new K.Sgd({ lr: 1 });
    K.update(w, f32([1, 1, 1]), opt);
    opt.lr = 0.5;
    K.update(w, f32([1, 1, 1]), opt);
    expect(vals(w)).toEqual([-0.5, 0.5, 1.5]);
    opt.lr = NaN;
    expect(() => K.update(w, f32([1, 1, 1]), opt)).toThrow(/optimizer for w: .*lr = NaN must be a finite number/);
    expect(vals(w)).toEqual([-0.5, 0.5, 1.5]);
  });
});

describe('the optimStep kernel on both builds', () => {
  for (const relaxed of [false, true]) {
    let R: Raw;
    beforeAll(async () => {
      if (relaxed) setFlagsFromString('--experimental-wasm-relaxed-simd');
      R = await raw(relaxed);
    });
    it(`${relaxed ? 'relaxed SIMD' : 'SIMD'}: every kind matches the reference, views 4-byte aligned`, () => {
      const kinds: [Name, OptimKind, Record<string, number>][] = [
        ['Sgd', OptimKind.sgd, { lr: 0.1, gclip: 0.9 }],
        ['Momentum', OptimKind.momentum, { lr: 0.1, gclip: 0, gamma: 0.9 }],
        ['Nesterov', OptimKind.nesterov, { lr: 0.1, gclip: 0, gamma: 0.9 }],
        ['Adagrad', OptimKind.adagrad, { lr: 0.1, gclip: 2, eps: 1e-6 }],
        ['Adadelta', OptimKind.adadelta, { lr: 1, gclip: 0, rho: 0.9, eps: 1e-6 }],
        ['Rmsprop', OptimKind.rmsprop, { lr: 0.01, gclip: 0, rho: 0.9, eps: 1e-6 }],
        ['Adam', OptimKind.adam, { lr: 0.01, gclip: 1.5, beta1: 0.9, beta2: 0.999, eps: 1e-8 }],
      ];
      const r = rng(relaxed ? 2 : 1);
      for (const [name, kind, o] of kinds) {
        for (const n of [1, 3, 4, 5, 31, 64]) {
          R.reset();
          // +1 element: pointers only 4-byte aligned, as views may be
          const w = R.alloc(n + 1) + 4, g = R.alloc(n + 1) + 4, s1 = R.alloc(n + 1) + 4, s2 = R.alloc(n + 1) + 4;
          const view = (p: number) => new Float32Array(R.mod.memory.buffer, p, n);
          const w0 = r.uniform([n]).data;
          view(w).set(w0); view(s1).fill(0); view(s2).fill(0);
          const ref = new Ref(name, o, n);
          const wref = Float64Array.from(w0);
          for (let t = 1; t <= 3; t++) {
            const g0 = r.uniform([n], -2, 2).data;
            view(g).set(g0);
            const c1 = 1 / (1 - (o.beta1 ?? 0) ** t), c2 = 1 / (1 - (o.beta2 ?? 0) ** t);
            const a = o.gamma ?? o.rho ?? o.beta1 ?? 0;
            R.k.optimStep(kind, w, g, s1, s2, n, o.lr, o.gclip, a, o.beta2 ?? 0, o.eps ?? 0, c1, c2);
            ref.step(wref, g0);
            expectClose(view(w), wref, 2e-6, `${name} n=${n} t=${t}`);
            expectClose(view(g), g0, 0, `${name} leaves g alone`);
          }
        }
      }
    });
  }
});

describe('gradient clipping (gclip)', () => {
  it('scales g to norm gclip when ||g|| > gclip, and not otherwise', () => {
    const g0 = [3, 4]; // norm 5
    const w = f32([0, 0]);
    K.update(w, f32(g0), new K.Sgd({ lr: 1, gclip: 1 }));
    expectClose(vals(w), [-0.6, -0.8], 1e-7, 'clipped');
    const v = f32([0, 0]);
    K.update(v, f32(g0), new K.Sgd({ lr: 1, gclip: 5 })); // ||g|| == gclip: unchanged
    expectClose(vals(v), [-3, -4], 1e-7, 'not clipped');
    const u = f32([0, 0]);
    K.update(u, f32(g0), new K.Sgd({ lr: 1, gclip: 0 }));
    expectClose(vals(u), [-3, -4], 1e-7, 'gclip 0');
  });

  it('clips each parameter by its own norm', () => {
    const w = [f32([0, 0]), f32([0])];
    K.update(w, [f32([30, 40]), f32([0.5])], new K.Sgd({ lr: 1, gclip: 1 }));
    expectClose(vals(w[0]), [-0.6, -0.8], 1e-7, 'w[0]');
    expectClose(vals(w[1]), [-0.5], 1e-7, 'w[1]');
  });

  it('applies to the moments too (Adam sees the clipped gradient)', () => {
    const opt = new K.Adam({ gclip: 1 });
    K.update(f32([0, 0, 0, 0, 0]), f32([0, 0, 0, 30, 40]), opt);
    expectClose(vals(opt.fstm!), [0, 0, 0, 0.1 * 0.6, 0.1 * 0.8], 1e-6, 'fstm');
  });
});

describe('training on a convex problem', () => {
  // minimise sum((w - c)^2) with grad(): each optimizer gets close to c
  const settings: [Name, Record<string, number>, number][] = [
    ['Sgd', { lr: 0.1 }, 100],
    ['Momentum', { lr: 0.02 }, 300],
    ['Nesterov', { lr: 0.02 }, 300],
    ['Adagrad', { lr: 0.5 }, 300],
    ['Adadelta', { lr: 1, eps: 1e-4 }, 600],
    ['Rmsprop', { lr: 0.01 }, 600],
    ['Adam', { lr: 0.05 }, 600],
  ];
  for (const [name, opts, steps] of settings) {
    it(`${name} reaches the minimum in ${steps} steps`, () => {
      const c = f32([1, -2, 3, 0.5, -0.25, 2, -1]);
      const w = K.zeros(7);
      const loss = (w: Tensor) => K.sum(K.square(K.sub(w, c)));
      const lossgrad = K.grad(loss);
      const opt = K.optimizers(w, classes[name] as any, opts);
      const initial = K.tidy(() => loss(w).item());
      for (let i = 0; i < steps; i++) K.update(w, lossgrad(w), opt);
      const final = K.tidy(() => loss(w).item());
      expect(final).toBeLessThan(initial * 1e-3);
      expectClose(vals(w), vals(c), 0.03, `${name} w`);
    });
  }
});

describe('optimizers() and structures', () => {
  it('makes one optimizer per tensor in nested arrays and objects; null elsewhere', () => {
    const w = { layer1: { w: K.randn(3, 2), b: K.zeros(3) }, layers: [K.randn(2, 3), 'relu', K.zeros(2)], n: 3 };
    const o = K.optimizers(w, K.Adam, { lr: 0.01 });
    expect(o.layer1.w).toBeInstanceOf(K.Adam);
    expect(o.layer1.b).toBeInstanceOf(K.Adam);
    expect(o.layers[0]).toBeInstanceOf(K.Adam);
    expect(o.layers[1]).toBeNull();
    expect(o.layers[2]).toBeInstanceOf(K.Adam);
    expect(o.n).toBeNull();
    expect(o.layer1.w).not.toBe(o.layer1.b);
    expect(o.layers[0].lr).toBe(0.01);
    expect(K.optimizers(K.zeros(2), K.Sgd)).toBeInstanceOf(K.Sgd);
    expect(K.optimizers('no tensors', K.Sgd)).toBeNull();

    const x = K.randn(2, 4);
    const predict = (w: any, x: Tensor) => K.add(K.matmul(w.layers[0], K.tanh(K.add(K.matmul(w.layer1.w, x), K.reshape(w.layer1.b, [3, 1])))), K.reshape(w.layers[2], [2, 1]));
    const loss = (w: any) => K.sum(K.square(predict(w, x)));
    const before = vals(w.layer1.w);
    const g = K.grad(loss)(w);
    const gb = vals(g.layer1.b);
    K.update(w, g, o);
    expect(vals(w.layer1.w)).not.toEqual(before);
    expect(o.layer1.b.fstm.shape).toEqual([3]);
    expect(o.layers[0].scndm.shape).toEqual([2, 3]);
    expectClose(vals(o.layer1.b.fstm), gb.map((v) => 0.1 * v), 1e-6, 'fstm of layer1.b');
    expect(g.layer1.w.disposed && g.layer1.b.disposed && g.layers[0].disposed && g.layers[2].disposed).toBe(true);
    expect(w.layers[1]).toBe('relu');
  });

  it('takes a single optimizer for a single tensor, Sgd() by default, one Sgd for any structure', () => {
    const w = f32([1, 2]);
    K.update(w, f32([10, 10]));                 // Knet's default: Sgd(lr = 0.001)
    expectClose(vals(w), [0.99, 1.99], 1e-7, 'default Sgd');
    K.update(w, f32([1, 1]), new K.Momentum({ lr: 0.5 }));
    expectClose(vals(w), [0.49, 1.49], 1e-7, 'single Momentum');
    const ws = { a: f32([1]), b: [f32([2]), f32([3])] };
    K.update(ws, { a: f32([1]), b: [f32([1]), f32([1])] }, new K.Sgd({ lr: 1 }));
    expect([vals(ws.a), vals(ws.b[0]), vals(ws.b[1])]).toEqual([[0], [1], [2]]);
    expect(K.update(ws, null, new K.Sgd())).toBe(ws);
  });

  it('skips null gradients (Knet: nothing), leaving the parameter and its state alone', () => {
    const w = [f32([1]), f32([2])];
    const o = K.optimizers(w, K.Adam, { lr: 0.1 });
    K.update(w, [f32([1]), null], o);
    expect(vals(w[1])).toEqual([2]);
    expect(o[1].t).toBe(0);
    expect(o[1].fstm).toBeNull();
    expect(o[0].t).toBe(1);
  });

  it('keeps optimizer state alive through tidy() and grad()', () => {
    const w = f32([1, 2, 3]);
    const opt = new K.Adam({ lr: 0.1 });
    K.tidy(() => { K.update(w, K.grad((w: Tensor) => K.sum(K.square(w)))(w), opt); });
    expect(opt.fstm!.disposed).toBe(false);
    expect(opt.scndm!.disposed).toBe(false);
    K.update(w, f32([1, 1, 1]), opt);
    expect(opt.t).toBe(2);
    opt.dispose();
    expect(opt.fstm).toBeNull();
    expect(opt.t).toBe(0);
  });
});

describe('bad input: a clear error, and nothing updated or disposed', () => {
  const snapshot = (w: any): number[][] => {
    const out: number[][] = [];
    const walk = (v: any) => {
      if (v instanceof K.Tensor) { if (!v.disposed) out.push(vals(v)); }
      else if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    walk(w);
    return out;
  };
  const liveTensors = (v: any): boolean => {
    if (v instanceof K.Tensor) return !v.disposed;
    if (Array.isArray(v)) return v.every(liveTensors);
    if (v && typeof v === 'object') return Object.values(v).every(liveTensors);
    return true;
  };
  const model = () => ({ layer0: f32([1, 2]), layer1: { w: f32([1, 2, 3, 4], [2, 2]), b: f32([5, 6, 7, 8]) }, out: [f32([9]), f32([10]), f32([11])] });
  const grads = () => ({ layer0: f32([1, 1]), layer1: { w: f32([1, 1, 1, 1], [2, 2]), b: f32([1, 1, 1, 1]) }, out: [f32([1]), f32([1]), f32([1])] });

  function expectUntouched(w: any, dw: any, opts: any, call: () => unknown, msg: RegExp): void {
    const before = snapshot(w);
    expect(call).toThrow(msg);
    expect(snapshot(w)).toEqual(before);
    expect(liveTensors(dw)).toBe(true);
    const walk = (o: any) => {
      if (o instanceof K.Optimizer) { expect((o as any).fstm ?? null).toBeNull(); expect((o as any).t ?? 0).toBe(0); }
      else if (Array.isArray(o)) o.forEach(walk);
      else if (o && typeof o === 'object') Object.values(o).forEach(walk);
    };
    walk(opts);
  }

  it('names the path and both shapes when a gradient shape differs', () => {
    const w = model(), dw = grads(), o = K.optimizers(w, K.Adam);
    dw.layer1.b = f32([1, 1, 1]);
    expectUntouched(w, dw, o, () => K.update(w, dw, o), /gradient for w\.layer1\.b has shape \[3\], but the parameter has shape \[4\]/);
    const dw2 = grads();
    dw2.layer1.w = f32([1, 1, 1, 1], [4, 1]);
    expectUntouched(w, dw2, o, () => K.update(w, dw2, o), /w\.layer1\.w has shape \[4,1\].*shape \[2,2\]/);
  });

  it('names the path when the structure differs', () => {
    const w = model(), o = K.optimizers(w, K.Adam);
    const short = grads(); short.out.pop();
    expectUntouched(w, short, o, () => K.update(w, short, o), /gradient for w\.out is an array of length 2, but the parameters w\.out are an array of length 3/);
    const missing: any = grads(); delete missing.layer1.b;
    expectUntouched(w, missing, o, () => K.update(w, missing, o), /gradient for w\.layer1\.b is missing/);
    const extra: any = grads(); extra.layer2 = f32([1]);
    expectUntouched(w, extra, o, () => K.update(w, extra, o), /gradient has w\.layer2, which the parameters lack/);
    const notTensor: any = grads(); notTensor.out[2] = [1];
    expectUntouched(w, notTensor, o, () => K.update(w, notTensor, o), /gradient for w\.out\[2\] is an array of length 1/);
    const dw = grads();
    const badOpts: any = K.optimizers(w, K.Adam); badOpts.out = badOpts.out.slice(0, 2);
    expectUntouched(w, dw, badOpts, () => K.update(w, dw, badOpts), /optimizers for w\.out are an array of length 2.*optimizers\(w, Adam/);
    const noOpt: any = K.optimizers(w, K.Adam); noOpt.layer1.b = null;
    expectUntouched(w, dw, noOpt, () => K.update(w, dw, noOpt), /optimizer for w\.layer1\.b is null/);
  });

  it('rejects one stateful optimizer for many parameters', () => {
    const w = model(), dw = grads(), adam = new K.Adam();
    expectUntouched(w, dw, adam, () => K.update(w, dw, adam), /same Adam instance is given for w\.layer0 and w\.layer1\.w.*optimizers\(w, Adam/);
    const v = f32([1, 2, 3]), mom = new K.Momentum();
    K.update(v, f32([1, 1, 1]), mom);
    const u = f32([1, 2]);
    expect(() => K.update(u, f32([1, 1]), mom)).toThrow(/Momentum for w cannot update it: it holds state for a parameter of shape \[3\], not \[2\]/);
    expect(vals(u)).toEqual([1, 2]);
  });

  it('rejects int32, disposed tensors, a parameter as its own gradient, and mixed devices', async () => {
    const w = model(), o = K.optimizers(w, K.Adam);
    const i32: any = grads(); i32.out[1] = K.tensor(Int32Array.of(1), [1]);
    expectUntouched(w, i32, o, () => K.update(w, i32, o), /gradient for w\.out\[1\] is int32; it must be float32/);
    const gone = grads(); gone.out[2].dispose();
    expectUntouched(w, { ...gone, out: gone.out.slice(0, 2) }, o, () => K.update(w, gone, o), /gradient for w\.out\[2\] \(shape \[1\]\) was already disposed/);
    const w2 = model(), dw2 = grads();
    w2.layer1.b.dispose();
    expectUntouched(w2, dw2, o, () => K.update(w2, dw2, o), /parameter w\.layer1\.b \(shape \[4\]\) was already disposed/);
    const wi = [K.tensor(Int32Array.of(1, 2), [2])];
    expect(() => K.update(wi, [f32([1, 1])], new K.Sgd())).toThrow(/parameter w\[0\] is int32/);
    const self = f32([1, 2]);
    expect(() => K.update(self, self, new K.Sgd())).toThrow(/gradient for w shares storage with a parameter/);
    expect(() => K.update([self], [K.reshape(self, [2, 1]).view([2])], new K.Sgd())).toThrow(/shares storage/);
    expect(vals(self)).toEqual([1, 2]);
    // a second device instance stands in for another device
    const other = new WasmDevice(await loadKernels());
    const w3 = model(), dw3 = grads();
    const dwf = { ...dw3, out: [dw3.out[0], dw3.out[1], empty([1], 'float32', other)] };
    expectUntouched(w3, dwf, o, () => K.update(w3, dwf, o), /parameter w\.out\[2\] lives on 'cpu' but its gradient on another 'cpu' device instance/);
  });
});

describe('memory', () => {
  it('is flat over 200 steps of grad + update (update consumes the gradient)', () => {
    K.setSeed(3);
    const w = [K.mul(K.randn(8, 5), 0.3), K.zeros(8, 1), K.mul(K.randn(3, 8), 0.3), K.zeros(3, 1)];
    const x = K.randn(5, 16);
    const y = K.tensor(Int32Array.from({ length: 16 }, (_, i) => i % 3), [16]);
    const predict = (w: Tensor[], x: Tensor) => K.add(K.matmul(w[2], K.relu(K.add(K.matmul(w[0], x), w[1]))), w[3]);
    const lossgrad = K.gradloss((w: Tensor[], x: Tensor, y: Tensor) => K.nll(predict(w, x), y));
    for (const otype of [K.Adam, K.Sgd, K.Adadelta] as const) {
      const opts = K.optimizers(w, otype as any, { lr: 0.01 });
      const step = () => { const [g, loss] = lossgrad(w, x, y); const l = loss.item(); loss.dispose(); K.update(w, g, opts); return l; };
      const first = step(); // allocates the optimizer state
      const live = K.memory().cpu!.live;
      let last = first;
      for (let i = 0; i < 200; i++) last = step();
      expect(K.memory().cpu!.live, otype.name).toBe(live);
      expect(last, otype.name).toBeLessThan(first);
    }
  });
});
