// The review status screen: reasons and retake after a rejection, withdrawal only while
// pending (with a confirmation), nothing to change after approval.
import { flushSync, mount, tick, unmount } from "svelte";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import Status from "../../src/views/Status.svelte";
import { app } from "../../src/lib/flow.svelte";
import { setLang } from "../../src/lib/i18n.svelte";
import type { CaseState, StudentCase } from "../../src/lib/types";
import { uploads } from "./uploads";

function theCase(state: CaseState, over: Partial<StudentCase> = {}): StudentCase {
  return {
    case_id: "c1",
    state,
    state_label_zh: "",
    state_label_en: "",
    round: 0,
    school: { id: "s", name: "示例大学", support_phone: "1", support_hours: "2", submission_deadline: "", days_left: null },
    policy: { fee_cents: 2000, retakes_free: true, album_allowed: true, max_attempts_per_round: 10, face_match_failures_before_flag: 3, check_failures_before_flag: 3, privacy_version: "v", photo_background_zh: "浅蓝色", photo_background_en: "light blue", photo_min_kb: 20, photo_max_kb: 40, privacy_text_zh: "", privacy_text_en: "" },
    consent: null,
    record: null,
    order: null,
    attempts: [],
    submitted_attempt_id: null,
    flagged: false,
    face_match_failures: 0,
    latest_decision: null,
    uploads,
    ...over,
  };
}

let target: HTMLElement;
let component: ReturnType<typeof mount> | null = null;
let posted: string[];

beforeEach(() => {
  setLang("zh");
  posted = [];
  target = document.createElement("div");
  document.body.appendChild(target);
});

afterEach(() => {
  if (component) unmount(component);
  component = null;
  target.remove();
  vi.unstubAllGlobals();
});

function show(c: StudentCase, next?: StudentCase) {
  app.data = c;
  vi.stubGlobal("fetch", async (url: string, init: RequestInit = {}) => {
    if (init.method === "POST") posted.push(url);
    return new Response(JSON.stringify(next ?? c));
  });
  component = mount(Status, { target });
  flushSync();
}

const buttons = () => [...target.querySelectorAll("button")].map((b) => b.textContent!.trim());
const click = (label: string) => [...target.querySelectorAll("button")].find((b) => b.textContent!.trim() === label)!.click();

async function settle() {
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 0));
    await tick();
  }
  flushSync();
}

describe("review status", () => {
  it("shows the reasons with how to fix them, and a free retake", async () => {
    show(
      theCase("rejected", {
        latest_decision: {
          id: "d",
          kind: "reject",
          reasons: [{ code: "background", label_zh: "背景不合格", label_en: "Background", fix_zh: "请在白墙前重拍。", fix_en: "Retake in front of a white wall." }],
          comment: "背景有杂物。",
          round: 0,
          decided_at_ms: Date.UTC(2026, 5, 1),
        },
      }),
      theCase("ready", { round: 1 }),
    );
    expect(target.textContent).toContain("未通过");
    expect(target.textContent).toContain("背景不合格");
    expect(target.textContent).toContain("请在白墙前重拍。");
    expect(target.textContent).toContain("背景有杂物。");
    expect(target.textContent).toContain("重拍无需再次付费");
    click("重新拍照");
    await settle();
    expect(posted).toEqual(["/api/student/retake"]);
    expect(app.data?.state).toBe("ready");
    expect(app.stage).toBe("rules");
  });

  it("says when a retake must be paid again", () => {
    show(theCase("rejected", { policy: { ...theCase("x" as CaseState).policy, retakes_free: false } }));
    expect(target.textContent).toContain("重拍需要重新付费");
  });

  it("withdraws a pending submission only after confirmation", async () => {
    show(theCase("pending_review"), theCase("ready"));
    expect(target.textContent).toContain("审核中");
    click("撤回提交并重拍");
    flushSync();
    expect(posted).toEqual([]);
    expect(target.textContent).toContain("确定撤回吗");
    click("确定");
    await settle();
    expect(posted).toEqual(["/api/student/withdraw"]);
    expect(app.stage).toBe("capture");
  });

  it("cannot withdraw once a reviewer holds it, and is read-only after approval", () => {
    show(theCase("in_review"));
    expect(target.textContent).toContain("审核中");
    expect(buttons()).toEqual([]);
    unmount(component!);
    show(theCase("published"));
    expect(target.textContent).toContain("上网成功");
    expect(target.textContent).toContain("页面仅供查看");
    expect(buttons()).toEqual([]);
  });
});
