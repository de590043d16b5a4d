import type { ModelsListResult } from "../commands/models.js";

/** `speechflow models list` for people: one line per model, ✓ when it is downloaded. */
export function modelsText(result: ModelsListResult): string {
  const rows = result.models;
  const width = Math.max(...rows.map((r) => r.name.length));
  const lines = rows.map((r) => {
    const size = r.sizeBytes !== undefined ? `${(r.sizeBytes / 1048576).toFixed(0)} MiB` : `${r.sizeMiB} MiB`;
    return `${r.present ? "✓" : " "} ${r.name.padEnd(width)}  ${size.padStart(9)}  ${r.path ?? "(not downloaded)"}${r.known ? "" : "  (added)"}`;
  });
  return `models folder: ${result.dir}\n${lines.join("\n")}\n`;
}

export function pulledModelText(result: { path: string; bytes: number; sha1: string; resumed: boolean }): string {
  return `${result.path} (${(result.bytes / 1048576).toFixed(1)} MiB, SHA-1 ${result.sha1}${result.resumed ? ", resumed" : ""})\n`;
}

export function pulledDiarizationText(pulled: { name: string; role: string; path: string; bytes: number; resumed: boolean; licence: string }[]): string {
  return pulled
    .map(
      (p) =>
        `${p.role}: ${p.name} -> ${p.path} (${(p.bytes / 1048576).toFixed(1)} MiB, SHA-256 checked${p.resumed ? ", resumed" : ""}; licence ${p.licence})\n`,
    )
    .join("");
}
