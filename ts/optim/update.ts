// update(w, dw, opts) and optimizers(w, otype, options): Knet's update! and optimizers.
//
// w, dw and opts share one structure: a tensor, or arrays and plain objects nested to any
// depth (the structures grad() takes and returns); opts holds an optimizer for each
// tensor of w (non-tensor leaves of w are ignored, and optimizers() puts null there).
//
// Ownership: update() CONSUMES the gradient. After applying every step it disposes the
// gradient tensors of dw: they come from grad(), and nothing else needs them, so
// `for (...) update(w, lossgrad(w, x, y), opts)` runs in flat memory. Read or copy a
// gradient before calling update() if it is still wanted. When update() throws, nothing
// is updated and nothing is disposed: the whole structure is checked first.
//
// As in Knet, a null gradient (for a tensor or a whole subtree) means "no gradient" and
// leaves those parameters and their optimizer state untouched.

import { fmtShape, Tensor } from '../tensor.js';
import type { Storage } from '../device/device.js';
import { Optimizer, Sgd } from './optimizers.js';

interface Entry { path: string; w: Tensor; g: Tensor; opt: Optimizer }

function isPlain(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype;
}

function hasTensor(v: unknown): boolean {
  if (v instanceof Tensor) return true;
  if (Array.isArray(v)) return v.some(hasTensor);
  if (isPlain(v)) return Object.values(v).some(hasTensor);
  return false;
}

function what(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (v instanceof Tensor) return v.disposed ? `a disposed tensor of shape ${fmtShape(v.shape)}` : `a ${v.dtype} tensor of shape ${fmtShape(v.shape)}`;
  if (v instanceof Optimizer) return `a ${v.name}`;
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (isPlain(v)) return `an object with keys {${Object.keys(v).join(', ')}}`;
  return typeof v === 'object' ? `a ${(v as object).constructor?.name ?? 'object'}` : `a ${typeof v}`;
}

function fail(msg: string): never { throw new Error(`knet update: ${msg}`); }

const HINT = 'make one optimizer per parameter with optimizers(w, Adam, { lr: 0.001 })';

/** Walks w, dw and opts together, collecting one entry per parameter to update. */
function plan(w: unknown, g: unknown, o: unknown, path: string, shared: boolean, out: Entry[]): void {
  if (w instanceof Tensor) {
    if (!(o instanceof Optimizer)) {
      fail(`the optimizer for ${path} is ${what(o)}; expected an optimizer such as new Adam() (${HINT}).`);
    }
    if (g === null) return;
    if (!(g instanceof Tensor)) {
      fail(`the gradient for ${path} is ${what(g)}, but ${path} is ${what(w)}; the gradient must have ` +
        `the parameters' structure (grad(f) returns it).`);
    }
    out.push({ path, w, g, opt: o });
    return;
  }
  const container = Array.isArray(w) || isPlain(w);
  if (!container || !hasTensor(w)) {
    // Nothing to update here; a gradient tensor here has no parameter.
    if (hasTensor(g)) fail(`the gradient for ${path} holds tensors, but the parameters there hold none (${what(w)}).`);
    return;
  }
  if (g === null) return;
  // One stateless optimizer (Sgd) may serve a whole structure; stateful ones are caught by
  // the duplicate check in update().
  if (Array.isArray(w)) {
    if (!Array.isArray(g) || g.length !== w.length) {
      fail(`the gradient for ${path} is ${what(g)}, but the parameters ${path} are ${what(w)}.`);
    }
    if (!(o instanceof Optimizer) && (!Array.isArray(o) || o.length !== w.length)) {
      fail(`the optimizers for ${path} are ${what(o)}, but the parameters ${path} are ${what(w)} (${HINT}).`);
    }
    for (let i = 0; i < w.length; i++) plan(w[i], g[i], sub(o, i, shared), `${path}[${i}]`, o instanceof Optimizer, out);
    return;
  }
  const wo = w as Record<string, unknown>;
  if (!isPlain(g)) fail(`the gradient for ${path} is ${what(g)}, but the parameters ${path} are ${what(w)}.`);
  for (const k of Object.keys(g)) {
    if (!(k in wo) && hasTensor(g[k])) fail(`the gradient has ${path}.${k}, which the parameters lack.`);
  }
  if (!(o instanceof Optimizer) && !isPlain(o)) {
    fail(`the optimizers for ${path} are ${what(o)}, but the parameters ${path} are ${what(w)} (${HINT}).`);
  }
  for (const k of Object.keys(wo)) plan(wo[k], g[k], sub(o, k, shared), `${path}.${k}`, o instanceof Optimizer, out);
}

/** The optimizer for a part of a structure: one stateless optimizer serves all of it. */
function sub(o: unknown, k: string | number, shared: boolean): unknown {
  return shared || o instanceof Optimizer ? o : (o as any)[k];
}

