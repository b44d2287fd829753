// Parsing whitespace-separated numeric tables (such as the UCI housing file) into a row-major
// Float64Array.

export interface NumericTable {
  data: Float64Array;
  shape: [rows: number, cols: number];
}

// Decimal numbers only: Number() alone would also accept '0x1f', 'Infinity' and ''.
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Parses one row per non-blank line, fields separated by any whitespace. A row whose field
 * count differs from the first row's, or a field that is not a number, is an error naming the
 * line (and `name`, the file, when given).
 */
export function readNumericText(text: string, name = 'numeric text'): NumericTable {
  const values: number[] = [];
  let cols = -1;
  let firstLine = 0;
  let rows = 0;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const fields = line.split(/\s+/);
    if (cols < 0) { cols = fields.length; firstLine = i + 1; }
    else if (fields.length !== cols) {
      throw new Error(`knet: ${name}, line ${i + 1}: ${fields.length} fields, expected ${cols} as on line ${firstLine}`);
    }
    for (let j = 0; j < fields.length; j++) {
      if (!NUMBER.test(fields[j])) {
        throw new Error(`knet: ${name}, line ${i + 1}: field ${j + 1} is '${fields[j]}', expected a number`);
      }
      values.push(Number(fields[j]));
    }
    rows++;
  }
  return { data: Float64Array.from(values), shape: [rows, Math.max(cols, 0)] };
}
