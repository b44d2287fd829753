// gradcheck, as in AutoGrad.jl: compares grad(f) with central differences at a sample
// of entries of every parameter and reports the worst relative error.

import { tidy } from '../scope.js';
import { Tensor } from '../tensor.js';
import { grad } from './grad.js';

export interface GradcheckOptions {
  /** Entries checked per parameter tensor (random; all when the tensor is smaller). */
  samples?: number;
  /** Step, scaled by max(1, |w_i|). */
  eps?: number;
  /** Pass threshold on the worst relative error. */
  rtol?: number;
  /** Absolute scale below which differences count as zero. */
  atol?: number;
}

export interface GradcheckResult {
  ok: boolean;
  maxError: number;
  worst: { path: string; index: number; analytic: number; numeric: number } | null;
  checked: number;
}

function leaves(v: any, path: string, out: [string, Tensor][]): [string, Tensor][] {
  if (v instanceof Tensor) out.push([path, v]);
  else if (Array.isArray(v)) v.forEach((x, i) => leaves(x, `${path}[${i}]`, out));
  else if (v && typeof v === 'object') for (const k of Object.keys(v)) leaves(v[k], `${path}.${k}`, out);
  return out;
}

const OPTIONS = ['samples', 'eps', 'rtol', 'atol'];

/** Unknown keys and bad values are errors: a misspelt `rtol` would silently keep the default. */
function checkOptions(opts: unknown): GradcheckOptions {
  if (opts === undefined) return {};
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new Error(`knet gradcheckWith: options must be an object such as { samples: 20, rtol: 1e-2 }, got ${opts === null ? 'null' : Array.isArray(opts) ? 'an array' : typeof opts}`);
  }
  for (const [k, v] of Object.entries(opts)) {
    if (!OPTIONS.includes(k)) throw new Error(`knet gradcheckWith: unknown option '${k}'; valid options: ${OPTIONS.join(', ')}`);
    const ok = k === 'samples' ? Number.isInteger(v) && v > 0 : typeof v === 'number' && v > 0 && Number.isFinite(v);
    if (v !== undefined && !ok) {
      throw new Error(`knet gradcheckWith: option '${k}' must be a ${k === 'samples' ? 'positive integer' : 'positive finite number'}, got ${typeof v === 'string' ? `'${v}'` : String(v)}`);
    }
  }
  return opts as GradcheckOptions;
}

export function gradcheckWith(opts?: GradcheckOptions) {
  const { samples = 10, eps = 1e-2, rtol = 2e-2, atol = 1e-3 } = checkOptions(opts);
  return (f: (...args: any[]) => Tensor, w: any, ...args: any[]): GradcheckResult => {
    const g = grad(f)(w, ...args);
    const ws = leaves(w, 'w', []), gs = leaves(g, 'w', []);
    const loss = () => tidy(() => f(w, ...args).item());
    // A private generator: the entries checked are reproducible and the global one is untouched.
    let seed = 12345;
    const next = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
    let maxError = 0, checked = 0;
    let worst: GradcheckResult['worst'] = null;
    ws.forEach(([path, t], k) => {
      const analytic = gs[k][1].dataSync();
      const idx = t.size <= samples ? [...Array(t.size).keys()]
        : Array.from({ length: samples }, () => Math.floor(next() * t.size));
      const values = t.dataSync() as Float32Array;
      for (const i of idx) {
        const v = values[i], h = eps * Math.max(1, Math.abs(v));
        values[i] = v + h; t.device.write(t, values);
        const fp = loss();
        values[i] = v - h; t.device.write(t, values);
        const fm = loss();
        values[i] = v; t.device.write(t, values);
        const numeric = (fp - fm) / (2 * h);
        const err = Math.abs(analytic[i] - numeric) / Math.max(Math.abs(analytic[i]), Math.abs(numeric), atol);
        checked++;
        if (!(err <= maxError)) { maxError = err; worst = { path, index: i, analytic: analytic[i], numeric }; }
      }
    });
    for (const [, t] of gs) t.dispose();
    return { ok: maxError <= rtol, maxError, worst, checked };
  };
}

/** gradcheck(f, w, ...args): checks grad(f) at w against central differences. */
export const gradcheck = (f: (...args: any[]) => Tensor, w: any, ...args: any[]) => gradcheckWith()(f, w, ...args);
