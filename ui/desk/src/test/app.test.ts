import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { flushSync, mount, tick, unmount } from "svelte";
import { clearMocks, mockConvertFileSrc, mockIPC } from "@tauri-apps/api/mocks";
import { emit } from "@tauri-apps/api/event";
import App from "../App.svelte";
import type { StartupView } from "../lib/bindings/StartupView";
import type { ItemView } from "../lib/bindings/ItemView";
import { REASONS, SIGNED_IN, SIGNED_OUT_NO_KEYRING, hints, item, rows, status } from "./fixtures";

type Call = { cmd: string; args: Record<string, unknown> };

/** Flagged after three failed face comparisons. */
const FACE_FLAGGED = item("c2", "李四", {
  flagged: true,
  flag: { measures: [], face_mismatch: true, face_unchecked: false, reasons_known: true },
  face_match_failures: 3,
});

/** Flagged after repeatedly failing two soft photo checks; the face comparison passed. */
const CHECKS_FLAGGED = item("c2", "李四", {
  flagged: true,
  flag: {
    measures: [
      { id: "sharpness", label_zh: "清晰度", label_en: "Sharpness" },
      { id: "tinted_glasses", label_zh: "有色眼镜或反光", label_en: "Tinted glasses or glare" },
    ],
    face_mismatch: false,
    face_unchecked: false,
    reasons_known: true,
  },
  face_match_failures: 0,
});

/** A small fake of the core: two claimed items, a decision moves to the next one. */
function fakeCore(startup: StartupView, second: ItemView = FACE_FLAGGED) {
  const calls: Call[] = [];
  const items = new Map([
    ["c1", item("c1", "张三")],
    ["c2", second],
  ]);
  const order = ["c1", "c2"];
  let session = startup.session;
  // Grid review: four clean held photos; approved ones leave the grid.
  let gridIds = ["g1", "g2", "g3", "g4"];
  const gridView = () => ({
    tiles: gridIds.map((id, i) => ({ item_id: id, student_name: `学生${i + 1}`, student_no: `2021000${i + 1}`, college: "理学院", photo: `${id}/standardized` })),
    held: gridIds.length + 1,
    waiting_hints: 0,
    held_back: 1,
    max: 24,
  });
  mockIPC(
    (cmd, args) => {
      calls.push({ cmd, args: (args ?? {}) as Record<string, unknown> });
      const a = (args ?? {}) as Record<string, unknown>;
      switch (cmd) {
        case "startup":
          return { ...startup, session };
        case "reasons":
          return REASONS;
        case "sync_status":
          return status();
        case "sign_in": {
          const req = a.req as { user_name: string; server_url: string; session_only: boolean; password: string };
          if (req.password !== "right") {
            throw { code: "invalid_credentials", message_zh: "用户名或密码错误。", message_en: "Wrong user name or password." };
          }
          session = { server_url: req.server_url, user_name: req.user_name, role: "reviewer", session_only: req.session_only };
          return session;
        }
        case "next_item": {
          const after = a.after as string | null;
          const undecided = order.filter((id) => items.get(id)?.status === "claimed");
          if (after === null) return undecided[0] ?? null;
          const i = order.indexOf(after);
          return order.slice(i + 1).find((id) => items.get(id)?.status === "claimed") ?? null;
        }
        case "previous_item": {
          const i = order.indexOf(a.before as string);
          return i > 0 ? order[i - 1] : null;
        }
        case "item_detail":
          return items.get(a.itemId as string);
        case "item_hints":
          return hints(a.itemId as string);
        case "queue_list":
          return { rows: rows(10_000), counts: { total: 10_000, pending: 9_998, claimed: 2, decided: 0, conflicts: 0, flagged: 1429 }, matching: 10_000, schools: ["理工学院", "示范大学"] };
        case "check_decision": {
          // The core's answers (crates/domain reasons.rs), as the window receives them.
          const d = a.decision as { kind: string; reasons?: string[]; comment?: string | null };
          if (d.kind === "reject" && (d.reasons ?? []).length === 0) {
            throw { code: "invalid_decision", message_zh: "退回时请至少选择一条原因。", message_en: "Choose at least one reason when rejecting." };
          }
          if (d.kind === "reject" && d.reasons?.includes("other") && !d.comment) {
            throw { code: "invalid_decision", message_zh: "选择“其他问题”时，请填写具体的审核意见。", message_en: "Reason \"other\" needs a comment explaining the problem." };
          }
          return null;
        }
        case "decide": {
          const req = a.req as { item_id: string };
          const it = items.get(req.item_id);
          if (it) items.set(req.item_id, { ...it, status: "decided" });
          const i = order.indexOf(req.item_id);
          return { decision_id: "d-" + req.item_id, next_item_id: order[i + 1] ?? null };
        }
        case "claim_next":
          return { claimed: 0, first_item_id: null };
        case "grid":
        case "grid_fill":
          return gridView();
        case "grid_approve": {
          const ids = (a.req as { item_ids: string[] }).item_ids;
          gridIds = gridIds.filter((id) => !ids.includes(id));
          const results = ids.map((id, i) => ({
            item_id: id,
            student_name: id,
            outcome: i === 0 ? "conflict" : "approved",
            decision_id: "d-" + id,
            error: i === 0 ? { code: "not_lease_holder", message_zh: "您已不再持有该审核任务。", message_en: "You no longer hold this item." } : null,
          }));
          return { results, approved: ids.length - 1, queued: 0, conflicts: 1, refused: 0 };
        }
        case "conflicts":
          return [
            { id: 7, item_id: "c9", student_name: "王五", kind: "lease_lost", code: "lease_lost", message_zh: "您已不再持有该审核任务。", message_en: "You no longer hold this item.", decision_kind: "reject", reasons: ["background"], created_at: "2026-06-01T08:00:00Z" },
          ];
        case "dismiss_conflict":
        case "sign_out":
          return null;
        default:
          return null;
      }
    },
    { shouldMockEvents: true },
  );
  mockConvertFileSrc("linux");
  return { calls, items };
}

