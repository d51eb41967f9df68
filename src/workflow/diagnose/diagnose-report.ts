import type { Report } from "../../reports/report.js";
import { diagnose } from "./diagnose-rules.js";
import type { Diagnosis } from "./diagnosis.js";
import { diagnosisInputFromReport } from "./diagnosis-input.js";

/** The troubleshooter over one optimize report. */
export function diagnoseReport(report: Report, source: string): Diagnosis {
  return diagnose(diagnosisInputFromReport(report, source));
}
