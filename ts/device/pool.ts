// Size classes for device memory pools: four classes per power of two, so a block
// wastes at most a quarter of its size and repeated training steps reuse blocks.

export function sizeClass(bytes: number): number {
  if (bytes <= 64) return 64;
  // step: a quarter of the largest power of two below bytes. Every op calls this, so up
  // to 1 GiB it is integer arithmetic (clz32, shifts, a mask) rather than pow and ceil.
  if (bytes <= 2 ** 30) {
    const step = 1 << (29 - Math.clz32(bytes - 1));
    return (bytes + step - 1) & -step;
  }
  const step = 2 ** Math.floor(Math.log2(bytes - 1)) / 4;
  return Math.ceil(bytes / step) * step;
}

/**
 * Free lists by size class. By default a class hands out the block released last; given an
 * `order` (a number per block), it hands out the block with the lowest number instead (the
 * gpu pool: see webgpu/buffers.ts for why).
 */
export class FreeLists<H> {
  /** Per class; with an order, sorted by it, highest first, so that pop() gives the lowest. */
  private lists = new Map<number, H[]>();
  pooled = 0;
  constructor(private order?: (h: H) => number) {}
  take(cls: number): H | undefined {
    const l = this.lists.get(cls);
    const h = l?.pop();
    if (h !== undefined) this.pooled -= cls;
    return h;
  }
  put(cls: number, h: H): void {
    let l = this.lists.get(cls);
    if (!l) this.lists.set(cls, (l = []));
    if (this.order) {
      const key = this.order(h);
      let lo = 0, hi = l.length;
      while (lo < hi) { const m = (lo + hi) >> 1; if (this.order(l[m]) > key) lo = m + 1; else hi = m; }
      l.splice(lo, 0, h);
    } else l.push(h);
    this.pooled += cls;
  }
  /** Empties the pool, handing every block to `drop`. */
  drain(drop: (h: H, cls: number) => void): void {
    for (const [cls, l] of this.lists) for (const h of l) drop(h, cls);
    this.lists.clear();
    this.pooled = 0;
  }
}