async function settle() {
  for (let i = 0; i < 8; i++) {
    await tick();
    await new Promise((r) => setTimeout(r, 0));
  }
  flushSync();
}

function press(key: string) {
  window.dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true }));
}


let app: ReturnType<typeof mount> | null = null;

beforeEach(() => {
  document.body.innerHTML = "";
  localStorage.clear();
});

afterEach(() => {
  if (app) unmount(app);
  app = null;
  clearMocks();
});

describe("sign-in", () => {
  it("offers a session-only sign-in when no keyring is available and reports bad passwords", async () => {
    const { calls } = fakeCore(SIGNED_OUT_NO_KEYRING);
    app = mount(App, { target: document.body });
    await settle();
    expect(document.querySelector('[data-testid="keyring-unavailable"]')).not.toBeNull();
    const sessionOnly = document.querySelector<HTMLInputElement>('input[name="session-only"]')!;
    expect(sessionOnly.checked).toBe(true);
    expect(document.querySelector<HTMLInputElement>('input[name="server"]')!.value).toBe("http://10.0.0.5:8080");

    const pw = document.querySelector<HTMLInputElement>('input[name="password"]')!;
    pw.value = "wrong";
    pw.dispatchEvent(new Event("input", { bubbles: true }));
    document.querySelector<HTMLFormElement>("form")!.requestSubmit();
    await settle();
    expect(document.querySelector('[data-testid="error"]')?.textContent).toContain("用户名或密码错误");

    pw.value = "right";
    pw.dispatchEvent(new Event("input", { bubbles: true }));
    document.querySelector<HTMLFormElement>("form")!.requestSubmit();
    await settle();
    const signIn = calls.filter((c) => c.cmd === "sign_in").at(-1)!;
    expect(signIn.args.req).toEqual({ server_url: "http://10.0.0.5:8080", user_name: "reviewer2", password: "right", session_only: true });
    expect(document.querySelector('[data-testid="student-name"]')?.textContent).toBe("张三");
  });
});

