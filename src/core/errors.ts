/**
 * One error type for the whole library. `code` is stable (documented, used by the CLI and by
 * callers), `hint` tells the user what to do next, `details` carries structured context.
 */
export const errorCodes = {
  FILE_NOT_FOUND: "a file or folder named by the user does not exist",
  FILE_READ_FAILED: "a file exists but could not be read",
  FILE_WRITE_FAILED: "an output could not be written",
  UNKNOWN_FORMAT: "the model format could not be recognised",
  WRONG_EXTENSION: "the file extension does not match its contents",
  EMPTY_FILE: "the file is empty",
  TRUNCATED_FILE: "the file ends before its declared contents",
  CORRUPT_MODEL: "the model's bytes do not decode",
  LIMIT_EXCEEDED: "a declared count or size is beyond what the file can hold",
  UNSAFE_PATH: "a path inside a model escapes the model's folder",
  UNSUPPORTED_OP: "the model uses an operator the step cannot handle",
  UNSUPPORTED_FEATURE: "the input uses a feature that is not supported",
  INVALID_OPTION: "an option or flag value is invalid",
  INVALID_CONFIG: "a configuration file does not match its schema",
  INVALID_SHAPE: "a shape override is malformed or does not fit the model",
  UNKNOWN_TARGET: "no target profile has that name",
  RUNTIME_UNAVAILABLE: "a runtime engine could not be loaded",
  RUNTIME_FAILED: "a runtime engine failed while loading or running a model",
  NOTHING_TO_DO: "the step found nothing to transform",
  OUTPUT_EQUALS_INPUT: "the output path would overwrite the input",
  OUTPUT_LOCKED: "another edgeforge run is writing into the same output folder",
  DATASET_INVALID: "a calibration or evaluation dataset is empty or malformed",
  MEASUREMENT_FAILED: "a measurement could not be completed",
  ACCURACY_TARGET_NOT_MET: "no quantized variant meets the accuracy target (maxDrop)",
  INVALID_INPUT: "an inference input has the wrong name, dtype, shape, size or values",
  KEY_INVALID: "a key file is not a supported signing key (ECDSA P-256, P-384 or P-521, PEM)",
  SIGNATURE_MALFORMED: "a signature file is not a well-formed OMS Sigstore bundle",
  SIGNATURE_KEY_MISMATCH: "the signature was made with a different key than the one given",
  SIGNATURE_INVALID: "the signature does not match the signed statement (statement or signature edited)",
  SIGNATURE_FOR_OTHER_MODEL: "the signature describes a different model (no signed file matches)",
  SIGNED_FILE_CHANGED: "a signed model file's bytes differ from the signed digest",
  SIGNED_FILE_MISSING: "a signed model file is missing",
  UNSIGNED_FILE_PRESENT: "the model folder holds a file the signature does not cover",
  REGISTRY_CORRUPT: "the registry file is not a readable edgeforge SQLite registry",
  REGISTRY_NOT_FOUND: "no model, version, alias or artifact in the registry has that name",
  REGISTRY_CONFLICT: "the registry already holds a different record under that name",
  MODEL_NOT_FOUND: "no served model has that name or version",
  MODEL_NOT_READY: "the served model is loading, restarting or unloaded",
  SERVER_BUSY: "the model's request queue is full",
  DEADLINE_EXCEEDED: "the request did not finish before its deadline",
  UNAUTHORIZED: "the request lacks a valid bearer token",
  CERTIFICATE_MISMATCH: "the certification (or its signature) describes a different artifact",
  NOT_APPROVED: "the certification did not approve the artifact for deployment",
  BUDGET_EXCEEDED: "a deployment package is over its size or memory budget",
  SERVER_UNREACHABLE: "the server at the given URL did not answer, or answered with an error",
  INTERNAL: "an unexpected internal failure",
} as const;

export type ErrorCode = keyof typeof errorCodes;

const marker = Symbol.for("edgeforge.error");

export interface EdgeforgeErrorOptions {
  hint?: string;
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class EdgeforgeError extends Error {
  readonly [marker] = true;
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: EdgeforgeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "EdgeforgeError";
    this.code = code;
    this.hint = options.hint;
    this.details = options.details ?? {};
  }

  /** Works across module copies (two installed versions), unlike `instanceof`. */
  static isInstance(value: unknown): value is EdgeforgeError {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, hint: this.hint, details: this.details };
  }
}

/** Wrap a Node fs error about `path` into the library's error type. */
export function fileError(error: unknown, path: string, action: "read" | "write"): EdgeforgeError {
  if (EdgeforgeError.isInstance(error)) return error;
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  if (errno === "ENOENT") {
    return new EdgeforgeError("FILE_NOT_FOUND", `no such file: ${path}`, {
      hint: "check the path; relative paths are resolved from the current directory",
      details: { path },
      cause: error,
    });
  }
  if (action === "read") {
    return new EdgeforgeError("FILE_READ_FAILED", `cannot read ${path}: ${errno ?? String(error)}`, {
      hint: errno === "EISDIR" ? "pass a file, not a folder" : "check the file's permissions",
      details: { path, errno },
      cause: error,
    });
  }
  return new EdgeforgeError("FILE_WRITE_FAILED", `cannot write ${path}: ${errno ?? String(error)}`, {
    hint: "check that the folder exists, is writable and has free space",
    details: { path, errno },
    cause: error,
  });
}
