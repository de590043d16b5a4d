/** Extensions ffmpeg reads that carry audio; compared lower-case, without the dot. */
// biome-ignore format: a dense list reads better than one extension per line
const AUDIO_EXTENSIONS = [
  "mp3", "m4a", "m4b", "aac", "wav", "wave", "flac", "ogg", "oga", "opus", "wma", "amr", "aiff", "aif", "aifc",
  "caf", "ac3", "eac3", "mka", "mp2", "mpga", "au", "snd", "alac", "ape", "wv", "spx", "3ga",
] as const;
// biome-ignore format: a dense list reads better than one extension per line
const VIDEO_EXTENSIONS = [
  "mp4", "m4v", "mkv", "mov", "avi", "webm", "wmv", "flv", "3gp", "3g2", "mpg", "mpeg", "ts", "mts", "m2ts", "vob", "ogv", "asf",
] as const;

const MEDIA = new Set<string>([...AUDIO_EXTENSIONS, ...VIDEO_EXTENSIONS]);

export function mediaExtension(path: string): string {
  const base = path.slice(path.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  return dot <= 0 ? "" : base.slice(dot + 1).toLowerCase();
}

export function isMediaPath(path: string): boolean {
  return MEDIA.has(mediaExtension(path));
}
