// End-to-end story of the reviewer workstation: the real app (debug build) under Xvfb, driven by
// tauri-driver + WebKitWebDriver, against a real gradphoto server seeded with demo data.
//
//   GRADPHOTO_DESK_APP   path of target/debug/gradphoto-desk
//   GRADPHOTO_BIN        path of target/debug/gradphoto (the server)
//   TAURI_DRIVER         path of tauri-driver
//   GRADPHOTO_DESK_SHOTS where screenshots go (default: a temporary directory)
//
// Run through `bash scripts/desk.sh e2e`, which provides Xvfb and a D-Bus session with an
// unlocked keyring.
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { remote } from "webdriverio";

/**
 * The workstation's credentials in the login keyring (service `org.gradphoto.desk`), by the
 * account key each is stored under, as `secret-tool` (libsecret-tools) lists them.
 */
function keyringAccounts() {
  return new Promise((resolveList, reject) => {
    const p = spawn("secret-tool", ["search", "--all", "service", "org.gradphoto.desk"]);
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (out += d));
    p.on("error", reject);
    p.on("close", () =>
      resolveList(
        out
          .split("\n")
          .map((l) => /^attribute\.username = (.*)$/.exec(l.trim()))
          .filter(Boolean)
          .map((m) => m[1]),
      ),
    );
  });
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const APP = must("GRADPHOTO_DESK_APP");
const SERVER_BIN = must("GRADPHOTO_BIN");
const DRIVER = must("TAURI_DRIVER");
const SHOTS = process.env.GRADPHOTO_DESK_SHOTS ?? mkdtempSync(join(tmpdir(), "desk-shots-"));
mkdirSync(SHOTS, { recursive: true });

function must(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run through scripts/desk.sh e2e)`);
  return v;
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
    s.on("error", rej);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, fn, timeoutMs = 30_000, everyMs = 200) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what} (last: ${last})`);
}

