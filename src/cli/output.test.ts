import { describe, expect, it } from "vitest";
import { createStderrProgress } from "./output.js";

describe("createStderrProgress off a terminal", () => {
  it("prints each quarter, and any update after a quiet stretch so a slow phase still shows life", () => {
    const lines: string[] = [];
    let clock = 0;
    const progress = createStderrProgress({ isTty: false, write: (text) => lines.push(text.trimEnd()), now: () => clock, quietMs: 5000 });
    progress.start("auto: candidates", 20);
    for (let done = 1; done <= 4; done++) {
      clock += 1000;
      progress.update(done, `candidate ${done}`);
    }
    // 1–4 of 20 within 4 s: below a quarter and not quiet long enough, nothing yet.
    expect(lines).toEqual([]);
    clock += 6000;
    progress.update(5, "candidate 5");
    progress.update(6, "candidate 6");
    expect(lines).toEqual(["auto: candidates: 25% candidate 5"]);
    clock += 6000;
    progress.update(7, "candidate 7");
    progress.finish("7 candidates");
    expect(lines.slice(1)).toEqual(["auto: candidates: 35% candidate 7", "auto: candidates: done 7 candidates"]);
  });
});
