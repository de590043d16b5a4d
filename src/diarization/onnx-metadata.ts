/**
 * Checks an ONNX file's metadata before sherpa-onnx sees it. sherpa-onnx reads its settings from
 * the model's metadata_props and calls exit() when one is missing (SHERPA_ONNX_READ_META_DATA),
 * or dereferences a null extractor for an unknown embedding framework; a file that is not a
 * protobuf makes onnxruntime throw through sherpa's C API, which aborts. These checks turn every
 * such case into a MODEL_INVALID error that names the file and the key.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { SpeechflowError } from "../errors/speechflow-error.js";

// onnx.proto: ModelProto.graph = 7, ModelProto.metadata_props = 14; StringStringEntryProto key = 1, value = 2
const GRAPH_FIELD = 7;
const METADATA_FIELD = 14;
const WIRE = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;

class InvalidProtobuf extends Error {}

/** Reads protobuf fields from a file by position, so the (large) graph is skipped, not read. */
class FileCursor {
  pos = 0;
  private readonly scratch = Buffer.alloc(10);

  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}

  varint(): number {
    const n = readSync(this.fd, this.scratch, 0, 10, this.pos);
    let value = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.scratch[i]!;
      value += (byte & 0x7f) * 2 ** (7 * i);
      if (byte < 0x80) {
        this.pos += i + 1;
        return value;
      }
    }
    throw new InvalidProtobuf(`bad varint at byte ${this.pos}`);
  }

  /** moves past n bytes, failing when they run past the end of the file (a truncated model) */
  skip(n: number): number {
    const start = this.pos;
    if (start + n > this.size) throw new InvalidProtobuf(`a field at byte ${start} runs past the end of the file (truncated?)`);
    this.pos += n;
    return start;
  }

  bytes(n: number): Buffer {
    const start = this.skip(n);
    const out = Buffer.alloc(n);
    readSync(this.fd, out, 0, n, start);
    return out;
  }
}

/** Skips one field's value, whatever its wire type; groups (3, 4) do not occur in ONNX files. */
function skipValue(cursor: FileCursor, wire: number): void {
  if (wire === WIRE.varint) cursor.varint();
  else if (wire === WIRE.fixed64) cursor.skip(8);
  else if (wire === WIRE.fixed32) cursor.skip(4);
  else if (wire === WIRE.bytes) cursor.skip(cursor.varint());
  else throw new InvalidProtobuf(`wire type ${wire} at byte ${cursor.pos} (not protobuf)`);
}

/** Decodes a StringStringEntryProto held in memory. */
function decodeEntry(buf: Buffer): [string, string] {
  let pos = 0;
  let key = "";
  let value = "";
  const varint = () => {
    let v = 0;
    for (let i = 0; pos < buf.length; i++) {
      const byte = buf[pos++]!;
      v += (byte & 0x7f) * 2 ** (7 * i);
      if (byte < 0x80) return v;
    }
    throw new InvalidProtobuf("bad varint in a metadata entry");
  };
  while (pos < buf.length) {
    const tag = varint();
    if ((tag & 7) !== WIRE.bytes) throw new InvalidProtobuf("a metadata entry holds a non-string field");
    const len = varint();
    if (pos + len > buf.length) throw new InvalidProtobuf("a metadata entry runs past its end");
    const text = buf.toString("utf8", pos, pos + len);
    pos += len;
    if (tag >>> 3 === 1) key = text;
    else if (tag >>> 3 === 2) value = text;
  }
  return [key, value];
}

function readTopLevel(cursor: FileCursor): Map<string, string> {
  const metadata = new Map<string, string>();
  let hasGraph = false;
  while (cursor.pos < cursor.size) {
    const tag = cursor.varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 0) throw new InvalidProtobuf(`field number 0 at byte ${cursor.pos}`);
    if (wire === WIRE.bytes && field === METADATA_FIELD) {
      const [key, value] = decodeEntry(cursor.bytes(cursor.varint()));
      metadata.set(key, value);
    } else {
      if (field === GRAPH_FIELD && wire === WIRE.bytes) hasGraph = true;
      skipValue(cursor, wire);
    }
  }
  if (!hasGraph) throw new InvalidProtobuf("it has no graph");
  return metadata;
}

/**
 * The metadata_props of an ONNX model (key → value). Reads only the top-level fields' headers and
 * the metadata entries: a few small reads, whatever the model's size.
 */
function readOnnxMetadata(file: string): Map<string, string> {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new SpeechflowError("MODEL_NOT_FOUND", `${file} does not exist`);
    throw new SpeechflowError("MODEL_INVALID", `${file}: cannot be read (${(error as Error).message})`, { cause: error });
  }
  try {
    const cursor = new FileCursor(fd, fstatSync(fd).size);
    if (cursor.size === 0) throw new InvalidProtobuf("the file is empty");
    return readTopLevel(cursor);
  } catch (error) {
    if (error instanceof InvalidProtobuf) throw new SpeechflowError("MODEL_INVALID", `${file}: not an ONNX model (${error.message})`);
    throw error;
  } finally {
    closeSync(fd);
  }
}

