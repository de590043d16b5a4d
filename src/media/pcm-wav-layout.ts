/** Where the samples of a WAV file that whisper can take as they are lie. */
export interface PcmWavLayout {
  /** byte offset of the first sample */
  dataOffset: number;
  /** bytes of samples (2 per sample) */
  dataBytes: number;
}

const PCM = 1;
const EXTENSIBLE = 0xfffe;

/**
 * The layout of a RIFF/WAVE file holding 16 kHz mono 16-bit PCM (what whisper.cpp's own tools
 * write and read), from its first bytes (`head`, the fmt and data chunk headers included) and its
 * size; undefined for anything else, which ffmpeg decodes: other rates, channels or sample formats,
 * a data chunk that claims more bytes than the file holds (a truncated or still-growing file, which
 * ffmpeg decodes as far as it goes), or a header this does not understand. Reading such a file directly
 * saves an ffmpeg process per file (about 0.1 s of CPU: as much as whisper's tiny model spends on a
 * second of audio), and its samples are the same ffmpeg would give: s16 / 32768 is exact in float32.
 */
export function pcmWavLayout(head: Buffer, fileSize: number): PcmWavLayout | undefined {
  if (head.length < 12 || head.toString("latin1", 0, 4) !== "RIFF" || head.toString("latin1", 8, 12) !== "WAVE") return undefined;
  let at = 12;
  let fmtOk = false;
  while (at + 8 <= head.length) {
    const id = head.toString("latin1", at, at + 4);
    const size = head.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === "fmt ") {
      if (body + 16 > head.length) return undefined;
      fmtOk = isMono16kS16(head, body, size);
      if (!fmtOk) return undefined;
    } else if (id === "data") {
      if (!fmtOk || size % 2 !== 0 || body + size > fileSize) return undefined;
      return { dataOffset: body, dataBytes: size };
    }
    // chunks are padded to an even length
    at = body + size + (size % 2);
  }
  return undefined;
}

function isMono16kS16(head: Buffer, body: number, size: number): boolean {
  const format = head.readUInt16LE(body);
  const channels = head.readUInt16LE(body + 2);
  const rate = head.readUInt32LE(body + 4);
  const blockAlign = head.readUInt16LE(body + 12);
  const bits = head.readUInt16LE(body + 14);
  if (channels !== 1 || rate !== 16000 || bits !== 16 || blockAlign !== 2) return false;
  if (format === PCM) return true;
  // WAVE_FORMAT_EXTENSIBLE: the sub-format GUID starts with the PCM tag, 16 valid bits
  return format === EXTENSIBLE && size >= 40 && body + 26 <= head.length && head.readUInt16LE(body + 18) === 16 && head.readUInt16LE(body + 24) === PCM;
}
