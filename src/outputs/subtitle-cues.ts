import type { Segment } from "./transcript.js";

export interface Cue {
  start: number;
  end: number;
  lines: string[];
  /** with diarization: the segment's speaker */
  speaker?: string;
}

/** Greedy word wrap; a word longer than the width gets a line of its own. */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (!line) line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/**
 * Subtitle cues of at most two lines of `width` characters. A longer segment is split into
 * several cues, its time shared out in proportion to their characters.
 */
export function segmentsToCues(segments: Segment[], width: number): Cue[] {
  const cues: Cue[] = [];
  for (const segment of segments) {
    // newlines inside text would end a cue early in both formats
    const lines = wrapText(segment.text.replace(/\s+/g, " "), width);
    const groups: string[][] = [];
    for (let i = 0; i < lines.length; i += 2) groups.push(lines.slice(i, i + 2));
    const total = groups.reduce((n, g) => n + g.join(" ").length, 0) || 1;
    let at = segment.start;
    groups.forEach((group, i) => {
      const share = ((segment.end - segment.start) * group.join(" ").length) / total;
      const end = i === groups.length - 1 ? segment.end : Math.round(at + share);
      cues.push({
        start: Math.round(at),
        end: Math.max(Math.round(at), end),
        lines: group,
        ...(segment.speaker !== undefined ? { speaker: segment.speaker } : {}),
      });
      at = end;
    });
  }
  return cues;
}
