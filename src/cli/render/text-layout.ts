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
