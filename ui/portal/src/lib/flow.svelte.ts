// The student's progress through the journey. The server's case state decides the step; inside
// the "ready" state (rules → capture → check → standardized) the portal remembers the stage
// per code in sessionStorage so a reload lands on the same screen.

import { ApiError, readResponse, setToken, setUnauthorizedHandler } from "./api";
import { codeFromLocation, forgetToken, lastCode, loadToken, rememberCode, saveToken } from "./session";
import { screenFor, type CaptureStage, type Screen } from "./steps";
import { student } from "./student";
import type { ClaimResponse, SchoolInfo, StudentCase } from "./types";

export type Phase = "boot" | "nocode" | "claiming" | "refused" | "active" | "fatal";

interface Saved {
  stage: CaptureStage | null;
  attemptId: string | null;
  started: boolean;
}

export const app = $state({
  phase: "boot" as Phase,
  code: null as string | null,
  data: null as StudentCase | null,
  school: null as SchoolInfo | null,
  stage: null as CaptureStage | null,
  attemptId: null as string | null,
  started: false,
  error: null as unknown,
  online: typeof navigator === "undefined" ? true : navigator.onLine,
});

export function screen(): Screen | null {
  return app.data ? screenFor(app.data.state, app.stage, app.started) : null;
}

function savedKey(): string {
  return `gradphoto.flow.${app.code ?? ""}`;
}

function persist(): void {
  try {
    const s: Saved = { stage: app.stage, attemptId: app.attemptId, started: app.started };
    sessionStorage.setItem(savedKey(), JSON.stringify(s));
  } catch {
    // Not fatal.
  }
}

function restore(): void {
  try {
    const raw = sessionStorage.getItem(savedKey());
    if (!raw) return;
    const s = JSON.parse(raw) as Saved;
    app.stage = s.stage;
    app.attemptId = s.attemptId;
    app.started = s.started;
  } catch {
    // Ignore a corrupt entry.
  }
}

/** Takes a fresh case from the server and drops a stage that no longer applies. */
export function setCase(c: StudentCase): void {
  app.data = c;
  app.school = c.school;
  if (c.state !== "ready") {
    app.stage = null;
  }
  if (c.state !== "invited" && c.state !== "claimed") app.started = true;
  persist();
}

export function goStage(stage: CaptureStage, attemptId: string | null = app.attemptId): void {
  app.stage = stage;
  app.attemptId = attemptId;
  persist();
  if (typeof window !== "undefined") window.scrollTo({ top: 0 });
}

export function startJourney(): void {
  app.started = true;
  persist();
  if (typeof window !== "undefined") window.scrollTo({ top: 0 });
}

async function loadSchool(): Promise<void> {
  try {
    app.school = (await student.school()).school;
  } catch {
    // The footer shows a neutral line until the case arrives with the school.
  }
}

export async function boot(): Promise<void> {
  if (typeof window !== "undefined") {
    window.addEventListener("online", () => (app.online = true));
    window.addEventListener("offline", () => (app.online = false));
  }
  let code = codeFromLocation(location.pathname, location.search);
  if (!code) {
    // Back from a payment page (or the bare address): resume the code this browser holds.
    const last = lastCode();
    if (last && loadToken(last)) {
      history.replaceState(null, "", `/c/${encodeURIComponent(last)}`);
      code = last;
    }
  }
  app.code = code;
  if (!code) {
    app.phase = "nocode";
    await loadSchool();
    return;
  }
  restore();
  setUnauthorizedHandler(() => {
    // The session ended (expired, or the code was re-issued): claim again from scratch.
    if (app.code) forgetToken(app.code);
  });
  await open(code);
}

interface Early {
  code: string;
  token: string | null;
  response: Promise<Response>;
}

/** The call index.html started before the app loaded, if it was for this code. */
function takeEarly(code: string): Early | null {
  if (typeof window === "undefined") return null;
  const w = window as unknown as { __gradphotoEarly?: Early };
  const early = w.__gradphotoEarly;
  w.__gradphotoEarly = undefined;
  return early && early.code === code ? early : null;
}

/** Resumes with a stored token, or claims the code for this browser. */
export async function open(code: string): Promise<void> {
  app.phase = "claiming";
  app.error = null;
  const early = takeEarly(code);
  // An early claim counts even if its token is already stored (index.html stores it itself).
  const earlyClaim = early && early.token === null ? early.response : null;
  const token = earlyClaim ? null : loadToken(code);
  if (token) {
    setToken(token);
    try {
      const pending = early && early.token === token ? early.response : null;
      setCase(pending ? await readResponse<StudentCase>(pending) : await student.getCase());
      app.phase = "active";
      rememberCode(code);
      return;
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 401) return fail(e);
      forgetToken(code);
      setToken(null);
    }
  }
  try {
    const res = earlyClaim ? await readResponse<ClaimResponse>(earlyClaim) : await student.claim(code);
    saveToken(code, res.token);
    setToken(res.token);
    setCase(res.case);
    app.phase = "active";
    rememberCode(code);
  } catch (e) {
    if (e instanceof ApiError && !e.isNetwork && e.status >= 400 && e.status < 500) {
      app.error = e;
      app.phase = "refused";
      void loadSchool();
      return;
    }
    fail(e);
  }
}

function fail(e: unknown): void {
  app.error = e;
  app.phase = "fatal";
}

export async function refresh(): Promise<void> {
  setCase(await student.getCase());
}
