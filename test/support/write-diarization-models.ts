import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import protobuf from "protobufjs";

/**
 * Writes two tiny ONNX models that sherpa-onnx's offline speaker diarization accepts in place of
 * pyannote segmentation-3.0 and a WeSpeaker embedding model. They hold no trained weights: every
 * tensor is computed here from a formula (band-pass filters, band masks), so they are deterministic
 * and written in a few milliseconds. They tell apart exactly the two synthetic voices the tests
 * speak with espeak-ng: a low male voice (`-v en -p 0`, F0 about 55-75 Hz) and a high female voice
 * (`-v en+f3 -p 99`, F0 about 280-380 Hz).
 *
 * The ModelProto is built with protobufjs from the subset of onnx.proto (field numbers of the
 * official schema) that the graphs need. Opset 13, IR version 8: within what the onnxruntime
 * bundled with sherpa-onnx-node (1.28) loads.
 */

// ---------------------------------------------------------------------------------------------
// onnx.proto subset

const F32 = 1; // TensorProto.DataType.FLOAT
const INT64 = 7; // TensorProto.DataType.INT64
const ATTR = { FLOAT: 1, INT: 2, INTS: 7 } as const; // AttributeProto.AttributeType

const ONNX_SCHEMA = {
  nested: {
    onnx: {
      nested: {
        ModelProto: {
          fields: {
            irVersion: { type: "int64", id: 1 },
            producerName: { type: "string", id: 2 },
            producerVersion: { type: "string", id: 3 },
            docString: { type: "string", id: 6 },
            graph: { type: "GraphProto", id: 7 },
            opsetImport: { rule: "repeated", type: "OperatorSetIdProto", id: 8 },
            metadataProps: { rule: "repeated", type: "StringStringEntryProto", id: 14 },
          },
        },
        OperatorSetIdProto: { fields: { domain: { type: "string", id: 1 }, version: { type: "int64", id: 2 } } },
        StringStringEntryProto: { fields: { key: { type: "string", id: 1 }, value: { type: "string", id: 2 } } },
        GraphProto: {
          fields: {
            node: { rule: "repeated", type: "NodeProto", id: 1 },
            name: { type: "string", id: 2 },
            initializer: { rule: "repeated", type: "TensorProto", id: 5 },
            input: { rule: "repeated", type: "ValueInfoProto", id: 11 },
            output: { rule: "repeated", type: "ValueInfoProto", id: 12 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: "repeated", type: "string", id: 1 },
            output: { rule: "repeated", type: "string", id: 2 },
            name: { type: "string", id: 3 },
            opType: { type: "string", id: 4 },
            attribute: { rule: "repeated", type: "AttributeProto", id: 5 },
          },
        },
        AttributeProto: {
          fields: {
            name: { type: "string", id: 1 },
            f: { type: "float", id: 2 },
            i: { type: "int64", id: 3 },
            ints: { rule: "repeated", type: "int64", id: 8 },
            type: { type: "int32", id: 20 },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: "repeated", type: "int64", id: 1 },
            dataType: { type: "int32", id: 2 },
            name: { type: "string", id: 8 },
            rawData: { type: "bytes", id: 9 },
          },
        },
        ValueInfoProto: { fields: { name: { type: "string", id: 1 }, type: { type: "TypeProto", id: 2 } } },
        TypeProto: { fields: { tensorType: { type: "TypeProtoTensor", id: 1 } } },
        TypeProtoTensor: { fields: { elemType: { type: "int32", id: 1 }, shape: { type: "TensorShapeProto", id: 2 } } },
        TensorShapeProto: { fields: { dim: { rule: "repeated", type: "Dimension", id: 1 } } },
        Dimension: { fields: { dimValue: { type: "int64", id: 1 }, dimParam: { type: "string", id: 2 } } },
      },
    },
  },
};

const ModelProto = protobuf.Root.fromJSON(ONNX_SCHEMA).lookupType("onnx.ModelProto");

interface Tensor {
  name: string;
  dims: number[];
  dataType: number;
  rawData: Uint8Array;
}

type Attribute = { name: string; type: number; f?: number; i?: number; ints?: number[] };

interface Node {
  opType: string;
  input: string[];
  output: string[];
  name: string;
  attribute: Attribute[];
}

