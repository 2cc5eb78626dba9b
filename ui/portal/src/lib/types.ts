// Wire types of the student API, written to match crates/api (common.rs, student.rs) and the
// domain enums they embed (serde snake_case).

export type CaseState =
  | "invited"
  | "claimed"
  | "identity_verified"
  | "record_confirmed"
  | "ready"
  | "pending_review"
  | "in_review"
  | "rejected"
  | "approved"
  | "exported"
  | "published";

export type Verdict = "pass" | "warn" | "fail";
export type AssessStatus = "ok" | "failed_to_assess";

export interface MeasureResult {
  id: string;
  raw: number | null;
  score: number | null;
  verdict: Verdict;
  status: AssessStatus;
  message_zh: string;
  message_en: string;
}

export interface CheckReport {
  measures: MeasureResult[];
  models: { name: string; sha256: string }[];
  config_version: string;
}

export interface SchoolInfo {
  id: string;
  name: string;
  support_phone: string;
  support_hours: string;
}

export interface PolicySummary {
  fee_cents: number;
  retakes_free: boolean;
  album_allowed: boolean;
  max_attempts_per_round: number;
  face_match_failures_before_flag: number;
  check_failures_before_flag: number;
  privacy_version: string;
}

export interface ReasonView {
  code: string;
  label_zh: string;
  label_en: string;
  fix_zh: string;
  fix_en: string;
}

export type AttemptStatus = "processing" | "checked" | "failed";
export type PhotoSource = "camera" | "album";

export interface ErrorBodyView {
  code: string;
  message_zh: string;
  message_en: string;
}

export interface FaceMatchView {
  distance: number;
  same_person: boolean;
}

export interface OcrView {
  name: string | null;
  id_number_masked: string | null;
  agree: boolean;
}

/** What the server accepts on submit of an attempt (domain `gate::SubmitDecision`). */
export type SubmitDecision =
  | { kind: "allowed" }
  | { kind: "allowed_with_flag"; measures: string[]; face_mismatch: boolean }
  | {
      kind: "must_retake";
      hard: string[];
      soft: string[];
      face_mismatch: boolean;
      /** Further attempts failing the same way before submit-anyway; null: never (hard failure). */
      attempts_left: number | null;
    };

export interface AttemptView {
  id: string;
  round: number;
  status: AttemptStatus;
  source: PhotoSource;
  error: ErrorBodyView | null;
  overall: Verdict | null;
  report: CheckReport | null;
  face_match: FaceMatchView | null;
  ocr: OcrView | null;
  has_standardized: boolean;
  original_size: number;
  created_at_ms: number;
  /** Null while checking, when the photo could not be analysed, or for an earlier round. */
  gate: SubmitDecision | null;
}

export type DecisionKind = "approve" | "reject" | "override_approve" | "override_reject";

export interface DecisionView {
  id: string;
  kind: DecisionKind;
  reasons: ReasonView[];
  comment: string | null;
  round: number;
  decided_at_ms: number;
}
