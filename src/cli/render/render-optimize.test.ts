import { describe, expect, it } from "vitest";
import { buildSampleReport } from "../../../test/fixtures/sample-report.js";
import { renderOptimizeSummary } from "./render-optimize.js";

describe("renderOptimizeSummary", () => {
  it("shows each candidate's pass-alone speed-up, says what each speed figure is against, and prints the run's warnings", () => {
    const report = buildSampleReport({ passing: false });
    report.candidates.find((c) => c.id === "int8-dynamic")!.metrics.passSpeedup = 1.37;
    const moved = "the input model at default settings, the reference of every speed-up, moved 2.71× between the run's 8 measuring windows";
    report.whatNext = {
      unreachable: [],
      alternatives: [],
      findings: [
        { rule: "speed.unsteady-baseline", severity: "warning", subject: "run", observation: moved, actions: ["re-measure"] },
        { rule: "gate.speed-up", severity: "error", subject: "run", observation: "int8-dynamic: speed-up missed", actions: [] },
      ],
    };
    const lines = renderOptimizeSummary(report).split("\n");
    const header = lines.find((line) => line.includes("candidate") && line.includes("pass alone"))!;
    const row = lines.find((line) => line.trim().startsWith("int8-dynamic "))!;
    // The figure sits under its column's header (right-aligned).
    expect(row.indexOf("1.37×") + "1.37×".length).toBe(header.indexOf("pass alone") + "pass alone".length);
    expect(lines.find((line) => line.trim().startsWith("fp32 "))).toMatch(/1\.00×\s+—\s/);
    expect(lines).toContain("  speed-up: side by side against fp32 (alternating blocks in each candidate's time window); pass alone: against the input model at the candidate's own settings; p50 (abs.): as slow as the machine was during the candidate's blocks, so compare by speed-up");
    const warnings = lines.indexOf("Warnings (causes and actions: the report, or `edgeforge diagnose /tmp/out/report.json`):");
    expect(warnings).toBeGreaterThan(0);
    expect(lines[warnings + 1]).toBe(`  - ${moved}`);
    // Errors are the missed gates, already listed above the table.
    expect(lines.join("\n")).not.toContain("speed-up missed");
  });

  it("prints no warnings section when the run had none", () => {
    const report = buildSampleReport({ passing: true });
    expect(renderOptimizeSummary(report)).not.toContain("Warnings");
  });
});