function run(cmd, args, opts = {}) {
  return new Promise((res, rej) => {
    const p = spawn(cmd, args, { ...opts, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (out += d));
    p.on("exit", (code) => (code === 0 ? res(out) : rej(new Error(`${cmd} ${args.join(" ")} exited ${code}:\n${out}`))));
  });
}

// ---- the server -----------------------------------------------------------------------------
const serverDir = mkdtempSync(join(tmpdir(), "desk-e2e-server-"));
let serverPort;
let serverProc = null;
let accounts = {};

function serverEnv() {
  return { ...process.env, GRADPHOTO_DATA_DIR: serverDir, GRADPHOTO_LISTEN: `127.0.0.1:${serverPort}`, GRADPHOTO_WORKERS: "1" };
}

async function startServer() {
  serverProc = spawn(SERVER_BIN, ["serve"], { cwd: ROOT, env: serverEnv(), stdio: ["ignore", "ignore", "inherit"] });
  await until("the server", async () => (await fetch(`http://127.0.0.1:${serverPort}/healthz`)).ok);
}

async function stopServer() {
  if (!serverProc) return;
  const p = serverProc;
  serverProc = null;
  const gone = new Promise((r) => p.on("exit", r));
  p.kill("SIGTERM");
  await gone;
}

async function api(path, { token, method = "GET", body } = {}) {
  const r = await fetch(`http://127.0.0.1:${serverPort}${path}`, {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await r.json();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(json)}`);
  return json;
}

// A student uploads a photo, as the portal would, and waits for the server's analysis.
async function uploadChecked(token, photo) {
  const auth = { authorization: `Bearer ${token}` };
  const form = new FormData();
  form.set("source", "camera");
  form.set("photo", new Blob([photo], { type: "image/jpeg" }), "photo.jpg");
  const up = await fetch(`http://127.0.0.1:${serverPort}/api/student/attempts`, { method: "POST", headers: auth, body: form });
  const attempt = await up.json();
  assert.ok(up.ok, `upload: ${up.status} ${JSON.stringify(attempt)}`);
  const checked = await until(
    "the photo to be analysed",
    async () => {
      const a = await api(`/api/student/attempts/${attempt.id}`, { token });
      return a.status === "processing" ? null : a;
    },
    120_000,
    500,
  );
  assert.equal(checked.status, "checked", JSON.stringify(checked.error));
  return checked;
}

// Students the demo left at `ready` take a photo and submit it, so the reviewer has real
// submissions (analysed by the server's own models) to work on.
async function submitForReview(tokens, photoPath) {
  const photo = readFileSync(photoPath);
  for (const token of tokens) {
    const checked = await uploadChecked(token, photo);
    await api("/api/student/submit", { token, method: "POST", body: { attempt_id: checked.id } });
  }
}

// A student retakes the same failing photo until the server's gate lets it go to review
// anyway, flagged for the reviewer; returns the gate's decision.
async function submitFlagged(token, photo) {
  for (let n = 1; n <= 10; n++) {
    const checked = await uploadChecked(token, photo);
    const gate = checked.gate;
    if (gate?.kind === "allowed_with_flag") {
      await api("/api/student/submit", { token, method: "POST", body: { attempt_id: checked.id } });
      return gate;
    }
    assert.equal(gate?.kind, "must_retake", JSON.stringify(gate));
    assert.notEqual(gate.attempts_left, null, `no number of attempts lets this photo through: ${JSON.stringify(gate)}`);
  }
  throw new Error("the photo was never allowed to be submitted flagged");
}

async function login(user) {
  return (await api("/api/auth/login", { method: "POST", body: { username: user, password: accounts[user] } })).token;
}

// ---- the app --------------------------------------------------------------------------------
let driverProc = null;
let browser = null;
const appData = mkdtempSync(join(tmpdir(), "desk-e2e-app-"));

async function startDriver() {
  const port = await freePort();
  driverProc = spawn(DRIVER, ["--port", String(port), "--native-port", String(port + 1)], {
    env: {
      ...process.env,
      GRADPHOTO_DESK_DATA: appData,
      GRADPHOTO_DESK_SYNC_SECS: "1",
      WEBKIT_DISABLE_DMABUF_RENDERER: "1",
      WEBKIT_DISABLE_COMPOSITING_MODE: "1",
      LIBGL_ALWAYS_SOFTWARE: "1",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  await until("tauri-driver", async () => (await fetch(`http://127.0.0.1:${port}/status`)).ok);
  return port;
}

async function openApp(port) {
  browser = await remote({
    hostname: "127.0.0.1",
    port,
    logLevel: "error",
    connectionRetryTimeout: 60_000,
    connectionRetryCount: 0,
    capabilities: { "tauri:options": { application: APP }, "wdio:enforceWebDriverClassic": true },
  });
  await browser.setWindowSize(1440, 900).catch(() => undefined);
}

async function closeApp() {
  if (browser) await browser.deleteSession().catch(() => undefined);
  browser = null;
}

async function stopDriver() {
  if (!driverProc) return;
  const p = driverProc;
  driverProc = null;
  const gone = new Promise((r) => p.on("exit", r));
  // SIGTERM, not SIGKILL: tauri-driver then stops WebKitWebDriver too.
  p.kill("SIGTERM");
  await gone;
}

const $t = (id) => browser.$(`[data-testid="${id}"]`);
const textOf = async (id) => (await (await $t(id)).getText()).trim();

// The whole X display, as a person would see it (WebKitWebDriver's own screenshot can stall
// after the page swaps its whole content).
async function shot(name) {
  await sleep(400);
  await run("import", ["-window", "root", join(SHOTS, `${name}.png`)]);
}

async function press(key) {
  await browser.keys(key);
}

// ---- the story ------------------------------------------------------------------------------
const figures = { showMs: [] };
// The student whose submission is flagged: name and the gate's decision on submit.
const flagged = { name: null, gate: null };

before(async () => {
  serverPort = await freePort();
  const out = await run(SERVER_BIN, ["demo", "--out", join(serverDir, "invites")], { cwd: ROOT, env: serverEnv() });
  for (const m of out.matchAll(/^\s+(\S+)\s+(reviewer|supervisor|admin)\s+密码 password: (\S+)/gm)) accounts[m[1]] = m[3];
  assert.ok(accounts.reviewer, `demo accounts not found in:\n${out}`);
  await startServer();
  const ready = [...out.matchAll(/^\s+(\S+)\s+ready\s+token: (\S+)/gm)].map((m) => ({ name: m[1], token: m[2] }));
  const pending = [...out.matchAll(/^\s+\S+\s+pending_review\b/gm)].length;
  const toSubmit = Math.max(0, 3 - pending);
  await submitForReview(ready.slice(0, toSubmit).map((r) => r.token), join(ROOT, "tests/data/photos/phone_1080p.jpg"));
  // The last one to submit, so the other items come first in the reviewer's work list: the real
  // portrait with tinted glasses (tests/data/photos/real), blurred as a misfocused phone takes
  // it. Sharpness fails on every retake (a soft check) and the face is not the demo ID card's,
  // so the gate lets it through flagged for both, and the local hints show the accessory hints.
  const spare = ready[toSubmit];
  assert.ok(spare, `a demo student at \`ready\` is left for the flagged submission:\n${out}`);
  const blurred = join(serverDir, "sunglasses-blurred.jpg");
  await run("convert", [join(ROOT, "tests/data/photos/real/r_sunglasses.jpg"), "-gaussian-blur", "0x3", blurred]);
  flagged.name = spare.name;
  flagged.gate = await submitFlagged(spare.token, readFileSync(blurred));
  assert.ok(flagged.gate.measures.includes("sharpness"), JSON.stringify(flagged.gate));
  assert.equal(flagged.gate.face_mismatch, true, JSON.stringify(flagged.gate));
  const port = await startDriver();
  await openApp(port);
});

after(async () => {
  await closeApp();
  await stopDriver();
  await stopServer();
  rmSync(appData, { recursive: true, force: true });
  writeFileSync(join(SHOTS, "figures.json"), JSON.stringify(figures, null, 2));
});

test("workstation story", { timeout: 300_000 }, async (t) => {
  let firstName;

  // The reviewer's credential for this run's server (the keyring may hold others).
  const isThisSession = (key) => key.startsWith("reviewer@") && key.includes(`:${serverPort}`);
  await t.test("signs in with the keyring", async () => {
    const form = await $t("sign-in");
    await form.waitForExist({ timeout: 30_000 });
    await (await browser.$('input[name="server"]')).setValue(`http://127.0.0.1:${serverPort}`);
    await (await browser.$('input[name="user"]')).setValue("reviewer");
    await (await browser.$('input[name="password"]')).setValue(accounts.reviewer);
    assert.equal(await (await $t("keyring-unavailable")).isExisting(), false, "the keyring should be available");
    await shot("01-sign-in");
    await (await browser.$('button[type="submit"]')).click();
    await (await $t("student-name")).waitForExist({ timeout: 60_000 });
    firstName = await textOf("student-name");
    assert.ok(firstName.length > 0);
    const stored = await keyringAccounts();
    assert.ok(stored.some(isThisSession), `the session should be in the keyring: ${JSON.stringify(stored)}`);
  });

  await t.test("shows the claimed item with its images and hints", async () => {
    await until("images to load", () =>
      browser.execute(() => [...document.querySelectorAll(".pane img")].every((i) => i.complete && i.naturalWidth > 0) && document.querySelectorAll(".pane img").length >= 2),
    );
    await until("hints", async () => (await $t("overall")).isExisting(), 120_000, 500);
    await shot("02-review");
    await press("o");
    await press("z");
    await shot("03-review-zoom-overlays");
    await press("z");
    await press("o");
  });

  await t.test("measures how fast the next item is fully shown (J/K, prefetched)", async () => {
    // J and K move between the two first claimed items: the same path as "next after a decision".
    for (let i = 0; i < 40; i++) {
      const ms = await browser.executeAsync((i, done) => {
        const before = document.querySelector('[data-testid="student-name"]')?.textContent;
        const t0 = performance.now();
        window.dispatchEvent(new KeyboardEvent("keydown", { key: i % 2 ? "k" : "j", bubbles: true }));
        const check = () => {
          const now = document.querySelector('[data-testid="student-name"]')?.textContent;
          const imgs = [...document.querySelectorAll(".pane img")];
          if (now !== before && imgs.every((im) => im.complete && im.naturalWidth > 0)) done(performance.now() - t0);
          else if (performance.now() - t0 > 5000) done(-1);
          else requestAnimationFrame(check);
        };
        requestAnimationFrame(check);
      }, i);
      if (ms >= 0) figures.showMs.push(ms);
      await sleep(30);
    }
  });

  await t.test("approves with A and the next item appears", async () => {
    await press("a");
    await until("the next item", async () => (await textOf("student-name")) !== firstName);
    assert.match(await textOf("outbox"), /\d/);
  });

  await t.test("rejects with reasons and a comment", async () => {
    const name = await textOf("student-name");
    await press("r");
    await (await $t("reject-panel")).waitForExist();
    await press("1");
    await press("0");
    await (await $t("reject-comment")).setValue("背景不是纯色");
    await shot("04-reject-reasons");
    await (await $t("confirm-reject")).click();
    await until("the next item after rejecting", async () => (await textOf("student-name")) !== name);
    await until("the outbox to drain", async () => /待同步\s*0/.test(await textOf("outbox")), 90_000);
  });

  await t.test("the queue list and help", async () => {
    await press("q");
    await (await $t("queue-counts")).waitForExist();
    await shot("05-queue");
    await press("v");
    await press("?");
    await (await $t("help")).waitForExist();
    await shot("06-help");
    await press("Escape");
  });

  await t.test("keeps working offline and syncs when the server returns", async () => {
    const name = await textOf("student-name");
    const caseId = await browser.execute(() => document.querySelector('[data-testid="pane-original"] img')?.getAttribute("src") ?? "");
    await stopServer();
    await until("offline state", async () => (await textOf("online-state")).includes("离线"), 30_000);
    await press("a");
    await until("the outbox to hold the decision", async () => /待同步\s*1/.test(await textOf("outbox")));
    await shot("07-offline-outbox");
    await startServer();
    await until("the decision to sync", async () => /待同步\s*0/.test(await textOf("outbox")) && (await textOf("online-state")).includes("在线"), 60_000);
    await shot("08-synced");
    const token = await login("supervisor");
    const id = decodeURIComponent(caseId.split("/").pop() ?? "").split("/")[0];
    const item = await api(`/api/review/items/${encodeURIComponent(id)}`, { token });
    assert.equal(item.state, "approved", `${name} should be approved on the server`);
  });

  await t.test("a flagged case says why it was flagged and shows the accessory hints", async () => {
    await press("q");
    await (await $t("queue-counts")).waitForExist();
    const row = await until("the flagged case in the queue", async () => {
      for (const r of await browser.$$('[data-testid="queue-row"]')) {
        if ((await r.getText()).includes(flagged.name)) return r;
      }
      return null;
    });
    await row.click();
    await until("the flagged case", async () => (await textOf("student-name")) === flagged.name);
    const banner = await textOf("flag-banner");
    assert.match(banner, /已标记 · 学生多次未通过后仍提交/);
    // Every check the student was let past is named by its labels, Chinese first, never by code.
    assert.match(banner, /照片检测多次未通过：[^\n]*清晰度/);
    assert.match(banner, /Photo checks failed repeatedly: [^\n]*Sharpness/);
    assert.doesNotMatch(banner, /sharpness/);
    assert.match(banner, /人像比对已连续 \d+ 次未通过/);
    assert.match(await textOf("flag-chip"), /已标记/);
    await until("hints", async () => (await $t("overall")).isExisting(), 120_000, 500);
    assert.match(await textOf("measure-sharpness"), /⚑/);
    await shot("13-flagged-banner");
    // Every hint row is named by its labels, never by its code; the accessory hints among them.
    const rows = await browser.execute(() =>
      [...document.querySelectorAll('[data-testid^="measure-"]')].map((r) => ({
        id: r.getAttribute("data-testid").slice("measure-".length),
        label: r.querySelector("td")?.textContent?.replace("⚑", "").trim() ?? "",
        text: r.textContent,
      })),
    );
    const labels = {
      tinted_glasses: ["有色眼镜或反光", "Tinted glasses or glare"],
      headwear: ["帽子或头饰", "Hat or headwear"],
      jewellery: ["耳饰或项链", "Earrings or necklace"],
      hair_over_eyes: ["头发遮挡眉眼", "Hair over brows or eyes"],
      ears_visible: ["露出耳朵", "Ears visible"],
    };
    for (const [id, [zh, en]] of Object.entries(labels)) {
      const row = rows.find((r) => r.id === id);
      assert.ok(row && row.text.includes(zh) && row.text.includes(en), `${id}: ${JSON.stringify(row)}`);
    }
    for (const r of rows) assert.ok(/^[\u4e00-\u9fff]/.test(r.label) && !r.label.startsWith(r.id), JSON.stringify(r));
    await browser.execute(() => document.querySelector('[data-testid="measure-tinted_glasses"]')?.scrollIntoView({ block: "center" }));
    await shot("14-flagged-accessory-hints");
  });

  await t.test("conflicts screen", async () => {
    await (await $t("tab-conflicts")).click();
    await (await $t("conflicts")).waitForExist();
    await shot("09-conflicts");
  });

  await t.test("scrolls a 10,000-item queue without stutter", async () => {
    // 10,000 waiting rows in the local cache (as a large school's queue would sync down).
    const dir = join(appData, "cache");
    const file = readdirSync(dir).find((f) => f.endsWith(".sqlite"));
    assert.ok(file, "the account's cache file exists");
    await run("sqlite3", [
      join(dir, file),
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
       INSERT OR IGNORE INTO items (item_id, student_name, student_no, school, college, submitted_ms, round, flagged, status, updated_ms)
       SELECT 'bench-' || i, '压测学生' || i, printf('2030%06d', i), CASE i % 3 WHEN 0 THEN '示范大学' WHEN 1 THEN '理工学院' ELSE '师范学院' END,
              '计算机学院', CAST(strftime('%s','now') AS INTEGER) * 1000 - i * 60000, 1, i % 11 = 0, 'pending', 0 FROM n;`,
    ]);
    await press("q");
    await until("the large queue", async () => /10\d{3}/.test(await textOf("queue-counts")));
    await shot("11-queue-10k");
    const result = await browser.executeAsync((done) => {
      const vp = document.querySelector('[data-testid="virtual-list"]');
      const frames = [];
      let last = performance.now();
      const t0 = last;
      const step = () => {
        const now = performance.now();
        frames.push(now - last);
        last = now;
        vp.scrollTop += 240;
        if (now - t0 < 4000 && vp.scrollTop + vp.clientHeight < vp.scrollHeight) requestAnimationFrame(step);
        else done({ frames, rows: document.querySelectorAll('[data-testid="queue-row"]').length, scrolled: vp.scrollTop });
      };
      requestAnimationFrame(step);
    });
    figures.scrollFrameMs = result.frames.slice(1);
    figures.renderedRows = result.rows;
    assert.ok(result.rows < 200, `only visible rows are rendered (${result.rows})`);
    await shot("12-queue-10k-scrolled");
    await press("v");
  });

  await t.test("signs out and the session leaves the keyring", async () => {
    assert.ok((await keyringAccounts()).some(isThisSession), "signed in: the session is in the keyring");
    await (await $t("sign-out")).click();
    await (await $t("sign-in")).waitForExist({ timeout: 30_000 });
    const left = await keyringAccounts();
    assert.deepEqual(left.filter(isThisSession), [], "signed out: the reviewer's session has left the keyring");
    await shot("10-signed-out");
  });
});
