import type { z } from "zod";
import { EdgeforgeError } from "../core/errors.js";

type Issue = z.core.$ZodIssue;

function allowedValues(issue: Issue): unknown[] | undefined {
  if (issue.code === "invalid_value") return [...issue.values];
  if (issue.code !== "invalid_union") return undefined;
  const values = issue.errors.map((branch) => (branch.length === 1 && branch[0]?.code === "invalid_value" ? branch[0].values : undefined));
  return values.every((v) => v !== undefined) ? values.flat() : undefined;
}

function valueAt(options: Record<string, unknown>, path: readonly PropertyKey[]): unknown {
  let value: unknown = options;
  for (const key of path) value = typeof value === "object" && value !== null ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  return value;
}

/** One schema issue in words a user can act on: "blockSize must be one of 16, 32, 64, 128 (got 7)". */
export function describeOptionIssue(issue: Issue, options: Record<string, unknown>): string {
  const name = issue.path.map(String).join(".") || "options";
  const got = valueAt(options, issue.path);
  const shown = got === undefined ? "" : ` (got ${JSON.stringify(got)})`;
  const allowed = allowedValues(issue);
  if (allowed) return `${name} must be one of ${allowed.map((v) => JSON.stringify(v)).join(", ")}${shown}`;
  return `${name}: ${issue.message.replace(/^Invalid input: /, "")}${shown}`;
}

/**
 * Validate options for one pass before any work: the schema's own message for the first bad
 * value, and unknown option names refused (a misspelt option must not be silently ignored).
 */
export function checkPassOptions<Options>(schema: z.ZodType<Options>, options: Record<string, unknown>, label: string, hint: string): Options {
  const parsed = schema.safeParse(options);
  if (!parsed.success) {
    const issues = parsed.error.issues;
    throw new EdgeforgeError("INVALID_OPTION", `invalid ${label} option: ${issues.map((issue) => describeOptionIssue(issue, options)).join("; ")}`, {
      hint,
      details: { issues },
    });
  }
  const unknown = Object.keys(options).filter((key) => !(key in (parsed.data as object)));
  if (unknown.length > 0) {
    const known = typeof parsed.data === "object" && parsed.data !== null ? Object.keys(parsed.data) : [];
    throw new EdgeforgeError("INVALID_OPTION", `option ${unknown.join(", ")} does not apply to ${label}`, {
      hint: `${label} options: ${known.join(", ")}`,
      details: { unknown, known },
    });
  }
  return parsed.data;
}
