import type { Logger } from "../core/logger.js";

export interface RunLogEntry {
  atMs: number;
  level: "info" | "warn";
  message: string;
}

/** The run's own log: every line goes to the caller's logger and into report.json / run.log. */
export class RunLog {
  readonly entries: RunLogEntry[] = [];
  private readonly startedAt: number;

  constructor(
    private readonly logger: Logger,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.startedAt = clock();
  }

  info(message: string): void {
    this.entries.push({ atMs: this.elapsedMs(), level: "info", message });
    this.logger.info(message);
  }

  warn(message: string): void {
    this.entries.push({ atMs: this.elapsedMs(), level: "warn", message });
    this.logger.warn(message);
  }

  elapsedMs(): number {
    return this.clock() - this.startedAt;
  }

  render(): string {
    return this.entries.map((e) => `${(e.atMs / 1000).toFixed(2).padStart(8)}s ${e.level === "warn" ? "warning: " : ""}${e.message}`).join("\n") + "\n";
  }
}
