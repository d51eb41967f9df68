import { detectModelFormat } from "../formats/detect-format.js";
import { refuseVocabularyOnlyGguf } from "../formats/gguf/vocabulary-only.js";

/** NOTHING_TO_DO before any work when one of `paths` is a GGUF without weight tensors. */
export async function refuseVocabularyOnly(paths: readonly string[], step: string, signal?: AbortSignal): Promise<void> {
  for (const path of paths) {
    const detected = await detectModelFormat(path).catch(() => undefined);
    if (detected?.format === "gguf") await refuseVocabularyOnlyGguf(path, step, signal);
  }
}
