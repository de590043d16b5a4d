import { closeSync, openSync, renameSync, writeSync } from "node:fs";

/**
 * Writes a whisper.cpp ggml model file with random weights: the same binary layout as the
 * published ggml-*.bin files (magic, hparams, mel filters, vocab, every tensor whisper.cpp's
 * loader asks for), so it loads and runs in the real engine. It cannot recognise words.
 *
 * `decoder: "fixed"` makes decoding cost the same on every 30 s window, whatever the audio:
 * the decoder's final layer norm is zeroed and its bias chosen so that the logits
 * (bias · token_embeddingᵀ) are the same at every step. The embedding rows are arranged so that a
 * window decodes to [<|1.00|>, FIXED_TEXT_TOKEN, <|30.00|>, EOT]: one segment with one word
 * (see the comment at the token embedding for why).
 */
export interface TestModelSpec {
  /** width of encoder and decoder (tiny: 384) */
  nState: number;
  nHead: number;
  nAudioLayer: number;
  nTextLayer: number;
  /** "random": plain random weights; "fixed": deterministic 1-token output per window */
  decoder?: "random" | "fixed";
  seed?: number;
}

export const MICRO_MODEL: TestModelSpec = { nState: 64, nHead: 2, nAudioLayer: 1, nTextLayer: 1, decoder: "fixed" };
/** @public used by bench/run.mjs and bench/gpu/gpu-check.sh through the compiled copy (bench/test-model.mjs) */
export const TINY_SIZED_MODEL: TestModelSpec = { nState: 384, nHead: 6, nAudioLayer: 4, nTextLayer: 4, decoder: "fixed" };

const N_VOCAB = 51865; // multilingual layout, so language detection runs as with real models
const N_BASE_TOKENS = 50257; // byte-level BPE part written into the file; whisper.cpp adds the specials
const N_AUDIO_CTX = 1500;
const N_TEXT_CTX = 448;
const N_MELS = 80;
const N_FFT_BINS = 201;
const TOKEN_EOT = 50257; // multilingual models shift eot/sot by one
const TOKEN_BEG = 50364; // first timestamp token <|0.00|> in a 99-language multilingual vocab
/** token id of the word every "fixed" window decodes to */
export const FIXED_TEXT_TOKEN = 1000;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function toHalf(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  let mant = x & 0x7fffff;
  if (exp <= 0) {
    if (exp < -10) return sign;
    mant = (mant | 0x800000) >>> (1 - exp);
    return sign | ((mant + 0x1000) >>> 13);
  }
  if (exp >= 31) return sign | 0x7c00;
  const half = sign | (exp << 10) | ((mant + 0x1000) >>> 13);
  return half;
}

/** a pronounceable pseudo-word per token id, so text output looks like words and is valid UTF-8 */
export function testTokenText(id: number): string {
  const c = "bdfgklmnprstvz";
  const v = "aeiou";
  let n = id;
  let word = "";
  do {
    word += c[n % c.length]! + v[Math.floor(n / c.length) % v.length]!;
    n = Math.floor(n / (c.length * v.length));
  } while (n > 0);
  return " " + word;
}

