import type { SpeechflowEvent } from "../core/events.js";

/** Turns core events into output. The core never prints; the CLI picks one reporter. */
export interface Reporter {
  onEvent(event: SpeechflowEvent): void;
  /** called once at the end (also after a fatal error), to restore the terminal */
  close(): void;
}
