import { EdgeforgeError } from "../core/errors.js";
import { formatBytes, formatCount } from "../core/units.js";

/**
 * llama-bench's record schema, one row per (model, test), with its units in the field names
 * (avg_ns, avg_ts) and provenance (backend, threads, build). Quality rows (perplexity, KL
 * divergence) are a second table in the same style. md/csv/json render the same rows.
 */
export const llmBenchSchemaVersion = 1;

export interface LlmBenchRow {
  model: string;
  fileType: string | undefined;
  sizeBytes: number;
  parameterCount: number;
  backend: string;
  threads: number;
  runtimeVersion: string;
  build: string | undefined;
  /** "pp512", "tg128". */
  test: string;
  nPrompt: number;
  nGen: number;
  repetitions: number;
  avgNs: number;
  stddevNs: number;
  avgTs: number;
  stddevTs: number;
  p50Ts: number;
  p90Ts: number;
}

export interface LlmQualityRow {
  model: string;
  fileType: string | undefined;
  sizeBytes: number;
  contextSize: number;
  chunks: number;
  scoredTokens: number;
  perplexity: number;
  perplexityStandardError: number;
  klDivergenceMean: number | undefined;
  klDivergenceMedian: number | undefined;
  klDivergenceP99: number | undefined;
  top1Agreement: number | undefined;
  loadMs: number;
  peakRssBytes: number;
}

export interface LlmBenchTables {
  schemaVersion: typeof llmBenchSchemaVersion;
  speed: LlmBenchRow[];
  quality: LlmQualityRow[];
}

export const llmBenchFormats = ["md", "csv", "json"] as const;
export type LlmBenchFormat = (typeof llmBenchFormats)[number];

function modelLabel(row: { model: string; fileType: string | undefined }): string {
  return row.fileType ? `${row.model} ${row.fileType}` : row.model;
}

function markdownTable(header: string[], rows: string[][], rightAligned: boolean[]): string {
  const lines = [`| ${header.join(" | ")} |`, `| ${rightAligned.map((right) => (right ? "---:" : "---")).join(" | ")} |`];
  for (const row of rows) lines.push(`| ${row.join(" | ")} |`);
  return lines.join("\n");
}

const optionalNumber = (value: number | undefined, digits: number): string => (value === undefined ? "—" : value.toFixed(digits));

function renderMarkdown(tables: LlmBenchTables): string {
  const parts: string[] = [];
  if (tables.speed.length > 0) {
    parts.push(
      markdownTable(
        ["model", "size", "params", "backend", "threads", "test", "t/s"],
        tables.speed.map((row) => [
          modelLabel(row),
          formatBytes(row.sizeBytes),
          formatCount(row.parameterCount),
          row.backend,
          String(row.threads),
          row.test,
          `${row.avgTs.toFixed(2)} ± ${row.stddevTs.toFixed(2)}`,
        ]),
        [false, true, true, false, true, true, true],
      ),
    );
  }
  if (tables.quality.length > 0) {
    parts.push(
      markdownTable(
        ["model", "size", "ctx", "chunks", "PPL", "KLD mean", "KLD median", "KLD p99", "same top", "load", "peak RSS"],
        tables.quality.map((row) => [
          modelLabel(row),
          formatBytes(row.sizeBytes),
          String(row.contextSize),
          String(row.chunks),
          `${row.perplexity.toFixed(4)} ± ${row.perplexityStandardError.toFixed(4)}`,
          optionalNumber(row.klDivergenceMean, 6),
          optionalNumber(row.klDivergenceMedian, 6),
          optionalNumber(row.klDivergenceP99, 6),
          row.top1Agreement === undefined ? "—" : `${(row.top1Agreement * 100).toFixed(2)}%`,
          `${row.loadMs.toFixed(1)} ms`,
          formatBytes(row.peakRssBytes),
        ]),
        [false, true, true, true, true, true, true, true, true, true, true],
      ),
    );
  }
  return `${parts.join("\n\n")}\n`;
}

function csvCell(value: unknown): string {
  if (value === undefined || value === null) return "";
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function csvTable<Row extends object>(rows: Row[]): string {
  const first = rows[0];
  if (!first) return "";
  const columns = Object.keys(first) as Array<keyof Row>;
  const lines = [columns.map((column) => csvCell(column)).join(",")];
  for (const row of rows) lines.push(columns.map((column) => csvCell(row[column])).join(","));
  return `${lines.join("\n")}\n`;
}

/** llama-bench -o md / csv / json. CSV holds the speed rows, then a blank line, then the quality rows. */
export function renderLlmBenchTables(tables: LlmBenchTables, format: LlmBenchFormat): string {
  switch (format) {
    case "md":
      return renderMarkdown(tables);
    case "csv":
      return [csvTable(tables.speed), csvTable(tables.quality)].filter((part) => part.length > 0).join("\n");
    case "json":
      return `${JSON.stringify(tables, null, 2)}\n`;
    default:
      throw new EdgeforgeError("INVALID_OPTION", `unknown table format "${String(format)}"`, { hint: `use one of ${llmBenchFormats.join(", ")}` });
  }
}
