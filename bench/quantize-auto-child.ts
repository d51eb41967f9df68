/**
 * One arm of bench:quantize-auto: loads `quantize` from the source tree given as argv[2] (this
 * checkout, or a baseline's extracted src/) and runs `auto` on request, sending each progress call
 * (with its time) and then the wall time and outcome. Run with `node --import tsx`; talks over IPC.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { quantize as Quantize } from "../src/api/quantize.js";

interface Request {
  modelPath: string;
  calibration: string;
  outputPath: string;
  passOptions: Record<string, unknown>;
}

const root = process.argv[2]!;
const { quantize } = (await import(pathToFileURL(join(root, "src/api/quantize.ts")).href)) as { quantize: typeof Quantize };

process.on("message", (request: Request) => {
  void (async () => {
    const start = process.hrtime.bigint();
    const cpuAtStart = process.cpuUsage();
    const elapsedMs = () => Number(process.hrtime.bigint() - start) / 1e6;
    const send = (line: string) => process.send!({ progress: { atMs: elapsedMs(), line } });
    const report = await quantize(request.modelPath, {
      method: "auto",
      output: request.outputPath,
      calibration: request.calibration,
      passOptions: request.passOptions,
      progress: {
        start: (label, total) => send(`${label} (${total})`),
        update: (done, note) => send(`  ${done}${note ? ` ${note}` : ""}`),
        finish: (note) => send(`  done${note ? ` ${note}` : ""}`),
      },
    });
    const cpu = process.cpuUsage(cpuAtStart);
    process.send!({
      durationMs: elapsedMs(),
      cpuMs: (cpu.user + cpu.system) / 1000,
      evaluations: report.log.counts.evaluations,
      nodesKeptFloat: report.log.counts.nodesKeptFloat,
      outcome: report.log.notes.find((n) => n.startsWith("metric ")),
    });
  })().catch((error: unknown) => process.send!({ error: error instanceof Error ? error.message : String(error) }));
});
process.send!({ ready: true });
