// The sources of the thread pool's sentinel: a thread that never blocks, so it can see a
// pool worker die while the calling thread is blocked (or spinning, on a page's main
// thread) in an op waiting for that worker's part (the worker's own 'error' and 'exit'
// events are delivered to the calling thread, which cannot run them until the op returns).
//
// In Node and Deno (node:worker_threads), each pool worker holds one end of a
// MessageChannel (in its workerData; it never uses it) and the sentinel the other. When
// the worker's thread ends, however it ends, its end of the channel is closed and the
// sentinel's end gets 'close'. Unless the worker had left on purpose (it clears its slot's
// READY when told to STOP; a retired slot's CLAIM is RETIRED), the sentinel then marks the
// worker's slot DIED and wakes whoever waits on the slot's DONE word; the calling thread
// sees DIED and ends its wait (threads.ts `wait`). Deno closes the channel when a worker
// exits or throws, but not when it is terminated; terminate() there emits 'exit' at once,
// on the calling thread, and the Web Lock the worker holds makes its thread stop
// (worker-source.ts).
//
// Browsers have no such signal (a MessagePort there has no 'close' event), so a page's
// sentinel (a module worker) uses Web Locks instead: each pool worker takes a lock of its
// own before it says it is ready and holds it for its whole life; the sentinel then asks
// for the same lock, which it is granted only when the worker's thread ends (an agent's
// locks are released when it goes away), and marks the slot DIED as above. Where a page
// has no `navigator.locks`, a worker's 'error' event marks it DIED once the page's main
// thread is free, and a part it had claimed is given up after the pool's busy timeout.

import { SLOT } from './worker-source.js';

/**
 * Int32 index, inside a worker's slot, of the DIED word: 0 while the worker lives, 1 once
 * the sentinel (or the calling thread, from a worker event) has seen it end. It lies in
 * the worker-written cache line, after SEEN; the slot's other words are worker-source.ts's.
 */
export const DIED = 24;

/**
 * Int32 index of the ENDED word: set to 1 by the sentinel when the worker's thread has
 * ended, however it ended (DIED is set only when it was not on purpose). The pool reads it
 * to know that a worker it stopped while it ran a part writes no more (threads.ts `settled`).
 */
export const ENDED = 25;

/**
 * What both sentinels run when a worker's thread has ended: the slot constants, and
 * died(i32, at), which marks the slot at int32 index `at` ENDED, and DIED with its waiter
 * woken unless the worker left on purpose.
 */
const core = `
'use strict';
const S = ${JSON.stringify({ ...SLOT, DIED, ENDED })};
function died(i32, at) {
  Atomics.store(i32, at + S.ENDED, 1);
  // a worker that left its loop when told to (it clears READY then), or that the pool retired, left on purpose
  if (Atomics.load(i32, at + S.READY) === 0 || Atomics.load(i32, at + S.CLAIM) === S.RETIRED) return;
  Atomics.store(i32, at + S.DIED, 1);
  Atomics.notify(i32, at + S.DONE);
}
`;

/** Sentinel source for node:worker_threads: a CommonJS script given { memory } as workerData. */
export function nodeSentinelSource(): string {
  return `${core}
const { parentPort, workerData } = require('node:worker_threads');
const i32 = new Int32Array(workerData.memory.buffer);
parentPort.on('message', (m) => {
  if (!m || !m.watch) return;
  const at = m.watch.slot >> 2, port = m.watch.port;
  port.on('close', () => died(i32, at));
  port.on('message', () => {}); // a listener starts the port, so that 'close' is delivered
});
parentPort.postMessage({ ready: true });
`;
}

/**
 * Sentinel source for a browser module worker: its first message is { memory }; each
 * later one, { watch: { slot, lock } }, names a worker's slot and the Web Lock it holds.
 */
export function webSentinelSource(): string {
  return `${core}
let i32 = null;
self.onmessage = (e) => {
  const m = e.data;
  if (m && m.memory) { i32 = new Int32Array(m.memory.buffer); self.postMessage({ ready: true }); return; }
  if (!m || !m.watch || !i32) return;
  const at = m.watch.slot >> 2;
  navigator.locks.request(m.watch.lock, () => died(i32, at)); // granted once the worker that holds the lock is gone
};
`;
}
