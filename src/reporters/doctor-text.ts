import type { ChalkInstance } from "chalk";
import type { DoctorReport } from "../commands/doctor-report.js";

/** `speechflow doctor` for people; `--json` prints the report itself. */
export function doctorText(report: DoctorReport, chalk: ChalkInstance): string {
  const lines = [
    `speechflow ${report.version} on Node ${report.node}`,
    ...report.checks.map((c) => `${c.ok ? chalk.green("✓") : chalk.red("✗")} ${c.name}: ${c.detail}`),
    ...report.models.map((m) => `    ${m.path} (${(m.sizeBytes / 1e6).toFixed(1)} MB)`),
    `  cpu: ${report.cpu.count} × ${report.cpu.model}; SIMD: ${report.cpu.simd.join(" ") || "none detected"}`,
  ];
  return lines.join("\n") + "\n";
}
