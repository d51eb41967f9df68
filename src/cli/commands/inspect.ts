import type { Command } from "commander";
import { inspect } from "../../api/index.js";
import { parseShapeOverrides } from "../../core/shapes.js";
import { collect, parsePositiveInt } from "../options.js";
import { printHuman, printJson } from "../output.js";
import { renderFitAssessment } from "../render/render-fit.js";
import { renderGgufInspection } from "../render/render-gguf-inspection.js";
import { renderLlama2cInspection } from "../render/render-llama2c-inspection.js";
import { renderOnnxInspection } from "../render/render-onnx-inspection.js";
import { renderSafetensorsInspection } from "../render/render-safetensors-inspection.js";

interface InspectFlags {
  shape: string[];
  ctx?: number;
  target?: string;
  json?: boolean;
}

export function registerInspectCommand(program: Command): void {
  program
    .command("inspect")
    .description("Describe a model (ONNX, GGUF, safetensors, llama2.c or a Hugging Face folder) without running it")
    .argument("<model>", "model file or Hugging Face folder")
    .option("--shape <name=DxD...>", "fix a symbolic input shape for MAC estimates (repeatable)", collect, [])
    .option("--ctx <tokens>", "context length for KV-cache and RAM estimates (default: the model's)", parsePositiveInt)
    .option("--target <name>", "check the fit against a target profile (or 'local')")
    .option("--json", "print the versioned JSON record on stdout")
    .action(async (modelPath: string, flags: InspectFlags) => {
      const report = await inspect(modelPath, {
        shapes: parseShapeOverrides(flags.shape),
        contextLength: flags.ctx,
        target: flags.target,
      });
      if (flags.json) {
        printJson(report);
        return;
      }
      const { model } = report;
      printHuman(
        model.format === "onnx"
          ? renderOnnxInspection(model)
          : model.format === "gguf"
            ? renderGgufInspection(model)
            : model.format === "llama2c"
              ? renderLlama2cInspection(model)
              : renderSafetensorsInspection(model),
      );
      if (report.fit) printHuman(renderFitAssessment(report.fit));
    });
}
