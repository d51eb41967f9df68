import { formatBytes, formatMs } from "../../core/units.js";
import { isQualityMetric } from "../../pareto/metric-catalog.js";
import type { Diagnosis, DiagnosisInput, DiagnosisSubject, Finding, Severity } from "./diagnosis.js";
import { troubleshootingTable } from "./troubleshooting-table.js";
import { formatBaselineMovement, isUnsteady, poolBaselineBlocks, unsteadyBaselineSpread } from "../baseline-blocks.js";

/** Thresholds the rules use; stated here so docs/decide.md and the findings agree. */
export const diagnosisThresholds = Object.freeze({
  highCv: 0.1,
  noSpeedup: 1.1,
  slower: 0.9,
  accuracyRetention: 0.95,
  klDivergence: 0.05,
  threadSlowdown: 1.05,
  throughputShortfall: 0.8,
  memoryReductionFloor: 0.1,
  sizeReductionForMemory: 0.4,
  unsteadyBaselineSpread,
});

const latencyActions = [
  "try onnx.quantize.int8-static (QDQ), which ONNX Runtime fuses into int8 kernels, with graph optimization level all",
  "check `edgeforge hw` for int8 dot-product instructions (avx512_vnni/avx_vnni, dotprod/i8mm)",
  "set threads to the physical core count",
];
const llmLatencyActions = [
  "try a smaller llama.cpp type (Q4_K_M, Q4_0): decoding reads every weight for each token, so fewer bytes per weight decode faster",
  "check `edgeforge hw` for int8 dot-product instructions (avx512_vnni/avx_vnni, dotprod/i8mm), which llama.cpp's quantized kernels use",
  "set threads to the physical core count, or 1 where more threads measured slower",
];
const accuracyActions = [
  "use onnx.quantize.auto with a maxDrop so the most sensitive nodes stay in float",
  "calibrate on more representative data, with percentile or entropy ranges",
  "enable per-channel weights, or exclude the first and last layers",
];
/** An accuracy gate with nothing measured: no evaluation data, not a lossy candidate. */
function unmeasuredAccuracyAdvice(llm: boolean): { causes: string[]; actions: string[] } {
  return {
    causes: [llm ? "no evaluation text was given (--eval FILE.txt), so perplexity, KL divergence and accuracy retention were not measured" : "accuracy was not measured: the candidates were not evaluated on data"],
    actions: [
      llm ? "give held-out text with --eval FILE.txt: each candidate's perplexity and KL divergence against the input model, and accuracy retention from them" : "give evaluation data with --eval (a dataset folder or .json/.jsonl; with --labels for CTC)",
      "or replace the default gates (--no-default-gates with your own --gate) if accuracy is checked elsewhere: the report then says nothing about accuracy",
    ],
  };
}
const packedWeightsAction = "prefer int8/int4 weights that stay packed at run time; fp16 weights are upcast to float32 by CPU kernels";

/**
 * Why model memory barely fell, from what was measured: how much of the input model's memory its weights
 * are at all, and what the memory-saving runtime settings gave when they were tried.
 */
