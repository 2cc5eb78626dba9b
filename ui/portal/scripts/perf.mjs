// Portal performance budget: JS + CSS gzipped size, and time to interactive of the first page
// on a phone profile (390×844, 4× CPU slowdown, DevTools "Fast 3G" network through CDP).
//
//   npm run build && GRADPHOTO_BIN=/path/to/gradphoto npm run perf -- [--out report.md]
//
// With GRADPHOTO_BIN the first page is a real personal link (/c/<code>) against the real server
// with the demo roster; without it only the bundle size is measured. Exits 1 when a budget is
// exceeded.

import { readdir, readFile, writeFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { BASE_ARGS, CHROMIUM } from "../tests/e2e/fixtures.mjs";
import { startServer } from "../tests/e2e/server.mjs";

const portal = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const root = resolve(portal, "../..");
const dist = join(portal, "dist");
const BUDGET_KB = 150;
const BUDGET_TTI_MS = 3000;
// DevTools' "Fast 3G" preset (also Lighthouse's mobile throttling).
const FAST_3G = {
  offline: false,
  latency: 562.5,
  downloadThroughput: (1.6 * 1024 * 1024 * 0.9) / 8,
  uploadThroughput: (750 * 1024 * 0.9) / 8,
};
const CPU_SLOWDOWN = 4;

const outArg = process.argv.indexOf("--out");
const outFile = outArg > 0 ? process.argv[outArg + 1] : null;

async function bundleSizes() {
  const assets = join(dist, "assets");
  const files = (await readdir(assets)).filter((f) => f.endsWith(".js") || f.endsWith(".css"));
  if (files.length === 0) throw new Error("no built assets: run `npm run build` first");
  const rows = [];
  for (const f of files.sort()) {
    const bytes = await readFile(join(assets, f));
    rows.push({ file: f, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length });
  }
  const html = await readFile(join(dist, "index.html"));
  return { rows, html: { raw: html.length, gzip: gzipSync(html, { level: 9 }).length } };
}

async function measure(browser, url, readySelector) {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 3,
    isMobile: true,
    hasTouch: true,
    locale: "zh-CN",
  });
  const page = await context.newPage();
  // The moment the page can be used: the primary action is on screen and enabled.
  await page.addInitScript((selector) => {
    const check = () => {
      const el = document.querySelector(selector);
      if (el && !el.disabled && el.getBoundingClientRect().height > 0 && !window.__interactiveAt) {
        window.__interactiveAt = performance.now();
      }
    };
    new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true });
  }, readySelector);
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
  await cdp.send("Network.emulateNetworkConditions", FAST_3G);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: CPU_SLOWDOWN });
  let transferred = 0;
  cdp.on("Network.loadingFinished", (e) => (transferred += e.encodedDataLength));
  await page.goto(url, { waitUntil: "load", timeout: 60_000 });
  await page.waitForFunction(() => window.__interactiveAt !== undefined, null, { timeout: 60_000 });
  const t = await page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    const fcp = performance.getEntriesByName("first-contentful-paint")[0];
    return {
      interactive: window.__interactiveAt,
      fcp: fcp ? fcp.startTime : null,
      dcl: nav.domContentLoadedEventEnd,
      load: nav.loadEventEnd,
    };
  });
  await context.close();
  return { ...t, transferred };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const kb = (n) => (n / 1024).toFixed(1);
const ms = (n) => (n === null ? "–" : Math.round(n).toString());

const sizes = await bundleSizes();
const totalGzip = sizes.rows.reduce((s, r) => s + r.gzip, 0);
const totalRaw = sizes.rows.reduce((s, r) => s + r.raw, 0);
let runs = [];
let failures = [];
if (totalGzip / 1024 > BUDGET_KB) failures.push(`JS+CSS ${kb(totalGzip)} KB gzipped > ${BUDGET_KB} KB`);

const bin = process.env.GRADPHOTO_BIN;
if (bin) {
  const server = await startServer({ bin, cwd: root, serveDist: process.env.PORTAL_SERVE_DIST === "1" ? dist : null });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: BASE_ARGS });
  try {
    // Each run opens a different invited student's link in a fresh browser (cold cache).
    const invited = ["张伟", "王芳", "孙浩"];
    for (const name of invited) {
      const link = server.links.find((l) => l.name === name);
      if (!link) continue;
      runs.push({ page: `/c/… (${name})`, ...(await measure(browser, server.url + link.path, "main button.btn")) });
    }
  } finally {
    await browser.close();
    await server.stop();
  }
  const tti = median(runs.map((r) => r.interactive));
  if (tti > BUDGET_TTI_MS) failures.push(`first page interactive after ${ms(tti)} ms > ${BUDGET_TTI_MS} ms`);
}

const lines = [
  "# Student portal: size and first-page speed",
  "",
  `Measured ${new Date().toISOString()} with \`npm run build && GRADPHOTO_BIN=… npm run perf\` (ui/portal/scripts/perf.mjs).`,
  "",
  "## Bundle (dist/assets, gzip level 9)",
  "",
  "| file | raw KB | gzip KB |",
  "| --- | ---: | ---: |",
  ...sizes.rows.map((r) => `| ${r.file} | ${kb(r.raw)} | ${kb(r.gzip)} |`),
  `| **JS + CSS total** | ${kb(totalRaw)} | **${kb(totalGzip)}** (budget ${BUDGET_KB}) |`,
  `| index.html | ${kb(sizes.html.raw)} | ${kb(sizes.html.gzip)} |`,
  "",
];
if (runs.length) {
  lines.push(
    "## First page on a phone profile",
    "",
    `390×844 @3x, touch, ${CPU_SLOWDOWN}× CPU slowdown (CDP Emulation.setCPUThrottlingRate), "Fast 3G" through CDP`,
    `Network.emulateNetworkConditions (latency ${FAST_3G.latency} ms, down ${kb(FAST_3G.downloadThroughput)} KB/s, up ${kb(FAST_3G.uploadThroughput)} KB/s), cache disabled, fresh browser context per run.`,
    process.env.PORTAL_SERVE_DIST === "1"
      ? "Portal files served gzip-compressed by tests/e2e/dist-server.mjs in front of the real gradphoto API (PORTAL_SERVE_DIST=1)."
      : "Portal served by the gradphoto binary itself (embedded dist/).",
    "Interactive = the page's primary button is rendered and enabled (the app has loaded, claimed the code",
    "against the real server and drawn the start page). Times in ms from navigation start.",
    "",
    "| page | first contentful paint | DOMContentLoaded | load | interactive | bytes over the wire |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    ...runs.map((r) => `| ${r.page} | ${ms(r.fcp)} | ${ms(r.dcl)} | ${ms(r.load)} | ${ms(r.interactive)} | ${kb(r.transferred)} KB |`),
    "",
    `Median interactive: **${ms(median(runs.map((r) => r.interactive)))} ms** (budget ${BUDGET_TTI_MS} ms).`,
    "",
  );
} else {
  lines.push("(First-page timing skipped: set GRADPHOTO_BIN to measure against the real server.)", "");
}
lines.push(failures.length ? `Budget exceeded: ${failures.join("; ")}.` : "All budgets met.", "");
const report = lines.join("\n");
if (outFile) await writeFile(outFile, report);
console.log(report);
process.exit(failures.length ? 1 : 0);