function floatTensor(name: string, dims: number[], values: ArrayLike<number>): Tensor {
  const data = Float32Array.from(values);
  if (data.length !== dims.reduce((a, b) => a * b, 1)) throw new Error(`${name}: ${data.length} values for dims ${dims.join("x")}`);
  return { name, dims, dataType: F32, rawData: new Uint8Array(data.buffer) };
}

function int64Tensor(name: string, values: number[]): Tensor {
  const data = BigInt64Array.from(values.map(BigInt));
  return { name, dims: [values.length], dataType: INT64, rawData: new Uint8Array(data.buffer) };
}

const ints = (name: string, values: number[]): Attribute => ({ name, type: ATTR.INTS, ints: values });
const int = (name: string, value: number): Attribute => ({ name, type: ATTR.INT, i: value });

/** a node named after its output, so the bytes of a model do not depend on what was written before */
function node(opType: string, input: string[], output: string, attribute: Attribute[] = []): Node {
  return { opType, input, output: [output], name: `${output}_${opType.toLowerCase()}`, attribute };
}

/** A float tensor graph input or output; strings in `shape` are symbolic (dynamic) dimensions. */
function valueInfo(name: string, shape: (number | string)[]) {
  const dim = shape.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType: F32, shape: { dim } } } };
}

interface GraphSpec {
  name: string;
  nodes: Node[];
  initializers: Tensor[];
  input: ReturnType<typeof valueInfo>;
  output: ReturnType<typeof valueInfo>;
  metadata: Record<string, string>;
}

function encodeModel(graph: GraphSpec): Uint8Array {
  const message = ModelProto.fromObject({
    irVersion: 8,
    producerName: "speechflow-test",
    producerVersion: "1",
    docString: "synthetic test model: not trained, see test/support/write-diarization-models.ts",
    opsetImport: [{ domain: "", version: 13 }],
    graph: { name: graph.name, node: graph.nodes, initializer: graph.initializers, input: [graph.input], output: [graph.output] },
    metadataProps: Object.entries(graph.metadata).map(([key, value]) => ({ key, value })),
  });
  return ModelProto.encode(message).finish();
}

// ---------------------------------------------------------------------------------------------
// segmentation model (pyannote-shaped)

const SAMPLE_RATE = 16_000;

export interface SegmentationSpec {
  /** frame hop in samples: sherpa's `receptive_field_shift`; its times are multiples of it */
  hop: number;
  /** samples each frame looks at for the speaker decision: sherpa's `receptive_field_size` */
  receptiveField: number;
  /** centred samples each frame looks at for the speech/silence decision (shorter: sharper edges) */
  energyWindow: number;
  /** samples per chunk: sherpa's `window_size`; it steps by a tenth of it */
  windowSize: number;
  /** mean power (x² averaged over `energyWindow`) above which a frame is speech */
  speechPower: number;
  /**
   * frames on each side over which the band powers are summed before the voices are compared:
   * single frames of the high voice's approximants (l, r, w) can look like the low voice; 0.4 s of
   * context (at a 10 ms hop) does not. Silence adds no power, so a turn's edges after a pause stay sharp.
   */
  voiceContext: number;
  /** a frame is the low voice when log10(low-band power / high-band power) exceeds this */
  lowVoiceLog10Ratio: number;
}

/**
 * 10 ms hop and 30 ms analysis window: sherpa puts a turn boundary at the centre of the first
 * (last + 1) active frame, so the hop bounds its resolution. 10 s chunks as in pyannote 3.0; a
 * tenth of that (1 s) is a whole number of hops, so the frames of overlapping chunks line up.
 */
const SEGMENTATION_SPEC: SegmentationSpec = {
  hop: 160,
  receptiveField: 480,
  energyWindow: 160,
  windowSize: 160_000,
  speechPower: 1e-5,
  voiceContext: 20,
  lowVoiceLog10Ratio: -1.8,
};

/** analysis frequencies (Hz): the low voice's first harmonics, and the high voice's fundamental */
const LOW_BAND = range(40, 150, 10);
const HIGH_BAND = range(260, 400, 10);

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let f = from; f <= to; f += step) out.push(f);
  return out;
}

