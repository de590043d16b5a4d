import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ffmpeg } from "./media.js";

export interface BadInput {
  /** file name as created (a Buffer for names that are not UTF-8) */
  name: string | Buffer;
  /** what it is, for docs/RELIABILITY.md */
  what: string;
  /** done: transcribed; failed: a one-line error naming it; none: not an input at all (no event) */
  expect: { status: "done" } | { status: "failed"; code: string; message: RegExp } | { status: "none" };
  /** path as speechflow reports it, when not <dir>/<name> */
  reportedAs?: string;
  /** passed explicitly on the command line instead of found in the folder */
  explicit?: boolean;
  /** only meaningful when the run is not root (root reads any file) */
  needsNonRoot?: boolean;
  make: (path: string) => void;
}

let seed = 12345;
const random = (n: number) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    b[i] = seed >> 16;
  }
  return b;
};

/** The crafted inputs of the reliability suite: more than 30, each with its expected outcome. */
export function badInputs(clip: string, scratch: string): BadInput[] {
  const tone = (seconds: number, extra: string[], out: string) => ffmpeg(["-f", "lavfi", "-i", `sine=frequency=440:duration=${seconds}`, ...extra, out]);
  const unreadable: RegExp = /not a readable audio\/video file \(ffmpeg: .+\)/;
  return [
    { name: "good.wav", what: "a normal espeak-ng recording", expect: { status: "done" }, make: (p) => copyFileSync(clip, p) },
    {
      name: "zero.wav",
      what: "zero bytes",
      expect: { status: "failed", code: "MEDIA_EMPTY", message: /^empty file \(0 bytes\)$/ },
      make: (p) => writeFileSync(p, ""),
    },
    {
      name: "truncated-header.wav",
      what: "the first 30 bytes of a wav (header cut)",
      expect: { status: "failed", code: "MEDIA_UNREADABLE", message: unreadable },
      make: (p) => writeFileSync(p, readFileSync(clip).subarray(0, 30)),
    },
    {
      name: "random.mp3",
      what: "64 KiB of random bytes named .mp3",
      expect: { status: "failed", code: "MEDIA_UNREADABLE", message: unreadable },
      make: (p) => writeFileSync(p, random(65536)),
    },
    {
      name: "random.mp4",
      what: "64 KiB of random bytes named .mp4",
      expect: { status: "failed", code: "MEDIA_UNREADABLE", message: unreadable },
      make: (p) => writeFileSync(p, random(65536)),
    },
    {
      name: "text-as.wav",
      what: "a text file named .wav",
      expect: { status: "failed", code: "MEDIA_UNREADABLE", message: unreadable },
      make: (p) => writeFileSync(p, "meeting notes, not audio\n".repeat(50)),
    },
    {
      name: "html-as.m4a",
      what: "an HTML error page named .m4a",
      expect: { status: "failed", code: "MEDIA_UNREADABLE", message: unreadable },
      make: (p) => writeFileSync(p, "<!DOCTYPE html><html><body>404 Not Found</body></html>\n"),
    },
    { name: "tenth-second.wav", what: "0.1 s of tone", expect: { status: "done" }, make: (p) => tone(0.1, [], p) },
    { name: "tenth-second.mp3", what: "0.1 s of tone as mp3", expect: { status: "done" }, make: (p) => tone(0.1, [], p) },
    {
      name: "silence-1h.flac",
      what: "an hour of digital silence",
      expect: { status: "done" },
      make: (p) => ffmpeg(["-f", "lavfi", "-t", "3600", "-i", "anullsrc=r=8000:cl=mono", "-c:a", "flac", p]),
    },
    { name: "96k-8ch.wav", what: "96 kHz, 8 channels", expect: { status: "done" }, make: (p) => ffmpeg(["-i", clip, "-ar", "96000", "-ac", "8", p]) },
    {
      name: "mulaw-8k.wav",
      what: "mono 8 kHz mu-law",
      expect: { status: "done" },
      make: (p) => ffmpeg(["-i", clip, "-ar", "8000", "-ac", "1", "-c:a", "pcm_mulaw", p]),
    },
    {
      name: "video-no-audio.mp4",
      what: "a video without an audio track",
      expect: { status: "failed", code: "MEDIA_NO_AUDIO", message: /^no audio track$/ },
      make: (p) => ffmpeg(["-f", "lavfi", "-i", "testsrc=duration=2:size=160x120:rate=10", "-c:v", "mpeg4", p]),
    },
    {
      name: "video-with-audio.mkv",
      what: "a video with speech",
      expect: { status: "done" },
      make: (p) => ffmpeg(["-f", "lavfi", "-i", "testsrc=duration=3:size=160x120:rate=10", "-i", clip, "-c:v", "mpeg4", "-c:a", "libvorbis", "-shortest", p]),
    },
    {
      name: "ogg-as.mp3",
      what: "Ogg Vorbis named .mp3 (wrong extension)",
      expect: { status: "done" },
      make: (p) => ffmpeg(["-i", clip, "-c:a", "libvorbis", "-f", "ogg", p]),
    },
    { name: "wav-as.mp4", what: "a wav named .mp4", expect: { status: "done" }, make: (p) => copyFileSync(clip, p) },
    {
      name: "sparse-4gb.wav",
      what: "a 4 GiB sparse file of zeros",
      expect: { status: "failed", code: "MEDIA_UNREADABLE", message: unreadable },
      make: (p) => {
        writeFileSync(p, "");
        truncateSync(p, 4 * 1024 ** 3);
      },
    },
    {
      name: `${"long-name-".repeat(23)}x.wav`,
      what: "a 235-byte file name",
      expect: { status: "done" },
      make: (p) => copyFileSync(clip, p),
    },
    {
      name: `${"é".repeat(125)}.wav`,
      what: "a 254-byte name (outputs need a shortened name)",
      expect: { status: "done" },
      make: (p) => copyFileSync(clip, p),
    },
    {
      name: Buffer.concat([Buffer.from("latin1-"), Buffer.from([0xe9, 0xff]), Buffer.from(".wav")]),
      what: "a file name that is not UTF-8",
      expect: { status: "failed", code: "INPUT_NOT_FOUND", message: /^the file name is not valid UTF-8; rename it/ },
      make: (p) => copyFileSync(clip, p),
    },
    { name: "a..b.wav", what: "a name with ..", expect: { status: "done" }, make: (p) => copyFileSync(clip, p) },
    { name: "line\nbreak.wav", what: "a name with a newline", expect: { status: "done" }, make: (p) => copyFileSync(clip, p) },
    {
      name: "not\naudio.wav",
      what: "a text file with a newline in its name",
      expect: { status: "failed", code: "MEDIA_UNREADABLE", message: unreadable },
      make: (p) => writeFileSync(p, "not audio\n"),
    },
    { name: "-rf.wav", what: "a name starting with a dash", expect: { status: "done" }, make: (p) => copyFileSync(clip, p) },
    { name: "--help.wav", what: "a name that looks like an option", expect: { status: "done" }, make: (p) => copyFileSync(clip, p) },
    { name: "$(touch PWNED).wav", what: "shell command substitution in the name", expect: { status: "done" }, make: (p) => copyFileSync(clip, p) },
    { name: "`touch PWNED2`;|&.wav", what: "backticks and shell operators in the name", expect: { status: "done" }, make: (p) => copyFileSync(clip, p) },
    { name: "loop", what: "a symlink to its own folder (directory loop)", expect: { status: "none" }, make: (p) => symlinkSync(".", p) },
    {
      name: "l1.wav",
      what: "two symlinks pointing at each other",
      expect: { status: "failed", code: "INPUT_NOT_FOUND", message: /^symbolic link loop$/ },
      make: (p) => {
        symlinkSync("l2.wav", p);
        symlinkSync("l1.wav", join(p, "..", "l2.wav"));
      },
    },
    {
      name: "l2.wav",
      what: "the other link of that loop",
      expect: { status: "failed", code: "INPUT_NOT_FOUND", message: /^symbolic link loop$/ },
      make: () => undefined,
    },
    {
      name: "gone.wav",
      what: "a symlink to a file that does not exist",
      expect: { status: "failed", code: "INPUT_NOT_FOUND", message: /^broken symbolic link \(ENOENT\)$/ },
      make: (p) => symlinkSync("/nonexistent/target.wav", p),
    },
    {
      name: "folder.mp3",
      what: "a directory named like an audio file (with a recording inside)",
      expect: { status: "none" },
      make: (p) => {
        mkdirSync(p);
        copyFileSync(clip, join(p, "inside.wav"));
      },
    },
    { name: "folder.mp3/inside.wav", what: "the recording inside that directory", expect: { status: "done" }, make: () => undefined },
    {
      name: "unreadable.wav",
      what: "a file without read permission",
      needsNonRoot: true,
      expect: { status: "failed", code: "MEDIA_UNREADABLE", message: /^permission denied$/ },
      make: (p) => {
        copyFileSync(clip, p);
        chmodSync(p, 0o000);
      },
    },
    {
      name: "locked-dir",
      what: "a folder without read permission",
      needsNonRoot: true,
      expect: { status: "failed", code: "INPUT_NOT_FOUND", message: /^cannot read this folder \(EACCES\)$/ },
      make: (p) => {
        mkdirSync(p);
        copyFileSync(clip, join(p, "hidden.wav"));
        chmodSync(p, 0o000);
      },
    },
    {
      name: "id3-only.mp3",
      what: "an ID3 tag and no audio frames",
      expect: { status: "failed", code: "MEDIA_UNREADABLE", message: unreadable },
      make: (p) => writeFileSync(p, Buffer.concat([Buffer.from("ID3\u0003\u0000\u0000\u0000\u0000\u0000\u000a", "latin1"), Buffer.alloc(10)])),
    },
    {
      name: "corrupt-middle.flac",
      what: "a flac with 4 KiB of garbage in the middle",
      expect: { status: "done" },
      make: (p) => {
        ffmpeg(["-i", clip, "-c:a", "flac", p]);
        const b = readFileSync(p);
        random(4096).copy(b, Math.floor(b.length / 2));
        writeFileSync(p, b);
      },
    },
    {
      name: "no-moov.m4a",
      what: "an m4a cut before its index (moov atom)",
      expect: { status: "failed", code: "MEDIA_UNREADABLE", message: unreadable },
      make: (p) => {
        const full = join(scratch, "full.m4a");
        ffmpeg(["-i", clip, "-c:a", "aac", full]);
        const b = readFileSync(full);
        writeFileSync(p, b.subarray(0, Math.floor(b.length * 0.6)));
      },
    },
    {
      name: "claims-60s.wav",
      what: "a wav whose header announces 60 s but holds 4 s (ffmpeg sizes wav by the file: what is there is transcribed)",
      expect: { status: "done" },
      make: (p) => {
        const b = Buffer.from(readFileSync(clip));
        const sampleRate = b.readUInt32LE(24);
        b.writeUInt32LE(sampleRate * 2 * 60, 40); // data chunk size: 60 s of 16-bit mono
        b.writeUInt32LE(sampleRate * 2 * 60 + 36, 4);
        writeFileSync(p, b);
      },
    },
    {
      name: "stereo-one-silent.wav",
      what: "stereo with one silent channel",
      expect: { status: "done" },
      make: (p) => ffmpeg(["-i", clip, "-af", "pan=stereo|c0=c0|c1=0*c0", p]),
    },
    {
      name: "fifo.wav",
      what: "a named pipe given as an input",
      explicit: true,
      expect: { status: "failed", code: "MEDIA_UNREADABLE", message: /^not a regular file$/ },
      make: (p) => execFileSync("mkfifo", [p]),
    },
  ];
}
