/** Aligned plain-text layout shared by the human renderers: labelled lines and padded tables. */
export const labelWidth = 20;

export const grouped = (n: number): string => n.toLocaleString("en-US");

export function labelled(label: string, value: string): string {
  return `  ${label.padEnd(labelWidth)}${value}`.trimEnd();
}

/** Rows of cells, each column padded to its widest cell; numeric columns right-aligned. */
export function alignedTable(rows: string[][], indent: string, numericColumns: ReadonlySet<number> = new Set()): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => indent + row.map((cell, i) => (numericColumns.has(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0))).join("  ").trimEnd());
}

/** Cut long text to `max` characters with an ellipsis, on one line. */
export function clip(text: string, max: number): string {
  const oneLine = text.replace(/\s+/g, " ");
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}

/**
 * Shorten names to about `max` characters by cutting their middle (candidate ids differ in their
 * settings at the end), widening the cut until no two shortened names are the same.
 */
export function clipUnique(names: readonly string[], max: number): string[] {
  const longest = Math.max(0, ...names.map((n) => n.length));
  for (let width = max; width < longest; width += 1) {
    const clipped = names.map((n) => clipMiddle(n, width));
    if (new Set(clipped).size === new Set(names).size) return clipped;
  }
  return [...names];
}

function clipMiddle(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = Math.ceil((max - 1) / 2);
  return `${text.slice(0, head)}…${text.slice(text.length - (max - 1 - head))}`;
}
