#!/usr/bin/env python3
"""Stand-in for ffmpeg on the GPU check machine, which has no ffmpeg and no package registry.

It answers exactly the two calls speechflow's ffmpeg gateway makes: `-version`, and decoding
`-i file:PATH ... -f f32le pipe:1` for 16-bit PCM wav files (any rate is NOT resampled: the
check feeds 16 kHz mono wavs). Used only by bench/gpu/gpu-check.sh; never shipped as a decoder.
"""
import struct
import sys
import wave

args = sys.argv[1:]
if "-version" in args:
    print("ffmpeg version 0.0-gpu-check-shim")
    sys.exit(0)
path = args[args.index("-i") + 1]
if path.startswith("file:"):
    path = path[5:]
with wave.open(path, "rb") as w:
    if w.getsampwidth() != 2 or w.getnchannels() != 1 or w.getframerate() != 16000:
        print(f"{path}: unsupported by the shim (needs 16 kHz mono 16-bit wav)", file=sys.stderr)
        sys.exit(1)
    frames = w.getnframes()
    seconds = frames / 16000
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    print(f"  Duration: {int(h):02d}:{int(m):02d}:{s:05.2f}, start: 0.000000, bitrate: 256 kb/s", file=sys.stderr)
    print("  Stream #0:0: Audio: pcm_s16le, 16000 Hz, mono, s16, 256 kb/s", file=sys.stderr)
    out = sys.stdout.buffer
    while True:
        data = w.readframes(16000)
        if not data:
            break
        n = len(data) // 2
        samples = struct.unpack(f"<{n}h", data)
        out.write(struct.pack(f"<{n}f", *[x / 32768.0 for x in samples]))
