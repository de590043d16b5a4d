import { describe, expect, it } from "vitest";
import { engineBuildDetail } from "../../src/commands/doctor-report.js";

describe("engineBuildDetail (doctor's engine line)", () => {
  it("names the build and its flags", () => {
    expect(engineBuildDetail({ mode: "native", flags: "BYOL libwhisper.a, -march=native, OpenMP, OpenBLAS", missingPatches: [] })).toBe(
      "native [BYOL libwhisper.a, -march=native, OpenMP, OpenBLAS]",
    );
  });

  it("says how to get OpenBLAS when the native build went without it", () => {
    const detail = engineBuildDetail({ mode: "native", flags: "BYOL libwhisper.a, -march=native, OpenMP" });
    expect(detail).toMatch(/without OpenBLAS: install libopenblas-dev and pkg-config, then npm rebuild speechflow/);
  });

  it("does not suggest OpenBLAS for builds that do not use it (cuda, portable)", () => {
    expect(engineBuildDetail({ mode: "cuda", flags: "BYOL libwhisper.a, GGML_CUDA, OpenMP" })).not.toMatch(/OpenBLAS/);
    expect(engineBuildDetail({ mode: "portable", flags: "node-gyp defaults, no SIMD flags" })).not.toMatch(/OpenBLAS/);
  });

  it("lists source patches that could not be applied", () => {
    expect(engineBuildDetail({ mode: "march", missingPatches: ["src/binding/transcribe.cc: sf_release_state"] })).toBe(
      "march; NOT patched (smart-whisper changed?): src/binding/transcribe.cc: sf_release_state",
    );
  });
});
