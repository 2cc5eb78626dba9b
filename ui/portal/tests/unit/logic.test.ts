import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, errorFromResponse, newUploadId, request, setToken } from "../../src/lib/api";
import { portraitCrop } from "../../src/lib/camera";
import { acceptAttribute, fileProblem, fileProblemText, formatNames, formatSize, uploadRulesText } from "../../src/lib/files";
import { nextStep, sortMeasures, summaryOf } from "../../src/lib/gate";
import { en, zh } from "../../src/lib/messages";
import { codeFromLocation, forgetToken, loadToken, saveToken } from "../../src/lib/session";
import { canWithdraw, screenFor, stepOf, statusKey, yuan } from "../../src/lib/steps";
import { setLang } from "../../src/lib/i18n.svelte";
import { attemptsLeft } from "../../src/lib/student";
import type { AttemptView, MeasureId, MeasureResult, PolicySummary, StudentCase, UploadRules } from "../../src/lib/types";
import { uploads } from "./uploads";
import type { NextStep } from "../../src/lib/gate";

const policy: PolicySummary = {
  fee_cents: 0,
  retakes_free: true,
  album_allowed: true,
  max_attempts_per_round: 10,
  face_match_failures_before_flag: 3,
  check_failures_before_flag: 3,
  privacy_version: "2025-09",
  photo_background_zh: "浅蓝色",
  photo_background_en: "light blue",
  photo_min_kb: 20,
  photo_max_kb: 40, privacy_text_zh: "", privacy_text_en: "",
};

function measure(id: MeasureId, verdict: MeasureResult["verdict"], status: MeasureResult["status"] = "ok"): MeasureResult {
  return { id, raw: null, score: null, verdict, status, message_zh: "", message_en: "" };
}

function attempt(over: Partial<AttemptView> = {}): AttemptView {
  return {
    id: "a1",
    round: 0,
    status: "checked",
    source: "camera",
    error: null,
    overall: "pass",
    report: { measures: [measure("sharpness", "pass")], models: [], config_version: "v1" },
    face_match: { distance: 0.3, same_person: true },
    ocr: null,
    has_standardized: true,
    original_size: 1000,
    created_at_ms: 0,
    gate: { kind: "allowed" },
    ...over,
  };
}

describe("messages", () => {
  it("has the same keys and placeholders in both languages, none empty", () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(zh).sort());
    const holes = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const key of Object.keys(zh) as (keyof typeof zh)[]) {
      expect(zh[key].trim(), key).not.toBe("");
      expect(en[key].trim(), key).not.toBe("");
      expect(holes(en[key]), key).toEqual(holes(zh[key]));
    }
  });
});

describe("API errors", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    setToken(null);
  });

  it("keeps the server's code and both messages", () => {
    const e = errorFromResponse(409, JSON.stringify({ code: "code_already_claimed", message_zh: "一人一码", message_en: "one code" }));
    expect(e).toBeInstanceOf(ApiError);
    expect([e.status, e.code, e.message_zh, e.message_en]).toEqual([409, "code_already_claimed", "一人一码", "one code"]);
  });

  it("gives words to answers that are not ours", () => {
    expect(errorFromResponse(413, "<html>too big</html>").code).toBe("payload_too_large");
    expect(errorFromResponse(502, "").code).toBe("server_unavailable");
    const e = errorFromResponse(500, "panic at the disco");
    expect(e.code).toBe("unexpected_response");
    expect(e.message_zh).toContain("500");
    expect(e.message_en).not.toContain("panic");
  });

  it("sends the bearer token and maps a failed fetch to network_error", async () => {
    const calls: RequestInit[] = [];
    vi.stubGlobal("fetch", async (_url: string, init: RequestInit) => {
      calls.push(init);
      return new Response(JSON.stringify({ ok: 1 }), { status: 200 });
    });
    setToken("tok");
    expect(await request("POST", "/api/x", { json: { a: 1 } })).toEqual({ ok: 1 });
    expect((calls[0].headers as Record<string, string>).Authorization).toBe("Bearer tok");
    expect(calls[0].body).toBe('{"a":1}');

    vi.stubGlobal("fetch", async () => {
      throw new TypeError("Failed to fetch");
    });
    await expect(request("GET", "/api/x")).rejects.toMatchObject({ code: "network_error", status: 0, isNetwork: true });
  });

  it("turns an error answer into an ApiError", async () => {
    vi.stubGlobal("fetch", async () => new Response(JSON.stringify({ code: "identity_mismatch", message_zh: "不一致", message_en: "mismatch", field: "name" }), { status: 422 }));
    await expect(request("POST", "/api/student/identity")).rejects.toMatchObject({ code: "identity_mismatch", field: "name", status: 422 });
  });

  it("makes distinct RFC 4122 upload ids", () => {
    const a = newUploadId();
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(newUploadId()).not.toBe(a);
  });
});

