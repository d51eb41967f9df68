import { inTotoStatementType, type InTotoStatement, type InTotoSubject } from "./sigstore-bundle.js";

export const slsaProvenanceType = "https://slsa.dev/provenance/v1";
export const testResultType = "https://in-toto.io/attestation/test-result/v0.1";
export const verificationSummaryType = "https://slsa.dev/verification_summary/v1";

/** SLSA provenance v1: how the artifact was made (input digest, pass chain with options, tool versions). */
export function buildProvenanceStatement(subject: InTotoSubject, build: {
  buildType: string;
  builderId: string;
  input: { name: string; sha256: string };
  passes: Array<{ passId: string; passVersion?: string; options: Record<string, unknown> }>;
  runtime: Record<string, unknown>;
  toolVersions: Record<string, string>;
  startedOn?: string;
  finishedOn?: string;
}): InTotoStatement {
  return {
    _type: inTotoStatementType,
    subject: [subject],
    predicateType: slsaProvenanceType,
    predicate: {
      buildDefinition: {
        buildType: build.buildType,
        externalParameters: { passes: build.passes, runtime: build.runtime },
        internalParameters: { toolVersions: build.toolVersions },
        resolvedDependencies: [{ name: build.input.name, digest: { sha256: build.input.sha256 } }],
      },
      runDetails: {
        builder: { id: build.builderId, version: build.toolVersions },
        metadata: { ...(build.startedOn ? { startedOn: build.startedOn } : {}), ...(build.finishedOn ? { finishedOn: build.finishedOn } : {}) },
      },
    },
  };
}

/** in-toto test-result v0.1: the validation results, test by test. */
export function buildTestResultStatement(subject: InTotoSubject, result: { passed: string[]; failed: string[]; warned: string[]; configuration: Array<{ name: string; digest: Record<string, string> }>; url?: string }): InTotoStatement {
  return {
    _type: inTotoStatementType,
    subject: [subject],
    predicateType: testResultType,
    predicate: {
      result: result.failed.length > 0 ? "FAILED" : result.warned.length > 0 ? "WARNED" : "PASSED",
      configuration: result.configuration,
      ...(result.url ? { url: result.url } : {}),
      passedTests: result.passed,
      warnedTests: result.warned,
      failedTests: result.failed,
    },
  };
}

/** SLSA verification summary v1: the deployment approval. */
export function buildVerificationSummaryStatement(subject: InTotoSubject, summary: { verifierId: string; timeVerified: string; resourceUri: string; policy: { uri: string; digest: Record<string, string> }; inputAttestations: Array<{ uri: string; digest: Record<string, string> }>; passed: boolean }): InTotoStatement {
  return {
    _type: inTotoStatementType,
    subject: [subject],
    predicateType: verificationSummaryType,
    predicate: {
      verifier: { id: summary.verifierId },
      timeVerified: summary.timeVerified,
      resourceUri: summary.resourceUri,
      policy: summary.policy,
      inputAttestations: summary.inputAttestations,
      verificationResult: summary.passed ? "PASSED" : "FAILED",
      verifiedLevels: [],
    },
  };
}
