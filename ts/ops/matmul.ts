// Matrix product of 2-D tensors, with either operand transposed in place (no copy):
// the gradients use exactly these transposed forms, which the gemm kernel runs at
// full speed.

import { record } from '../autograd/tape.js';
import { empty, fmtShape, Tensor } from '../tensor.js';
import { arg, sameDevice } from './check.js';

/** op(a) * op(b), where op transposes when asked (TensorFlow.js's matMul order). */
export function matmul(a: Tensor, b: Tensor, transposeA = false, transposeB = false): Tensor {
  arg('matmul', a, 'a');
  arg('matmul', b, 'b');
  const dev = sameDevice('matmul', a, b);
  if (a.ndim !== 2 || b.ndim !== 2) {
    throw new Error(`knet matmul: both operands must be 2-D, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}; ` +
      `use mat(x) or reshape() first`);
  }
  const [M, Ka] = transposeA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [Kb, N] = transposeB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (Ka !== Kb) {
    const ta = transposeA ? 'ᵀ' : '', tb = transposeB ? 'ᵀ' : '';
    throw new Error(`knet matmul: inner dimensions differ: a${ta} is ${M}x${Ka} and b${tb} is ${Kb}x${N} ` +
      `(a ${fmtShape(a.shape)}, b ${fmtShape(b.shape)}, transposeA=${transposeA}, transposeB=${transposeB}); ` +
      `the columns of a${ta} must equal the rows of b${tb}. ${innerFix(a, b, transposeA, transposeB)}`);
  }
  const out = empty([M, N], 'float32', dev);
  if (out.size) dev.matmul(transposeA, transposeB, a, b, out, M, N, Ka, 1, 0);
  // Only the gradients that flow somewhere are computed (not dx of a network's input).
  return record(out, [a, b], (g, [needA, needB]) => {
    if (!transposeA && !transposeB) return [needA ? matmul(g, b, false, true) : null, needB ? matmul(a, g, true, false) : null];
    if (!transposeA && transposeB) return [needA ? matmul(g, b, false, false) : null, needB ? matmul(g, a, true, false) : null];
    if (transposeA && !transposeB) return [needA ? matmul(b, g, false, true) : null, needB ? matmul(a, g, false, false) : null];
    return [needA ? matmul(b, g, true, true) : null, needB ? matmul(g, a, true, true) : null];
  });
}

/** What would make the inner dimensions agree: other transpose flags, else a reshape. */
function innerFix(a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean): string {
  const fixes: string[] = [];
  for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]]) {
    if (ta === transposeA && tb === transposeB) continue;
    const [M, Ka] = ta ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
    const [Kb, N] = tb ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
    if (Ka === Kb) fixes.push(`matmul(a, b, ${ta}, ${tb}) multiplies a${ta ? 'ᵀ' : ''} ${M}x${Ka} by b${tb ? 'ᵀ' : ''} ${Kb}x${N}`);
  }
  if (fixes.length) return `If an operand is stored the other way round, pass the transpose flags: ${fixes.join('; or ')}.`;
  const Ka = transposeA ? a.shape[0] : a.shape[1], Kb = transposeB ? b.shape[1] : b.shape[0];
  const shapes: string[] = [];
  if (!transposeB && Ka > 0 && b.size % Ka === 0) shapes.push(`reshape(b, [${Ka}, -1])`);
  if (!transposeA && Kb > 0 && a.size % Kb === 0) shapes.push(`reshape(a, [-1, ${Kb}])`);
  return `No transpose flag makes them agree; check the operands' layout` +
    (shapes.length ? ` (if the data is right but the shape is not: ${shapes.join(' or ')})` : '') + '.';
}
