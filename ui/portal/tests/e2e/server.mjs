// Starts the real `gradphoto` binary for a test run: a fresh data directory (SQLite), the demo
// roster (`gradphoto demo`), then `gradphoto serve` on a free port.

import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDistServer } from "./dist-server.mjs";

function run(bin, args, opts) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { ...opts, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${bin} ${args.join(" ")} exited ${code}\n${out}\n${err}`)),
    );
  });
}

/** Parses the demo report: staff passwords. */
export function parseAccounts(report) {
  const accounts = {};
  for (const m of report.matchAll(/^\s+(\S+)\s+(\S+)\s+密码 password: (\S+)\s*$/gm)) {
    accounts[m[1]] = { role: m[2], password: m[3] };
  }
  return accounts;
}

/** Parses the demo report: session tokens of the students the demo already claimed. */
export function parseTokens(report) {
  const tokens = {};
  for (const m of report.matchAll(/^\s+(\S+)\s+\S+\s+token: (\S+)\s*$/gm)) tokens[m[1]] = m[2];
  return tokens;
}

/** Parses links.csv written by `gradphoto demo --out`. */
export function parseLinks(csv) {
  const rows = csv.replace(/^\uFEFF/, "").trim().split(/\r?\n/).slice(1);
  return rows.map((line) => {
    const cells = [];
    let cur = "";
    let quoted = false;
    for (let i = 0; i < line.length; i++) {
      const ch = line[i];
      if (quoted) {
        if (ch === '"' && line[i + 1] === '"') {
          cur += '"';
          i++;
        } else if (ch === '"') quoted = false;
        else cur += ch;
      } else if (ch === '"') quoted = true;
      else if (ch === ",") {
        cells.push(cur);
        cur = "";
      } else cur += ch;
    }
    cells.push(cur);
    const [name, studentNo, school, link] = cells;
    return { name, studentNo, school, link, path: new URL(link).pathname };
  });
}

/**
 * `serveDist`: a built portal directory to serve from a small front server (which forwards
 * /api to gradphoto) instead of the portal embedded in the binary.
 */
export async function startServer({ bin, cwd, env: extraEnv = {}, serveDist = null }) {
  const dataDir = await mkdtemp(join(tmpdir(), "gradphoto-portal-e2e-"));
  const front = serveDist ? await startDistServer(serveDist) : null;
  const env = {
    ...process.env,
    GRADPHOTO_DATA_DIR: dataDir,
    GRADPHOTO_LISTEN: "127.0.0.1:0",
    RUST_LOG: process.env.RUST_LOG ?? "warn",
    // The demo school charges a fee, paid through the sandbox (never the default).
    GRADPHOTO_PAYMENT_PROVIDER: "sandbox",
    ...(front ? { GRADPHOTO_PUBLIC_URL: front.url } : {}),
    ...extraEnv,
  };
  const report = await run(bin, ["demo", "--out", join(dataDir, "invites")], { cwd, env });
  const accounts = parseAccounts(report);
  const tokens = parseTokens(report);
  const links = parseLinks(await readFile(join(dataDir, "invites", "links.csv"), "utf8"));

  const child = spawn(bin, ["serve"], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stderr.on("data", (d) => (log += d));
  const url = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}\n${log}`)), 60_000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited ${code}:\n${out}\n${log}`));
    });
  });

  front?.setTarget(url);

  async function stop() {
    await front?.close();
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGINT");
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
    }
    await rm(dataDir, { recursive: true, force: true });
  }

  /** Runs an admin command against the same data directory while the server runs. */
  const cli = (args) => run(bin, args, { cwd, env });

  return { url: front ? front.url : url, apiUrl: url, report, accounts, tokens, links, dataDir, cli, stop, log: () => log };
}
