import type { CatalogEntry } from "../models/model-catalog.js";

/**
 * The published diarization models `speechflow models pull-diarization` fetches: sherpa-onnx's ONNX
 * exports, pinned by SHA-256 (the same digests are pinned by other projects that ship them). Saved
 * as `<name>.onnx` in the models folder, where --diarization-*-model finds them by name.
 */
export interface DiarizationCatalogEntry extends CatalogEntry {
  role: "segmentation" | "embedding";
  licence: string;
  source: string;
}

const entry = (e: Omit<DiarizationCatalogEntry, "sha1" | "fileName"> & { sha256: string }): DiarizationCatalogEntry => ({
  ...e,
  sha1: "",
  fileName: `${e.name}.onnx`,
});

export const DIARIZATION_MODELS: DiarizationCatalogEntry[] = [
  entry({
    name: "pyannote-segmentation-3.0",
    role: "segmentation",
    sizeMiB: 6,
    // the model.onnx inside sherpa-onnx's speaker-segmentation-models release archive
    url: "https://huggingface.co/csukuangfj/sherpa-onnx-pyannote-segmentation-3-0/resolve/main/model.onnx",
    sha256: "220ad67ca923bef2fa91f2390c786097bf305bceb5e261d4af67b38e938e1079",
    licence: "MIT (pyannote.audio segmentation-3.0)",
    source: "k2-fsa/sherpa-onnx release speaker-segmentation-models, sherpa-onnx-pyannote-segmentation-3-0",
  }),
  entry({
    name: "nemo-titanet-small",
    role: "embedding",
    sizeMiB: 38,
    url: "https://github.com/k2-fsa/sherpa-onnx/releases/download/speaker-recongition-models/nemo_en_titanet_small.onnx",
    sha256: "ad4a1802485d8b34c722d2a9d04249662f2ece5d28a7a039063ca22f515a789e",
    licence: "CC-BY-4.0 (NVIDIA NeMo TitaNet-small)",
    source: "k2-fsa/sherpa-onnx release speaker-recongition-models, nemo_en_titanet_small.onnx",
  }),
];
