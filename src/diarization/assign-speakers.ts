import type { Transcript } from "../outputs/transcript.js";
import { displayName, type SpeakerTurn, speakerAt, speakerInfo } from "./speaker-turns.js";

/** The transcript with a speaker on every segment and word (names when given) and the speakers' talk time. */
export function assignSpeakers(transcript: Transcript, turns: SpeakerTurn[], names: string[]): Transcript {
  const named = (id: string | undefined) => (id === undefined ? undefined : displayName(id, names));
  const segments = transcript.segments.map((segment) => {
    const speaker = named(speakerAt(turns, segment.start, segment.end));
    const words = segment.words?.map((w) => {
      const who = named(speakerAt(turns, w.start, Math.max(w.end, w.start + 1)));
      return who ? { ...w, speaker: who } : w;
    });
    return { ...segment, ...(speaker ? { speaker } : {}), ...(words ? { words } : {}) };
  });
  return { ...transcript, segments, speakers: speakerInfo(turns, names) };
}
