import { describe, expect, it } from "vitest";
import { normalizeEnglish } from "../../src/eval/normalize-english.js";

describe("normalizeEnglish", () => {
  it.each([
    ["Hello, World!", "hello world"],
    ["Mr. Smith's colour", "mister smith's color"],
    ["I can't and won't; they're here", "i can not and will not they are here"],
    ["twenty one guns", "21 guns"],
    ["two thousand and five", "2005"],
    ["one hundred and twenty three", "123"],
    ["the twenty first century", "the 21st century"],
    ["one two three", "1 2 3"],
    ["three million people", "3000000 people"],
    ["1,000 people, 50% of them", "1000 people 50 percent of them"],
    ["uh I um think [noise] (laughs) so", "i think so"],
    ["Café naïve", "cafe naive"],
    ["it cost 3.5 dollars.", "it cost 3.5 dollars"],
    ["  'quoted'  words ", "quoted words"],
    ["<s> and mister john </s>", "and mister john"],
    ["sand and stone", "sand and stone"],
    ["someone and anyone", "someone and anyone"],
  ])("%s -> %s", (input, expected) => {
    expect(normalizeEnglish(input)).toBe(expected);
  });
});
