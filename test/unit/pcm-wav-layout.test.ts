import { describe, expect, it } from "vitest";
import { pcmWavLayout } from "../../src/media/pcm-wav-layout.js";

/** A WAV header: fmt chunk (format, channels, rate, bits), optional chunks before data, data of `dataBytes` declared */
function wav(
  o: { format?: number; channels?: number; rate?: number; bits?: number; extensible?: number; before?: Buffer; dataBytes?: number; riff?: string } = {},
) {
  const channels = o.channels ?? 1;
  const bits = o.bits ?? 16;
  const ext = o.extensible !== undefined;
  const fmt = Buffer.alloc(ext ? 40 : 16);
  fmt.writeUInt16LE(ext ? 0xfffe : (o.format ?? 1), 0);
  fmt.writeUInt16LE(channels, 2);
  fmt.writeUInt32LE(o.rate ?? 16000, 4);
  fmt.writeUInt32LE(((o.rate ?? 16000) * channels * bits) / 8, 8);
  fmt.writeUInt16LE((channels * bits) / 8, 12);
  fmt.writeUInt16LE(bits, 14);
  if (ext) {
    fmt.writeUInt16LE(22, 16);
    fmt.writeUInt16LE(bits, 18);
    fmt.writeUInt16LE(o.extensible ?? 1, 24);
  }
  const chunk = (id: string, body: Buffer) => Buffer.concat([Buffer.from(id, "latin1"), Buffer.from(Uint32Array.of(body.length).buffer), body]);
  const head = Buffer.concat([Buffer.from(`${o.riff ?? "RIFF"}\0\0\0\0WAVE`, "latin1"), chunk("fmt ", fmt), o.before ?? Buffer.alloc(0)]);
  const dataHeader = Buffer.concat([Buffer.from("data", "latin1"), Buffer.from(Uint32Array.of(o.dataBytes ?? 32000).buffer)]);
  return Buffer.concat([head, dataHeader]);
}

describe("pcmWavLayout: which WAV files are read without ffmpeg", () => {
  it("takes 16 kHz mono 16-bit PCM: the samples start after the data chunk's header", () => {
    const head = wav();
    expect(pcmWavLayout(head, head.length + 32000)).toEqual({ dataOffset: head.length, dataBytes: 32000 });
  });

  it("skips other chunks before the data (ffmpeg writes a LIST chunk), odd-sized ones padded", () => {
    const list = Buffer.concat([Buffer.from("LIST", "latin1"), Buffer.from(Uint32Array.of(5).buffer), Buffer.from("INFO\0\0", "latin1")]);
    const head = wav({ before: list });
    expect(pcmWavLayout(head, head.length + 32000)).toEqual({ dataOffset: head.length, dataBytes: 32000 });
  });

  it("takes WAVE_FORMAT_EXTENSIBLE with the PCM sub-format, not with another", () => {
    const head = wav({ extensible: 1 });
    expect(pcmWavLayout(head, head.length + 32000)?.dataBytes).toBe(32000);
    expect(pcmWavLayout(wav({ extensible: 3 }), 1e6)).toBeUndefined();
  });

  it("leaves everything else to ffmpeg: other rates, channels, sample formats, not a WAV", () => {
    expect(pcmWavLayout(wav({ rate: 44100 }), 1e6)).toBeUndefined();
    expect(pcmWavLayout(wav({ channels: 2 }), 1e6)).toBeUndefined();
    expect(pcmWavLayout(wav({ bits: 24 }), 1e6)).toBeUndefined();
    expect(pcmWavLayout(wav({ format: 3, bits: 32 }), 1e6)).toBeUndefined();
    expect(pcmWavLayout(wav({ riff: "RIFX" }), 1e6)).toBeUndefined();
    expect(pcmWavLayout(Buffer.from("this is not audio\n"), 18)).toBeUndefined();
  });

  it("leaves a data chunk that claims more than the file holds (cut short, still growing, streamed) to ffmpeg", () => {
    const head = wav();
    expect(pcmWavLayout(head, head.length + 31998)).toBeUndefined();
    expect(pcmWavLayout(wav({ dataBytes: 0xffffffff }), 1e6)).toBeUndefined();
    expect(pcmWavLayout(wav({ dataBytes: 31999 }), 1e6), "an odd byte count is not 16-bit samples").toBeUndefined();
  });

  it("needs the fmt chunk before the data chunk, and both in the head it is given", () => {
    const head = wav();
    expect(pcmWavLayout(head.subarray(0, 30), 1e6)).toBeUndefined();
    const noFmt = Buffer.concat([Buffer.from("RIFF\0\0\0\0WAVE", "latin1"), head.subarray(head.length - 8)]);
    expect(pcmWavLayout(noFmt, 1e6)).toBeUndefined();
  });
});
