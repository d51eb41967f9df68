import { formatBytes, formatMs } from "../core/units.js";
import { metricInfo, type MetricName } from "./metric-catalog.js";

/** A metric value for people: bytes as KiB/MiB, times in ms/µs, ratios as plain numbers. */
export function formatMetricValue(metric: MetricName, value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return "—";
  switch (metricInfo(metric).unit) {
    case "bytes":
      return formatBytes(value);
    case "ms":
      return formatMs(value);
    case "ratio":
      return Math.abs(value) >= 100 ? value.toFixed(1) : String(Number(value.toPrecision(4)));
    case "joules":
      return `${value.toPrecision(3)} J`;
    case "per-second":
      return `${value.toPrecision(4)}/s`;
    case "tokens-per-second":
      return `${value.toPrecision(4)} tok/s`;
    case "nats":
      return value.toExponential(3);
    case "count":
      return String(Math.round(value));
  }
}
