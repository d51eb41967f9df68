import { formatGateValue } from "../../reports/report-format.js";
import type { Report } from "../../reports/report.js";
import type { DiagnosisInput } from "./diagnosis.js";

const frameworkOfRuntime: Record<string, string> = { ort: "onnxruntime", "llama-cpp": "llama.cpp", openvino: "openvino" };

/** The facts the rules read, from an optimize report. */
export function diagnosisInputFromReport(report: Report, source: string): DiagnosisInput {
  const judged = report.recommendation.candidateId ?? report.gates.closest?.candidateId;
  const verdict = report.gates.verdicts.find((v) => v.candidateId === judged);
  const frameworks = new Set(report.candidates.map((c) => frameworkOfRuntime[c.runtime.runtime]).filter((f): f is string => f !== undefined));
  if (report.candidates.some((c) => c.passes.some((p) => p.passId.startsWith("mlx.")))) frameworks.add("mlx");
  return {
    source,
    baselineId: report.baselineId,
    machine: { logicalThreads: report.machine.logicalThreads, cpu: report.machine.cpu, ...(report.machine.physicalCores === undefined ? {} : { physicalCores: report.machine.physicalCores }) },
    subjects: report.candidates.map((c) => ({
      id: c.id,
      label: c.label,
      isBaseline: c.isBaseline,
      status: c.status,
      ...(c.error ? { error: c.error } : {}),
      metrics: c.metrics,
      ...(c.runtime.threads === undefined ? {} : { threads: c.runtime.threads }),
      ...(c.runtime.executionProvider === undefined ? {} : { requestedProvider: c.runtime.executionProvider }),
      ...(c.measurement?.executionProvider === undefined ? {} : { actualProvider: c.measurement.executionProvider }),
      runtime: c.runtime.runtime,
      passIds: c.passes.map((p) => p.passId),
      ...(c.runtime.enableCpuMemArena === false || c.runtime.enableMemPattern === false ? { memorySaving: true } : {}),
      setupKey: JSON.stringify([c.passes.map((p) => [p.passId, p.options]), { ...c.runtime, threads: undefined }]),
      flags: c.measurement?.notes.filter((n) => ["high-cv", "drift", "not-converged"].includes(n)) ?? [],
      ...(c.sideBySide?.baselineBlocks ? { baselineBlocks: c.sideBySide.baselineBlocks } : {}),
    })),
    failedGates: (verdict?.results ?? [])
      .filter((r) => !r.passed)
      .map((r) => ({ gate: r.gate, metric: r.metric, measured: r.measured !== undefined, text: `${judged}: ${r.gate} — ${r.requirement}; measured ${r.measured === undefined ? "nothing" : formatGateValue(r.metric, r.measured)}${r.reason ? ` (${r.reason})` : ""}` })),
    frameworks: [...frameworks],
  };
}
