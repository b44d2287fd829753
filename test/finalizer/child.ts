// Child process for test/finalizer.test.ts, started with `node --expose-gc`: drops tensors
// without dispose() and checks that the FinalizationRegistry returns their storage to the
// pool after garbage collection, and that storage a scope or dispose() already released is
// not released again. Prints one JSON line of findings; the test asserts on it.
import * as K from '../../ts/index.js';
import type { Tensor } from '../../ts/index.js';
import { getDevice } from '../../ts/device/index.js';
import type { Storage } from '../../ts/device/device.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (typeof gc !== 'function') throw new Error('test/finalizer/child.ts needs `node --expose-gc`');

// Count releases per storage block: a second release, or one while references remain, is a
// double free (the pool would hand the same bytes to two tensors).
const cpu = getDevice('cpu');
const releases = new WeakMap<Storage, number>();
let doubleFrees = 0;
const release = cpu.release.bind(cpu);
cpu.release = (s: Storage) => {
  const n = (releases.get(s) ?? 0) + 1;
  releases.set(s, n);
  if (n > 1 || s.refs !== 0) doubleFrees++;
  release(s);
};
const released = (s: Storage) => releases.get(s) ?? 0;

/** Rounds of gc() and a macrotask (finalizers run from the event loop) until `done`. */
async function collect(done: () => boolean = () => false, rounds = 40): Promise<boolean> {
  for (let i = 0; i < rounds && !done(); i++) {
    gc!();
    await new Promise((r) => setTimeout(r, i < 10 ? 0 : 10));
  }
  return done();
}

// Each scenario makes tensors in its own function and returns only their storage records
// (which hold no reference to the Tensor objects), so the tensors are garbage on return.
const unscopedTensor = () => K.ones(1000).storage!;
const fromTidy = () => {
  let inner!: Storage;
  const out = K.tidy(() => { const a = K.ones(1000); inner = a.storage!; return K.add(a, 1); });
  return { inner, innerAfterTidy: released(inner), out: out.storage! };
};
const kept = () => {
  let k!: Storage;
  K.tidy(() => { const t = K.keep(K.ones(1000)); k = t.storage!; return K.sum(t).item(); });
  return k;
};
const scopeDisposed = () => {
  let a!: Storage, b!: Storage;
  const s = K.tidy(() => { const x = K.ones(1000); const y = K.exp(x); a = x.storage!; b = y.storage!; return K.sum(y); });
  return { a, b, afterTidy: [released(a), released(b)], sum: s.storage! };
};
const disposedByHand = () => {
  const t = K.tidy(() => K.ones(1000));
  const s = t.storage!;
  t.dispose();
  return { s, afterDispose: released(s) };
};
// A view outlives the tensor it was made from: dropping or disposing that tensor must not
// free the storage the view still reads (a disposed tensor the collector still dropped a
// reference for would free it early).
const viewOutlives = (disposeBase: boolean): Tensor => {
  const t = K.tidy(() => K.add(K.ones(6), 1));
  const v = K.reshape(t, [2, 3]);
  if (disposeBase) t.dispose();
  return v;
};
const gradient = () => {
  const g = K.grad((w: Tensor) => K.sum(K.square(w)))(K.ones(1000)) as Tensor;
  return g.storage!;
};

const out: Record<string, unknown> = {};
// warm up every op used, so lazily made state does not count as a leak
K.tidy(() => { K.sum(K.exp(K.add(K.reshape(K.ones(6), [2, 3]), 1))).item(); K.grad((w: Tensor) => K.sum(K.square(w)))(K.ones(4)); });
await collect(undefined, 5);
const base = K.memory().cpu!;

const s1 = unscopedTensor();
out.unscoped = { collected: await collect(() => released(s1) > 0), releases: released(s1) };

const t2 = fromTidy();
out.tidyResult = { collected: await collect(() => released(t2.out) > 0), releases: released(t2.out),
  innerAfterTidy: t2.innerAfterTidy, inner: released(t2.inner) };

const s3 = kept();
out.kept = { collected: await collect(() => released(s3) > 0), releases: released(s3) };

const t4 = scopeDisposed();
out.scopeDisposed = { afterTidy: t4.afterTidy, sumCollected: await collect(() => released(t4.sum) > 0) };
await collect(undefined, 10);
out.scopeDisposed = { ...out.scopeDisposed as object, afterGc: [released(t4.a), released(t4.b)] };

const t5 = disposedByHand();
await collect(undefined, 10);
out.disposedByHand = { afterDispose: t5.afterDispose, afterGc: released(t5.s), refs: t5.s.refs };

for (const disposeBase of [false, true]) {
  let v: Tensor | null = viewOutlives(disposeBase);
  const vs = v.storage!;
  await collect(undefined, 10);
  const seen = { releasedWhileViewLives: released(vs), refsWhileViewLives: vs.refs, values: v.toArray() };
  v = null;
  out[disposeBase ? 'viewOfDisposed' : 'viewOfDropped'] = { ...seen, collected: await collect(() => released(vs) > 0), releases: released(vs), refs: vs.refs };
}

const s7 = gradient();
out.gradient = { collected: await collect(() => released(s7) > 0), releases: released(s7) };

await collect(undefined, 10);
const end = K.memory().cpu!;
out.memory = { liveBefore: base.live, liveAfter: end.live, tensorsBefore: base.tensors, tensorsAfter: end.tensors };
out.doubleFrees = doubleFrees;
console.log(JSON.stringify(out));
