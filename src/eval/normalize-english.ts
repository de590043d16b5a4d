/**
 * English text normalisation before scoring, in the spirit of Whisper's EnglishTextNormalizer
 * (docs/EVAL.md lists every rule). Without it, "Mr. Smith's 21 colours" and "mister smith's
 * twenty one colors" would differ in four words although a listener hears no difference.
 */

const FILLERS = new Set(["hmm", "mm", "mhm", "mmm", "uh", "um", "er", "ah", "erm", "uhm"]);

const TITLES: Record<string, string> = {
  mr: "mister",
  mrs: "missus",
  ms: "miss",
  dr: "doctor",
  prof: "professor",
  st: "saint",
  capt: "captain",
  gov: "governor",
  gen: "general",
  sen: "senator",
  rep: "representative",
  pres: "president",
  rev: "reverend",
  hon: "honorable",
  lt: "lieutenant",
  col: "colonel",
  sgt: "sergeant",
  jr: "junior",
  sr: "senior",
  esq: "esquire",
};

/** A subset of British -> American spellings (Whisper ships ~1,700; these are the common ones). */
// biome-ignore format: a dense word table reads better than one pair per line
const SPELLINGS: Record<string, string> = {
  colour: "color", colours: "colors", coloured: "colored", favour: "favor", favourite: "favorite", favourites: "favorites",
  honour: "honor", honours: "honors", honoured: "honored", labour: "labor", neighbour: "neighbor", neighbours: "neighbors",
  neighbourhood: "neighborhood", behaviour: "behavior", behaviours: "behaviors", humour: "humor", rumour: "rumor",
  harbour: "harbor", flavour: "flavor", vapour: "vapor", endeavour: "endeavor", armour: "armor", parlour: "parlor",
  centre: "center", centres: "centers", theatre: "theater", theatres: "theaters", metre: "meter", metres: "meters",
  litre: "liter", litres: "liters", fibre: "fiber", sombre: "somber", spectre: "specter",
  organise: "organize", organised: "organized", organisation: "organization", realise: "realize", realised: "realized",
  recognise: "recognize", recognised: "recognized", apologise: "apologize", apologised: "apologized", analyse: "analyze",
  analysed: "analyzed", paralyse: "paralyze", travelled: "traveled", travelling: "traveling", traveller: "traveler",
  cancelled: "canceled", cancelling: "canceling", modelling: "modeling", labelled: "labeled", jewellery: "jewelry",
  grey: "gray", programme: "program", programmes: "programs", catalogue: "catalog", dialogue: "dialog", defence: "defense",
  offence: "offense", licence: "license", pretence: "pretense", practise: "practice", practised: "practiced",
  ageing: "aging", plough: "plow", cheque: "check", tyre: "tire", tyres: "tires", aluminium: "aluminum", mould: "mold",
  moustache: "mustache", sceptical: "skeptical", enquire: "inquire", enquiry: "inquiry", judgement: "judgment",
};

