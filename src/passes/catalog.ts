import { ggufQuantizePass } from "./gguf/gguf-quantize-pass.js";
import { hfConvertGgufPass } from "./hf/hf-convert-gguf-pass.js";
import { llama2cConvertGgufPass } from "./llama2c/llama2c-convert-gguf-pass.js";
import { mlxExportPass } from "./mlx/mlx-export-pass.js";
import { convertFp16Pass } from "./onnx/convert-fp16.js";
import { quantizeAutoPass } from "./onnx/quantize-auto.js";
import { quantizeInt4Pass } from "./onnx/quantize-int4.js";
import { quantizeInt8DynamicPass } from "./onnx/quantize-int8-dynamic.js";
import { quantizeInt8StaticPass } from "./onnx/quantize-int8-static.js";
import type { Pass } from "./pass.js";

/** Every pass by its id (`format.verb.variant`; keys equal each pass's own id). Frozen: add a pass here, never at run time. */
export const passCatalog = Object.freeze({
  "onnx.convert.fp16": convertFp16Pass,
  "onnx.quantize.int8-dynamic": quantizeInt8DynamicPass,
  "onnx.quantize.int8-static": quantizeInt8StaticPass,
  "onnx.quantize.int4": quantizeInt4Pass,
  "onnx.quantize.auto": quantizeAutoPass,
  "gguf.quantize": ggufQuantizePass,
  "hf.convert.gguf": hfConvertGgufPass,
  "llama2c.convert.gguf": llama2cConvertGgufPass,
  "mlx.export": mlxExportPass,
} as const);

export type PassId = keyof typeof passCatalog;

export const passIds = Object.freeze(Object.keys(passCatalog) as PassId[]);

export function isPassId(id: string): id is PassId {
  return Object.hasOwn(passCatalog, id);
}

/** A pass by id, typed loosely (options are validated by the pass's own schema). */
export function getPass(id: PassId): Pass {
  return passCatalog[id] as unknown as Pass;
}
