import type { Dataset } from "../datasets/dataset.js";

/**
 * A warning when the calibration and evaluation data are the same samples (by fingerprint, wherever they
 * are): calibrated candidates would then be graded on the data they were tuned on. Undefined otherwise.
 */
export async function sameDataWarning(calibration: Dataset | undefined, evaluation: Dataset | undefined, signal?: AbortSignal): Promise<string | undefined> {
  if (!calibration || !evaluation) return undefined;
  const [calibrationPrint, evaluationPrint] = await Promise.all([calibration.fingerprint(signal), evaluation.fingerprint(signal)]);
  if (calibrationPrint !== evaluationPrint) return undefined;
  return `the calibration data (${calibration.source}) and the evaluation data (${evaluation.source}) are the same samples: calibrated candidates (int8-static, auto, int4 GPTQ) are graded on the data they were tuned on, so their accuracy reads optimistic; give --eval a held-out set`;
}
