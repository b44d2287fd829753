// Knet's optimizers (Knet.jl src/update.jl): each instance holds the options and the state
// of ONE parameter; optimizers(w, Adam, {...}) makes one per tensor of a model.
//
// Formulas, with g the gradient after clipping (gclip > 0 and ||g|| > gclip: g *= gclip/||g||,
// ||g|| the 2-norm of the whole parameter's gradient), applied in place by one fused kernel
// (assembly/optim.ts):
//   Sgd(lr=0.001)                    w -= lr*g
//   Momentum(lr=0.001, gamma=0.9)    velocity = gamma*velocity + lr*g;  w -= velocity
//   Nesterov(lr=0.001, gamma=0.9)    v1 = gamma*velocity;  w -= v1;  velocity = v1 - lr*g;
//                                    w += (1+gamma)*velocity         (Knet's order of axpy!s)
//   Adagrad(lr=0.1, eps=1e-6)        G += g.^2;  w -= lr * g ./ sqrt(G .+ eps)
//   Adadelta(lr=0.01, rho=0.9, eps=1e-6)
//                                    G = rho*G + (1-rho)*g.^2;
//                                    d = g .* sqrt(delta .+ eps) ./ sqrt(G .+ eps);
//                                    delta = rho*delta + (1-rho)*d.^2;  w -= lr*d
//   Rmsprop(lr=0.001, rho=0.9, eps=1e-6)
//                                    G = rho*G + (1-rho)*g.^2;  w -= lr * g ./ sqrt(G .+ eps)
//   Adam(lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8)
//                                    t += 1;  fstm = beta1*fstm + (1-beta1)*g;
//                                    scndm = beta2*scndm + (1-beta2)*g.^2;
//                                    w -= lr * (fstm/(1-beta1^t)) ./ (sqrt(scndm/(1-beta2^t)) .+ eps)
// Every optimizer also takes gclip (default 0: no clipping).
//
// State (velocity, G, delta, fstm, scndm) is float32 tensors shaped like the parameter,
// allocated as zeros on the parameter's device at the first update, and held by the
// instance: keep() takes them out of any enclosing tidy()/grad scope. opt.dispose()
// frees them (the next update starts afresh). Options are plain fields and may be
// changed between steps (e.g. opt.lr *= 0.5 for a schedule).

import { full } from '../create.js';
import { OptimKind } from '../device/device.js';
import { keep } from '../scope.js';
import { fmtShape, type Tensor } from '../tensor.js';

type Defaults = Record<string, number>;

/** Checks option names and values, then copies them (or the defaults) onto the instance. */
function setOptions(self: any, name: string, defaults: Defaults, opts: unknown): void {
  const known = () => Object.entries(defaults).map(([k, v]) => `${k}=${v}`).join(', ');
  if (opts === undefined || opts === null) opts = {};
  if (typeof opts !== 'object' || Array.isArray(opts)) {
    throw new Error(`knet ${name}: options must be an object such as { lr: ${defaults.lr} }, got ` +
      `${Array.isArray(opts) ? 'an array' : typeof opts}. ${name} takes ${known()}.`);
  }
  for (const k of Object.keys(opts as object)) {
    if (!(k in defaults)) {
      throw new Error(`knet ${name}: unknown option '${k}'; ${name} takes ${known()} (Knet's names and defaults).`);
    }
  }
  for (const [k, d] of Object.entries(defaults)) {
    const v = (opts as Record<string, unknown>)[k];
    self[k] = v === undefined ? d : v;
  }
  self.checkOptions();
}

function badOption(o: Optimizer, k: string, why: string): never {
  throw new Error(`knet ${o.name}: option ${k} = ${String((o as any)[k])} ${why}`);
}

/** A parameter's optimizer: options, state, and the kernel kind that applies a step. */
export abstract class Optimizer {
  /** Learning rate. */
  lr = 0;
  /** Gradient clipping: when > 0 and ||g|| > gclip, g is scaled to norm gclip. 0: none. */
  gclip = 0;
  /** The name used in messages (the class name). */
  abstract readonly name: string;
  /** @internal the kernel that applies a step */
  abstract readonly kind: OptimKind;
  /** @internal names of the state tensor fields, in the kernel's order (s1, s2) */
  abstract readonly stateNames: readonly string[];

  /** @internal the option names and defaults */
  protected abstract defaults(): Defaults;

