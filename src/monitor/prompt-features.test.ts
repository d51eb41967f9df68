import { writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { useTempDir } from "../../test/fixtures/temp-dir.js";
import { buildPromptReference, commonTokens, extractPromptFeatures, promptFeatures, promptText, readPromptReference } from "./prompt-features.js";

const temp = useTempDir("edgeforge-prompt-features-");

describe("LLM prompt features", () => {
  it("takes the most frequent tokens that make up half of the reference's tokens, ties by id", () => {
    // 10 tokens: 7 ×4, 3 ×3, 5 ×2, 9 ×1 — 7 alone is 40 %, 7 and 3 are 70 %.
    expect([...commonTokens([[7, 7, 3, 5], [7, 3, 3, 5, 7, 9]])]).toEqual([7, 3]);
    // a tie at the boundary: the lower id first
    expect([...commonTokens([[2, 1]])]).toEqual([1]);
    expect(commonTokens([]).size).toBe(0);
  });

  it("gives the token count, characters per token and common-token share, NaN where undefined", () => {
    expect([...extractPromptFeatures("abcdefgh", [1, 2, 3, 4], new Set([1, 2, 3]))]).toEqual([4, 2, 0.75]);
    expect([...extractPromptFeatures("abcd", [1, 2], undefined)]).toEqual([2, 2, Number.NaN]);
    expect([...extractPromptFeatures("", [], new Set([1]))]).toEqual([0, Number.NaN, Number.NaN]);
    expect(promptFeatures.map((f) => f.name)).toEqual(["prompt.tokens", "prompt.charsPerToken", "prompt.commonTokenShare"]);
  });

  it("reads a chat's message contents, one per line, or the prompt", () => {
    expect(promptText({ messages: [{ content: "be brief" }, { content: "hello" }] })).toBe("be brief\nhello");
    expect(promptText({ prompt: "once upon" })).toBe("once upon");
  });

  it("reads references as text lines, JSON lines or a JSON array (prompt, messages, or a string), at most maxRows", async () => {
    const text = temp.join("prompts.txt");
    await writeFile(text, "first prompt\r\n\r\nsecond prompt\r\nthird\r\n");
    expect(await readPromptReference(text, 2)).toEqual(["first prompt", "second prompt"]);
    const jsonl = temp.join("prompts.jsonl");
    await writeFile(jsonl, [JSON.stringify({ prompt: "a" }), JSON.stringify({ messages: [{ role: "system", content: "b" }, { role: "user", content: "c" }] }), JSON.stringify("d"), ""].join("\n"));
    expect(await readPromptReference(jsonl, 10)).toEqual(["a", "b\nc", "d"]);
    const json = temp.join("prompts.json");
    await writeFile(json, JSON.stringify([{ prompt: "x" }, "y", { prompt: "z" }], null, 2));
    expect(await readPromptReference(json, 2)).toEqual(["x", "y"]);
  });

  it("refuses a reference that is empty, not JSON, or has no prompt, naming the line and the formats", async () => {
    const empty = temp.join("empty.txt");
    await writeFile(empty, "\n\n");
    await expect(readPromptReference(empty, 10)).rejects.toMatchObject({ code: "DATASET_INVALID", message: expect.stringMatching(/has no prompts/), hint: expect.stringMatching(/one prompt per line/) });
    const broken = temp.join("broken.jsonl");
    await writeFile(broken, `${JSON.stringify({ prompt: "ok" })}\n{not json\n`);
    await expect(readPromptReference(broken, 10)).rejects.toMatchObject({ code: "DATASET_INVALID", message: expect.stringMatching(/line 2 is not JSON/) });
    const wrong = temp.join("wrong.jsonl");
    await writeFile(wrong, `${JSON.stringify({ text: "no prompt field" })}\n`);
    await expect(readPromptReference(wrong, 10)).rejects.toMatchObject({ code: "DATASET_INVALID", message: expect.stringMatching(/line 1 has no "prompt"/) });
    const object = temp.join("object.json");
    await writeFile(object, JSON.stringify({ prompt: "one" }));
    await expect(readPromptReference(object, 10)).rejects.toMatchObject({ code: "DATASET_INVALID", message: expect.stringMatching(/not a JSON array/) });
    await expect(readPromptReference(temp.join("missing.txt"), 10)).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
  });

  it("builds the reference's columns with the same features as a request", () => {
    const tokenize = (text: string) => Array.from(text, (c) => c.charCodeAt(0));
    const { reference, common } = buildPromptReference("prompts.txt", ["aab", "ab"], tokenize);
    expect([...common]).toEqual([97]);
    expect(reference).toMatchObject({ source: "prompts.txt", rows: 2 });
    expect(reference.columns.map((c) => [...c])).toEqual([[3, 2], [1, 1], [2 / 3, 0.5]]);
  });
});
