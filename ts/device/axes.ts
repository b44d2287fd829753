// Merging axes for strided kernels: drops size-1 axes and joins neighbours that every
// operand walks contiguously, so kernels loop over as few dimensions as possible.
// Shared by broadcasting, slicing, strided copies and every device.

/** Returns [shape, ...strides] with the axes merged; at least one axis (a scalar gives [1]). */
export function mergeAxes(shape: readonly number[], ...strides: (readonly number[])[]): [number[], ...number[][]] {
  // plain loops, no closures: every broadcasting op and strided copy runs this
  const m = strides.length;
  const S: number[] = [];
  const T: number[][] = [];
  for (let k = 0; k < m; k++) T.push([]);
  for (let i = 0; i < shape.length; i++) {
    const n = shape[i];
    if (n === 1) continue;
    const j = S.length - 1;
    let join = j >= 0;
    for (let k = 0; join && k < m; k++) join = T[k][j] === strides[k][i] * n;
    if (join) {
      S[j] *= n;
      for (let k = 0; k < m; k++) T[k][j] = strides[k][i];
    } else {
      S.push(n);
      for (let k = 0; k < m; k++) T[k].push(strides[k][i]);
    }
  }
  if (!S.length) { S.push(1); for (let k = 0; k < m; k++) T[k].push(0); }
  return [S, ...T];
}
