import { z } from "zod";
import { EdgeforgeError } from "../core/errors.js";

/**
 * A raw request body (the server keeps bodies as bytes) parsed as JSON and validated; 400 with `hint`
 * otherwise. With `emptyIsObject`, a missing or empty body reads as `{}` (actions whose fields are all optional).
 */
export function parseJsonBody<T extends z.ZodType>(schema: T, body: unknown, hint: string, emptyIsObject = false): z.infer<T> {
  let json: unknown;
  const text = Buffer.isBuffer(body) ? body.toString("utf8") : "";
  try {
    json = emptyIsObject && text.trim() === "" ? {} : JSON.parse(text);
  } catch (error) {
    throw new EdgeforgeError("INVALID_OPTION", `the request body is not valid JSON: ${(error as Error).message}`, { hint: "send a JSON object" });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new EdgeforgeError("INVALID_OPTION", `invalid request: ${z.prettifyError(parsed.error)}`, { hint, details: { issues: parsed.error.issues } });
  return parsed.data;
}
