// The check-results screen: plain-language problems first, the face comparison, and the
// retake / submit-anyway choice the server's decision allows.
import { flushSync, mount, tick, unmount } from "svelte";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import Check from "../../src/views/Check.svelte";
import { app } from "../../src/lib/flow.svelte";
import { setLang } from "../../src/lib/i18n.svelte";
import type { AttemptView, MeasureId, MeasureResult, StudentCase, SubmitDecision } from "../../src/lib/types";
import { uploads } from "./uploads";

function measure(id: MeasureId, verdict: "pass" | "warn" | "fail", zh = "", en = ""): MeasureResult {
  return { id, raw: 1, score: 50, verdict, status: "ok", message_zh: zh, message_en: en };
}

function attempt(sameFace: boolean, extra: MeasureResult[] = [], gate: SubmitDecision = { kind: "allowed" }): AttemptView {
  return {
    id: "a1",
    round: 0,
    status: "checked",
    source: "camera",
    error: null,
    overall: "pass",
    report: {
      measures: [measure("sharpness", "pass"), measure("yaw", "pass"), ...extra],
      models: [],
      config_version: "v",
    },
    face_match: { distance: sameFace ? 0.3 : 0.8, same_person: sameFace },
    ocr: null,
    has_standardized: true,
    original_size: 1,
    created_at_ms: 0,
    gate,
  };
}

function theCase(failures: number): StudentCase {
  return {
    case_id: "c1",
    state: "ready",
    state_label_zh: "",
    state_label_en: "",
    round: 0,
    school: { id: "s", name: "示例大学", support_phone: "1", support_hours: "2", submission_deadline: "", days_left: null },
    policy: { fee_cents: 0, retakes_free: true, album_allowed: true, max_attempts_per_round: 10, face_match_failures_before_flag: 3, check_failures_before_flag: 3, privacy_version: "v", photo_background_zh: "浅蓝色", photo_background_en: "light blue", photo_min_kb: 20, photo_max_kb: 40, privacy_text_zh: "", privacy_text_en: "" },
    consent: null,
    record: null,
    order: null,
    attempts: [],
    submitted_attempt_id: null,
    flagged: false,
    face_match_failures: failures,
    latest_decision: null,
    uploads,
  };
}

let target: HTMLElement;
let component: ReturnType<typeof mount> | null = null;

function serve(a: AttemptView, c: StudentCase) {
  vi.stubGlobal("fetch", async (url: string) => {
    if (url === "/api/student/case") return new Response(JSON.stringify(c));
    if (url === "/api/student/attempts/a1") return new Response(JSON.stringify(a));
    throw new TypeError("Failed to fetch");
  });
}

async function settle() {
  for (let i = 0; i < 10; i++) {
    await new Promise((r) => setTimeout(r, 0));
    await tick();
  }
  flushSync();
}

beforeEach(() => {
  setLang("zh");
  target = document.createElement("div");
  document.body.appendChild(target);
  app.attemptId = "a1";
});

afterEach(() => {
  if (component) unmount(component);
  component = null;
  target.remove();
  vi.unstubAllGlobals();
});

const buttons = () => [...target.querySelectorAll("button")].map((b) => b.textContent!.trim());

