import { basename, join } from "node:path";
import { copyFileAtomic, writeFileAtomic } from "../core/atomic-write.js";
import { renderJunitXml } from "../reports/render-junit.js";
import { renderReportHtml } from "../reports/render-report-html.js";
import { renderReportMarkdown } from "../reports/render-report-markdown.js";
import type { Report } from "../reports/report.js";

export function outputPaths(dir: string): Omit<Report["outputs"], "recommendedArtifact"> {
  return {
    dir,
    reportJson: join(dir, "report.json"),
    reportMd: join(dir, "report.md"),
    reportHtml: join(dir, "report.html"),
    junitXml: join(dir, "junit.xml"),
  };
}

/** The recommended artifact's files, copied under OUTDIR/recommended/; returns the main file's new path. */
export async function copyRecommendedArtifact(files: readonly string[], mainPath: string, dir: string, signal?: AbortSignal): Promise<string> {
  const target = join(dir, "recommended");
  for (const file of new Set([mainPath, ...files])) await copyFileAtomic(file, join(target, basename(file)), signal);
  return join(target, basename(mainPath));
}

/** report.json (canonical), report.md, report.html, junit.xml and run.log, each written atomically. */
export async function writeReports(report: Report, runLog: string, signal?: AbortSignal): Promise<void> {
  const { outputs } = report;
  await writeFileAtomic(outputs.reportJson, `${JSON.stringify(report, null, 2)}\n`, signal);
  await writeFileAtomic(outputs.reportMd, renderReportMarkdown(report), signal);
  await writeFileAtomic(outputs.reportHtml, renderReportHtml(report), signal);
  await writeFileAtomic(outputs.junitXml, renderJunitXml(report), signal);
  await writeFileAtomic(join(outputs.dir, "run.log"), runLog, signal);
}