describe("review", () => {
  it("approves with A and shows the next item, which carries the flag prominently", async () => {
    const { calls } = fakeCore(SIGNED_IN);
    app = mount(App, { target: document.body });
    await settle();
    expect(document.querySelector('[data-testid="student-name"]')?.textContent).toBe("张三");
    expect(document.querySelectorAll('[data-testid^="pane-"]').length).toBe(4);
    expect(document.querySelector('[data-testid="pane-enrollment"]')?.textContent).toContain("无学籍照片");
    expect(document.querySelector('[data-testid="face-match"]')?.textContent).toContain("81.0%");
    expect(document.querySelector('[data-testid="flag-banner"]')).toBeNull();

    press("a");
    await settle();
    expect(calls.find((c) => c.cmd === "decide")?.args.req).toEqual({ item_id: "c1", decision: { kind: "approve" } });
    expect(document.querySelector('[data-testid="student-name"]')?.textContent).toBe("李四");
    const banner = document.querySelector('[data-testid="flag-banner"]')?.textContent ?? "";
    expect(banner).toContain("人像比对已连续 3 次未通过");
    expect(banner).toContain("Face vs ID card failed 3 times");
    expect(banner).not.toContain("照片检测");
  });

  it("names the photo checks a flagged submission failed, not a face mismatch", async () => {
    fakeCore(SIGNED_IN, CHECKS_FLAGGED);
    app = mount(App, { target: document.body });
    await settle();
    press("a");
    await settle();
    expect(document.querySelector('[data-testid="student-name"]')?.textContent).toBe("李四");
    const banner = document.querySelector('[data-testid="flag-banner"]')?.textContent ?? "";
    expect(banner).toContain("已标记 · 学生多次未通过后仍提交");
    expect(banner).toContain("照片检测多次未通过：清晰度、有色眼镜或反光");
    expect(banner).toContain("Photo checks failed repeatedly: Sharpness, Tinted glasses or glare");
    expect(banner).not.toContain("人像比对");
    expect(banner).not.toContain("tinted_glasses");
    // The record's chip says flagged in general terms, with the reasons on hover.
    const chip = document.querySelector<HTMLElement>('[data-testid="flag-chip"]');
    expect(chip?.textContent).toContain("已标记");
    expect(chip?.textContent).not.toContain("比对失败");
    expect(chip?.title).toContain("清晰度、有色眼镜或反光");
    // The flagged check is marked in the hints table; others are not.
    expect(document.querySelector('[data-testid="measure-sharpness"]')?.textContent).toContain("⚑");
    expect(document.querySelector('[data-testid="measure-yaw"]')?.textContent).not.toContain("⚑");
  });

  it("rejects with number keys; 'other' requires a comment", async () => {
    const { calls } = fakeCore(SIGNED_IN);
    app = mount(App, { target: document.body });
    await settle();
    press("r");
    await settle();
    expect(document.querySelector('[data-testid="reject-panel"]')).not.toBeNull();
    press("1");
    press("0");
    await settle();
    expect(document.querySelector('[data-testid="reason-background"]')?.classList.contains("selected")).toBe(true);
    expect(document.querySelector('[data-testid="reason-other"]')?.classList.contains("selected")).toBe(true);
    press("Enter");
    await settle();
    expect(calls.some((c) => c.cmd === "decide")).toBe(false);
    expect(document.querySelector('[data-testid="notice"]')?.textContent).toContain("请填写具体的审核意见");
    expect(document.querySelector<HTMLButtonElement>('[data-testid="confirm-reject"]')?.disabled).toBe(true);

    const comment = document.querySelector<HTMLTextAreaElement>('[data-testid="reject-comment"]')!;
    comment.value = "衣领被头发遮住";
    comment.dispatchEvent(new Event("input", { bubbles: true }));
    await settle();
    document.querySelector<HTMLButtonElement>('[data-testid="confirm-reject"]')!.click();
    await settle();
    expect(calls.find((c) => c.cmd === "decide")?.args.req).toEqual({
      item_id: "c1",
      decision: { kind: "reject", reasons: ["background", "other"], comment: "衣领被头发遮住" },
    });
  });

  it("zooms all panes together, toggles overlays, walks J/K and opens help", async () => {
    fakeCore(SIGNED_IN);
    app = mount(App, { target: document.body });
    await settle();
    press("z");
    await settle();
    const layers = [...document.querySelectorAll<HTMLElement>(".layer")];
    expect(layers.length).toBe(3);
    expect(layers.every((l) => l.style.transform.includes("scale(2.5)"))).toBe(true);
    press("o");
    await settle();
    expect(document.querySelector('[data-testid="guide-overlay"]')).not.toBeNull();
    expect(document.querySelector('[data-testid="face-overlay-standardized"]')).not.toBeNull();
    press("j");
    await settle();
    expect(document.querySelector('[data-testid="student-name"]')?.textContent).toBe("李四");
    press("k");
    await settle();
    expect(document.querySelector('[data-testid="student-name"]')?.textContent).toBe("张三");
    press("?");
    await settle();
    expect(document.querySelector('[data-testid="help"]')?.textContent).toContain("Approve");
    press("Escape");
    await settle();
    expect(document.querySelector('[data-testid="help"]')).toBeNull();
  });
});

describe("sync", () => {
  it("refreshes a decided item when its decision leaves the outbox", async () => {
    const { items } = fakeCore(SIGNED_IN);
    app = mount(App, { target: document.body });
    await settle();
    press("a");
    await settle();
    press("k");
    await settle();
    expect(document.querySelector('[data-testid="decided-state"]')?.textContent).toContain("待同步");
    await emit("sync-status", status({ outbox: 1 }));
    await settle();
    items.set("c1", { ...items.get("c1")!, status: "synced" });
    await emit("sync-status", status({ outbox: 0 }));
    await settle();
    expect(document.querySelector('[data-testid="decided-state"]')?.textContent).toContain("已同步");
  });
});

