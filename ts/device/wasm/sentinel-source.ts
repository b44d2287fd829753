// The source of the thread pool's sentinel (Node and Deno, node:worker_threads): a thread
// that never blocks, so it can see a pool worker die while the calling thread is blocked
// in an op waiting for that worker's part (the worker's own 'error' and 'exit' events are
// delivered to the calling thread, which cannot run them until the op returns).
//
// Each pool worker holds one end of a MessageChannel (in its workerData; it never uses
// it) and the sentinel the other. When the worker's thread ends, however it ends, its
// end of the channel is closed and the sentinel's end gets 'close'. Unless the worker had
// left on purpose (it clears its slot's READY when told to STOP; a retired slot's CLAIM is
// RETIRED), the sentinel
// then marks the worker's slot DIED and wakes whoever waits on the slot's DONE word; the
// calling thread sees DIED and ends its wait (threads.ts `wait`). Deno closes the channel
// when a worker exits or throws, but not when it is terminated.
//
// Browsers have no such signal (a MessagePort there has no 'close' event), so a page's
// pool has no sentinel: a worker's 'error' event marks it DIED once the page's main thread
// is free, and a part it had claimed is given up after the pool's busy timeout.

import { SLOT } from './worker-source.js';

/**
 * Int32 index, inside a worker's slot, of the DIED word: 0 while the worker lives, 1 once
 * the sentinel (or the calling thread, from a worker event) has seen it end. It lies in
 * the worker-written cache line, after SEEN; the slot's other words are worker-source.ts's.
 */
export const DIED = 24;

/** Sentinel source for node:worker_threads: a CommonJS script given { memory } as workerData. */
export function nodeSentinelSource(): string {
  return `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const S = ${JSON.stringify({ ...SLOT, DIED })};
const i32 = new Int32Array(workerData.memory.buffer);
parentPort.on('message', (m) => {
  if (!m || !m.watch) return;
  const at = m.watch.slot >> 2, port = m.watch.port;
  port.on('close', () => {
    // a worker that left its loop when told to (it clears READY then), or that the pool retired, left on purpose
    if (Atomics.load(i32, at + S.READY) === 0 || Atomics.load(i32, at + S.CLAIM) === S.RETIRED) return;
    Atomics.store(i32, at + S.DIED, 1);
    Atomics.notify(i32, at + S.DONE);
  });
  port.on('message', () => {}); // a listener starts the port, so that 'close' is delivered
});
parentPort.postMessage({ ready: true });
`;
}
