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
 * (see the comment at the token embedding for why). Almost all the work is the encoder's.
 *
 * `decoder: "chain"` decodes like a real model does on speech: every 30 s window yields the same
 * DECODING_WINDOW (<|0.00|>, 5 segments of 14 words, each ended by a <|t|><|t+0.02|> pair, the
 * last by <|30.00|>, then end-of-text: 81 sampled tokens), so whisper.cpp moves on exactly 30 s.
 * The next token is a function of the previous token alone, which no decoding setting can change:
 * - the positional embedding and every attention output projection (self and cross, weights and
 *   biases) are zero: attention is computed in full, as in a real model, but adds nothing, so the
 *   residual stream sees neither the position (text context and prompts shift it) nor the earlier
 *   tokens nor the audio;
 * - each token of the chain has its own one-hot direction in the token embedding (used for input
 *   and, tied, for the logits); every other token's row is zero;
 * - the first decoder layer's MLP is a lookup table: hidden unit k fires (GELU's linear range) only
 *   for the direction of chain token k, and writes a large multiple of its successor's direction;
 *   its output bias adds a smaller end-of-text direction to every token, so a token off the chain
 *   (zero embedding) is followed by end-of-text; the other layers' MLP outputs are zero;
 * - the final layer norm turns that into a successor logit ~90 (micro) to ~150 (tiny) above every
 *   other token, so its probability is 1 in f32: greedy, beam search (which samples candidates
 *   even at temperature 0), and temperature fallback (t <= 1) all pick it; avg log-prob is 0 and the
 *   32-token entropy is ln 32 (all distinct), so no fallback threshold fires.
 * whisper.cpp's logit rules agree with the chain: the prompt ends with <|transcribe|> (or
 * <|translate|>) -> <|0.00|> (<= max_initial_ts); a lone first timestamp masks timestamps -> word;
 * a segment's last word -> <|t|> (timestamp mass beats text), a lone timestamp masks text ->
 * <|t+0.02|>, a pair masks timestamps -> next word; timestamps increase; <|30.00|> -> EOT.
 * <|startoftranscript|> -> <|en|>, so language detection says English. The words are pseudo-words
 * (testTokenText) that suppress_non_speech_tokens and suppress_blank leave alone.
 * The chain needs one embedding dimension per distinct token: nState >= 85 (MICRO_DECODING_MODEL: 128).
 */
export interface TestModelSpec {
  /** width of encoder and decoder (tiny: 384) */
  nState: number;
  nHead: number;
  nAudioLayer: number;
  nTextLayer: number;
  /** "random": plain random weights; "fixed": deterministic 1-token output per window; "chain": DECODING_WINDOW per window */
  decoder?: "random" | "fixed" | "chain";
  seed?: number;
}

export const MICRO_MODEL: TestModelSpec = { nState: 64, nHead: 2, nAudioLayer: 1, nTextLayer: 1, decoder: "fixed" };
/** @public used by bench/run.mjs and bench/gpu/gpu-check.sh through the compiled copy (bench/test-model.mjs) */
export const TINY_SIZED_MODEL: TestModelSpec = { nState: 384, nHead: 6, nAudioLayer: 4, nTextLayer: 4, decoder: "fixed" };
/** the smallest model the chain fits in (one dimension per chain token), for tests */
export const MICRO_DECODING_MODEL: TestModelSpec = { nState: 128, nHead: 2, nAudioLayer: 1, nTextLayer: 1, decoder: "chain" };
/** @public used by bench/run.mjs through the compiled copy (bench/test-model.mjs): tiny's dimensions, decodes DECODING_WINDOW */
export const TINY_SIZED_DECODING_MODEL: TestModelSpec = { nState: 384, nHead: 6, nAudioLayer: 4, nTextLayer: 4, decoder: "chain" };

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
const TOKEN_SOT = 50258;
const TOKEN_LANG_EN = 50259;
const TOKEN_TRANSLATE = 50358;
const TOKEN_TRANSCRIBE = 50359;

/** One segment of the window a "chain" model decodes: times in ms from the window's start. */
export interface DecodedSegment {
  fromMs: number;
  toMs: number;
  text: string;
}

const CHAIN_SEGMENTS = 5;
const CHAIN_WORDS_PER_SEGMENT = 14;
const CHAIN_FIRST_WORD = 1100;
const timestampToken = (ms: number): number => TOKEN_BEG + Math.round(ms / 20);

function decodingWindow(): { tokens: number[]; segments: DecodedSegment[] } {
  const tokens = [timestampToken(0)];
  const segments: DecodedSegment[] = [];
  const segmentMs = 30_000 / CHAIN_SEGMENTS;
  for (let s = 0; s < CHAIN_SEGMENTS; s++) {
    const words = Array.from({ length: CHAIN_WORDS_PER_SEGMENT }, (_, i) => CHAIN_FIRST_WORD + s * CHAIN_WORDS_PER_SEGMENT + i);
    tokens.push(...words);
    const toMs = (s + 1) * segmentMs;
    // a segment ends with a pair of distinct timestamps, so every token of the chain is distinct
    // (its successor is a function of it); the window's last segment ends with <|30.00|> alone
    tokens.push(...(s < CHAIN_SEGMENTS - 1 ? [timestampToken(toMs), timestampToken(toMs + 20)] : [timestampToken(toMs)]));
    segments.push({ fromMs: s * segmentMs, toMs, text: words.map(testTokenText).join("") });
  }
  tokens.push(TOKEN_EOT);
  return { tokens, segments };
}

