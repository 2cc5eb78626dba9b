// What the student may do after the automatic checks. Mirrors the server's submit rules
// (http/student.rs submit + domain state::submit_gate) so the portal offers only what the
// server will accept.

import type { StudentCase } from "./student";
import type { AttemptView, MeasureResult, Verdict } from "./types";

export type NextStep =
  | { kind: "wait" } // still processing
  | { kind: "retake" } // checks failed, the photo could not be analysed, or the face did not match (too few tries yet)
  | { kind: "continue" } // go on to the standardized photo
  | { kind: "choose"; failures: number }; // face comparison failed often enough: retake, or submit flagged

/** Decided by the face comparison gate and the identity step, not by the photo checks. */
const NOT_PHOTO_MEASURES = new Set(["face_similarity", "id_card_ocr"]);

export function photoVerdict(measures: MeasureResult[]): Verdict {
  let worst: Verdict = "pass";
  for (const m of measures) {
    if (NOT_PHOTO_MEASURES.has(m.id)) continue;
    if (m.verdict === "fail") return "fail";
    if (m.verdict === "warn" || m.status === "failed_to_assess") worst = "warn";
  }
  return worst;
}

export function nextStep(attempt: AttemptView, c: Pick<StudentCase, "face_match_failures" | "policy">): NextStep {
  if (attempt.status === "processing") return { kind: "wait" };
  if (attempt.status === "failed" || !attempt.report || !attempt.has_standardized) return { kind: "retake" };
  if (photoVerdict(attempt.report.measures) === "fail") return { kind: "retake" };
  const faceFailed = attempt.face_match !== null && !attempt.face_match.same_person;
  if (!faceFailed) return { kind: "continue" };
  if (c.face_match_failures >= c.policy.face_match_failures_before_flag) {
    return { kind: "choose", failures: c.face_match_failures };
  }
  return { kind: "retake" };
}

/** Failures first, then suggestions and unassessed, then passes; stable within each group. */
export function sortMeasures(measures: MeasureResult[]): MeasureResult[] {
  const rank = (m: MeasureResult) => (m.verdict === "fail" ? 0 : m.verdict === "warn" || m.status !== "ok" ? 1 : 2);
  return measures
    .map((m, i) => ({ m, i }))
    .sort((a, b) => rank(a.m) - rank(b.m) || a.i - b.i)
    .map((x) => x.m);
}