/** What the segmentation model's metadata says, as sherpa-onnx will read it. */
export interface SegmentationModelInfo {
  sampleRate: number;
  /** samples per chunk; sherpa steps by a tenth of it */
  windowSize: number;
  /** samples per output frame: turn boundaries fall on multiples of it */
  frameShift: number;
  frameSize: number;
  numSpeakers: number;
}

// read by offline-speaker-segmentation-pyannote-model.cc; a missing or negative one makes sherpa exit()
const SEGMENTATION_KEYS = [
  "sample_rate",
  "window_size",
  "receptive_field_size",
  "receptive_field_shift",
  "num_speakers",
  "powerset_max_classes",
  "num_classes",
];

function wholeNumbers(file: string, metadata: Map<string, string>, keys: string[], what: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of keys) {
    const value = metadata.get(key);
    if (!value) throw new SpeechflowError("MODEL_INVALID", `${file}: not ${what} (missing metadata key ${key})`);
    if (!/^\d+$/.test(value.trim())) throw new SpeechflowError("MODEL_INVALID", `${file}: metadata key ${key} is "${value}", not a whole number`);
    out[key] = Number(value);
  }
  return out;
}

function invalid(file: string, problem: string): never {
  throw new SpeechflowError("MODEL_INVALID", `${file}: ${problem}`);
}

/**
 * Checks a pyannote segmentation model for the keys sherpa-onnx reads, and for values that would
 * make it exit (powerset_max_classes > 2) or index past its powerset table (num_classes).
 */
export function checkSegmentationModel(file: string, expectedSampleRate: number): SegmentationModelInfo {
  const m = wholeNumbers(file, readOnnxMetadata(file), SEGMENTATION_KEYS, "a pyannote segmentation model");
  const speakers = m.num_speakers!;
  const maxClasses = m.powerset_max_classes!;
  for (const key of ["sample_rate", "window_size", "receptive_field_size", "receptive_field_shift", "num_speakers"]) {
    if (m[key] === 0) invalid(file, `metadata key ${key} is 0`);
  }
  if (maxClasses < 1 || maxClasses > Math.min(2, speakers)) invalid(file, `powerset_max_classes ${maxClasses} is not supported (sherpa-onnx handles 1 or 2)`);
  const classes = 1 + speakers + (maxClasses === 2 ? (speakers * (speakers - 1)) / 2 : 0);
  if (m.num_classes !== classes) invalid(file, `num_classes is ${m.num_classes}, but ${speakers} speakers, at most ${maxClasses} at once, make ${classes}`);
  if (m.sample_rate !== expectedSampleRate) invalid(file, `the model takes ${m.sample_rate} Hz audio, not ${expectedSampleRate} Hz`);
  return {
    sampleRate: m.sample_rate!,
    windowSize: m.window_size!,
    frameShift: m.receptive_field_shift!,
    frameSize: m.receptive_field_size!,
    numSpeakers: speakers,
  };
}

/**
 * Keys per embedding framework: speaker-embedding-extractor-model.cc (wespeaker, 3d-speaker) and
 * speaker-embedding-extractor-nemo-model.cc; both also need a non-empty `language`.
 */
const EMBEDDING_KEYS: Record<string, { numbers: string[]; featureNormalize: string }> = {
  wespeaker: { numbers: ["output_dim", "sample_rate", "normalize_samples"], featureNormalize: "global-mean" },
  "3d-speaker": { numbers: ["output_dim", "sample_rate", "normalize_samples"], featureNormalize: "global-mean" },
  nemo: { numbers: ["output_dim", "feat_dim", "sample_rate", "window_size_ms", "window_stride_ms"], featureNormalize: "per_feature" },
};

/** Checks a speaker-embedding model for the keys sherpa-onnx reads; returns the embedding size. */
export function checkEmbeddingModel(file: string): { dim: number } {
  const what = "a speaker-embedding model";
  const metadata = readOnnxMetadata(file);
  const framework = metadata.get("framework");
  if (!framework) invalid(file, `not ${what} (missing metadata key framework)`);
  const keys = EMBEDDING_KEYS[framework];
  if (!keys) invalid(file, `embedding framework "${framework}" is none of ${Object.keys(EMBEDDING_KEYS).join(", ")}`);
  const m = wholeNumbers(file, metadata, keys.numbers, what);
  if (!metadata.get("language")) invalid(file, `not ${what} (missing metadata key language)`);
  // sherpa exits on the first embedding when this names a normalisation it does not know
  const normalize = metadata.get("feature_normalize_type");
  if (normalize && normalize !== keys.featureNormalize) invalid(file, `feature_normalize_type "${normalize}" is not supported for ${framework}`);
  if (m.output_dim === 0 || m.sample_rate === 0) invalid(file, "output_dim and sample_rate must be positive");
  return { dim: m.output_dim! };
}