describe("session", () => {
  it("reads the code from a personal link", () => {
    expect(codeFromLocation("/c/AbC123", "")).toBe("AbC123");
    expect(codeFromLocation("/c/AbC123/", "")).toBe("AbC123");
    expect(codeFromLocation("/c/a%20b", "")).toBe("a b");
    expect(codeFromLocation("/", "?code=XYZ")).toBe("XYZ");
    expect(codeFromLocation("/", "")).toBeNull();
    expect(codeFromLocation("/c/", "")).toBeNull();
    expect(codeFromLocation("/c/%E0%A4%A", "")).toBeNull();
  });

  it("keeps one token per code", () => {
    saveToken("A", "t1");
    saveToken("B", "t2");
    expect(loadToken("A")).toBe("t1");
    expect(loadToken("B")).toBe("t2");
    forgetToken("A");
    expect(loadToken("A")).toBeNull();
  });
});

describe("steps", () => {
  it("maps case states to screens and steps", () => {
    expect(screenFor("claimed", null, false)).toBe("start");
    expect(screenFor("claimed", null, true)).toBe("identity");
    expect(screenFor("identity_verified", null, true)).toBe("record");
    expect(screenFor("record_confirmed", null, true)).toBe("payment");
    expect(screenFor("ready", null, true)).toBe("rules");
    expect(screenFor("ready", "check", true)).toBe("check");
    expect(screenFor("in_review", "check", true)).toBe("status");
    expect(screenFor("published", null, true)).toBe("status");
    expect(stepOf("standardized")).toBe("standardize");
    expect(stepOf("check")).toBe("capture");
    expect(stepOf("status")).toBe("submit");
  });

  it("allows withdrawal only before a reviewer holds the case", () => {
    expect(canWithdraw("pending_review")).toBe(true);
    expect(canWithdraw("in_review")).toBe(false);
    expect(canWithdraw("approved")).toBe(false);
    expect(statusKey("in_review")).toBe("pending_review");
  });

  it("formats fen as yuan", () => {
    expect(yuan(2500)).toBe("25.00");
    expect(yuan(1)).toBe("0.01");
  });
});

