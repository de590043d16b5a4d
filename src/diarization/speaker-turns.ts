/** Who spoke when, in file time (ms), with labels SPEAKER_00, SPEAKER_01, ... */
export interface SpeakerTurn {
  start: number;
  end: number;
  speaker: string;
}

/** An engine's raw output: speaker ids of its own (channel number, cluster number). */
export interface RawTurn {
  start: number;
  end: number;
  speaker: number;
}

export interface SpeakerInfo {
  /** SPEAKER_00, ... */
  id: string;
  /** from --speaker-names, in the same order as the labels */
  name?: string;
  talkMs: number;
}

const label = (i: number) => `SPEAKER_${String(i).padStart(2, "0")}`;

/**
 * Labels in order of first appearance (the first voice heard is SPEAKER_00), whatever ids the engine
 * used; turns sorted by start, empty ones dropped.
 */
export function labelTurns(raw: RawTurn[]): SpeakerTurn[] {
  const sorted = raw.filter((t) => t.end > t.start).sort((a, b) => a.start - b.start || a.speaker - b.speaker);
  const labels = new Map<number, string>();
  for (const t of sorted) if (!labels.has(t.speaker)) labels.set(t.speaker, label(labels.size));
  return sorted.map((t) => ({ start: t.start, end: t.end, speaker: labels.get(t.speaker)! }));
}

/** Talk time per speaker (overlapping speech counts for each), in label order. */
export function speakerInfo(turns: SpeakerTurn[], names: string[]): SpeakerInfo[] {
  const talk = new Map<string, number>();
  for (const t of turns) talk.set(t.speaker, (talk.get(t.speaker) ?? 0) + (t.end - t.start));
  return [...talk.keys()].sort().map((id) => {
    const name = names[Number(id.slice("SPEAKER_".length))];
    return { id, ...(name ? { name } : {}), talkMs: talk.get(id)! };
  });
}

/** The name a speaker is shown under: its --speaker-names entry, else its label. */
export function displayName(speaker: string, names: string[]): string {
  return names[Number(speaker.slice("SPEAKER_".length))] || speaker;
}

/**
 * The speaker of a stretch of time: the one whose turns overlap it most; when none overlaps, the
 * nearest turn's (a segment in a gap the diarizer called silence still belongs to someone).
 */
export function speakerAt(turns: SpeakerTurn[], start: number, end: number): string | undefined {
  if (turns.length === 0) return undefined;
  const overlap = new Map<string, number>();
  for (const t of turns) {
    const o = Math.min(end, t.end) - Math.max(start, t.start);
    if (o > 0) overlap.set(t.speaker, (overlap.get(t.speaker) ?? 0) + o);
  }
  if (overlap.size > 0) return [...overlap.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]![0];
  const distance = (t: SpeakerTurn) => (t.end <= start ? start - t.end : t.start - end);
  return [...turns].sort((a, b) => distance(a) - distance(b) || a.start - b.start)[0]!.speaker;
}