/** Checks one parameter, its gradient and its optimizer; throws naming the path. */
function check(e: Entry, params: Set<Storage>): void {
  const { path, w, g, opt } = e;
  if (w.disposed) fail(`the parameter ${path} (shape ${fmtShape(w.shape)}) was already disposed.`);
  if (g.disposed) {
    fail(`the gradient for ${path} (shape ${fmtShape(g.shape)}) was already disposed; update() disposes ` +
      `the gradients it applies, so compute a fresh one with grad() for every update.`);
  }
  if (w.dtype !== 'float32') fail(`the parameter ${path} is ${w.dtype}; optimizers update float32 tensors only.`);
  if (g.dtype !== 'float32') fail(`the gradient for ${path} is ${g.dtype}; it must be float32.`);
  if (g.shape.length !== w.shape.length || g.shape.some((d, i) => d !== w.shape[i])) {
    fail(`the gradient for ${path} has shape ${fmtShape(g.shape)}, but the parameter has shape ${fmtShape(w.shape)}.`);
  }
  if (g.device !== w.device) {
    const where = g.device.name === w.device.name ? `another '${g.device.name}' device instance` : `'${g.device.name}'`;
    fail(`the parameter ${path} lives on '${w.device.name}' but its gradient on ${where}; ` +
      `move one explicitly with x.to('${w.device.name}').`);
  }
  if (params.has(g.storage!)) {
    fail(`the gradient for ${path} shares storage with a parameter; update() disposes the gradient, ` +
      `so pass the output of grad(), not a parameter or a view of one.`);
  }
  try { opt.checkOptions(); } catch (err) {
    fail(`the optimizer for ${path}: ${(err as Error).message.replace(/^knet /, '')}`);
  }
  const problem = opt.stateProblem(w);
  if (problem) fail(`the ${opt.name} for ${path} cannot update it: ${problem}.`);
  for (const s of opt.states()) {
    if (s && s.storage === g.storage) fail(`the gradient for ${path} is the optimizer's own state.`);
  }
}

/**
 * Knet's update!: applies one optimizer step to every parameter tensor of w, in place,
 * with its gradient from dw and its optimizer from opts (same structure as w, e.g. from
 * optimizers(w, Adam)); opts may be a single optimizer when w is a single tensor, or a
 * single Sgd for any structure. Without opts, Sgd() (lr = 0.001), as in Knet.
 *
 * The gradient tensors of dw are CONSUMED: update() disposes them after applying them.
 * Everything is checked before anything is updated. Returns w.
 */
export function update<W>(w: W, dw: unknown, opts: unknown = new Sgd()): W {
  const entries: Entry[] = [];
  plan(w, dw, opts, 'w', false, entries);
  const params = new Set<Storage>();
  for (const e of entries) if (e.w.storage) params.add(e.w.storage);
  const owner = new Map<Optimizer, Entry>();
  for (const e of entries) {
    check(e, params);
    if (e.opt.stateNames.length === 0) continue;
    const prev = owner.get(e.opt);
    if (prev) {
      fail(`the same ${e.opt.name} instance is given for ${prev.path} and ${e.path}; it holds one ` +
        `parameter's state, so ${HINT.replace('Adam', e.opt.name)}.`);
    }
    owner.set(e.opt, e);
  }
  for (const e of entries) e.opt.allocState(e.w);
  for (const e of entries) {
    const [s1, s2] = e.opt.states();
    e.w.device.optimStep(e.opt.kind, e.w, e.g, s1, s2, e.opt.nextHyper());
  }
  for (const e of entries) e.g.dispose();
  return w;
}

/**
 * Knet's optimizers(model, otype; options...): one new otype(options) per tensor of w, in
 * w's structure (arrays and plain objects, nested); non-tensor leaves get null.
 */
export function optimizers<O>(w: unknown, otype: new (opts?: O) => Optimizer, options?: O): any {
  if (typeof otype !== 'function' || !(otype.prototype instanceof Optimizer)) {
    throw new Error(`knet optimizers: the second argument must be an optimizer class (Sgd, Momentum, ` +
      `Nesterov, Adagrad, Adadelta, Rmsprop or Adam), got ${what(otype)}` +
      (otype instanceof Optimizer ? ': pass the class itself, e.g. optimizers(w, Adam, { lr: 0.001 })' : ''));
  }
  let first: Optimizer | null = new otype(options); // checks the options even when w has no tensors
  const make = (v: unknown): unknown => {
    if (v instanceof Tensor) {
      const o = first ?? new otype(options);
      first = null;
      return o;
    }
    if (Array.isArray(v)) return v.map(make);
    if (isPlain(v)) {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v)) out[k] = make(v[k]);
      return out;
    }
    return null;
  };
  return make(w);
}