describe("files", () => {
  // A server configured below its default: the portal must follow the number it is sent.
  const small: UploadRules = { ...uploads, max_upload_bytes: 5 * 1024 * 1024 };

  afterEach(() => setLang("zh"));

  it("refuses files above the server's limit, and only those", () => {
    const limit = small.max_upload_bytes;
    expect(fileProblem({ size: limit, type: "image/jpeg", name: "a.jpg" }, small)).toBeNull();
    expect(fileProblem({ size: limit + 1, type: "image/jpeg", name: "a.jpg" }, small)).toEqual({
      key: "file_too_large",
      size: limit + 1,
      limit,
    });
    // 8 MB is fine for a server that takes 20 MB.
    expect(fileProblem({ size: 8 * 1024 * 1024, type: "image/jpeg" }, uploads)).toBeNull();
    expect(fileProblem({ size: 8 * 1024 * 1024, type: "image/jpeg" }, small)?.key).toBe("file_too_large");
    expect(fileProblem({ size: 0, type: "image/jpeg" }, small)).toEqual({ key: "file_empty" });
  });

  it("names the server's limit, rounding so a refused file never reads as within it", () => {
    const p = fileProblem({ size: small.max_upload_bytes + 1, type: "image/jpeg" }, small);
    expect(p).not.toBeNull();
    expect(fileProblemText(p!, small)).toBe("文件太大（5.1 MB），请选择不超过 5 MB 的照片。");
    setLang("en");
    expect(fileProblemText(p!, small)).toBe("The file is too large (5.1 MB). Choose a photo of at most 5 MB.");
    expect(uploadRulesText(uploads)).toBe("JPEG or PNG, at most 20 MB each.");
    setLang("zh");
    expect(uploadRulesText({ ...uploads, max_upload_bytes: 400 * 1024 })).toBe("支持 JPEG 或 PNG 格式，每张不超过 400 KB。");
    expect(formatSize(1536 * 1024)).toBe("1.5 MB");
    expect(formatSize(999)).toBe("999 B");
  });

  it("accepts the server's formats by type or extension and refuses the rest", () => {
    expect(fileProblem({ size: 10, type: "image/png", name: "x.png" }, uploads)).toBeNull();
    // Phones that report no type, or an unusual one, are vouched for by the extension.
    expect(fileProblem({ size: 10, type: "", name: "IMG_0001.JPG" }, uploads)).toBeNull();
    expect(fileProblem({ size: 10, type: "image/jpg", name: "a.jpeg" }, uploads)).toBeNull();
    // HEIC is a picture the server cannot process: refused here, naming what it can.
    expect(fileProblem({ size: 10, type: "image/heic", name: "IMG_0001.HEIC" }, uploads)).toEqual({ key: "file_unsupported_format" });
    expect(fileProblem({ size: 10, type: "", name: "IMG_0001.HEIC" }, uploads)).toEqual({ key: "file_unsupported_format" });
    expect(fileProblem({ size: 10, type: "image/webp", name: "a.webp" }, uploads)).toEqual({ key: "file_unsupported_format" });
    expect(fileProblem({ size: 10, type: "text/plain", name: "a.txt" }, uploads)).toEqual({ key: "file_not_image" });
    expect(fileProblemText({ key: "file_unsupported_format" }, uploads)).toBe("无法处理这种格式的图片，请选择 JPEG 或 PNG 格式的照片。");
    // A server that took only JPEG would be named as such.
    const jpegOnly: UploadRules = { ...uploads, accepted_formats: uploads.accepted_formats.slice(0, 1) };
    expect(fileProblem({ size: 10, type: "image/png", name: "x.png" }, jpegOnly)).toEqual({ key: "file_unsupported_format" });
    expect(formatNames(jpegOnly, "en")).toBe("JPEG");
    expect(formatNames(uploads, "en")).toBe("JPEG or PNG");
  });

  it("offers the file picker exactly the server's formats", () => {
    expect(acceptAttribute(uploads)).toBe("image/jpeg,.jpg,.jpeg,image/png,.png");
  });
});

describe("camera crop", () => {
  it("keeps the centred 3:4 portrait region", () => {
    expect(portraitCrop(1920, 1080)).toEqual({ x: 555, y: 0, w: 810, h: 1080 });
    expect(portraitCrop(1080, 1920)).toEqual({ x: 0, y: 240, w: 1080, h: 1440 });
    expect(portraitCrop(300, 400)).toEqual({ x: 0, y: 0, w: 300, h: 400 });
  });
});