function memoryAdvice(input: DiagnosisInput): { causes: string[]; actions: string[] } {
  const causes: string[] = [];
  const actions = [packedWeightsAction];
  if (input.subjects.some((s) => s.passIds.some((id) => id.includes("fp16")))) causes.push("fp16 weights are unpacked to float32 at load time by CPU kernels");
  const percent = (share: number) => `${(share * 100).toFixed(0)} %`;
  const baseline = input.subjects.find((s) => s.isBaseline && s.status === "measured");
  const fileBytes = baseline?.metrics.sizeBytes;
  const memoryBytes = baseline?.metrics.modelMemoryBytes;
  if (fileBytes !== undefined && memoryBytes !== undefined && memoryBytes > 0 && fileBytes < memoryBytes / 2) {
    causes.unshift(
      `the input model's weights (its ${formatBytes(fileBytes)} file) are ${percent(fileBytes / memoryBytes)} of its model memory (${formatBytes(memoryBytes)}): the rest is activations (an LLM's KV cache and compute buffers), workspace and runtime buffers at the measured input shapes, so shrinking the weights, even to nothing, cannot halve it`,
    );
    actions.push(
      "measure at the input shapes the device will really use (--shape): activation memory grows with them",
      "gate on sizeBytes if storage or download size is the constraint, not RAM; or set memoryReduction to what the weights can give",
    );
  }
  const saving = input.subjects.filter((s) => s.status === "measured" && s.memorySaving && s.metrics.memoryReduction !== undefined);
  if (saving.length > 0) {
    const best = saving.reduce((a, b) => ((b.metrics.memoryReduction ?? -Infinity) > (a.metrics.memoryReduction ?? -Infinity) ? b : a));
    causes.push(`the runtime's memory-saving settings were measured too: their best memoryReduction was ${(best.metrics.memoryReduction ?? 0).toFixed(3)} (${best.id})`);
  } else {
    actions.push("measure with the runtime's memory-saving settings (ONNX Runtime's CPU arena and memory pattern off): leave out --no-memory-settings");
  }
  return { causes, actions };
}
const llmActions = ["move to a higher-bit type (Q5_K_M, Q6_K, Q8_0)", "quantize with an importance matrix computed on representative text"];

const quantizingPass = /quantize|fp16/;
const llamaThreadCause = "llama.cpp without an attached thread pool (node-llama-cpp) starts its extra threads for every decoded token";

function finding(rule: string, severity: Severity, subject: string, observation: string, causes: string[], actions: string[]): Finding {
  return { rule, severity, subject, observation, causes, actions };
}

function failedCandidate(subject: DiagnosisSubject): Finding {
  const code = subject.error?.code ?? "UNKNOWN";
  const actions: Record<string, string[]> = {
    UNSUPPORTED_OP: ["exclude the node or op type from the pass (excludeNodes / opBlockList)", "try another pass for this model"],
    RUNTIME_FAILED: ["the runtime rejected the artifact: check that its opset and contrib ops are supported by the installed runtime version", "run `edgeforge bench` on the artifact alone to see the full error"],
    MEASUREMENT_FAILED: ["rerun with more iterations; check the stderr tail in the report"],
    NOTHING_TO_DO: ["the pass found nothing to transform in this model: leave it out"],
  };
  return finding("candidate.failed", "error", subject.id, `${subject.label} failed: [${code}] ${subject.error?.message ?? "no message"}`, ["the pass or the measurement raised an error"], actions[code] ?? ["rerun with EDGEFORGE_DEBUG=1 for details"]);
}

function threadsOf(subject: DiagnosisSubject): string {
  return `${subject.threads} thread${subject.threads === 1 ? "" : "s"}`;
}

