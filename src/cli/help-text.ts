/** Shown after `speechflow --help` and `speechflow transcribe --help`. */
export const EXAMPLES = `
Examples:
  $ speechflow transcribe ./recordings -o ./transcripts
  $ speechflow transcribe "talks/**/*.mp4" --model ./models/ggml-small.bin --language de
  $ find /data -name '*.wav' | speechflow transcribe --from-list - --formats txt,json
  $ speechflow transcribe ./podcasts --workers 2 --threads 2 --word-timestamps --json > events.ndjson
  $ OPENAI_API_KEY=... speechflow transcribe ./meetings --summarize --pdf --report --llm-base-url https://api.openai.com/v1 --llm-model gpt-4o-mini
  $ speechflow summarize -o ./transcripts --pdf --llm-base-url http://127.0.0.1:11434/v1 --llm-model llama3.1:8b
  $ speechflow transcribe https://example.org/talk.mp3 --notify-url https://hooks.example.org/speechflow
  $ speechflow status -o ./transcripts --json
  $ speechflow retry -o ./transcripts
  $ speechflow eval ./LibriSpeech/test-clean -o ./eval --model small.en --max-wer 0.15
  $ speechflow models pull base.en

Exit codes:
  0    every input was transcribed (or was already up to date)
  1    fatal error (no ffmpeg, model missing or unloadable, state database unusable)
  2    usage or configuration error
  3    the run finished but some inputs failed (each is listed with its cause)
  4    eval: the overall WER is above --max-wer
  75   another run is using the same state database; try again later
  130  interrupted (Ctrl-C); 143 on SIGTERM. Run the same command again to resume.
`;
