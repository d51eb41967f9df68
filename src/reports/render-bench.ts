import { renderBenchCsv, renderBenchJsonl, type BenchFormat } from "./bench-csv.js";
import type { BenchRecord } from "./bench-record.js";
import { renderBenchMarkdown } from "./bench-table.js";

/** Render a bench record in one of its formats; JSON is the canonical record itself. */
export function renderBench(record: BenchRecord, format: BenchFormat): string {
  switch (format) {
    case "md":
      return renderBenchMarkdown(record);
    case "csv":
      return renderBenchCsv(record);
    case "jsonl":
      return renderBenchJsonl(record);
    case "json":
      return `${JSON.stringify(record, null, 2)}\n`;
  }
}