  /** @internal throws when an option has a bad value (called at construction and on every update) */
  checkOptions(): void {
    const self = this as any;
    for (const k in this.defaults()) {
      const v = self[k];
      if (typeof v !== 'number' || !Number.isFinite(v)) badOption(this, k, 'must be a finite number');
    }
    if (this.gclip < 0) badOption(this, 'gclip', 'must be >= 0 (0 turns clipping off)');
    if ('eps' in self && self.eps < 0) badOption(this, 'eps', 'must be >= 0');
    if ('gamma' in self && self.gamma < 0) badOption(this, 'gamma', 'must be >= 0');
    if ('rho' in self && (self.rho < 0 || self.rho > 1)) badOption(this, 'rho', 'must be in [0, 1]');
    if ('beta1' in self && (self.beta1 < 0 || self.beta1 >= 1)) badOption(this, 'beta1', 'must be in [0, 1)');
    if ('beta2' in self && (self.beta2 < 0 || self.beta2 >= 1)) badOption(this, 'beta2', 'must be in [0, 1)');
  }

  /** @internal the state tensors (null until the first update, and for kinds without) */
  states(): [Tensor | null, Tensor | null] {
    const s = this.stateNames.map((k) => (this as any)[k] as Tensor | null);
    return [s[0] ?? null, s[1] ?? null];
  }

  /** @internal why this instance's state cannot serve parameter w, or null when it can */
  stateProblem(w: Tensor): string | null {
    for (const k of this.stateNames) {
      const s = (this as any)[k] as Tensor | null;
      if (!s) continue;
      if (s.disposed) return `its state '${k}' was disposed (call opt.dispose() to start afresh instead)`;
      if (s.shape.length !== w.shape.length || s.shape.some((d, i) => d !== w.shape[i])) {
        return `it holds state for a parameter of shape ${fmtShape(s.shape)}, not ${fmtShape(w.shape)} ` +
          `(each parameter needs its own optimizer: make them with optimizers(w, ${this.name}, {...}))`;
      }
      if (s.device !== w.device) {
        return `its state lives on '${s.device.name}' but the parameter on '${w.device.name}'`;
      }
    }
    return null;
  }

  /** @internal allocates missing state as zeros shaped like w, on w's device, outside every scope */
  allocState(w: Tensor): void {
    for (const k of this.stateNames) {
      if (!(this as any)[k]) (this as any)[k] = keep(full(w.shape, 0, { device: w.device }));
    }
  }

  /** @internal advances the step count and returns [lr, gclip, a, b, eps, c1, c2] for the kernel */
  abstract nextHyper(): number[];

  /** Frees the state tensors; the next update starts from zero state (and t = 0). */
  dispose(): void {
    for (const k of this.stateNames) {
      (this as any)[k]?.dispose();
      (this as any)[k] = null;
    }
  }

  toString(): string {
    const opts = Object.keys(this.defaults()).map((k) => `${k}=${(this as any)[k]}`).join(', ');
    return `${this.name}(${opts})`;
  }
}

export interface SgdOptions { lr?: number; gclip?: number }
export interface MomentumOptions { lr?: number; gclip?: number; gamma?: number }
export interface NesterovOptions { lr?: number; gclip?: number; gamma?: number }
export interface AdagradOptions { lr?: number; gclip?: number; eps?: number }
export interface AdadeltaOptions { lr?: number; gclip?: number; rho?: number; eps?: number }
export interface RmspropOptions { lr?: number; gclip?: number; rho?: number; eps?: number }
export interface AdamOptions { lr?: number; gclip?: number; beta1?: number; beta2?: number; eps?: number }

/** Stochastic gradient descent: w -= lr*g. Stateless, so one instance may serve many parameters. */
export class Sgd extends Optimizer {
  readonly name = 'Sgd';
  readonly kind = OptimKind.sgd;
  readonly stateNames = [] as const;
  protected defaults(): Defaults { return { lr: 0.001, gclip: 0 }; }
  constructor(opts: SgdOptions = {}) { super(); setOptions(this, 'Sgd', this.defaults(), opts); }
  nextHyper(): number[] { return [this.lr, this.gclip, 0, 0, 0, 0, 0]; }
}

/** Momentum: velocity = gamma*velocity + lr*g; w -= velocity. */
export class Momentum extends Optimizer {
  readonly name = 'Momentum';
  readonly kind = OptimKind.momentum;
  readonly stateNames = ['velocity'] as const;
  gamma = 0.9;
  velocity: Tensor | null = null;
  protected defaults(): Defaults { return { lr: 0.001, gclip: 0, gamma: 0.9 }; }
  constructor(opts: MomentumOptions = {}) { super(); setOptions(this, 'Momentum', this.defaults(), opts); }
  nextHyper(): number[] { return [this.lr, this.gclip, this.gamma, 0, 0, 0, 0]; }
}

