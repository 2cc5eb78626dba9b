// Keyboard-first review: one key per action, shown in the UI next to each control.
import type { Desk } from "./desk.svelte";

export const SHORTCUTS: { key: string; zh: string; en: string }[] = [
  { key: "A", zh: "通过", en: "Approve" },
  { key: "R", zh: "驳回（选择原因）", en: "Reject (choose reasons)" },
  { key: "1–9", zh: "选择/取消驳回原因", en: "Toggle reject reason" },
  { key: "0", zh: "其他（须填写说明）", en: "Other (comment required)" },
  { key: "Enter", zh: "确认驳回", en: "Confirm rejection" },
  { key: "C", zh: "填写驳回说明", en: "Write a comment" },
  { key: "Esc", zh: "取消 / 关闭", en: "Cancel / close" },
  { key: "J / K", zh: "下一张 / 上一张", en: "Next / previous item" },
  { key: "Z", zh: "放大 / 还原（同步缩放）", en: "Zoom in / reset (synchronized)" },
  { key: "O", zh: "显示 / 隐藏辅助线", en: "Show / hide overlays" },
  { key: "B", zh: "身份证翻面（人像面 / 国徽面）", en: "Turn the ID card (front / back)" },
  { key: "N", zh: "领取更多", en: "Claim more" },
  { key: "G", zh: "宫格审核（提示全部通过的照片）", en: "Grid review (photos whose hints all pass)" },
  { key: "← → ↑ ↓", zh: "宫格中移动", en: "Move in the grid" },
  { key: "Space", zh: "宫格中选中 / 不选当前照片", en: "Select / leave out the focused photo (grid)" },
  { key: "Enter", zh: "宫格中批准已选照片", en: "Approve the selected photos (grid)" },
  { key: "Q", zh: "队列列表", en: "Queue list" },
  { key: "V", zh: "审核视图", en: "Review view" },
  { key: "?", zh: "快捷键帮助", en: "Keyboard help" },
];

function typing(target: EventTarget | null): boolean {
  if (!target || !(target instanceof HTMLElement)) return false;
  const tag = target.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
}

/** Handles one key press; returns true when it was a shortcut (the caller prevents default). */
export function handleKey(desk: Desk, e: KeyboardEvent): boolean {
  if (!desk.session) return false;
  if (e.ctrlKey || e.metaKey || e.altKey) {
    if (desk.rejecting && e.key === "Enter") {
      void desk.confirmReject();
      return true;
    }
    return false;
  }
  if (e.key === "Escape") {
    if (desk.helpOpen) desk.helpOpen = false;
    else if (desk.rejecting) desk.rejecting = false;
    else desk.notice = null;
    if (e.target instanceof HTMLElement) e.target.blur();
    return true;
  }
  if (typing(e.target)) return false;
  // The review keys mean nothing to an administrator.
  if (desk.isAdmin) return false;
  const k = e.key;
  if (k === "?") {
    desk.helpOpen = !desk.helpOpen;
    return true;
  }
  if (k === "q" || k === "Q") {
    desk.go("queue");
    return true;
  }
  if (k === "v" || k === "V") {
    desk.go("review");
    return true;
  }
  if (k === "g" || k === "G") {
    desk.go("grid");
    return true;
  }
  if (desk.screen === "grid") return gridKey(desk, k);
  if (desk.screen !== "review") return false;
  switch (k) {
    case "a":
    case "A":
      if (!desk.rejecting) void desk.approve();
      return true;
    case "r":
    case "R":
      desk.startReject();
      return true;
    case "j":
    case "J":
      void desk.next();
      return true;
    case "k":
    case "K":
      void desk.previous();
      return true;
    case "z":
    case "Z":
      desk.toggleZoom();
      return true;
    case "o":
    case "O":
      desk.overlays = !desk.overlays;
      return true;
    case "b":
    case "B":
      desk.flipCard();
      return true;
    case "n":
    case "N":
      void desk.claimMore().then((id) => (id && !desk.item ? desk.show(id) : undefined));
      return true;
    case "c":
    case "C":
      if (desk.rejecting) {
        document.getElementById("reject-comment")?.focus();
        return true;
      }
      return false;
    case "Enter":
      if (desk.rejecting) {
        void desk.confirmReject();
        return true;
      }
      return false;
  }
  if (k === "0" && desk.rejecting) {
    desk.toggleReason("other");
    return true;
  }
  if (/^[1-9]$/.test(k) && desk.rejecting) {
    const r = desk.reasons[Number(k) - 1];
    if (r) desk.toggleReason(r.code);
    return true;
  }
  return false;
}

/** Keys of grid review: arrows move, Space leaves a photo out or takes it back, Enter approves. */
function gridKey(desk: Desk, k: string): boolean {
  const g = desk.grid;
  switch (k) {
    case "ArrowLeft":
      g.move(-1, 0);
      return true;
    case "ArrowRight":
      g.move(1, 0);
      return true;
    case "ArrowUp":
      g.move(0, -1);
      return true;
    case "ArrowDown":
      g.move(0, 1);
      return true;
    case " ":
    case "Spacebar":
      g.toggle();
      return true;
    case "Enter":
      void g.approve();
      return true;
  }
  return false;
}
