/**
 * The ggml models published in the whisper.cpp model repository, with the SHA-1 of each file as
 * whisper.cpp lists it (models/README.md upstream). A pulled file must match it byte for byte.
 */
export interface CatalogEntry {
  name: string;
  /** SHA-1 of the file (whisper.cpp's model repository publishes these); ignored when sha256 is set */
  sha1: string;
  /** approximate size, for listings before download */
  sizeMiB: number;
  /** a file published elsewhere (diarization models): its full URL, its name on disk, its SHA-256 */
  url?: string;
  fileName?: string;
  sha256?: string;
}

const table: [string, number, string][] = [
  ["tiny", 75, "bd577a113a864445d4c299885e0cb97d4ba92b5f"],
  ["tiny-q5_1", 31, "2827a03e495b1ed3048ef28a6a4620537db4ee51"],
  ["tiny-q8_0", 42, "19e8118f6652a650569f5a949d962154e01571d9"],
  ["tiny.en", 75, "c78c86eb1a8faa21b369bcd33207cc90d64ae9df"],
  ["tiny.en-q5_1", 31, "3fb92ec865cbbc769f08137f22470d6b66e071b6"],
  ["tiny.en-q8_0", 42, "802d6668e7d411123e672abe4cb6c18f12306abb"],
  ["base", 142, "465707469ff3a37a2b9b8d8f89f2f99de7299dac"],
  ["base-q5_1", 57, "a3733eda680ef76256db5fc5dd9de8629e62c5e7"],
  ["base-q8_0", 78, "7bb89bb49ed6955013b166f1b6a6c04584a20fbe"],
  ["base.en", 142, "137c40403d78fd54d454da0f9bd998f78703390c"],
  ["base.en-q5_1", 57, "d26d7ce5a1b6e57bea5d0431b9c20ae49423c94a"],
  ["base.en-q8_0", 78, "bb1574182e9b924452bf0cd1510ac034d323e948"],
  ["small", 466, "55356645c2b361a969dfd0ef2c5a50d530afd8d5"],
  ["small-q5_1", 181, "6fe57ddcfdd1c6b07cdcc73aaf620810ce5fc771"],
  ["small-q8_0", 252, "bcad8a2083f4e53d648d586b7dbc0cd673d8afad"],
  ["small.en", 466, "db8a495a91d927739e50b3fc1cc4c6b8f6c2d022"],
  ["small.en-q5_1", 181, "20f54878d608f94e4a8ee3ae56016571d47cba34"],
  ["small.en-q8_0", 252, "9d75ff4ccfa0a8217870d7405cf8cef0a5579852"],
  ["medium", 1536, "fd9727b6e1217c2f614f9b698455c4ffd82463b4"],
  ["medium-q5_0", 514, "7718d4c1ec62ca96998f058114db98236937490e"],
  ["medium-q8_0", 785, "e66645948aff4bebbec71b3485c576f3d63af5d6"],
  ["medium.en", 1536, "8c30f0e44ce9560643ebd10bbe50cd20eafd3723"],
  ["medium.en-q5_0", 514, "bb3b5281bddd61605d6fc76bc5b92d8f20284c3b"],
  ["medium.en-q8_0", 785, "b1cf48c12c807e14881f634fb7b6c6ca867f6b38"],
  ["large-v3", 2970, "ad82bf6a9043ceed055076d0fd39f5f186ff8062"],
  ["large-v3-q5_0", 1126, "e6e2ed78495d403bef4b7cff42ef4aaadcfea8de"],
  ["large-v3-turbo", 1536, "4af2b29d7ec73d781377bfd1758ca957a807e941"],
  ["large-v3-turbo-q5_0", 547, "e050f7970618a659205450ad97eb95a18d69c9ee"],
  ["large-v3-turbo-q8_0", 834, "01bf15bedffe9f39d65c1b6ff9b687ea91f59e0e"],
];

export const MODEL_CATALOG: ReadonlyMap<string, CatalogEntry> = new Map(table.map(([name, sizeMiB, sha1]) => [name, { name, sizeMiB, sha1 }]));

export function modelFileName(name: string): string {
  return `ggml-${name}.bin`;
}
