import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderReportHtml } from "../../src/reports/render-report-html.js";
import { buildSampleReport } from "../fixtures/sample-report.js";
import { openReportInChromium } from "../fixtures/open-report-in-chromium.js";
import { useTempDir } from "../fixtures/temp-dir.js";

describe("report.html in headless Chromium", () => {
  const temp = useTempDir("html-");

  for (const passing of [true, false]) {
    it(`draws both charts with no console errors and no requests (${passing ? "passing" : "failing"} run)`, async () => {
      const report = buildSampleReport({ passing });
      const htmlPath = temp.join(`report-${passing}.html`);
      await writeFile(htmlPath, renderReportHtml(report));
      const check = await openReportInChromium(htmlPath, join("test-output", `report-sample-${passing ? "passing" : "failing"}.png`));
      expect(check.consoleErrors).toEqual([]);
      expect(check.requests).toEqual([]);
      expect(check.chartsDrawn).toBe("drawn");
      expect(check.paretoPoints).toBe(report.candidates.length);
      expect(check.latencyBoxes).toBe(report.candidates.length);
    });
  }

  it("keeps a crowded scatter legible: every point inside the frame, no label collisions, unique short labels, a scrolling table", async () => {
    const report = buildSampleReport({ passing: true, crowded: true });
    const htmlPath = temp.join("report-crowded.html");
    await writeFile(htmlPath, renderReportHtml(report));
    const check = await openReportInChromium(htmlPath, join("test-output", "report-sample-crowded.png"));
    expect(check.consoleErrors).toEqual([]);
    expect(check.paretoPoints).toBe(report.candidates.length);
    expect(check.pointsOutsideFrame).toBe(0);
    expect(check.labelOverlaps).toBe(0);
    expect(check.labelsOutsideFrame).toBe(0);
    expect(check.labels.length).toBeGreaterThan(1);
    expect(new Set(check.labels).size).toBe(check.labels.length);
    expect(check.tableScrolls).toBe(true);
  });
});
