import { describeGateResult } from "../gates/describe-gate-result.js";
import type { Report } from "./report.js";
import { candidateById, describePasses } from "./report-format.js";

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c] as string);
}

/**
 * junit.xml: one test case per gate, judged on the recommended candidate (or, when none passes,
 * on the closest one), so CI systems show gate failures like failing tests.
 */
export function renderJunitXml(report: Report): string {
  const judgedId = report.recommendation.candidateId ?? report.gates.closest?.candidateId;
  const verdict = report.gates.verdicts.find((v) => v.candidateId === judgedId);
  const candidate = candidateById(report, judgedId);
  const results = verdict?.results ?? [];
  const failures = results.filter((r) => !r.passed).length;
  const suiteName = `edgeforge quality gates: ${judgedId ?? "no candidate"}`;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="edgeforge" tests="${Math.max(1, results.length)}" failures="${verdict ? failures : 1}" time="${(report.durationMs / 1000).toFixed(3)}">`,
    `  <testsuite name="${escapeXml(suiteName)}" tests="${Math.max(1, results.length)}" failures="${verdict ? failures : 1}" errors="0" skipped="0" timestamp="${escapeXml(report.createdAt)}">`,
    "    <properties>",
    `      <property name="input" value="${escapeXml(report.input.path)}"/>`,
    `      <property name="target" value="${escapeXml(report.target.name)}"/>`,
    `      <property name="candidate" value="${escapeXml(candidate ? `${candidate.id}: ${describePasses(candidate)}` : "none")}"/>`,
    `      <property name="verdict" value="${report.verdict}"/>`,
    "    </properties>",
  ];
  if (!verdict) {
    lines.push(
      '    <testcase classname="edgeforge.gates" name="candidates">',
      `      <failure message="no candidate was measured">${escapeXml(report.recommendation.reasons.join("\n"))}</failure>`,
      "    </testcase>",
    );
  }
  for (const result of results) {
    const text = describeGateResult(result);
    lines.push(`    <testcase classname="edgeforge.gates" name="${escapeXml(result.gate)}">`);
    if (!result.passed) lines.push(`      <failure message="${escapeXml(text)}" type="${result.goal}">${escapeXml(`${result.requirement}\n${text}`)}</failure>`);
    else lines.push(`      <system-out>${escapeXml(text)}</system-out>`);
    lines.push("    </testcase>");
  }
  lines.push("  </testsuite>", "</testsuites>", "");
  return lines.join("\n");
}