/** periodic Hann window of length n */
function hann(n: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 0.5)) / n);
  return w;
}

/**
 * Conv1d kernels (2·F, 1, K): for each analysis frequency a Hann-windowed cosine and sine, so
 * that squaring and adding the pair gives the power at that frequency over the frame.
 */
function spectrumKernels(freqs: number[], k: number): Float32Array {
  const w = hann(k);
  const out = new Float32Array(freqs.length * 2 * k);
  freqs.forEach((f, j) => {
    for (let n = 0; n < k; n++) {
      const phase = (2 * Math.PI * f * n) / SAMPLE_RATE;
      out[2 * j * k + n] = w[n]! * Math.cos(phase);
      out[(2 * j + 1) * k + n] = w[n]! * Math.sin(phase);
    }
  });
  return out;
}

const POWERSET_CLASSES = 7; // pyannote 3.0: 3 speakers, at most 2 at once: {}, {0}, {1}, {2}, {0,1}, {0,2}, {1,2}
const UNUSED_CLASS_SCORE = -100;

/**
 * Graph (N = batch, T = samples, F = frames = floor((T - K) / hop) + 1, K = receptiveField):
 *
 *   x (N,1,T)
 *   ├─ Conv[spectrum kernels, stride hop] (N,2B,F) ─ Mul(self) ─ Conv1x1[band sums] (N,2,F):
 *   │     row 0 = c·(power in LOW_BAND), row 1 = power in HIGH_BAND, c = 10^-lowVoiceLog10Ratio
 *   │     ─ Conv[ones, 2·voiceContext + 1 frames, per row, zero-padded]: sums over the context
 *   │     ─ Log ─ Conv1x1[+1,-1] ─ Tanh = t (N,1,F): > 0 for the low voice, < 0 for the high one
 *   └─ Mul(self) ─ Conv[box of energyWindow taps centred in K, stride hop] ─ Log = e (N,1,F):
 *         log mean power over the frame's central samples
 *   Concat(e, t) (N,2,F) ─ Conv1x1 ─ (N,7,F) class scores:
 *         silence = log(speechPower), spk0 = e + 0.1·t, spk1 = e - 0.1·t, the rest -100
 *   ─ Transpose (N,F,7) ─ LogSoftmax(axis 2) = y: log-probabilities over the powerset classes
 *
 * so the arg-max is silence below `speechPower`, else spk0 (low voice) or spk1 (high voice), and
 * frame f covers samples [f·hop, f·hop + K), centred where sherpa places it
 * (f·receptive_field_shift + receptive_field_size / 2).
 */
