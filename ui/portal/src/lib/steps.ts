// Where a case is in the journey: the six steps the student sees, and which screen to show.

import type { CaseState } from "./types";

export const STEPS = ["identity", "record", "payment", "capture", "standardize", "submit"] as const;
export type StepId = (typeof STEPS)[number];

/** Screens inside the "ready" state, which the case state alone does not distinguish. */
export type CaptureStage = "rules" | "capture" | "check" | "standardized";

export type Screen =
  | "start"
  | "identity"
  | "record"
  | "payment"
  | CaptureStage
  | "status";

export function stepOf(screen: Screen): StepId {
  switch (screen) {
    case "start":
    case "identity":
      return "identity";
    case "record":
      return "record";
    case "payment":
      return "payment";
    case "rules":
    case "capture":
    case "check":
      return "capture";
    case "standardized":
      return "standardize";
    case "status":
      return "submit";
  }
}

export const SUBMITTED: CaseState[] = ["pending_review", "in_review", "rejected", "approved", "exported", "published"];
export const FINAL: CaseState[] = ["approved", "exported", "published"];

/**
 * The screen for a case state. `stage` is where the student was inside "ready" (kept across
 * reloads in sessionStorage); `started` says whether they already left the start page.
 */
export function screenFor(state: CaseState, stage: CaptureStage | null, started: boolean): Screen {
  switch (state) {
    case "invited":
    case "claimed":
      return started ? "identity" : "start";
    case "identity_verified":
      return "record";
    case "record_confirmed":
      return "payment";
    case "ready":
      return stage ?? "rules";
    default:
      return "status";
  }
}

/** Whether a withdrawal is possible: only before a reviewer holds the submission. */
export function canWithdraw(state: CaseState): boolean {
  return state === "pending_review";
}

/** 审核中 / 未通过 / 已通过 / 已导出 / 上网成功 — in_review looks the same as pending to the student. */
export function statusKey(state: CaseState): CaseState {
  return state === "in_review" ? "pending_review" : state;
}

/** Yuan with two decimals from fen. */
export function yuan(cents: number): string {
  return (cents / 100).toFixed(2);
}
