// Opening a personal link: resume with the stored token, claim otherwise, refuse in words.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { setToken } from "../../src/lib/api";
import { app, open } from "../../src/lib/flow.svelte";
import { loadToken, saveToken } from "../../src/lib/session";

const caseBody = {
  case_id: "c1",
  state: "claimed",
  school: { id: "s", name: "示例大学", support_phone: "1", support_hours: "2", submission_deadline: "", days_left: null },
  policy: { fee_cents: 0, retakes_free: true, album_allowed: true, max_attempts_per_round: 10, face_match_failures_before_flag: 3, check_failures_before_flag: 3, privacy_version: "v", photo_background_zh: "浅蓝色", photo_background_en: "light blue", photo_min_kb: 20, photo_max_kb: 40, privacy_text_zh: "", privacy_text_en: "" },
  consent: null,
  record: null,
  order: null,
  attempts: [],
  submitted_attempt_id: null,
  flagged: false,
  face_match_failures: 0,
  latest_decision: null,
};

type Call = { url: string; method: string; auth: string | null };
let calls: Call[];

function serve(routes: Record<string, (c: Call) => Response>) {
  vi.stubGlobal("fetch", async (url: string, init: RequestInit = {}) => {
    const headers = (init.headers ?? {}) as Record<string, string>;
    const call = { url, method: init.method ?? "GET", auth: headers.Authorization ?? null };
    calls.push(call);
    const route = routes[`${call.method} ${url}`];
    if (!route) throw new TypeError("Failed to fetch");
    return route(call);
  });
}

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status });

beforeEach(() => {
  calls = [];
  localStorage.clear();
  sessionStorage.clear();
  setToken(null);
  app.phase = "boot";
  app.data = null;
  app.error = null;
});

afterEach(() => vi.unstubAllGlobals());

describe("opening a personal link", () => {
  it("claims a new code and keeps the token for this browser", async () => {
    serve({ "POST /api/student/claim": () => json(200, { token: "tok1", case: caseBody }) });
    await open("CODE1");
    expect(app.phase).toBe("active");
    expect(app.data?.case_id).toBe("c1");
    expect(loadToken("CODE1")).toBe("tok1");
  });

  it("resumes with the stored token without claiming again", async () => {
    saveToken("CODE2", "tok2");
    serve({ "GET /api/student/case": () => json(200, caseBody) });
    await open("CODE2");
    expect(app.phase).toBe("active");
    expect(calls).toEqual([{ url: "/api/student/case", method: "GET", auth: "Bearer tok2" }]);
  });

  it("claims again when the stored session has ended", async () => {
    saveToken("CODE3", "old");
    serve({
      "GET /api/student/case": () => json(401, { code: "session_expired", message_zh: "会话已过期", message_en: "Session expired" }),
      "POST /api/student/claim": () => json(200, { token: "new", case: caseBody }),
    });
    await open("CODE3");
    expect(app.phase).toBe("active");
    expect(loadToken("CODE3")).toBe("new");
  });

  it("refuses a code bound to another browser, with the server's words", async () => {
    serve({
      "POST /api/student/claim": () =>
        json(409, { code: "code_already_claimed", message_zh: "一人一码，转发无效。", message_en: "One code per person." }),
    });
    await open("FORWARDED");
    expect(app.phase).toBe("refused");
    expect(app.error).toMatchObject({ code: "code_already_claimed", message_zh: "一人一码，转发无效。" });
    expect(loadToken("FORWARDED")).toBeNull();
  });

  it("shows a retryable error when the server cannot be reached", async () => {
    serve({});
    await open("CODE4");
    expect(app.phase).toBe("fatal");
    expect(app.error).toMatchObject({ code: "network_error" });
  });

  it("uses the call index.html started early instead of a second request", async () => {
    serve({});
    (window as unknown as { __gradphotoEarly: unknown }).__gradphotoEarly = {
      code: "EARLY",
      token: null,
      response: Promise.resolve(json(200, { token: "tok5", case: caseBody })),
    };
    await open("EARLY");
    expect(app.phase).toBe("active");
    expect(calls).toEqual([]);
    expect(loadToken("EARLY")).toBe("tok5");
  });

  it("uses the early claim even when index.html already stored its token", async () => {
    serve({});
    (window as unknown as { __gradphotoEarly: unknown }).__gradphotoEarly = {
      code: "EARLY2",
      token: null,
      response: Promise.resolve(json(200, { token: "tok6", case: caseBody })),
    };
    saveToken("EARLY2", "tok6");
    await open("EARLY2");
    expect(app.phase).toBe("active");
    expect(calls).toEqual([]);
  });
});
