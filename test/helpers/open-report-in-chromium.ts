import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

export interface ChromiumCheck {
  consoleErrors: string[];
  requests: string[];
  paretoPoints: number;
  latencyBoxes: number;
  chartsDrawn: string | null;
  title: string;
  /** Scatter points whose centre lies outside the plot frame. */
  pointsOutsideFrame: number;
  /** Pairs of scatter labels whose boxes intersect, and labels reaching outside the frame. */
  labelOverlaps: number;
  labelsOutsideFrame: number;
  labels: string[];
  /** The candidate table's full width fits in its scrolling wrapper (nothing cut off). */
  tableScrolls: boolean;
}

/** Runs in the page (plain JS: this project's TypeScript has no DOM types). */
const legibilityProbe = `(() => {
  const frame = document.querySelector("#pareto-chart svg rect.frame");
  const f = frame ? frame.getBBox() : null;
  const inside = (x, y) => !f || (x >= f.x - 0.5 && x <= f.x + f.width + 0.5 && y >= f.y - 0.5 && y <= f.y + f.height + 0.5);
  const circles = [...document.querySelectorAll("#pareto-chart svg circle")];
  const pointsOutsideFrame = circles.filter((c) => !inside(c.cx.baseVal.value, c.cy.baseVal.value)).length;
  const texts = [...document.querySelectorAll("#pareto-chart svg text.point-label")];
  const boxes = texts.map((t) => t.getBBox());
  let labelOverlaps = 0;
  for (let i = 0; i < boxes.length; i += 1)
    for (let j = i + 1; j < boxes.length; j += 1) {
      const a = boxes[i], b = boxes[j];
      if (a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height) labelOverlaps += 1;
    }
  const labelsOutsideFrame = boxes.filter((b) => !inside(b.x, b.y) || !inside(b.x + b.width, b.y + b.height)).length;
  const wrap = document.querySelector(".table-wrap");
  const table = document.querySelector("#candidates-table");
  const tableScrolls = !!wrap && !!table && wrap.scrollWidth >= table.scrollWidth && getComputedStyle(wrap).overflowX === "auto";
  return { pointsOutsideFrame, labelOverlaps, labelsOutsideFrame, labels: texts.map((t) => t.textContent || ""), tableScrolls };
})()`;

/**
 * Open an HTML report in headless Debian Chromium, record console errors and any request that
 * is not the file itself, count the drawn chart elements and save a screenshot.
 */
export async function openReportInChromium(htmlPath: string, screenshotPath: string): Promise<ChromiumCheck> {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const consoleErrors: string[] = [];
    const requests: string[] = [];
    const url = pathToFileURL(htmlPath).href;
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(message.text());
    });
    page.on("pageerror", (error) => consoleErrors.push(error.message));
    page.on("request", (request) => {
      if (request.url() !== url) requests.push(request.url());
    });
    await page.goto(url, { waitUntil: "load" });
    await page.waitForSelector("body[data-charts='drawn']", { timeout: 10_000 }).catch(() => undefined);
    const result: ChromiumCheck = {
      consoleErrors,
      requests,
      paretoPoints: await page.locator("#pareto-chart svg circle").count(),
      latencyBoxes: await page.locator("#latency-chart svg rect.iqr").count(),
      chartsDrawn: await page.getAttribute("body", "data-charts"),
      title: await page.title(),
      ...((await page.evaluate(legibilityProbe)) as Pick<ChromiumCheck, "pointsOutsideFrame" | "labelOverlaps" | "labelsOutsideFrame" | "labels" | "tableScrolls">),
    };
    await mkdir(dirname(screenshotPath), { recursive: true });
    await page.screenshot({ path: screenshotPath, fullPage: true });
    return result;
  } finally {
    await browser.close();
  }
}
