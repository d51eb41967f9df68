import { parse as parseYaml } from "yaml";
import { EdgeforgeError } from "./errors.js";

/** YAML or JSON text (JSON is YAML) of a user's file; a syntax error is INVALID_CONFIG naming the file and the first line of the parser's message. */
export function parseConfigText(text: string, where: string, hint = "check indentation and quoting"): unknown {
  try {
    return parseYaml(text);
  } catch (error) {
    const message = error instanceof Error ? (error.message.split("\n")[0] ?? error.message) : String(error);
    throw new EdgeforgeError("INVALID_CONFIG", `${where} is not valid YAML or JSON: ${message}`, { hint, details: { where }, cause: error });
  }
}