const CONTRACTIONS: [RegExp, string][] = [
  [/\bwon't\b/g, "will not"],
  [/\bcan't\b/g, "can not"],
  [/\blet's\b/g, "let us"],
  [/\bain't\b/g, "aint"],
  [/\by'all\b/g, "you all"],
  [/\bwanna\b/g, "want to"],
  [/\bgotta\b/g, "got to"],
  [/\bgonna\b/g, "going to"],
  [/\bi'ma\b/g, "i am going to"],
  [/\bimma\b/g, "i am going to"],
  [/\bwoulda\b/g, "would have"],
  [/\bcoulda\b/g, "could have"],
  [/\bshoulda\b/g, "should have"],
  [/\bma'am\b/g, "madam"],
  [/'d been\b/g, " had been"],
  [/'s been\b/g, " has been"],
  [/'d gone\b/g, " had gone"],
  [/'s gone\b/g, " has gone"],
  [/'d done\b/g, " had done"],
  [/'s got\b/g, " has got"],
  [/n't\b/g, " not"],
  [/'re\b/g, " are"],
  [/'d\b/g, " would"],
  [/'ll\b/g, " will"],
  [/'t\b/g, " not"],
  [/'ve\b/g, " have"],
  [/'m\b/g, " am"],
];

const ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];
const TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"];
const TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];
const SCALES: Record<string, number> = { thousand: 1e3, million: 1e6, billion: 1e9, trillion: 1e12 };
const ORDINAL_ONES = ["zeroth", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth"];
const ORDINAL_TEENS = ["tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth"];
const ORDINAL_TENS = ["", "", "twentieth", "thirtieth", "fortieth", "fiftieth", "sixtieth", "seventieth", "eightieth", "ninetieth"];

type Kind = "none" | "ones" | "teens" | "tens" | "hundred" | "scale";
type NumberWord = { kind: Exclude<Kind, "none">; value: number; ordinal: boolean };

function numberWord(w: string): NumberWord | undefined {
  const one = ONES.indexOf(w);
  if (one >= 0) return { kind: "ones", value: one, ordinal: false };
  const ordinalOne = ORDINAL_ONES.indexOf(w);
  if (ordinalOne >= 0) return { kind: "ones", value: ordinalOne, ordinal: true };
  const teen = TEENS.indexOf(w);
  if (teen >= 0) return { kind: "teens", value: 10 + teen, ordinal: false };
  const ordinalTeen = ORDINAL_TEENS.indexOf(w);
  if (ordinalTeen >= 0) return { kind: "teens", value: 10 + ordinalTeen, ordinal: true };
  // TENS[0] and TENS[1] are empty placeholders
  const ten = w ? TENS.indexOf(w) : -1;
  if (ten >= 2) return { kind: "tens", value: ten * 10, ordinal: false };
  const ordinalTen = w ? ORDINAL_TENS.indexOf(w) : -1;
  if (ordinalTen >= 2) return { kind: "tens", value: ordinalTen * 10, ordinal: true };
  if (w === "hundred" || w === "hundredth") return { kind: "hundred", value: 100, ordinal: w === "hundredth" };
  if (w in SCALES) return { kind: "scale", value: SCALES[w]!, ordinal: false };
  if (w.endsWith("th") && w.slice(0, -2) in SCALES) return { kind: "scale", value: SCALES[w.slice(0, -2)]!, ordinal: true };
  return undefined;
}

/** which kind of number word may follow which, so "twenty one" joins and "one two" does not */
const FOLLOWS: Record<Kind, Kind[]> = {
  none: ["ones", "teens", "tens"],
  ones: ["hundred", "scale"],
  teens: ["hundred", "scale"],
  tens: ["ones", "hundred", "scale"],
  hundred: ["ones", "teens", "tens", "scale"],
  scale: ["ones", "teens", "tens"],
};

const suffixFor = (n: number) => {
  if (n % 100 >= 11 && n % 100 <= 13) return "th";
  return ({ 1: "st", 2: "nd", 3: "rd" } as Record<number, string>)[n % 10] ?? "th";
};

/**
 * Spelled-out numbers -> digits: "twenty one" -> "21", "two thousand and five" -> "2005",
 * "twenty first" -> "21st", "one two three" -> "1 2 3".
 */
function normalizeNumbers(words: string[]): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < words.length) {
    let kind: Kind = "none";
    let total = 0;
    let current = 0;
    let ordinal = false;
    let j = i;
    while (j < words.length && !ordinal) {
      const w = words[j]!;
      if (w === "and" && (kind === "hundred" || kind === "scale")) {
        const next = numberWord(words[j + 1] ?? "");
        if (next && next.kind !== "hundred" && next.kind !== "scale") {
          j++;
          continue;
        }
        break;
      }
      const n = numberWord(w);
      if (!n || !FOLLOWS[kind].includes(n.kind)) break;
      if (n.kind === "tens" && kind === "tens") break;
      if (n.kind === "hundred") current = current * 100;
      else if (n.kind === "scale") {
        total += current * n.value;
        current = 0;
      } else current += n.value;
      kind = n.kind;
      ordinal = n.ordinal;
      j++;
    }
    if (kind === "none") {
      out.push(words[i]!);
      i++;
      continue;
    }
    const value = total + current;
    out.push(ordinal ? `${value}${suffixFor(value)}` : String(value));
    i = j;
  }
  return out;
}

export function normalizeEnglish(text: string): string {
  let s = text.toLowerCase();
  s = s.replace(/[<[][^>\]]*[>\]]/g, " "); // [noise], <unk>, <s>
  s = s.replace(/\([^)]*\)/g, " "); // (laughs)
  s = s.replace(/[’‘`]/g, "'");
  s = s.normalize("NFKD").replace(/\p{M}/gu, "");
  s = s.replace(/\s+'/g, "'");
  for (const [pattern, replacement] of CONTRACTIONS) s = s.replace(pattern, replacement);
  s = s.replace(/(\d),(\d{3})/g, "$1$2"); // 1,000 -> 1000
  s = s.replace(/(\d)%/g, "$1 percent").replace(/%/g, " percent ");
  // keep letters, digits, apostrophes inside words and decimal points inside numbers
  s = s.replace(/(\d)\.(\d)/g, "$1\u0000$2");
  // biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is the placeholder for decimal points set just above
  s = s.replace(/[^\p{L}\p{N}'\u0000\s]/gu, " ").replace(/\u0000/g, ".");
  s = s.replace(/(^|\s)'+|'+(?=\s|$)/g, "$1");
  const words = s
    .split(/\s+/)
    .filter((w) => w.length > 0 && !FILLERS.has(w))
    .map((w) => TITLES[w] ?? SPELLINGS[w] ?? w);
  return normalizeNumbers(words).join(" ");
}
