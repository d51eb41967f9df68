/** Documented in docs/cli.md; CI scripts depend on them, so they never change meaning. */
export const exitCodes = {
  ok: 0,
  /** A typed failure: bad input, missing file, runtime unavailable… (`error[CODE]` on stderr). */
  error: 1,
  /** The command line itself was wrong: unknown flag, missing argument, bad option value. */
  usage: 2,
  /** The run completed but no candidate passed the quality gates. */
  gatesFailed: 3,
  /** Some measurements failed while others completed (bench with a crashing artifact). */
  partialFailure: 4,
  /** An unexpected internal failure (a bug: please report it). */
  internal: 70,
  /** Stopped by SIGINT (Ctrl-C) or SIGTERM: 128 + the signal number, as shells report it. */
  interrupted: 130,
  terminated: 143,
} as const;
