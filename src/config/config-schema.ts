import { z } from "zod";

/**
 * The single source of every setting: defaults, validation, CLI flags (src/cli), environment
 * variables, speechflow.config.example.json and the README table (npm run gen:docs; a test fails
 * when those files drift from this schema).
 *
 * Keys are flat so that each maps to exactly one flag (`maxChunkSeconds` -> `--max-chunk-seconds`)
 * and one environment variable (`SPEECHFLOW_MAX_CHUNK_SECONDS`).
 */
/** where published whisper.cpp models are downloaded from (modelBaseUrl's default) */
const DEFAULT_MODEL_BASE_URL = "https://huggingface.co/ggerganov/whisper.cpp/resolve/main";

/** remote services known by name (src/remote/remote-presets.ts holds their settings) */
export const REMOTE_PRESET_NAMES = ["groq", "openai", "whisper-server", "speaches", "vllm"] as const;

export const FORMATS = ["txt", "srt", "vtt", "json"] as const;
export type OutputFormat = (typeof FORMATS)[number];

/** "auto" or a whole number; flags and env give strings, so digit strings become numbers */
const layoutSetting = (min: number, max: number) =>
  z.preprocess(
    (value) => (typeof value === "string" && /^\s*\d+\s*$/.test(value) ? Number(value) : value),
    z.union([z.literal("auto"), z.number().int().min(min).max(max)], { error: `expected "auto" or a whole number from ${min} to ${max}` }),
  );
const deviceSpec = z.string().regex(/^(cpu|cuda:\d+(,cuda:\d+)*)$/, 'expected "cpu" or a list like "cuda:0,cuda:1"');

