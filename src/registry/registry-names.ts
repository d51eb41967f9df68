import { EdgeforgeError } from "../core/errors.js";

const namePattern = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/;
const aliasPattern = /^[A-Za-z][A-Za-z0-9._-]{0,63}$/;

/** Model names and versions: letters, digits, . _ / - (up to 128 characters); they appear in paths and URLs. */
export function checkName(kind: "model name" | "version", value: string): void {
  if (!namePattern.test(value)) throw new EdgeforgeError("INVALID_OPTION", `${kind} "${value}" is not allowed`, { hint: "use letters, digits, . _ / - (up to 128 characters)" });
}

/** Aliases start with a letter, so `name@alias` never reads as a version number. */
export function checkAlias(alias: string): void {
  if (!aliasPattern.test(alias)) throw new EdgeforgeError("INVALID_OPTION", `alias "${alias}" is not allowed`, { hint: "an alias starts with a letter: letters, digits, . _ -" });
}