function segmentationGraph(spec: SegmentationSpec): Omit<GraphSpec, "metadata"> {
  const k = spec.receptiveField;
  const context = 2 * spec.voiceContext + 1;
  const freqs = [...LOW_BAND, ...HIGH_BAND];
  const bandSums = new Float32Array(2 * freqs.length * 2);
  const lowWeight = 10 ** -spec.lowVoiceLog10Ratio;
  freqs.forEach((f, j) => {
    const row = LOW_BAND.includes(f) ? 0 : 1;
    const weight = row === 0 ? lowWeight : 1;
    bandSums[row * 2 * freqs.length + 2 * j] = weight;
    bandSums[row * 2 * freqs.length + 2 * j + 1] = weight;
  });
  const box = new Float32Array(k);
  const first = Math.floor((k - spec.energyWindow) / 2);
  box.fill(1 / spec.energyWindow, first, first + spec.energyWindow);
  // class scores from (e, t): weights (7, 2, 1) and biases (7)
  const classWeights = [0, 0, 1, 0.1, 1, -0.1, 0, 0, 0, 0, 0, 0, 0, 0];
  const classBias = [Math.log(spec.speechPower), 0, 0, UNUSED_CLASS_SCORE, UNUSED_CLASS_SCORE, UNUSED_CLASS_SCORE, UNUSED_CLASS_SCORE];
  const strided = [ints("kernel_shape", [k]), ints("strides", [spec.hop])];
  return {
    name: "speechflow_test_segmentation",
    input: valueInfo("x", ["N", 1, "T"]),
    output: valueInfo("y", ["N", "F", POWERSET_CLASSES]),
    initializers: [
      floatTensor("spectrum_w", [2 * freqs.length, 1, k], spectrumKernels(freqs, k)),
      floatTensor("band_w", [2, 2 * freqs.length, 1], bandSums),
      floatTensor("band_b", [2], [1e-12, 1e-12]),
      floatTensor("context_w", [2, 1, context], new Float32Array(2 * context).fill(1)),
      floatTensor("diff_w", [1, 2, 1], [1, -1]),
      floatTensor("box_w", [1, 1, k], box),
      floatTensor("box_b", [1], [1e-12]),
      floatTensor("class_w", [POWERSET_CLASSES, 2, 1], classWeights),
      floatTensor("class_b", [POWERSET_CLASSES], classBias),
    ],
    nodes: [
      node("Conv", ["x", "spectrum_w"], "spectrum", strided),
      node("Mul", ["spectrum", "spectrum"], "power"),
      node("Conv", ["power", "band_w", "band_b"], "bands", [ints("kernel_shape", [1])]),
      node("Conv", ["bands", "context_w"], "context_bands", [
        ints("kernel_shape", [context]),
        ints("pads", [spec.voiceContext, spec.voiceContext]),
        int("group", 2),
      ]),
      node("Log", ["context_bands"], "log_bands"),
      node("Conv", ["log_bands", "diff_w"], "log_ratio", [ints("kernel_shape", [1])]),
      node("Tanh", ["log_ratio"], "voice"),
      node("Mul", ["x", "x"], "x2"),
      node("Conv", ["x2", "box_w", "box_b"], "frame_power", strided),
      node("Log", ["frame_power"], "log_power"),
      node("Concat", ["log_power", "voice"], "features", [int("axis", 1)]),
      node("Conv", ["features", "class_w", "class_b"], "scores", [ints("kernel_shape", [1])]),
      node("Transpose", ["scores"], "scores_t", [ints("perm", [0, 2, 1])]),
      node("LogSoftmax", ["scores_t"], "y", [int("axis", 2)]),
    ],
  };
}

/** the metadata sherpa-onnx reads (offline-speaker-segmentation-pyannote-model.cc), plus pyannote's descriptive keys */
function segmentationMetadata(spec: SegmentationSpec): Record<string, string> {
  return {
    model_type: "pyannote-segmentation-3.0",
    version: "1",
    sample_rate: String(SAMPLE_RATE),
    window_size: String(spec.windowSize),
    receptive_field_size: String(spec.receptiveField),
    receptive_field_shift: String(spec.hop),
    num_speakers: "3",
    powerset_max_classes: "2",
    num_classes: String(POWERSET_CLASSES),
  };
}

export interface WriteOptions {
  /** metadata keys to leave out (to test the pre-load check) */
  omitMetadata?: string[];
}

export interface SegmentationWriteOptions extends WriteOptions {
  /** changes to SEGMENTATION_SPEC (a 5 ms hop, say) */
  spec?: Partial<SegmentationSpec>;
}

function withoutKeys(metadata: Record<string, string>, omit: string[] = []): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata).filter(([key]) => !omit.includes(key)));
}

export function writeSegmentationModel(path: string, options: SegmentationWriteOptions = {}): string {
  const spec = { ...SEGMENTATION_SPEC, ...options.spec };
  const metadata = withoutKeys(segmentationMetadata(spec), options.omitMetadata);
  return writeModel(path, encodeModel({ ...segmentationGraph(spec), metadata }));
}

/**
 * Valid metadata (it passes the pre-load check), but a graph that fails inside sherpa-onnx, which
 * does not catch onnxruntime's exceptions:
 * - "run": reshapes the (N,1,T) input to a fixed (2,3,7); onnxruntime accepts it when loading (T is
 *   symbolic) and throws on the first chunk;
 * - "load": uses an operator no onnxruntime has, so creating the session throws.
 */
export function writeCrashingSegmentationModel(path: string, when: "load" | "run" = "run"): string {
  const graph: Omit<GraphSpec, "metadata"> = {
    name: "speechflow_test_crash",
    input: valueInfo("x", ["N", 1, "T"]),
    output: valueInfo("y", ["N", "F", POWERSET_CLASSES]),
    initializers: [int64Tensor("shape", [2, 3, POWERSET_CLASSES])],
    nodes: [when === "run" ? node("Reshape", ["x", "shape"], "y") : node("SpeechflowNoSuchOperator", ["x", "shape"], "y")],
  };
  return writeModel(path, encodeModel({ ...graph, metadata: segmentationMetadata(SEGMENTATION_SPEC) }));
}

