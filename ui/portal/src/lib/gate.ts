// What the student may do after the automatic checks. The server decides (domain
// `gate::submit_decision`) and sends the decision with every attempt; the portal follows it,
// so it offers exactly what the server will accept and never re-derives the rule.

import type { AttemptView, MeasureId, MeasureResult } from "./types";

export type NextStep =
  | { kind: "wait" } // still processing
  // Retake: the photo could not be analysed, a check failed, or the face did not match.
  // `attemptsLeft`: further attempts failing the same way before submit-anyway is offered;
  // null when no number of attempts helps (a hard failure, or nothing to submit).
  | { kind: "retake"; hard: MeasureId[]; soft: MeasureId[]; faceMismatch: boolean; attemptsLeft: number | null }
  | { kind: "continue" } // go on to the standardized photo
  // Failed often enough: retake, or submit anyway for a reviewer to check by hand.
  | { kind: "choose"; measures: MeasureId[]; faceMismatch: boolean };

const NOTHING_TO_SUBMIT: NextStep = { kind: "retake", hard: [], soft: [], faceMismatch: false, attemptsLeft: null };

export function nextStep(attempt: AttemptView): NextStep {
  if (attempt.status === "processing") return { kind: "wait" };
  const gate = attempt.gate;
  if (!gate) return NOTHING_TO_SUBMIT;
  switch (gate.kind) {
    case "allowed":
      return { kind: "continue" };
    case "allowed_with_flag":
      // Only the reviewer's own comparison is asked for: the student failed nothing.
      if (gate.measures.length === 0 && !gate.face_mismatch) return { kind: "continue" };
      return { kind: "choose", measures: gate.measures, faceMismatch: gate.face_mismatch };
    case "must_retake":
      return {
        kind: "retake",
        hard: gate.hard,
        soft: gate.soft,
        faceMismatch: gate.face_mismatch,
        attemptsLeft: gate.attempts_left,
      };
  }
}

/** Shown in their own sections of the results (face comparison, ID card reading). */
const OWN_SECTION = new Set<MeasureId>(["face_similarity", "id_card_ocr"]);

/**
 * The headline above the results. Whether the photo can be submitted comes from the server's
 * decision; among submittable photos, any suggestion or unassessed check makes it "warn".
 */
export type Summary = "pass" | "warn" | "flag" | "fail";

export function summaryOf(attempt: AttemptView): Summary | null {
  const step = nextStep(attempt);
  if (step.kind === "wait") return null;
  if (step.kind === "retake") return "fail";
  if (step.kind === "choose") return "flag";
  const measures = attempt.report?.measures ?? [];
  const doubtful = measures.some((m) => !OWN_SECTION.has(m.id) && (m.verdict !== "pass" || m.status !== "ok"));
  return doubtful ? "warn" : "pass";
}

/** Failures first, then suggestions and unassessed, then passes; stable within each group. */
export function sortMeasures(measures: MeasureResult[]): MeasureResult[] {
  const rank = (m: MeasureResult) => (m.verdict === "fail" ? 0 : m.verdict === "warn" || m.status !== "ok" ? 1 : 2);
  return measures
    .map((m, i) => ({ m, i }))
    .sort((a, b) => rank(a.m) - rank(b.m) || a.i - b.i)
    .map((x) => x.m);
}
