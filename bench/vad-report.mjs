// The "VAD" section of docs/BENCHMARKS.md, from the newest bench/results/vad-<date>.json (bench/vad.mjs).

/** @param {number} x */
const pct = (x) => `${(x * 100).toFixed(1)}%`;

/** @param {any} v the results of bench/vad.mjs @returns {string[]} */
export function vadSection(v) {
  const lines = [`## VAD: Silero and the energy VAD (\`npm run bench:vad\`, ${v.date})`, ""];
  lines.push(
    `Corpus: ${v.corpus.sentences} espeak-ng sentences (five voices) one after the other with known pauses (${v.corpus.pauses.join(", ")} s),`,
    `${v.corpus.seconds} s of audio of which ${v.corpus.speechSeconds} s speech, clean and mixed with white, pink and brown noise and`,
    "music-like tones (chords with tremolo) from sox at 20, 10 and 5 dB SNR (speech power over noise power).",
    "Scored: the audio the planner sends to whisper (padding included) against the true speech, per 10 ms frame;",
    `settings ${JSON.stringify(v.settings)}. Recall is the share of speech sent; precision the share of what is sent that is speech.`,
    "",
    "| noise | SNR | energy P / R / F1 | Silero P / R / F1 | energy sends | Silero sends | chunks (energy / Silero) |",
    "| --- | ---: | --- | --- | ---: | ---: | ---: |",
  );
  for (const c of v.conditions) {
    const e = c.scores.energy;
    const s = c.scores.silero;
    const prf = (/** @type {any} */ x) => `${x.precision.toFixed(3)} / ${x.recall.toFixed(3)} / ${x.f1.toFixed(3)}`;
    lines.push(
      `| ${c.noise} | ${c.snr === null ? "clean" : `${c.snr} dB`} | ${prf(e)} | ${prf(s)} | ${e.sentSeconds.toFixed(1)} s | ${s.sentSeconds.toFixed(1)} s | ${e.chunks} / ${s.chunks} |`,
    );
  }
  const minRecall = (/** @type {string} */ k) => Math.min(...v.conditions.map((/** @type {any} */ c) => c.scores[k].recall));
  const sent = (/** @type {string} */ k) => v.conditions.reduce((/** @type {number} */ n, /** @type {any} */ c) => n + c.scores[k].sentSeconds, 0);
  lines.push(
    "",
    `Lowest recall over all conditions: energy ${pct(minRecall("energy"))}, Silero ${pct(minRecall("silero"))}. Over all conditions Silero sends`,
    `${pct(sent("silero") / sent("energy"))} of the audio the energy VAD sends. Processing (this machine, shared): energy ${v.processingMsPerAudioMinute.energy} ms,`,
    `Silero ${v.processingMsPerAudioMinute.silero} ms per minute of audio, on the main thread as the audio streams in, ${sileroLine(v.silero)}.`,
    "",
    `Window fill on dense reading (${v.dense.seconds} s of LibriVox recordings from pocketsphinx-testdata back to back; fill = audio seconds per chunk / 30):`,
    `energy VAD ${v.dense.energy.averageFill} (${v.dense.energy.chunks} chunks), Silero ${v.dense.silero.averageFill} (${v.dense.silero.chunks} chunks)` +
      (v.dense.baseline ? `; before the latest-pause cut (planner 3, energy VAD): ${v.dense.baseline.averageFill} (${v.dense.baseline.chunks} chunks).` : "."),
    `Fixed 30 s windows (whisper.cpp's CLI) would need ${Math.ceil(v.dense.seconds / 30)}, cutting inside words. Cuts go at the reader's pauses (here mostly`,
    "where one recording ends and the next begins); a gap between words (30-60 ms, 20-25 dB under the speech, as a stop consonant's closure)",
    "is taken only when it is within 3 dB of the quietest frame of the last 8 s. The new rule cuts later than before in some windows, but",
    "not by a whole window on this corpus.",
    ...(v.dense.silero.chunks > v.dense.energy.chunks
      ? [
          "Where Silero needs a chunk more, a cut landed a fraction of a second earlier and moved the later ones: a pause that starts",
          "just after a chunk's limit cannot be cut at, and the chunk ends at the last gap before it.",
        ]
      : []),
    "",
  );
  return lines;
}

/** Silero's settings in the run; results before planner 5 did not record them @param {string | undefined} s */
function sileroLine(s) {
  return `at ${s ?? "threshold 0.2, 32 ms windows"}`;
}