export const configSchema = z
  .object({
    model: z
      .string()
      .min(1)
      .default("base.en")
      .describe("Model name (resolved in $SPEECHFLOW_MODELS, ./models and the user cache dir) or path to a ggml .bin file"),
    output: z.string().min(1).default("transcripts").describe("Output folder; the input tree is mirrored under it"),
    formats: z
      .array(z.enum(FORMATS))
      .min(1)
      .default([...FORMATS])
      .describe("Transcript formats to write (comma-separated: txt,srt,vtt,json)"),
    language: z
      .string()
      .regex(/^(auto|[a-z]{2,3})$/, 'expected "auto" or a language code such as "en"')
      .default("auto")
      .describe("Spoken language code, or auto to detect it per chunk"),
    translate: z.boolean().default(false).describe("Translate the speech to English instead of transcribing it"),
    prompt: z.string().default("").describe("Initial prompt (names, spelling, style) given to the decoder for every chunk"),
    beamSize: z.number().int().min(1).max(16).default(1).describe("Beam width; 1 = greedy decoding (fastest)"),
    temperatureFallback: z
      .boolean()
      .default(true)
      .describe("Re-decode a chunk at higher temperatures when the greedy result looks unreliable (whisper.cpp's default)"),
    wordTimestamps: z.boolean().default(false).describe("Record per-word timings (adds words to the json output)"),
    maxLineWidth: z.number().int().min(10).max(200).default(42).describe("Maximum characters per subtitle line in srt/vtt"),
    workers: layoutSetting(1, 64)
      .default("auto")
      .describe("Worker processes, each holding one copy of the model; auto = one (one copy of the weights; GPUs: one per device)"),
    threads: layoutSetting(0, 256)
      .default("auto")
      .describe("Threads per chunk; auto (or 0) = 1 on up to 4 cores, 2 beyond (parallel chunks beat threads), or the cores shared per GPU"),
    jobsPerWorker: layoutSetting(1, 64)
      .default("auto")
      .describe("Chunks one worker transcribes at once, each on its own reused whisper state; auto = cores / threads as free memory allows (GPUs: 4)"),
    device: deviceSpec.default("cpu").describe("Where workers run: cpu, or cuda:0,cuda:1 for one worker per GPU (needs a CUDA engine build)"),
    maxChunkSeconds: z.number().min(5).max(30).default(30).describe("Longest chunk of audio handed to whisper (whisper's window is 30 s)"),
    skipSilenceSeconds: z.number().min(0.3).max(60).default(1.5).describe("Silences at least this long are not transcribed (no hallucinated text for them)"),
    silenceThresholdDb: z
      .number()
      .min(-100)
      .max(0)
      .default(-50)
      .describe("Frames quieter than this (dBFS) always count as silence; louder ones are speech when well above the noise floor"),
    vad: z
      .enum(["auto", "silero", "energy"])
      .default("auto")
      .describe(
        "Voice activity detection: silero = the Silero model (finds speech under a noise floor), energy = loudness; auto = Silero when it loads, else energy",
      ),
    maxAttempts: z.number().int().min(1).max(10).default(3).describe("Attempts per chunk before it is marked failed (a worker crash costs one)"),
    include: z.array(z.string()).default([]).describe("Only take files whose path relative to the input matches one of these globs"),
    exclude: z.array(z.string()).default([]).describe("Skip files whose path relative to the input matches one of these globs"),
    offline: z.boolean().default(false).describe("Never use the network: a missing model is an error instead of a download"),
    modelBaseUrl: z
      .string()
      .url()
      .default(DEFAULT_MODEL_BASE_URL)
      .describe("Where models are downloaded from (the whisper.cpp model repository, or a mirror of it)"),
    downloadTimeoutSeconds: z
      .number()
      .min(1)
      .max(3600)
      .default(30)
      .describe("URL inputs: seconds to wait for a server's response headers, and for each next piece of data"),
    downloadAttempts: z
      .number()
      .int()
      .min(1)
      .max(10)
      .default(3)
      .describe("URL inputs: attempts per download (5xx, resets and timeouts are retried with backoff)"),
    maxDownloadMiB: z.number().min(1).default(4096).describe("URL inputs: refuse downloads larger than this many MiB"),
    notifyUrl: z
      .string()
      .refine((v) => v === "" || /^https?:\/\/[^\s]+$/i.test(v), "expected an http:// or https:// URL")
      .default("")
      .describe("POST the run-end JSON to this URL when a run finishes (retried; a failure is only a warning)"),
    summarize: z
      .boolean()
      .default(false)
      .describe("Write <name>.summary.md and .summary.json: by a language model at llmBaseUrl, else an offline extractive summary"),
    summaryLength: z
      .enum(["short", "medium", "long"])
      .default("medium")
      .describe("Summary length: short (2-3 sentences), medium (a paragraph), long (several paragraphs)"),
    summaryLanguage: z.string().default("").describe("Language to write summaries in (e.g. English, de); empty = the transcript's language"),
    llmBaseUrl: z
      .string()
      .refine((v) => v === "" || /^https?:\/\/[^\s]+$/i.test(v), "expected an http:// or https:// URL")
      .default("")
      .describe("OpenAI-compatible API base URL (https://api.openai.com/v1, http://127.0.0.1:11434/v1 for Ollama, ...); empty = no LLM"),
    llmModel: z.string().default("").describe("Model name at llmBaseUrl (e.g. gpt-4o-mini, llama3.1:8b)"),
    llmApiKeyEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected an environment variable name")
      .default("OPENAI_API_KEY")
      .describe("Name of the environment variable that holds the API key (the key itself is never stored or printed)"),
    llmFallbacks: z
      .array(z.string().regex(/^[^@\s]+@https?:\/\/\S+$/, "expected MODEL@BASE_URL, optionally MODEL@BASE_URL#KEY_ENV"))
      .default([])
      .describe("Further MODEL@BASE_URL[#KEY_ENV] endpoints tried in order when the primary fails"),
    llmContextTokens: z
      .number()
      .int()
      .min(2048)
      .max(2000000)
      .default(8192)
      .describe("Context window of the model; longer transcripts are summarised map-reduce by time window"),
    llmConcurrency: z.number().int().min(1).max(64).default(2).describe("Most LLM requests in flight at once"),
    llmTimeoutSeconds: z.number().min(1).max(3600).default(120).describe("Seconds to wait for one LLM response"),
    llmMaxRetries: z
      .number()
      .int()
      .min(0)
      .max(10)
      .default(3)
      .describe("Retries per LLM request on 429, 5xx, timeouts and connection errors (exponential backoff, Retry-After honoured)"),
    pdf: z.boolean().default(false).describe("Write <name>.pdf: title block, summary, key points, action items, contents, timestamped transcript"),
    pdfFont: z.string().default("").describe("TrueType/OpenType font for PDFs; empty = bundled DejaVu Sans (Latin, Greek, Cyrillic); set one for CJK"),
    report: z.boolean().default(false).describe("Write <output>/report.pdf listing every file of the run with duration, status and summary"),
    diarize: z
      .enum(["off", "stereo", "model", "auto"])
      .default("off")
      .describe(
        "Speaker labels: stereo = one speaker per channel (calls), model = pyannote segmentation + speaker embeddings (sherpa-onnx), auto = stereo when the channels differ, else the model",
      ),
    numSpeakers: z.number().int().min(0).max(64).default(0).describe("Speakers to find with --diarize model; 0 = decide by --cluster-threshold"),
    clusterThreshold: z
      .number()
      .min(0.01)
      .max(2)
      .default(0.5)
      .describe("With --diarize model and no --num-speakers: how far apart two voices must be to count as two speakers"),
    speakerNames: z.array(z.string().min(1)).default([]).describe("Names for SPEAKER_00, SPEAKER_01, ... in order of first appearance (comma-separated)"),
    diarizeMinOnSeconds: z.number().min(0).max(10).default(0.3).describe("Speaker turns shorter than this are dropped"),
    diarizeMinOffSeconds: z.number().min(0).max(10).default(0.5).describe("Pauses shorter than this do not end a speaker's turn"),
    diarizationSegmentationModel: z
      .string()
      .default("pyannote-segmentation-3.0")
      .describe("Segmentation model for --diarize model: a name registered by models pull-diarization / models add, or a path to an .onnx file"),
    diarizationEmbeddingModel: z
      .string()
      .default("nemo-titanet-small")
      .describe("Speaker-embedding model for --diarize model: a registered name or a path to an .onnx file"),
    engine: z
      .enum(["local", "remote"])
      .default("local")
      .describe("Where chunks are transcribed: local whisper.cpp workers, or a remote OpenAI-compatible audio API (uploads the audio)"),
    remoteFallback: z
      .boolean()
      .default(false)
      .describe(
        "Transcribe locally; send a chunk that fails locally after its attempts (or, with remoteWhenSlowerThan, the rest of a slow run) to the remote API",
      ),
    remoteWhenSlowerThan: z
      .number()
      .min(0)
      .max(1000)
      .default(0)
      .describe("With remoteFallback: once local transcription runs slower than this many x realtime, the remaining chunks go remote; 0 = never"),
    remotePreset: z
      .enum(["", ...REMOTE_PRESET_NAMES])
      .default("")
      .describe("Fill in base URL, model, key variable and limits for a known service: groq, openai, whisper-server, speaches, vllm"),
    remoteBaseUrl: z
      .string()
      .refine((v) => v === "" || /^https?:\/\/[^\s]+$/i.test(v), "expected an http:// or https:// URL")
      .default("")
      .describe("Base URL of the OpenAI-compatible audio API (…/v1); empty = the preset's"),
    remoteModel: z.string().default("").describe("Model name at the remote API (whisper-1, whisper-large-v3-turbo, ...); empty = the preset's"),
    remoteApiKeyEnv: z
      .string()
      .regex(/^([A-Za-z_][A-Za-z0-9_]*)?$/, "expected an environment variable name")
      .default("")
      .describe("Name of the environment variable holding the remote API key (the key is never stored or printed); empty = the preset's, or none"),
    remoteRpm: z.number().int().min(0).max(100000).default(0).describe("Most remote requests per minute (client-side pacing); 0 = the preset's limit, or none"),
    remoteConcurrency: z.number().int().min(1).max(64).default(4).describe("Remote requests in flight at once"),
    remoteTimeoutSeconds: z.number().min(1).max(3600).default(120).describe("Seconds to wait for one remote transcription"),
    remoteMaxUploadMiB: z.number().min(0).max(2048).default(0).describe("Largest upload the remote API takes, in MiB; 0 = the preset's (25)"),
    queue: z
      .string()
      .refine((v) => v === "" || /^rediss?:\/\/\S*$/i.test(v), "expected a redis:// or rediss:// URL")
      .default("")
      .describe("Scale out: send chunks to `speechflow worker` processes through BullMQ on this Redis (redis://host:6379/0); empty = transcribe here"),
    blob: z
      .string()
      .refine((v) => v === "" || /^(file|s3):\/\/\S+$/i.test(v), "expected a file:// or s3:// URL")
      .default("")
      .describe("With queue: where chunk audio waits for the workers, a folder they all see (file:///mnt/shared/sf) or s3://bucket/prefix"),
    metrics: z
      .string()
      .refine((v) => v === "" || /^(\S+:)?\d{1,5}$/.test(v), "expected PORT or HOST:PORT")
      .default("")
      .describe("With queue: serve Prometheus metrics on this PORT (or HOST:PORT) at /metrics while the run lasts; empty = off"),
    ffmpeg: z.string().default("").describe("Path to ffmpeg; empty = $PATH, then the ffmpeg-static package"),
    db: z.string().default("").describe("State database path; empty = <output>/.speechflow/state.sqlite"),
    reporter: z
      .enum(["auto", "progress", "plain", "json", "silent"])
      .default("auto")
      .describe("How progress is shown: auto = progress bars on a TTY, plain lines otherwise"),
  })
  .strict();

export type SpeechflowConfig = z.infer<typeof configSchema>;
export type ConfigKey = keyof SpeechflowConfig;

export const DEFAULT_CONFIG: SpeechflowConfig = configSchema.parse({});