/** Nesterov momentum as in Knet (Bengio et al. 2012, eq. 7):
 *  v1 = gamma*velocity; w -= v1; velocity = v1 - lr*g; w += (1+gamma)*velocity. */
export class Nesterov extends Optimizer {
  readonly name = 'Nesterov';
  readonly kind = OptimKind.nesterov;
  readonly stateNames = ['velocity'] as const;
  gamma = 0.9;
  velocity: Tensor | null = null;
  protected defaults(): Defaults { return { lr: 0.001, gclip: 0, gamma: 0.9 }; }
  constructor(opts: NesterovOptions = {}) { super(); setOptions(this, 'Nesterov', this.defaults(), opts); }
  nextHyper(): number[] { return [this.lr, this.gclip, this.gamma, 0, 0, 0, 0]; }
}

/** Adagrad: G += g.^2; w -= lr * g ./ sqrt(G .+ eps). */
export class Adagrad extends Optimizer {
  readonly name = 'Adagrad';
  readonly kind = OptimKind.adagrad;
  readonly stateNames = ['G'] as const;
  eps = 1e-6;
  G: Tensor | null = null;
  protected defaults(): Defaults { return { lr: 0.1, gclip: 0, eps: 1e-6 }; }
  constructor(opts: AdagradOptions = {}) { super(); setOptions(this, 'Adagrad', this.defaults(), opts); }
  nextHyper(): number[] { return [this.lr, this.gclip, 0, 0, this.eps, 0, 0]; }
}

/** Adadelta: G = rho*G + (1-rho)*g.^2; d = g .* sqrt(delta .+ eps) ./ sqrt(G .+ eps);
 *  delta = rho*delta + (1-rho)*d.^2; w -= lr*d. */
export class Adadelta extends Optimizer {
  readonly name = 'Adadelta';
  readonly kind = OptimKind.adadelta;
  readonly stateNames = ['G', 'delta'] as const;
  rho = 0.9;
  eps = 1e-6;
  G: Tensor | null = null;
  delta: Tensor | null = null;
  protected defaults(): Defaults { return { lr: 0.01, gclip: 0, rho: 0.9, eps: 1e-6 }; }
  constructor(opts: AdadeltaOptions = {}) { super(); setOptions(this, 'Adadelta', this.defaults(), opts); }
  nextHyper(): number[] { return [this.lr, this.gclip, this.rho, 0, this.eps, 0, 0]; }
}

/** Rmsprop: G = rho*G + (1-rho)*g.^2; w -= lr * g ./ sqrt(G .+ eps). */
export class Rmsprop extends Optimizer {
  readonly name = 'Rmsprop';
  readonly kind = OptimKind.rmsprop;
  readonly stateNames = ['G'] as const;
  rho = 0.9;
  eps = 1e-6;
  G: Tensor | null = null;
  protected defaults(): Defaults { return { lr: 0.001, gclip: 0, rho: 0.9, eps: 1e-6 }; }
  constructor(opts: RmspropOptions = {}) { super(); setOptions(this, 'Rmsprop', this.defaults(), opts); }
  nextHyper(): number[] { return [this.lr, this.gclip, this.rho, 0, this.eps, 0, 0]; }
}

/** Adam with bias correction: t += 1; fstm = beta1*fstm + (1-beta1)*g;
 *  scndm = beta2*scndm + (1-beta2)*g.^2;
 *  w -= lr * (fstm/(1-beta1^t)) ./ (sqrt(scndm/(1-beta2^t)) .+ eps). */
export class Adam extends Optimizer {
  readonly name = 'Adam';
  readonly kind = OptimKind.adam;
  readonly stateNames = ['fstm', 'scndm'] as const;
  beta1 = 0.9;
  beta2 = 0.999;
  eps = 1e-8;
  /** Updates applied so far (for the bias correction). */
  t = 0;
  fstm: Tensor | null = null;
  scndm: Tensor | null = null;
  protected defaults(): Defaults { return { lr: 0.001, gclip: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8 }; }
  constructor(opts: AdamOptions = {}) { super(); setOptions(this, 'Adam', this.defaults(), opts); }
  nextHyper(): number[] {
    this.t++;
    const c1 = 1 / (1 - this.beta1 ** this.t), c2 = 1 / (1 - this.beta2 ** this.t);
    return [this.lr, this.gclip, this.beta1, this.beta2, this.eps, c1, c2];
  }
  dispose(): void { super.dispose(); this.t = 0; }
}
