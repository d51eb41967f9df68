import { readFile } from "node:fs/promises";
import { z } from "zod";
import { EdgeforgeError, fileError } from "../core/errors.js";
import { reportSchema, reportSchemaVersion, type Report } from "./report.js";

/** Validate a report.json document; a newer or foreign document is named as such, not half-read. */
export function parseReport(text: string, where: string): Report {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new EdgeforgeError("INVALID_CONFIG", `${where} is not JSON: ${(error as Error).message}`, {
      hint: "pass the report.json written by `edgeforge optimize` or `edgeforge run`",
      details: { where },
      cause: error,
    });
  }
  const version = (document as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (typeof version === "number" && version !== reportSchemaVersion) {
    throw new EdgeforgeError("INVALID_CONFIG", `${where} has report schemaVersion ${version}; this edgeforge reads ${reportSchemaVersion}`, {
      hint: "use the edgeforge version that wrote the report",
      details: { where, schemaVersion: version },
    });
  }
  const result = reportSchema.safeParse(document);
  if (!result.success) {
    throw new EdgeforgeError("INVALID_CONFIG", `${where} is not an edgeforge optimize report:\n${z.prettifyError(result.error)}`, {
      hint: "pass the report.json written by `edgeforge optimize` or `edgeforge run`",
      details: { where, issues: result.error.issues.slice(0, 20) },
    });
  }
  return result.data;
}

export async function readReport(path: string, signal?: AbortSignal): Promise<Report> {
  let text: string;
  try {
    text = await readFile(path, { encoding: "utf8", signal });
  } catch (error) {
    throw fileError(error, path, "read");
  }
  return parseReport(text, path);
}
