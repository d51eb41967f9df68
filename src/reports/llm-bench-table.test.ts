import { describe, expect, it } from "vitest";
import { renderLlmBenchTables, type LlmBenchTables } from "./llm-bench-table.js";

const tables: LlmBenchTables = {
  schemaVersion: 1,
  speed: [
    { model: "m.gguf", fileType: "Q4_K_M", sizeBytes: 3604800, parameterCount: 5507328, backend: "CPU", threads: 2, runtimeVersion: "llama-cpp 3.22.1", build: "v0.5.0", test: "tg128", nPrompt: 0, nGen: 128, repetitions: 5, avgNs: 1e8, stddevNs: 1e6, avgTs: 1280.5, stddevTs: 12.25, p50Ts: 1281, p90Ts: 1290 },
  ],
  quality: [
    { model: "m.gguf", fileType: "Q4_K_M", sizeBytes: 3604800, contextSize: 128, chunks: 10, scoredTokens: 630, perplexity: 70.1234, perplexityStandardError: 2.5, klDivergenceMean: 0.0016, klDivergenceMedian: 0.001, klDivergenceP99: 0.01, top1Agreement: 0.963, loadMs: 50, peakRssBytes: 2 ** 27 },
  ],
};

describe("llama-bench-style tables", () => {
  it("renders markdown like llama-bench (t/s as mean ± sd)", () => {
    const md = renderLlmBenchTables(tables, "md");
    expect(md).toContain("| model | size | params | backend | threads | test | t/s |");
    expect(md).toContain("| m.gguf Q4_K_M | 3.44 MiB | 5.51 M | CPU | 2 | tg128 | 1280.50 ± 12.25 |");
    expect(md).toContain("| 70.1234 ± 2.5000 | 0.001600 | 0.001000 | 0.010000 | 96.30% |");
  });

  it("renders csv with llama-bench's unit-suffixed fields and json with the schema version", () => {
    const csv = renderLlmBenchTables(tables, "csv");
    expect(csv.split("\n")[0]).toContain("avgNs,stddevNs,avgTs,stddevTs");
    expect(csv).toContain("m.gguf,Q4_K_M,3604800,5507328,CPU,2,llama-cpp 3.22.1,v0.5.0,tg128,0,128,5");
    expect(JSON.parse(renderLlmBenchTables(tables, "json"))).toEqual(tables);
    expect(() => renderLlmBenchTables(tables, "xml" as never)).toThrow(/unknown table format/);
  });
});
