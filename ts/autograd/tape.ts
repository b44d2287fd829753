// Define-by-run reverse mode. While grad() runs f, every op whose inputs are on an
// active tape appends a Node with its vjp closure; nodes are appended in execution
// order, so walking the tape backwards is a topological order. The tape knows nothing
// about any particular op: each op passes its own vjp to record().
//
// Several tapes may be active at once (grad inside grad): an op records on every tape
// where one of its inputs lives, and vjps are written with ordinary ops, so a backward
// pass run under an outer tape is itself recorded there. That keeps higher-order
// gradients possible.

import type { Tensor } from '../tensor.js';

/**
 * Maps the incoming gradient to one gradient per input (null where none flows).
 * `needs[i]` is false for inputs off the tape, so a vjp may skip their work.
 */
export type Vjp = (g: Tensor, needs: readonly boolean[]) => (Tensor | null)[];

export class Node {
  constructor(
    readonly tape: Tape,
    readonly value: Tensor,
    readonly parents: (Node | null)[],
    readonly vjp: Vjp | null,
  ) {}
}

export class Tape {
  readonly nodes: Node[] = [];
}

export const activeTapes: Tape[] = [];

export function nodeOn(x: unknown, tape: Tape): Node | undefined {
  const nodes = (x as Tensor | undefined)?.nodes;
  if (!nodes) return undefined;
  for (const n of nodes) if (n.tape === tape) return n;
  return undefined;
}

/** Records `out = op(inputs)` on every active tape that one of the inputs is on. */
export function record(out: Tensor, inputs: readonly unknown[], vjp: Vjp): Tensor {
  for (const tape of activeTapes) {
    let parents: (Node | null)[] | null = null;
    for (let i = 0; i < inputs.length; i++) {
      const n = nodeOn(inputs[i], tape);
      if (n) (parents ??= new Array(inputs.length).fill(null))[i] = n;
    }
    if (parents) {
      const node = new Node(tape, out, parents, vjp);
      tape.nodes.push(node);
      (out.nodes ??= []).push(node);
    }
  }
  return out;
}

/** Marks t as a leaf (a parameter) on the tape. */
export function leaf(t: Tensor, tape: Tape): Node {
  const node = new Node(tape, t, [], null);
  tape.nodes.push(node);
  (t.nodes ??= []).push(node);
  return node;
}

/** True when some tape is recording (ops use it to skip work only gradients need). */
export function recording(): boolean { return activeTapes.length > 0; }
