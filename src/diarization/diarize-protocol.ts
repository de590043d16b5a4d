/** Messages between ModelDiarizer (parent) and its diarize-worker process, over Node's IPC channel. */

/** sherpa-onnx-node's OfflineSpeakerDiarizationConfig, as the parent builds it (model-diarizer.ts). */
export interface SherpaDiarizationConfig {
  segmentation: { pyannote: { model: string }; numThreads: number };
  embedding: { model: string; numThreads: number };
  /** numClusters > 0 fixes the speaker count; otherwise clusters are cut at `threshold` */
  clustering: { numClusters: number; threshold: number };
  minDurationOn: number;
  minDurationOff: number;
}

/** A speaker turn in seconds from the start of the audio. */
export interface SpeakerTurn {
  start: number;
  end: number;
  speaker: number;
}

export type ToDiarizeWorker =
  | { type: "load"; config: SherpaDiarizationConfig }
  /** samples: 16 kHz mono in [-1, 1] */
  | { type: "diarize"; id: number; samples: Float32Array }
  | { type: "shutdown" };

export type FromDiarizeWorker =
  | { type: "ready"; sampleRate: number; loadMs: number }
  | { type: "load-error"; message: string }
  /** sherpa reports progress once per speaker embedding, after segmentation has run */
  | { type: "progress"; id: number; done: number; total: number }
  | { type: "result"; id: number; turns: SpeakerTurn[]; elapsedMs: number }
  | { type: "error"; id: number; message: string };

/** The worker's exit code when sherpa-onnx failed inside its native code during a diarization. */
export const NATIVE_FAILURE_EXIT_CODE = 70;
