/**
 * A separate process that writes into a registry, for the concurrency and crash tests.
 * Usage: registry-writer.ts REGISTRY DIGEST evaluations COUNT TAG
 *        registry-writer.ts REGISTRY DIGEST batches BATCH_SIZE TAG   (forever, until killed)
 */
import { Registry } from "../../src/registry/registry.js";

const [registryPath, digest, mode, countText, tag] = process.argv.slice(2) as [string, string, string, string, string];
const registry = Registry.open(registryPath);
const count = Number(countText);
const evaluation = (i: number) => ({
  artifactDigest: digest,
  metrics: [{ name: "p50LatencyMs", value: i, unit: "ms" }],
  hardwareFingerprint: `writer-${tag}`,
  source: `registry-writer ${tag} #${i}`,
});
if (mode === "evaluations") {
  for (let i = 0; i < count; i++) registry.recordEvaluation(evaluation(i));
  registry.close();
} else {
  process.stdout.write("ready\n");
  for (let batch = 0; ; batch++) registry.recordEvaluations(Array.from({ length: count }, (_, i) => evaluation(batch * count + i)));
}
