/**
 * The library never prints: it reports through these interfaces, and the CLI decides where
 * the words go (stderr for humans). Defaults are silent.
 */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
}

export interface Progress {
  /** Start or restart a task with a known total (units: whatever the task counts). */
  start(label: string, total: number): void;
  update(done: number, note?: string): void;
  finish(note?: string): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, debug() {} };
export const silentProgress: Progress = { start() {}, update() {}, finish() {} };

export interface Reporter {
  logger?: Logger;
  progress?: Progress;
  signal?: AbortSignal;
}