/** Rules over measured data → findings with causes and concrete actions, most severe first. */
export function diagnose(input: DiagnosisInput): Diagnosis {
  const findings: Finding[] = [];
  const measured = input.subjects.filter((s) => s.status === "measured");
  const t = diagnosisThresholds;

  for (const subject of input.subjects) if (subject.status === "failed") findings.push(failedCandidate(subject));

  const memory = memoryAdvice(input);
  // llama.cpp candidates get llama.cpp's levers, not ONNX passes.
  const llm = input.subjects.some((s) => s.runtime === "llama-cpp");
  const speedActions = llm ? llmLatencyActions : latencyActions;
  for (const gate of input.failedGates) {
    const missed = ["the best candidate did not meet this quality gate"];
    const { causes, actions } =
      gate.metric === "speedup" || gate.metric.includes("Latency")
        ? { causes: missed, actions: speedActions }
        : isQualityMetric(gate.metric)
          ? gate.measured
            ? { causes: missed, actions: llm ? llmActions : accuracyActions }
            : unmeasuredAccuracyAdvice(llm)
          : gate.metric.includes("memory") || gate.metric.includes("Rss")
            ? { causes: [...missed, ...memory.causes], actions: memory.actions }
            : { causes: missed, actions: ["relax the gate if the requirement is stricter than the product needs"] };
    findings.push(finding(`gate.${gate.gate}`, "error", "run", gate.text, causes, actions));
  }

  const optimized = measured.filter((s) => !s.isBaseline && s.passIds.some((id) => quantizingPass.test(id)));
  const speedups = optimized.map((s) => s.metrics.speedup).filter((v): v is number => v !== undefined);
  if (speedups.length > 0 && Math.max(...speedups) < t.noSpeedup) {
    findings.push(finding("latency.no-speedup", "warning", "run", `the best optimized candidate is only ${Math.max(...speedups).toFixed(2)}× the baseline's speed (${input.machine.cpu})`, ["the CPU lacks fast int8/fp16 kernels for these ops", "the model is small enough that per-call overhead dominates", "quantize/dequantize pairs were not fused"], speedActions));
  }
  for (const subject of optimized) {
    const speedup = subject.metrics.speedup;
    if (speedup === undefined || speedup >= t.slower) continue;
    const observation = `${subject.label} runs at ${speedup.toFixed(2)}× the baseline's speed (slower)`;
    const passSpeedup = subject.metrics.passSpeedup;
    if (passSpeedup !== undefined && passSpeedup >= t.slower) {
      // The pass held its own against the input model at the same settings: the settings lost the speed, not the pass.
      findings.push(
        finding(
          "latency.slower-than-baseline",
          "warning",
          subject.id,
          `${observation}; the pass alone runs at ${passSpeedup.toFixed(2)}× the input model at the same runtime settings, so its settings${subject.threads === undefined ? "" : ` (${threadsOf(subject)})`} make it slower${passSpeedup < 1 ? ", more than the pass" : ", not the pass"}`,
          ["these runtime settings (threads, memory arena) are slower for this model than the baseline's"],
          ["judge the pass by the candidate with the pass at the baseline's settings, or at the fastest candidate's settings", "leave out settings that measured slower (--threads)"],
        ),
      );
      continue;
    }
    findings.push(finding("latency.slower-than-baseline", "warning", subject.id, observation, subject.passIds.some((id) => id.includes("fp16")) ? ["this CPU has no fast fp16 arithmetic: fp16 weights are converted at run time"] : ["int8 kernels are slower than float ones on this CPU for these shapes"], speedActions));
  }

  const varying = measured.filter((s) => (s.metrics.latencyCv !== undefined && s.metrics.latencyCv > t.highCv) || s.flags.includes("high-cv"));
  if (varying.length > 0) {
    const percent = (cv: number | undefined) => (cv === undefined ? "flagged" : `${(cv * 100).toFixed(1)}%`);
    // One finding for the run, not one per candidate: the causes and actions are the machine's, not a candidate's.
    const observation =
      varying.length === 1
        ? `latency varies: coefficient of variation ${percent(varying[0]!.metrics.latencyCv)}`
        : `latency varies on ${varying.length} of ${measured.length} candidates: coefficient of variation ${varying.map((s) => `${s.id} ${percent(s.metrics.latencyCv)}`).join(", ")}`;
    findings.push(finding("latency.high-cv", "warning", varying.length === 1 ? varying[0]!.id : "run", `${observation} (threshold ${Number((t.highCv * 100).toPrecision(3))}%)`, ["other processes compete for the CPU", "frequency scaling or thermal throttling", "more threads than free cores"], ["close other work, pin threads, use the performance governor", "raise the run count; compare p50, not the mean"]));
  }
  for (const subject of measured) {
    if (subject.threads !== undefined && subject.threads > input.machine.logicalThreads) {
      findings.push(finding("threads.oversubscribed", "warning", subject.id, `${subject.threads} threads on a machine with ${input.machine.logicalThreads} hardware threads`, ["threads beyond the hardware's time-share one core and add synchronisation cost"], [`set threads to ${input.machine.physicalCores ?? input.machine.logicalThreads} or fewer`]));
    }
    if (subject.requestedProvider && subject.actualProvider && subject.requestedProvider.toLowerCase() !== subject.actualProvider.toLowerCase()) {
      findings.push(finding("ep.fallback", "warning", subject.id, `asked for execution provider ${subject.requestedProvider}, ran on ${subject.actualProvider}`, ["the provider is not in this runtime build, or its libraries/drivers did not load", "the provider declined unsupported ops"], ["install a runtime build with the provider and matching drivers", "run `edgeforge hw` to see which providers work here"]));
    }
    const retention = subject.metrics.accuracyRetention;
    if (!subject.isBaseline && retention !== undefined && retention < t.accuracyRetention) {
      findings.push(finding("accuracy.drop", "warning", subject.id, `${subject.label} keeps ${(retention * 100).toFixed(1)}% of the baseline's accuracy (threshold ${Number((t.accuracyRetention * 100).toPrecision(3))}%)`, ["sensitive layers lose too much precision", "calibration data does not cover the inputs seen in evaluation"], accuracyActions));
    }
    const kl = subject.metrics.klDivergence;
    if (!subject.isBaseline && kl !== undefined && kl > t.klDivergence) {
      findings.push(finding("accuracy.kl-divergence", "warning", subject.id, `mean KL divergence ${kl.toExponential(2)} nats against the base model (threshold ${t.klDivergence.toExponential(2)})`, ["too few bits for this model size"], llmActions));
    }
    const p50 = subject.metrics.p50LatencyMs;
    const throughput = subject.metrics.throughputPerSec;
    if (p50 !== undefined && throughput !== undefined && throughput < (t.throughputShortfall * 1000) / p50) {
      findings.push(finding("throughput.overhead", "info", subject.id, `throughput ${throughput.toFixed(1)}/s is below what p50 latency ${formatMs(p50)} implies (${(1000 / p50).toFixed(1)}/s)`, ["per-call overhead outside the model (input conversion, garbage collection) or a slow tail"], ["reuse input tensors between calls", "batch inputs where the model allows it"]));
    }
    const memoryReduction = subject.metrics.memoryReduction;
    const sizeReduction = subject.metrics.sizeReduction;
    if (!subject.isBaseline && memoryReduction !== undefined && sizeReduction !== undefined && sizeReduction > t.sizeReductionForMemory && memoryReduction < t.memoryReductionFloor) {
      findings.push(finding("memory.no-reduction", "info", subject.id, `${subject.label} is ${(sizeReduction * 100).toFixed(0)}% smaller on disk but uses only ${(memoryReduction * 100).toFixed(0)}% less memory${subject.metrics.peakRssBytes ? ` (peak ${formatBytes(subject.metrics.peakRssBytes)})` : ""}`, memory.causes.length > 0 ? memory.causes : ["the model's memory at these input shapes is not mostly its weights"], memory.actions));
    }
  }

  // Each candidate's speed-up was measured against the reference in its own window, so two of them compare thread
  // counts with the machine's drift between windows divided out; absolute figures (the fallback) do not.
  const slowerPairs: { a: DiagnosisSubject; b: DiagnosisSubject; text: string }[] = [];
  for (const a of measured) {
    for (const b of measured) {
      if (a === b || a.threads === undefined || b.threads === undefined || a.threads <= b.threads || a.setupKey !== b.setupKey) continue;
      const sa = a.metrics.speedup;
      const sb = b.metrics.speedup;
      if (sa !== undefined && sb !== undefined) {
        if (sb > sa * t.threadSlowdown) slowerPairs.push({ a, b, text: `${threadsOf(a)} (${a.id}): ${sa.toFixed(2)}× the baseline's speed; ${threadsOf(b)} (${b.id}): ${sb.toFixed(2)}× (${(sb / sa).toFixed(1)}× faster)` });
        continue;
      }
      // Token-by-token models: generation tokens/s is their speed (a p50 is of prompt runs).
      const ga = a.runtime === "llama-cpp" ? a.metrics.tokensPerSec : undefined;
      const gb = b.runtime === "llama-cpp" ? b.metrics.tokensPerSec : undefined;
      if (ga !== undefined && gb !== undefined) {
        if (gb > ga * t.threadSlowdown) slowerPairs.push({ a, b, text: `${threadsOf(a)} (${a.id}): ${ga.toFixed(1)} generated tokens/s; ${threadsOf(b)} (${b.id}): ${gb.toFixed(1)} (${(gb / ga).toFixed(1)}× faster; absolute, from different windows)` });
        continue;
      }
      const pa = a.metrics.p50LatencyMs;
      const pb = b.metrics.p50LatencyMs;
      if (pa !== undefined && pb !== undefined && pa > pb * t.threadSlowdown) {
        slowerPairs.push({ a, b, text: `${threadsOf(a)} (${a.id}): p50 ${formatMs(pa)}; ${threadsOf(b)} (${b.id}): ${formatMs(pb)} (absolute, from different windows)` });
      }
    }
  }
  if (slowerPairs.length > 0) {
    // One finding for the run, not one per pair: the causes and the action are the model's and the machine's.
    const fewest = Math.min(...slowerPairs.map(({ b }) => b.threads ?? 1));
    const llamaPair = slowerPairs.some(({ a }) => a.runtime === "llama-cpp");
    findings.push(
      finding(
        "threads.slower-with-more",
        "warning",
        slowerPairs.length === 1 ? slowerPairs[0]!.a.id : "run",
        slowerPairs.length === 1 ? slowerPairs[0]!.text : `more threads measured slower in ${slowerPairs.length} pairs: ${slowerPairs.map(({ text }) => text).join("; ")}`,
        ["over-subscription: the threads compete with each other or other processes", "the model's ops are too small to split across threads", ...(llamaPair ? [llamaThreadCause] : [])],
        [`use ${fewest} thread${fewest === 1 ? "" : "s"} for this model`, "leave a core free for the rest of the application"],
      ),
    );
  }

  // One finding for the run: every speed-up divides by the same reference, measured anew in each candidate's window.
  const reference = poolBaselineBlocks(measured.map((s) => s.baselineBlocks));
  if (isUnsteady(reference)) {
    const baseline = input.subjects.find((s) => s.isBaseline);
    const llamaThreads = baseline?.runtime === "llama-cpp" && (baseline.threads ?? 1) > 1;
    findings.push(
      finding(
        "speed.unsteady-baseline",
        "warning",
        "run",
        `the input model at default settings, the reference of every speed-up, ${formatBaselineMovement(reference)}: speed-ups against it can differ by about that much in another run`,
        [...(llamaThreads ? [llamaThreadCause] : []), "other work on the machine took the CPU in some blocks", "a VM's vCPUs run at different speeds from minute to minute"],
        [
          "judge what a pass did by passSpeedup, measured against the input model at the candidate's own settings",
          ...(llamaThreads ? ["run this model at 1 thread (--threads 1), the steadier and here the faster setting"] : []),
          "re-measure the two with `edgeforge bench --cpus` on a quiet machine before quoting the speed-up",
        ],
      ),
    );
  }

  const order: Record<Severity, number> = { error: 0, warning: 1, info: 2 };
  findings.sort((x, y) => order[x.severity] - order[y.severity]);
  return {
    schemaVersion: 1,
    kind: "edgeforge.diagnosis",
    source: input.source,
    findings,
    troubleshooting: troubleshootingTable.filter((row) => input.frameworks.includes(row.framework)),
  };
}
