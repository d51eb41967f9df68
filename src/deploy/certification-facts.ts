import { readFile, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { z } from "zod";
import { EdgeforgeError, fileError } from "../core/errors.js";

/**
 * The fields of certification.json (written by `edgeforge certify`, docs/certify.md) that packaging
 * reads. Parsed as an input file: a certification from another tool version is checked, not trusted.
 */
export const certificationFactsSchema = z.looseObject({
  kind: z.literal("edgeforge.certification"),
  schemaVersion: z.literal(1),
  validatedAt: z.string(),
  artifact: z.looseObject({ name: z.string(), format: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/), sizeBytes: z.number().nonnegative() }),
  machine: z.looseObject({ cpu: z.string(), logicalThreads: z.number().int().positive(), fingerprint: z.string() }),
  performance: z.looseObject({ source: z.string(), metrics: z.record(z.string(), z.number()) }),
  accuracy: z.looseObject({ source: z.string(), metrics: z.record(z.string(), z.number()) }),
  stress: z.looseObject({
    method: z.string(),
    expectedConcurrency: z.number().int().positive(),
    levels: z.array(z.looseObject({ concurrency: z.number().int().positive(), p50Ms: z.number(), p95Ms: z.number(), p99Ms: z.number(), throughputPerSec: z.number(), rssEndBytes: z.number().positive(), errors: z.number(), cpuMsPerRequest: z.number().nonnegative().optional(), cpuCores: z.number().nonnegative().optional() })).min(1),
  }),
  compliance: z.looseObject({ runtime: z.string(), runtimeVersion: z.string(), licence: z.string().optional(), producer: z.string().optional() }),
  approval: z.looseObject({ approved: z.boolean(), checks: z.array(z.looseObject({ passed: z.boolean(), required: z.boolean() })), failed: z.array(z.looseObject({ section: z.string(), name: z.string(), reason: z.string() })) }),
  monitoring: z.looseObject({
    latency: z.looseObject({ p95BudgetMs: z.number().nonnegative(), p99BudgetMs: z.number().nonnegative() }),
    errorRateThreshold: z.number().min(0).max(1),
    expectedConcurrency: z.number().int().positive(),
  }),
  signature: z.looseObject({ path: z.string(), keyHint: z.string(), subjectDigest: z.string() }).optional(),
  registry: z.looseObject({ model: z.string(), version: z.string() }).optional(),
});

export type CertificationFacts = z.infer<typeof certificationFactsSchema>;

export const certificationFileName = "certification.json";

/** Read and check `DIR/certification.json` (or the file itself, when `location` names one). */
export async function readCertificationFacts(location: string, signal?: AbortSignal): Promise<CertificationFacts> {
  const isFile = await stat(location).then((s) => s.isFile(), () => false);
  const folder = isFile ? dirname(location) : location;
  const path = isFile ? location : join(location, certificationFileName);
  let text: string;
  try {
    text = await readFile(path, { encoding: "utf8", signal });
  } catch (error) {
    const wrapped = fileError(error, path, "read");
    if (wrapped.code === "FILE_NOT_FOUND") {
      throw new EdgeforgeError("FILE_NOT_FOUND", `no ${certificationFileName} in ${folder}`, {
        hint: "package a certified artifact: run `edgeforge certify ARTIFACT --report report.json -o DIR --key KEY.pem` and pass that DIR with --certification",
        details: { path },
        cause: error,
      });
    }
    throw wrapped;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new EdgeforgeError("INVALID_CONFIG", `${path} is not JSON`, { hint: "pass the folder `edgeforge certify` wrote", details: { path }, cause: error });
  }
  const parsed = certificationFactsSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EdgeforgeError("INVALID_CONFIG", `${path}: ${issue?.path.join(".") || "(top)"}: ${issue?.message ?? "invalid"}`, {
      hint: "the file is not an edgeforge certification (kind edgeforge.certification, schemaVersion 1); certify the artifact again",
      details: { path, issues: parsed.error.issues },
    });
  }
  return parsed.data;
}

/** Highest resident memory the certification measured (the certifying process, model loaded, under load). */
export function measuredPeakRssBytes(facts: CertificationFacts): number {
  return Math.max(...facts.stress.levels.map((level) => level.rssEndBytes));
}

/** What a dashboard shows of a certification. */
export interface CertificationSummary {
  approved: boolean;
  validatedAt: string;
  artifact: { name: string; format: string; sha256: string; sizeBytes: number };
  runtime: string;
  machine: string;
  checks: { total: number; passed: number; failed: Array<{ section: string; name: string; reason: string }> };
  budgets: { p95Ms: number; p99Ms: number; errorRate: number };
  stress: { concurrency: number; p50Ms: number; p99Ms: number; throughputPerSec: number };
  peakRssBytes: number;
  licence?: string;
}

export function summarizeCertification(facts: CertificationFacts): CertificationSummary {
  const level = [...facts.stress.levels].reverse().find((l) => l.concurrency <= facts.monitoring.expectedConcurrency) ?? facts.stress.levels[0]!;
  return {
    approved: facts.approval.approved,
    validatedAt: facts.validatedAt,
    artifact: { name: facts.artifact.name, format: facts.artifact.format, sha256: facts.artifact.sha256, sizeBytes: facts.artifact.sizeBytes },
    runtime: `${facts.compliance.runtime} ${facts.compliance.runtimeVersion}`,
    machine: `${facts.machine.cpu}, ${facts.machine.logicalThreads} threads`,
    checks: { total: facts.approval.checks.length, passed: facts.approval.checks.filter((c) => c.passed).length, failed: facts.approval.failed.map((f) => ({ section: f.section, name: f.name, reason: f.reason })) },
    budgets: { p95Ms: facts.monitoring.latency.p95BudgetMs, p99Ms: facts.monitoring.latency.p99BudgetMs, errorRate: facts.monitoring.errorRateThreshold },
    stress: { concurrency: level.concurrency, p50Ms: level.p50Ms, p99Ms: level.p99Ms, throughputPerSec: level.throughputPerSec },
    peakRssBytes: measuredPeakRssBytes(facts),
    ...(facts.compliance.licence ? { licence: facts.compliance.licence } : {}),
  };
}
