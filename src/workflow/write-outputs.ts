import { stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { copyFileAtomic, writeFileAtomic } from "../core/atomic-write.js";
import { fileError } from "../core/errors.js";
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

/**
 * The recommended artifact's files, copied under OUTDIR/recommended/ (a folder artifact, e.g. MLX, as
 * OUTDIR/recommended/NAME/); returns the main file's (or the folder's) new path.
 */
export async function copyRecommendedArtifact(files: readonly string[], mainPath: string, dir: string, signal?: AbortSignal): Promise<string> {
  let isFolder: boolean;
  try {
    isFolder = (await stat(mainPath)).isDirectory();
  } catch (error) {
    throw fileError(error, mainPath, "read");
  }
  const target = isFolder ? join(dir, "recommended", basename(mainPath)) : join(dir, "recommended");
  // A folder artifact's file list names the folder itself too (the cache lists every path it holds).
  for (const file of new Set(isFolder ? files.filter((path) => path !== mainPath) : [mainPath, ...files])) await copyFileAtomic(file, join(target, basename(file)), signal);
  return isFolder ? target : join(target, basename(mainPath));
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
