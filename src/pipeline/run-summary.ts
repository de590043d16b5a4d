import type { SpeechflowEvent } from "../core/events.js";

/** The run-end event's totals; a returned run is never "failed" (that one throws). */
export type RunSummary = Omit<Extract<SpeechflowEvent, { type: "run-end" }>, "type" | "status"> & { status: "completed" | "interrupted" };
