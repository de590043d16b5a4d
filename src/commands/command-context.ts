import type { SpeechflowConfig } from "../config/config-schema.js";

/** What a command that only reads state gets (status, clean, models, doctor): no events, no signal. */
export interface CommandContext {
  config: SpeechflowConfig;
  cwd: string;
  env: NodeJS.ProcessEnv;
}
