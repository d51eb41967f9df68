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
}

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
    };
    await mkdir(dirname(screenshotPath), { recursive: true });
    await page.screenshot({ path: screenshotPath, fullPage: true });
    return result;
  } finally {
    await browser.close();
  }
}
