import { InvalidArgumentError } from "commander";
import { describe, expect, it } from "vitest";
import { millisecondsParser } from "./options.js";

describe("CLI option parsers", () => {
  it("reads milliseconds as a plain number or a duration with its unit", () => {
    const positive = millisecondsParser(1);
    expect(positive("5000")).toBe(5000);
    expect(positive("200ms")).toBe(200);
    expect(positive("5s")).toBe(5000);
    expect(positive("1.5s")).toBe(1500);
    expect(positive("2m")).toBe(120_000);
    for (const bad of ["0", "0s", "-5", "5 seconds", "fast", "1e3", ""]) expect(() => positive(bad), bad).toThrow(InvalidArgumentError);
    expect(() => positive("soon")).toThrow(/positive number of milliseconds or a duration, e\.g\. 5000 or 5s/);
    const nonNegative = millisecondsParser(0);
    expect(nonNegative("0")).toBe(0);
    expect(nonNegative("0s")).toBe(0);
    expect(() => nonNegative("-1")).toThrow(/non-negative/);
  });
});
