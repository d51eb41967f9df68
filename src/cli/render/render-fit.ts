import type { FitAssessment } from "../../hardware/assess-fit.js";
import { formatBytes } from "../../core/units.js";
import { alignedTable, labelled } from "./text-layout.js";

/** `inspect --target`: the verdict, the numbers behind it, and what would fit. All byte figures are estimates. */
export function renderFitAssessment(fit: FitAssessment): string {
  const verdict = fit.fits ? "fits" : "does NOT fit";
  const lines = [
    `Fit on target ${fit.targetName}: ${verdict} (estimates)`,
    labelled("estimated run", formatBytes(fit.estimatedRunBytes)),
    labelled("memory budget", formatBytes(fit.memoryBudgetBytes)),
    labelled("headroom", formatBytes(fit.headroomBytes)),
  ];
  if (fit.currentBitsPerWeight !== undefined) lines.push(labelled("bits per weight", fit.currentBitsPerWeight.toFixed(2)));
  lines.push(labelled("method", fit.method));
  if (fit.options.length > 0) {
    lines.push("  options (estimated):");
    const rows = [["format", "quantization", "bpw", "run", "headroom", "fits"]];
    for (const option of fit.options) {
      rows.push([
        option.format,
        option.quantization,
        option.bitsPerWeight.toFixed(2),
        formatBytes(option.estimatedRunBytes),
        formatBytes(option.headroomBytes),
        option.fits ? "yes" : "no",
      ]);
    }
    lines.push(...alignedTable(rows, "    ", new Set([2, 3, 4])));
  }
  if (fit.bestFittingQuantization) lines.push(labelled("best that fits", fit.bestFittingQuantization));
  for (const note of fit.notes) lines.push(`  note: ${note}`);
  return lines.join("\n");
}
