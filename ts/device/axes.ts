// Merging axes for strided kernels: drops size-1 axes and joins neighbours that every
// operand walks contiguously, so kernels loop over as few dimensions as possible.
// Shared by broadcasting, slicing, strided copies and every device.

/** Returns [shape, ...strides] with the axes merged; at least one axis (a scalar gives [1]). */
export function mergeAxes(shape: readonly number[], ...strides: (readonly number[])[]): [number[], ...number[][]] {
  const S: number[] = [];
  const T: number[][] = strides.map(() => []);
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1) continue;
    const j = S.length - 1;
    if (j >= 0 && strides.every((s, k) => T[k][j] === s[i] * shape[i])) {
      S[j] *= shape[i];
      strides.forEach((s, k) => { T[k][j] = s[i]; });
    } else {
      S.push(shape[i]);
      strides.forEach((s, k) => T[k].push(s[i]));
    }
  }
  if (!S.length) { S.push(1); for (const t of T) t.push(0); }
  return [S, ...T];
}
