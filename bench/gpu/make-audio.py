#!/usr/bin/env python3
"""Writes meeting-like 16 kHz mono wavs (voiced bursts separated by pauses, about a third silent)
for the GPU check, where neither espeak-ng nor ffmpeg exists. The generated model decodes every
window to the same tokens, so only the speech/silence pattern matters."""
import math
import random
import struct
import sys
import wave

out_dir, count, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
rng = random.Random(7)
for i in range(count):
    samples = []
    while len(samples) < seconds * 16000:
        burst = rng.uniform(2.0, 6.0)
        f0 = rng.uniform(110, 220)
        for n in range(int(burst * 16000)):
            t = n / 16000
            env = 0.5 + 0.5 * math.sin(2 * math.pi * 3 * t)
            v = 0.3 * env * (math.sin(2 * math.pi * f0 * t) + 0.5 * math.sin(2 * math.pi * 2 * f0 * t)) + rng.uniform(-0.01, 0.01)
            samples.append(int(max(-1, min(1, v)) * 32767))
        samples.extend(int(rng.uniform(-30, 30)) for _ in range(int(rng.choice([0.5, 1, 2, 3, 6]) * 16000)))
    samples = samples[: int(seconds * 16000)]
    with wave.open(f"{out_dir}/meeting-{i:02d}.wav", "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(struct.pack(f"<{len(samples)}h", *samples))