describe("queue, status and conflicts", () => {
  it("renders a 10,000-row queue with only a window of rows in the DOM", async () => {
    fakeCore(SIGNED_IN);
    app = mount(App, { target: document.body });
    await settle();
    press("q");
    await settle();
    expect(document.querySelector('[data-testid="queue-counts"]')?.textContent).toContain("10000");
    // The flag filter speaks of every flag, not only face mismatches.
    const filter = document.querySelector<HTMLElement>('[data-testid="filter-flagged"]');
    expect(filter?.textContent).toContain("已标记");
    expect(filter?.textContent).not.toContain("比对");
    expect(filter?.title).toContain("多次未通过自动检测或人像比对后仍提交");
    const rendered = document.querySelectorAll('[data-testid="queue-row"]').length;
    expect(rendered).toBeGreaterThan(0);
    expect(rendered).toBeLessThan(100);
    const spacer = document.querySelector<HTMLElement>(".spacer[style]");
    expect(spacer?.style.height).toBe(`${10_000 * 30}px`);
  });

  it("shows sync state from events and lists conflicts", async () => {
    const { calls } = fakeCore(SIGNED_IN);
    app = mount(App, { target: document.body });
    await settle();
    expect(document.querySelector('[data-testid="online-state"]')?.textContent).toContain("在线");
    await emit("sync-status", status({ online: false, outbox: 3, conflicts: 1 }));
    await settle();
    expect(document.querySelector('[data-testid="online-state"]')?.textContent).toContain("离线");
    expect(document.querySelector('[data-testid="outbox"]')?.textContent).toContain("3");
    (document.querySelector('[data-testid="conflict-count"]') as HTMLButtonElement).click();
    await settle();
    expect(document.querySelector('[data-testid="conflict-row"]')?.textContent).toContain("领取已失效");
    const ack = [...document.querySelectorAll<HTMLButtonElement>('[data-testid="conflict-row"] button')].at(-1)!;
    ack.click();
    await settle();
    expect(calls.find((c) => c.cmd === "dismiss_conflict")?.args).toEqual({ id: 7 });
    expect(document.querySelector('[data-testid="conflict-row"]')).toBeNull();
  });
});

describe("grid review", () => {
  it("selects every clean photo, leaves out one by keyboard and one by mouse, and approves the rest", async () => {
    const { calls } = fakeCore(SIGNED_IN);
    app = mount(App, { target: document.body });
    await settle();
    press("g");
    await settle();
    const tiles = () => [...document.querySelectorAll<HTMLElement>('[data-testid="grid-tile"]')];
    expect(tiles().map((t) => t.dataset.item)).toEqual(["g1", "g2", "g3", "g4"]);
    expect(tiles().every((t) => t.getAttribute("aria-selected") === "true")).toBe(true);
    const button = () => document.querySelector('[data-testid="grid-approve"]')?.textContent ?? "";
    expect(button()).toContain("批准 4 张");
    expect(button()).toContain("Approve 4");

    // Space leaves out the focused (first) photo; the arrows move the focus; a click leaves out
    // the third, and a second Space on the first takes it back and out again.
    press(" ");
    press("ArrowRight");
    press("ArrowRight");
    press("ArrowLeft");
    await settle();
    expect(tiles()[1]?.classList.contains("focused")).toBe(true);
    tiles()[2]?.click();
    await settle();
    expect(tiles().map((t) => t.getAttribute("aria-selected"))).toEqual(["false", "true", "false", "true"]);
    expect(button()).toContain("批准 2 张");

    press("Enter");
    await settle();
    expect(calls.filter((c) => c.cmd === "grid_approve").map((c) => c.args.req)).toEqual([{ item_ids: ["g2", "g4"] }]);
    const result = document.querySelector('[data-testid="grid-result"]')?.textContent ?? "";
    expect(result).toContain("已通过 1");
    expect(result).toContain("冲突 1");
    // The two left out stay held for single review and are not offered again selected.
    expect(tiles().length).toBe(0);
    expect(document.querySelector('[data-testid="grid-summary"]')?.textContent).toContain("3 张留待单张审核");

    press("?");
    await settle();
    expect(document.querySelector('[data-testid="help"]')?.textContent).toContain("宫格审核");
  });
});