/**
 * What a "chain" model decodes in every full 30 s window, whatever the audio and decoding settings:
 * `tokens` are the sampled tokens (timestamps, words, end-of-text), `segments` whisper.cpp's segments.
 * A last, shorter window stops at the first segment end within a second of the audio's end.
 */
export const DECODING_WINDOW: { tokens: readonly number[]; segments: readonly DecodedSegment[] } = decodingWindow();

/** token -> the token that follows it; every token not listed is followed by end-of-text */
function chainSuccessors(): Map<number, number> {
  const next = new Map<number, number>([
    [TOKEN_SOT, TOKEN_LANG_EN],
    [TOKEN_TRANSCRIBE, DECODING_WINDOW.tokens[0]!],
    [TOKEN_TRANSLATE, DECODING_WINDOW.tokens[0]!],
  ]);
  for (let i = 0; i + 1 < DECODING_WINDOW.tokens.length; i++) next.set(DECODING_WINDOW.tokens[i]!, DECODING_WINDOW.tokens[i + 1]!);
  return next;
}

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

  // "chain" mode replaces some decoder tensors; the others keep their random values, and every
  // other mode draws exactly the random numbers it always did
  const overrides = spec.decoder === "chain" ? chainDecoderTensors(n, spec.nTextLayer) : new Map<string, Init>();
  const tensor = (name: string, dims: number[], type: 0 | 1, random: Init): void => {
    const init = overrides.get(name) ?? random;
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

/** The decoder tensors of a "chain" model (see the header comment), by name; n = nState. */
function chainDecoderTensors(n: number, nTextLayer: number): Map<string, Init> {
  const next = chainSuccessors();
  const dimOf = new Map<number, number>();
  for (const token of [TOKEN_EOT, ...[...next].flat()]) if (!dimOf.has(token)) dimOf.set(token, dimOf.size);
  if (dimOf.size > n) throw new Error(`a "chain" model needs nState >= ${dimOf.size}`);
  // the layer norm of a one-hot row is sqrt(n-1) at its dimension and -1/sqrt(n-1) elsewhere;
  // hidden unit d (d = a chain token's dimension) computes GAIN * that - OFFSET: >= 10 for its own
  // token (GELU is exactly linear there in ggml) and <= -10 for any other (GELU exactly 0)
  const GAIN = 4;
  const OFFSET = 12;
  const active = GAIN * Math.sqrt(n - 1) - OFFSET;
  if (active < 10) throw new Error(`a "chain" model needs a wider nState than ${n}`);
  // the residual after the lookup is e_token + LOOKUP e_successor + EOT_BIAS e_eot: the final layer
  // norm makes the successor's entry ~sqrt(n), and LOGIT_SCALE turns that into a logit of 90-160
  // (the other chain tokens get <= 0.2 LOGIT_SCALE, tokens off the chain 0)
  const LOOKUP = 100;
  const EOT_BIAS = 10;
  const LOGIT_SCALE = 8;
  const outOfUnit = new Map([...next].map(([token, successor]) => [dimOf.get(token)!, dimOf.get(successor)!]));
  const eotDim = dimOf.get(TOKEN_EOT)!;
  const zero: Init = () => 0;
  const tensors = new Map<string, Init>([
    ["decoder.positional_embedding", zero],
    ["decoder.token_embedding.weight", (i) => (dimOf.get(Math.floor(i / n)) === i % n ? 1 : 0)],
    ["decoder.ln.weight", () => LOGIT_SCALE],
    ["decoder.ln.bias", zero],
    // mlp.0.weight is [n in, 4n out] (input index fastest), mlp.2.weight [4n in, n out]
    ["decoder.blocks.0.mlp.0.weight", (i) => (Math.floor(i / n) === i % n && outOfUnit.has(i % n) ? GAIN : 0)],
    ["decoder.blocks.0.mlp.0.bias", () => -OFFSET],
    ["decoder.blocks.0.mlp.2.weight", (i) => (outOfUnit.get(i % (4 * n)) === Math.floor(i / (4 * n)) ? LOOKUP / active : 0)],
    ["decoder.blocks.0.mlp.2.bias", (i) => (i === eotDim ? EOT_BIAS : 0)],
  ]);
  for (let l = 0; l < nTextLayer; l++) {
    for (const a of ["attn", "cross_attn"]) {
      tensors.set(`decoder.blocks.${l}.${a}.out.weight`, zero);
      tensors.set(`decoder.blocks.${l}.${a}.out.bias`, zero);
    }
    if (l > 0) {
      tensors.set(`decoder.blocks.${l}.mlp.2.weight`, zero);
      tensors.set(`decoder.blocks.${l}.mlp.2.bias`, zero);
    }
  }
  return tensors;
}
