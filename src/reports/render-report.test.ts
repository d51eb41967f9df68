import { describe, expect, it } from "vitest";
import { buildSampleReport } from "../../test/fixtures/sample-report.js";
import { parseReport } from "./read-report.js";
import { reportSchema } from "./report.js";
import { renderJunitXml } from "./render-junit.js";
import { renderReportHtml } from "./render-report-html.js";
import { renderReportMarkdown } from "./render-report-markdown.js";

describe("report schema", () => {
  it("accepts a complete report and round-trips through JSON", () => {
    const report = buildSampleReport({ passing: true });
    expect(reportSchema.parse(report)).toBeTruthy();
    expect(parseReport(JSON.stringify(report), "r.json").candidates).toHaveLength(4);
  });

  it("rejects a foreign document and another schema version with INVALID_CONFIG", () => {
    expect(() => parseReport("{}", "r.json")).toThrow(/not an edgeforge optimize report/);
    expect(() => parseReport(JSON.stringify({ ...buildSampleReport({ passing: true }), schemaVersion: 9 }), "r.json")).toThrow(/schemaVersion 9/);
    expect(() => parseReport("not json", "r.json")).toThrow(/not JSON/);
  });
});

describe("renderReportMarkdown", () => {
  it("leads with the verdict and the recommendation, then gates and candidates", () => {
    const md = renderReportMarkdown(buildSampleReport({ passing: true }));
    expect(md).toContain("✅ **onnx.quantize.int8-dynamic** passes every quality gate");
    expect(md).toContain("**Recommended:** `int8-dynamic`");
    expect(md).toMatch(/\| speed-up \| speedup >= 2 \| 2\.4 \| 1 \| >= 2 \| 0\.4 \| ✅ pass \|/);
    expect(md).toContain("| ⭐ `int8-dynamic` |");
    expect(md).toContain("(est.)");
  });

  it("describes the judged candidate's measurement, not the input model's (measured alone)", () => {
    const report = buildSampleReport({ passing: true });
    const judged = report.candidates.find((c) => c.id === report.recommendation.candidateId)!;
    report.candidates[0]!.measurement = { ...report.candidates[0]!.measurement!, isolation: "side by side: 1 arm in their own processes" };
    judged.measurement = { ...judged.measurement!, isolation: "side by side: 3 arms in their own processes" };
    const md = renderReportMarkdown(report);
    expect(md).toMatch(/- Timing: .*3 arms in their own processes/);
    expect(renderReportHtml(report)).toContain("3 arms in their own processes");
  });

  it("names the closest candidate and what it missed when nothing passes", () => {
    const md = renderReportMarkdown(buildSampleReport({ passing: false }));
    expect(md).toContain("❌ **no candidate passed the quality gates**");
    expect(md).toContain("**Closest candidate:** `int8-dynamic`");
    expect(md).toContain("speed-up: speedup 1.6 (needs >= 2): missed by 0.4 (20.0%)");
  });
});

describe("renderJunitXml", () => {
  it("writes one test case per gate, failures for missed gates", () => {
    const xml = renderJunitXml(buildSampleReport({ passing: false }));
    expect(xml.match(/<testcase /g)).toHaveLength(3);
    expect(xml.match(/<failure /g)).toHaveLength(1);
    expect(xml).toContain('failures="1"');
    expect(xml).toContain('name="speed-up"');
    expect(xml).not.toMatch(/&(?!amp;|lt;|gt;|quot;|apos;)/);
  });
});

describe("renderReportHtml", () => {
  it("is one self-contained file that escapes text and embeds its data safely", () => {
    const html = renderReportHtml(buildSampleReport({ passing: true }));
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
    expect(html).not.toContain("<script>alert(1)</script>");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain("default-src 'none'");
    const data = /<script type="application\/json" id="report-data">([^<]*)<\/script>/.exec(html);
    expect(JSON.parse(data?.[1] ?? "null").candidates).toHaveLength(4);
    expect(html).toContain("40 timed runs after 5 warm-up, 2 threads");
  });
});