// ---------------------------------------------------------------------------------------------
// speaker-embedding model (WeSpeaker-shaped)

const EMBEDDING_DIM = 2;
/** 80 kaldi fbank bins from 20 Hz to 7600 Hz: bins 0-4 are centred at 42-137 Hz, bins 9-12 at 274-366 Hz */
const FBANK_BINS = 80;
const LOW_MEL_BINS = [0, 1, 2, 3, 4];
const HIGH_MEL_BINS = [9, 10, 11, 12];
/**
 * log(low-bin power / high-bin power) over a speaker's segments: about -3 to -4 for the low
 * voice and -7 to -8 for the high one (measured on espeak-ng output through sherpa's fbank);
 * the embedding turns at the midpoint.
 */
const VOICE_LOG_RATIO_MIDPOINT = -5.5;

/**
 * Graph (N = batch, T = fbank frames):
 *
 *   feats (N,T,80) log-mel ─ Exp ─ ReduceMean(axis 1) (N,80): mean mel power per bin
 *   ─ Gemm[bin masks] (N,2): power in LOW_MEL_BINS, power in HIGH_MEL_BINS ─ Log
 *   ─ Gemm[+1,-1; bias -midpoint] (N,1) ─ Tanh = t: about +1 for the low voice, -1 for the high one
 *   ─ Gemm[+1,-1; bias 1,1] = embedding (N,2) = (1 + t, 1 - t)
 *
 * Sherpa clusters by cosine distance, so the two voices sit near (1,0) and (0,1): distance ~1
 * between them and ~0 within a voice.
 */
function embeddingGraph(): Omit<GraphSpec, "metadata"> {
  const masks = new Float32Array(FBANK_BINS * 2);
  for (const b of LOW_MEL_BINS) masks[b * 2] = 1;
  for (const b of HIGH_MEL_BINS) masks[b * 2 + 1] = 1;
  return {
    name: "speechflow_test_embedding",
    input: valueInfo("feats", ["N", "T", FBANK_BINS]),
    output: valueInfo("embs", ["N", EMBEDDING_DIM]),
    initializers: [
      floatTensor("mask_w", [FBANK_BINS, 2], masks),
      floatTensor("mask_b", [2], [1e-20, 1e-20]),
      floatTensor("ratio_w", [2, 1], [1, -1]),
      floatTensor("ratio_b", [1], [-VOICE_LOG_RATIO_MIDPOINT]),
      floatTensor("out_w", [1, EMBEDDING_DIM], [1, -1]),
      floatTensor("out_b", [EMBEDDING_DIM], [1, 1]),
    ],
    nodes: [
      node("Exp", ["feats"], "mel_power"),
      node("ReduceMean", ["mel_power"], "mean_power", [ints("axes", [1]), int("keepdims", 0)]),
      node("Gemm", ["mean_power", "mask_w", "mask_b"], "band_power"),
      node("Log", ["band_power"], "log_band"),
      node("Gemm", ["log_band", "ratio_w", "ratio_b"], "log_ratio"),
      node("Tanh", ["log_ratio"], "voice"),
      node("Gemm", ["voice", "out_w", "out_b"], "embs"),
    ],
  };
}

/** the metadata sherpa-onnx reads (speaker-embedding-extractor-model.cc) */
function embeddingMetadata(): Record<string, string> {
  return {
    framework: "wespeaker",
    sample_rate: String(SAMPLE_RATE),
    output_dim: String(EMBEDDING_DIM),
    // 1: fbank of samples in [-1, 1] (WeSpeaker's own models say 0: samples scaled to 16-bit)
    normalize_samples: "1",
    language: "English",
  };
}

export function writeEmbeddingModel(path: string, options: WriteOptions = {}): string {
  return writeModel(path, encodeModel({ ...embeddingGraph(), metadata: withoutKeys(embeddingMetadata(), options.omitMetadata) }));
}

function writeModel(path: string, bytes: Uint8Array): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
  return path;
}
