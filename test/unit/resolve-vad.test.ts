import { describe, expect, it } from "vitest";
import { resolveVad } from "../../src/chunking/resolve-vad.js";

const loads = () => ({ model: "/m/silero_vad.onnx" });
const fails = () => ({ problem: "sherpa-onnx cannot load Silero's model (bad file)" });

describe("resolveVad", () => {
  it("auto: Silero when it loads, else the energy VAD with the reason", () => {
    expect(resolveVad("auto", loads)).toEqual({ kind: "silero", model: "/m/silero_vad.onnx", why: "vad auto, and Silero's model loads" });
    expect(resolveVad("auto", fails)).toEqual({
      kind: "energy",
      why: "sherpa-onnx cannot load Silero's model (bad file): using the energy VAD (--vad auto)",
    });
  });

  it("silero: an error that names the cause when it does not load", () => {
    expect(resolveVad("silero", loads).kind).toBe("silero");
    expect(() => resolveVad("silero", fails)).toThrow(expect.objectContaining({ code: "VAD_UNAVAILABLE", message: expect.stringMatching(/bad file/) }));
  });

  it("energy: never looks for Silero", () => {
    expect(resolveVad("energy", () => expect.unreachable())).toEqual({ kind: "energy", why: "vad set to energy" });
  });
});