describe("after the checks", () => {
  const retake = (over: Partial<Extract<NextStep, { kind: "retake" }>> = {}): NextStep => ({
    kind: "retake",
    hard: [],
    soft: [],
    faceMismatch: false,
    attemptsLeft: null,
    ...over,
  });

  it("waits, then follows the server's decision", () => {
    expect(nextStep(attempt({ status: "processing", gate: null }))).toEqual({ kind: "wait" });
    expect(nextStep(attempt({ status: "failed", report: null, gate: null }))).toEqual(retake());
    expect(nextStep(attempt())).toEqual({ kind: "continue" });
    // The report alone decides nothing: a fail the server accepts is not a retake here.
    const failing = attempt({ report: { measures: [measure("clothing_colour", "fail")], models: [], config_version: "" } });
    expect(nextStep(failing)).toEqual({ kind: "continue" });
    expect(nextStep({ ...failing, gate: { kind: "must_retake", hard: [], soft: ["clothing_colour"], face_mismatch: false, attempts_left: 2 } })).toEqual(
      retake({ soft: ["clothing_colour"], attemptsLeft: 2 }),
    );
    expect(nextStep({ ...failing, gate: { kind: "must_retake", hard: ["face_size"], soft: [], face_mismatch: false, attempts_left: null } })).toEqual(
      retake({ hard: ["face_size"] }),
    );
  });

  it("offers submit-anyway when the server allows it with a flag", () => {
    const mismatch = attempt({ face_match: { distance: 0.8, same_person: false } });
    expect(nextStep({ ...mismatch, gate: { kind: "must_retake", hard: [], soft: [], face_mismatch: true, attempts_left: 1 } })).toEqual(
      retake({ faceMismatch: true, attemptsLeft: 1 }),
    );
    expect(nextStep({ ...mismatch, gate: { kind: "allowed_with_flag", measures: [], face_mismatch: true, face_unchecked: false } })).toEqual({
      kind: "choose",
      measures: [],
      faceMismatch: true,
    });
    expect(nextStep(attempt({ gate: { kind: "allowed_with_flag", measures: ["sharpness"], face_mismatch: false, face_unchecked: false } }))).toEqual({
      kind: "choose",
      measures: ["sharpness"],
      faceMismatch: false,
    });
    // The reviewer compares the faces by hand; the student failed nothing and just goes on.
    expect(nextStep(attempt({ gate: { kind: "allowed_with_flag", measures: [], face_mismatch: false, face_unchecked: true } }))).toEqual({
      kind: "continue",
    });
  });

  it("headlines the decision, and suggestions only for submittable photos", () => {
    const report = (...ms: MeasureResult[]) => ({ measures: ms, models: [], config_version: "" });
    expect(summaryOf(attempt({ status: "processing", gate: null }))).toBeNull();
    expect(summaryOf(attempt({ report: report(measure("face_similarity", "warn"), measure("id_card_ocr", "fail"), measure("yaw", "pass")) }))).toBe("pass");
    expect(summaryOf(attempt({ report: report(measure("yaw", "warn"), measure("roll", "pass")) }))).toBe("warn");
    expect(summaryOf(attempt({ report: report(measure("yaw", "pass", "failed_to_assess")) }))).toBe("warn");
    expect(summaryOf(attempt({ gate: { kind: "allowed_with_flag", measures: ["yaw"], face_mismatch: false, face_unchecked: false } }))).toBe("flag");
    expect(summaryOf(attempt({ gate: { kind: "must_retake", hard: [], soft: ["yaw"], face_mismatch: false, attempts_left: 1 } }))).toBe("fail");
    expect(summaryOf(attempt({ status: "failed", gate: null }))).toBe("fail");
  });

  it("lists failures first", () => {
    const sorted = sortMeasures([measure("yaw", "pass"), measure("pitch", "warn"), measure("roll", "fail"), measure("exposure", "pass", "failed_to_assess")]);
    expect(sorted.map((m) => m.id)).toEqual(["roll", "pitch", "exposure", "yaw"]);
  });

  it("counts uploads left in the current round", () => {
    const cs = { round: 1, policy, attempts: [attempt({ round: 1 }), attempt({ round: 1 }), attempt({ round: 0 })] } as unknown as StudentCase;
    expect(attemptsLeft(cs)).toBe(8);
  });
});
