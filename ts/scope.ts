// Ownership scopes: every tensor made while a scope is open belongs to it, and closing
// the scope disposes what the caller does not get back. tidy() and grad() use this.

import type { Tensor } from './tensor.js';

// A scope is an array (every op adds to one: a push is cheaper than a Set's add); a
// tensor is in at most one scope, added once, when it is made or handed up.
type Scope = Tensor[];
const scopes: Scope[] = [];

/** Puts a new tensor in the innermost open scope; false when no scope is open. */
export function track(t: Tensor): boolean {
  if (!scopes.length) return false;
  scopes[scopes.length - 1].push(t);
  return true;
}

export function openScope(): Scope {
  const s: Scope = [];
  scopes.push(s);
  return s;
}

/** Closes the innermost scope: tensors in `keep` move to the parent scope (if any);
 *  the rest are disposed, or handed to the parent scope when `handUp` is set. */
export function closeScope(s: Scope, keep: Set<Tensor>, handUp = false): void {
  if (scopes[scopes.length - 1] !== s) throw new Error('knet: scopes closed out of order (is tidy() given an async function?)');
  scopes.pop();
  const parent = scopes[scopes.length - 1];
  for (const t of s) {
    if (keep.has(t) || handUp) {
      if (parent) parent.push(t);
      else t.unscoped();
    } else t.dispose();
  }
}

/** Collects every tensor inside a value (arrays, plain objects, nested). */
export function tensorsIn(v: unknown, into = new Set<Tensor>()): Set<Tensor> {
  if (v && typeof v === 'object') {
    if ((v as any).__knetTensor) into.add(v as Tensor);
    else if (Array.isArray(v)) for (const x of v) tensorsIn(x, into);
    else if (Object.getPrototypeOf(v) === Object.prototype) for (const x of Object.values(v)) tensorsIn(x, into);
  }
  return into;
}

/**
 * Runs fn and disposes every tensor it made except those in its result. fn must be
 * synchronous (a Promise would outlive the scope).
 */
export function tidy<T>(fn: () => T): T {
  const s = openScope();
  let result: T;
  try {
    result = fn();
  } catch (e) {
    closeScope(s, new Set());
    throw e;
  }
  if (result instanceof Promise) {
    closeScope(s, new Set());
    throw new Error('knet tidy: the function returned a Promise; tidy() only scopes synchronous work. Await outside tidy().');
  }
  closeScope(s, tensorsIn(result));
  return result;
}

/** Takes tensors out of every open scope, so tidy() and grad() leave them alive. */
export function keep<T>(v: T): T {
  for (const t of tensorsIn(v)) {
    for (const s of scopes) {
      const i = s.lastIndexOf(t); // usually one of the last made
      if (i >= 0) s.splice(i, 1);
    }
    t.unscoped();
  }
  return v;
}