class ModelWriter {
  private fd: number;
  private buf = Buffer.alloc(1 << 20);
  private used = 0;
  constructor(path: string) {
    this.fd = openSync(path, "w");
  }
  private ensure(n: number): void {
    if (this.used + n > this.buf.length) this.flush();
  }
  flush(): void {
    if (this.used > 0) writeSync(this.fd, this.buf, 0, this.used);
    this.used = 0;
  }
  i32(v: number): void {
    this.ensure(4);
    this.buf.writeInt32LE(v, this.used);
    this.used += 4;
  }
  f32(v: number): void {
    this.ensure(4);
    this.buf.writeFloatLE(v, this.used);
    this.used += 4;
  }
  f16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16LE(toHalf(v), this.used);
    this.used += 2;
  }
  bytes(b: Buffer): void {
    this.ensure(b.length);
    b.copy(this.buf, this.used);
    this.used += b.length;
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

type Init = (index: number) => number;

/** Writes the model to `path` (atomically: temp file + rename). */
export function writeTestModel(path: string, spec: TestModelSpec): void {
  const rand = mulberry32(spec.seed ?? 1234);
  const gauss =
    (scale: number): Init =>
    () =>
      (rand() + rand() + rand() - 1.5) * 2 * scale;
  const constant =
    (v: number): Init =>
    () =>
      v;
  const n = spec.nState;
  const fixed = spec.decoder === "fixed";
  const tmp = `${path}.tmp-${process.pid}`;
  const w = new ModelWriter(tmp);

  w.i32(0x67676d6c);
  for (const v of [N_VOCAB, N_AUDIO_CTX, n, spec.nHead, spec.nAudioLayer, N_TEXT_CTX, n, spec.nHead, spec.nTextLayer, N_MELS, 1 /* f16 */]) {
    w.i32(v);
  }

  // triangular mel filters over the 201 FFT bins, so the log-mel input is well formed
  w.i32(N_MELS);
  w.i32(N_FFT_BINS);
  const melOf = (hz: number) => 2595 * Math.log10(1 + hz / 700);
  const hzOf = (mel: number) => 700 * (10 ** (mel / 2595) - 1);
  const edges = Array.from({ length: N_MELS + 2 }, (_, i) => hzOf((melOf(8000) * i) / (N_MELS + 1)));
  for (let m = 0; m < N_MELS; m++) {
    for (let k = 0; k < N_FFT_BINS; k++) {
      const hz = (k * 8000) / (N_FFT_BINS - 1);
      const lo = edges[m]!,
        mid = edges[m + 1]!,
        hi = edges[m + 2]!;
      const v = hz <= lo || hz >= hi ? 0 : hz <= mid ? (hz - lo) / (mid - lo) : (hi - hz) / (hi - mid);
      w.f32(v);
    }
  }

  w.i32(N_BASE_TOKENS);
  for (let i = 0; i < N_BASE_TOKENS; i++) {
    // whisper.cpp looks up " " (GPT-2 token 220) by name when it suppresses blanks
    const text = i === N_BASE_TOKENS - 1 ? "<|endoftext|>" : i === 220 ? " " : testTokenText(i);
    const b = Buffer.from(text, "utf8");
    w.i32(b.length);
    w.bytes(b);
  }

  const tensor = (name: string, dims: number[], type: 0 | 1, init: Init): void => {
    const nameBuf = Buffer.from(name, "utf8");
    w.i32(dims.length);
    w.i32(nameBuf.length);
    w.i32(type);
    for (const d of dims) w.i32(d);
    w.bytes(nameBuf);
    const count = dims.reduce((a, b) => a * b, 1);
    if (type === 0) for (let i = 0; i < count; i++) w.f32(init(i));
    else for (let i = 0; i < count; i++) w.f16(init(i));
  };
  const F32 = 0,
    F16 = 1;
  const scale = 1 / Math.sqrt(n);

  tensor("encoder.positional_embedding", [n, N_AUDIO_CTX], F32, gauss(0.1));
  tensor("encoder.conv1.weight", [3, N_MELS, n], F16, gauss(0.1));
  tensor("encoder.conv1.bias", [1, n], F32, constant(0));
  tensor("encoder.conv2.weight", [3, n, n], F16, gauss(scale));
  tensor("encoder.conv2.bias", [1, n], F32, constant(0));
  tensor("encoder.ln_post.weight", [n], F32, constant(1));
  tensor("encoder.ln_post.bias", [n], F32, constant(0));
  const block = (prefix: string, cross: boolean): void => {
    tensor(`${prefix}.mlp_ln.weight`, [n], F32, constant(1));
    tensor(`${prefix}.mlp_ln.bias`, [n], F32, constant(0));
    tensor(`${prefix}.mlp.0.weight`, [n, 4 * n], F16, gauss(scale));
    tensor(`${prefix}.mlp.0.bias`, [4 * n], F32, constant(0));
    tensor(`${prefix}.mlp.2.weight`, [4 * n, n], F16, gauss(scale / 2));
    tensor(`${prefix}.mlp.2.bias`, [n], F32, constant(0));
    const attn = (a: string, ln: string): void => {
      tensor(`${prefix}.${ln}.weight`, [n], F32, constant(1));
      tensor(`${prefix}.${ln}.bias`, [n], F32, constant(0));
      tensor(`${prefix}.${a}.query.weight`, [n, n], F16, gauss(scale));
      tensor(`${prefix}.${a}.query.bias`, [n], F32, constant(0));
      tensor(`${prefix}.${a}.key.weight`, [n, n], F16, gauss(scale));
      tensor(`${prefix}.${a}.value.weight`, [n, n], F16, gauss(scale));
      tensor(`${prefix}.${a}.value.bias`, [n], F32, constant(0));
      tensor(`${prefix}.${a}.out.weight`, [n, n], F16, gauss(scale));
      tensor(`${prefix}.${a}.out.bias`, [n], F32, constant(0));
    };
    attn("attn", "attn_ln");
    if (cross) attn("cross_attn", "cross_attn_ln");
  };
  for (let i = 0; i < spec.nAudioLayer; i++) block(`encoder.blocks.${i}`, false);

  tensor("decoder.positional_embedding", [n, N_TEXT_CTX], F32, gauss(0.1));
  // Logits are h · E[token]. In "fixed" mode h is the constant final-LN bias u = (1, 0, 0, ...),
  // so the logit of a token is E[token][0], the same at every step. whisper.cpp's timestamp
  // rules then give, with text > EOT > every single timestamp, and the 1501 timestamps together
  // (log-sum-exp about 8) > text:
  //   step 0: only timestamps may start a window (EOT is suppressed) -> <|1.00|> (max_initial_ts)
  //   step 1: timestamps are masked after a lone timestamp -> FIXED_TEXT_TOKEN
  //   step 2: timestamp mass beats any text token -> <|30.00|> (highest timestamp logit)
  //   step 3: text is masked after a closing timestamp -> EOT beats every timestamp
  // i.e. one segment, one word, four decoder steps per window, independent of the audio.
  // Greedy without temperature fallback is required: the spread timestamp distribution has a
  // low log-probability, which would otherwise trigger whisper.cpp's fallback sampling.
  const embeddingFirst = (token: number): number => {
    if (token >= TOKEN_BEG) return (token - TOKEN_BEG) * 0.001;
    if (token === FIXED_TEXT_TOKEN) return 4;
    if (token === TOKEN_EOT) return 2;
    return -20;
  };
  const embRand = gauss(0.05);
  tensor("decoder.token_embedding.weight", [n, N_VOCAB], F16, (i) => {
    const token = Math.floor(i / n);
    const dim = i % n;
    if (fixed && dim === 0) return embeddingFirst(token);
    return embRand(i);
  });
  tensor("decoder.ln.weight", [n], F32, fixed ? constant(0) : constant(1));
  tensor("decoder.ln.bias", [n], F32, fixed ? (i) => (i === 0 ? 1 : 0) : constant(0));
  for (let i = 0; i < spec.nTextLayer; i++) block(`decoder.blocks.${i}`, true);

  w.close();
  renameSync(tmp, path);
}
