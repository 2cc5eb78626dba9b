// The identity form in a DOM: live ID-number feedback, language switch, consent shown first.
import { flushSync, mount, unmount } from "svelte";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import Identity from "../../src/views/Identity.svelte";
import { app } from "../../src/lib/flow.svelte";
import { setLang } from "../../src/lib/i18n.svelte";
import type { StudentCase } from "../../src/lib/types";
import { uploads } from "./uploads";

function fixture(consented: boolean): StudentCase {
  return {
    case_id: "c1",
    state: "claimed",
    state_label_zh: "",
    state_label_en: "",
    round: 0,
    school: { id: "s", name: "示例大学", support_phone: "010-1", support_hours: "9-17", submission_deadline: "", days_left: null },
    policy: {
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
      photo_max_kb: 40,
      privacy_text_zh: "",
      privacy_text_en: "",
    },
    consent: consented ? { version: "2025-09", accepted_at_ms: Date.UTC(2026, 0, 2, 3, 4) } : null,
    record: null,
    order: null,
    attempts: [],
    submitted_attempt_id: null,
    flagged: false,
    face_match_failures: 0,
    latest_decision: null,
    uploads,
  };
}

let component: ReturnType<typeof mount> | null = null;
let target: HTMLElement;

beforeEach(() => {
  setLang("zh");
  target = document.createElement("div");
  document.body.appendChild(target);
});

afterEach(() => {
  if (component) unmount(component);
  component = null;
  target.remove();
});

function type(value: string) {
  const input = target.querySelector<HTMLInputElement>("#id-number")!;
  input.value = value;
  input.dispatchEvent(new Event("input", { bubbles: true }));
  flushSync();
  return target.querySelector("#id-help")!.textContent!.trim();
}

describe("identity form", () => {
  it("shows the school's own agreement, paragraph by paragraph, in the chosen language", () => {
    const c = fixture(false);
    c.policy.privacy_text_zh = "第一段：学校收集身份证图片。\n\n第二段：保留 30 天。";
    c.policy.privacy_text_en = "";
    app.data = c;
    component = mount(Identity, { target });
    flushSync();
    const paragraphs = [...target.querySelectorAll('[data-testid="agreement"] p')].map((p) => p.textContent);
    expect(paragraphs).toEqual(["第一段：学校收集身份证图片。", "第二段：保留 30 天。"]);
    // Without an English text, English readers get the school's Chinese one, not the standard.
    setLang("en");
    flushSync();
    expect(target.querySelector('[data-testid="agreement"]')!.textContent).toContain("第二段");
  });

  it("shows the privacy agreement first, with a separate acceptance", () => {
    app.data = fixture(false);
    component = mount(Identity, { target });
    flushSync();
    expect(target.querySelector("h1")!.textContent).toContain("隐私");
    expect(target.querySelector("#id-number")).toBeNull();
    const button = [...target.querySelectorAll("button")].find((b) => b.textContent!.includes("同意并继续"))!;
    expect(button.disabled).toBe(true);
    const box = target.querySelector<HTMLInputElement>('input[type="checkbox"]')!;
    box.click();
    flushSync();
    expect(button.disabled).toBe(false);
  });

  it("says which part of the ID number is wrong while typing", () => {
    app.data = fixture(true);
    component = mount(Identity, { target });
    flushSync();
    expect(type("110105")).toContain("6/18");
    expect(type("00")).toContain("地区代码");
    expect(type("11010519490230")).toContain("出生日期");
    expect(target.querySelector(".seg.bad")!.textContent).toContain("19490230");
    expect(type("110105194912310021")).toContain("校验码");
    expect(type("1101a")).toContain("第 5 位");
    expect(type("11010519491231002x")).toContain("号码格式正确");
    expect(target.querySelector("#id-number")!.getAttribute("aria-invalid")).toBe("false");
    setLang("en");
    flushSync();
    expect(target.querySelector("#id-help")!.textContent).toContain("Valid number");
    expect(type("110105194912310021")).toContain('should be "X"');
  });

  it("blocks submitting an incomplete form and says what is missing", () => {
    app.data = fixture(true);
    component = mount(Identity, { target });
    flushSync();
    type("1101051949");
    target.querySelector("form")!.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    flushSync();
    expect(target.textContent).toContain("请填写姓名");
    expect(target.querySelector("#id-help")!.textContent).toContain("您填写的是 10 位");
    expect(target.textContent).toContain("请拍摄或上传证件的人像面和国徽面");
  });
});
