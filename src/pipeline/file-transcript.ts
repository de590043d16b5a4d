import type { SpeechflowConfig } from "../config/config-schema.js";
import { assignSpeakers } from "../diarization/assign-speakers.js";
import { SAMPLE_RATE } from "../media/ffmpeg-gateway.js";
import { assembleTranscript, type Transcript } from "../outputs/transcript.js";
import type { StateStore } from "../store/state-store.js";
import type { TrackedFile } from "../store/tracked-file.js";

/**
 * A file's transcript as every output sees it: the stored chunks assembled on the file's timeline,
 * with speakers from its stored diarization when diarization is on. The one place outputs,
 * summaries and PDFs get it from, so they always agree.
 */
export function fileTranscript(store: StateStore, file: TrackedFile, config: SpeechflowConfig, options: { words: boolean }): Transcript {
  const transcript = assembleTranscript(store.chunks.doneInOrder(file.id), { sampleRate: SAMPLE_RATE, words: options.words });
  const diarization = config.diarize === "off" ? undefined : store.diarizations.get(file.id);
  return diarization ? assignSpeakers(transcript, diarization.turns, config.speakerNames) : transcript;
}