describe("check results", () => {
  it("lists problems with how to fix them, passes folded away", async () => {
    const c = theCase(0);
    app.data = c;
    const blue = measure("clothing_colour", "fail", "衣服颜色与蓝色背景太接近，请换一件非蓝色的纯色上衣。", "Too close to the blue background.");
    serve(attempt(true, [blue], { kind: "must_retake", hard: [], soft: ["clothing_colour"], face_mismatch: false, attempts_left: 2 }), c);
    component = mount(Check, { target });
    await settle();
    expect(target.textContent).toContain("照片有问题，请按提示重拍");
    expect(target.querySelector(".measures li.fail")!.textContent).toContain("请换一件非蓝色的纯色上衣");
    expect(target.querySelector("details.passed summary")!.textContent).toContain("2 项检测通过");
    expect(target.textContent).toContain("照片与证件人像为同一人");
    expect(buttons()).toContain("重新拍照");
    expect(buttons()).not.toContain("查看标准化照片");
    expect(buttons()).not.toContain("仍然提交，由老师人工核对");
    expect(target.textContent).toContain("同一项检测再有 2 次未通过后");
    setLang("en");
    flushSync();
    expect(target.querySelector(".measures li.fail")!.textContent).toContain("Too close to the blue background.");
  });

  it("goes on to the standardized photo when the checks pass", async () => {
    const c = theCase(0);
    app.data = c;
    serve(attempt(true), c);
    component = mount(Check, { target });
    await settle();
    expect(target.textContent).toContain("照片通过了自动检测");
    expect(buttons()).toContain("查看标准化照片");
  });

  it("asks for a retake after a failed face comparison, and offers submit-anyway after three", async () => {
    let c = theCase(2);
    app.data = c;
    serve(attempt(false, [], { kind: "must_retake", hard: [], soft: [], face_mismatch: true, attempts_left: 1 }), c);
    component = mount(Check, { target });
    await settle();
    expect(target.textContent).toContain("照片与证件人像比对未通过");
    expect(target.textContent).toContain("人像比对再有 1 次未通过后");
    expect(buttons()).not.toContain("仍然提交，由老师人工核对");
    unmount(component);

    c = theCase(3);
    app.data = c;
    serve(attempt(false, [], { kind: "allowed_with_flag", measures: [], face_mismatch: true, face_unchecked: false }), c);
    component = mount(Check, { target });
    await settle();
    expect(target.textContent).toContain("人像比对已连续失败 3 次");
    expect(buttons()).toEqual(expect.arrayContaining(["重新拍照", "仍然提交，由老师人工核对"]));
  });

  it("offers submit-anyway for a soft check the server allows with a flag, naming it with its fix", async () => {
    const c = theCase(0);
    app.data = c;
    const blur = measure("sharpness", "fail", "照片模糊，请拿稳手机重新拍摄。", "The photo is blurred; hold the phone steady.");
    const a = attempt(true, [blur], { kind: "allowed_with_flag", measures: ["sharpness"], face_mismatch: false, face_unchecked: false });
    // The blurred photo's own sharpness result replaces the passing one.
    serve({ ...a, report: { ...a.report!, measures: a.report!.measures.filter((m) => m !== a.report!.measures[0]) } }, c);
    component = mount(Check, { target });
    await settle();
    expect(target.textContent).toContain("有检测项多次未通过");
    expect(target.querySelector(".measures li.fail")!.textContent).toContain("请拿稳手机重新拍摄");
    // The reason stands next to the choice, not only in the list above.
    expect(target.querySelector(".choice")!.textContent).toContain("以下检测项已多次未通过");
    expect(target.querySelector(".choice li")!.textContent).toBe("清晰度：照片模糊，请拿稳手机重新拍摄。");
    expect(target.textContent).not.toContain("人像比对已连续失败");
    expect(buttons()).toEqual(expect.arrayContaining(["重新拍照", "仍然提交，由老师人工核对"]));
    expect(buttons()).not.toContain("查看标准化照片");
    setLang("en");
    flushSync();
    expect(target.querySelector(".choice")!.textContent).toContain("These checks have failed repeatedly");
    expect(target.querySelector(".choice li")!.textContent).toBe("Sharpness: The photo is blurred; hold the phone steady.");
  });

  it("never offers submit-anyway for a hard failure", async () => {
    const c = theCase(0);
    app.data = c;
    const small = measure("face_size", "fail", "人脸太小。", "The face is too small.");
    serve(attempt(true, [small], { kind: "must_retake", hard: ["face_size"], soft: [], face_mismatch: false, attempts_left: null }), c);
    component = mount(Check, { target });
    await settle();
    expect(target.textContent).toContain("人工核对也无法弥补");
    expect(buttons()).not.toContain("仍然提交，由老师人工核对");
    expect(buttons()).not.toContain("查看标准化照片");
  });
});
