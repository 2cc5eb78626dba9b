// The only place the UI talks to the Rust core. Every command returns a typed value or rejects
// with an ErrorView ({code, message_zh, message_en}).
import { convertFileSrc, invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { AdminSchoolView } from "./bindings/AdminSchoolView";
import type { AgreementView } from "./bindings/AgreementView";
import type { AuditActionView } from "./bindings/AuditActionView";
import type { AuditFilterView } from "./bindings/AuditFilterView";
import type { AuditPageView } from "./bindings/AuditPageView";
import type { ChainView } from "./bindings/ChainView";
import type { ClaimResult } from "./bindings/ClaimResult";
import type { ConflictView } from "./bindings/ConflictView";
import type { DecideRequest } from "./bindings/DecideRequest";
import type { DecideResult } from "./bindings/DecideResult";
import type { DecisionInput } from "./bindings/DecisionInput";
import type { ErrorView } from "./bindings/ErrorView";
import type { ExportDoneView } from "./bindings/ExportDoneView";
import type { ExportProgressView } from "./bindings/ExportProgressView";
import type { GridApproveResult } from "./bindings/GridApproveResult";
import type { GridView } from "./bindings/GridView";
import type { HintsView } from "./bindings/HintsView";
import type { ItemView } from "./bindings/ItemView";
import type { OverrideRequestRowView } from "./bindings/OverrideRequestRowView";
import type { OverrideResultView } from "./bindings/OverrideResultView";
import type { PasswordResetView } from "./bindings/PasswordResetView";
import type { PolicyView } from "./bindings/PolicyView";
import type { CodesIssuedView } from "./bindings/CodesIssuedView";
import type { ProgressFilterView } from "./bindings/ProgressFilterView";
import type { ProgressStudentsView } from "./bindings/ProgressStudentsView";
import type { ProgressView } from "./bindings/ProgressView";
import type { SavedFileView } from "./bindings/SavedFileView";
import type { QueueFilter } from "./bindings/QueueFilter";
import type { QueuePage } from "./bindings/QueuePage";
import type { ReasonView } from "./bindings/ReasonView";
import type { RereviewFilterView } from "./bindings/RereviewFilterView";
import type { RereviewPageView } from "./bindings/RereviewPageView";
import type { RereviewView } from "./bindings/RereviewView";
import type { SavePolicyRequest } from "./bindings/SavePolicyRequest";
import type { SessionView } from "./bindings/SessionView";
import type { StaffAccountView } from "./bindings/StaffAccountView";
import type { SignInRequest } from "./bindings/SignInRequest";
import type { StatsFilterView } from "./bindings/StatsFilterView";
import type { StatsView } from "./bindings/StatsView";
import type { StartupView } from "./bindings/StartupView";
import type { SyncStatusView } from "./bindings/SyncStatusView";
import type { TimelineView } from "./bindings/TimelineView";

export const api = {
  startup: () => invoke<StartupView>("startup"),
  signIn: (req: SignInRequest) => invoke<SessionView>("sign_in", { req }),
  signOut: () => invoke<void>("sign_out"),
  reasons: () => invoke<ReasonView[]>("reasons"),
  queue: (filter: QueueFilter) => invoke<QueuePage>("queue_list", { filter }),
  claim: (count: number) => invoke<ClaimResult>("claim_next", { count }),
  nextItem: (after: string | null) => invoke<string | null>("next_item", { after }),
  previousItem: (before: string) => invoke<string | null>("previous_item", { before }),
  item: (itemId: string) => invoke<ItemView>("item_detail", { itemId }),
  hints: (itemId: string) => invoke<HintsView>("item_hints", { itemId }),
  /** The full ID number of a held item (the server records the view); never cached. */
  revealIdNumber: (itemId: string) => invoke<string>("reveal_id_number", { itemId }),
  /** Resolves when the decision is complete; rejects with the rule's wording when not. */
  checkDecision: (decision: DecisionInput) => invoke<null>("check_decision", { decision }),
  decide: (req: DecideRequest) => invoke<DecideResult>("decide", { req }),
  // Grid review: the held items whose hints all pass, approved together (one decision each).
  grid: () => invoke<GridView>("grid"),
  gridFill: () => invoke<GridView>("grid_fill"),
  gridApprove: (itemIds: string[]) => invoke<GridApproveResult>("grid_approve", { req: { item_ids: itemIds } }),
  syncStatus: () => invoke<SyncStatusView>("sync_status"),
  syncNow: () => invoke<SyncStatusView>("sync_now"),
  conflicts: () => invoke<ConflictView[]>("conflicts"),
  dismissConflict: (id: number) => invoke<void>("dismiss_conflict", { id }),
  // Supervisor mode: the audit history.
  auditActions: () => invoke<AuditActionView[]>("audit_actions"),
  auditPage: (filter: AuditFilterView) => invoke<AuditPageView>("audit_page", { filter }),
  auditReveal: (studentId: string, reason: string) => invoke<string>("audit_reveal", { studentId, reason }),
  auditVerify: () => invoke<ChainView>("audit_verify"),
  auditExport: (filter: AuditFilterView) => invoke<ExportDoneView>("audit_export", { filter }),
  stats: (filter: StatsFilterView) => invoke<StatsView>("supervisor_stats", { filter }),
  // Administrator mode: the schools managed and each one's policy.
  adminSchools: () => invoke<AdminSchoolView[]>("admin_schools"),
  adminPolicy: (schoolId: string) => invoke<PolicyView>("admin_policy", { schoolId }),
  adminSavePolicy: (request: SavePolicyRequest) => invoke<PolicyView>("admin_save_policy", { request }),
  adminStaff: () => invoke<StaffAccountView[]>("admin_staff"),
  /** Rows summed by `by`: `college`, `major` or `level`. */
  adminProgress: (schoolId: string, by: string) => invoke<ProgressView>("admin_progress", { schoolId, by }),
  adminProgressStudents: (schoolId: string, filter: ProgressFilterView, after: string | null) =>
    invoke<ProgressStudentsView>("admin_progress_students", { schoolId, filter, after }),
  /** Codes for everyone without one (`studentNo` empty), or for one student; `reissue` revokes theirs first. */
  adminIssueCodes: (schoolId: string, studentNo: string, reissue: boolean) =>
    invoke<CodesIssuedView>("admin_issue_codes", { schoolId, studentNo, reissue }),
  adminUnbindCode: (caseId: string) => invoke<boolean>("admin_unbind_code", { caseId }),
  /** `format`: `pdf` (A4 sheets of QR codes) or `csv` (links). */
  adminSaveCodes: (schoolId: string, filter: ProgressFilterView, format: "pdf" | "csv") =>
    invoke<SavedFileView>("admin_save_codes", { schoolId, filter, format }),
  adminProgressExport: (schoolId: string, filter: ProgressFilterView) => invoke<SavedFileView>("admin_progress_export", { schoolId, filter }),
  adminStaffDisable: (userId: string, disabled: boolean) => invoke<StaffAccountView>("admin_staff_disable", { userId, disabled }),
  adminStaffRole: (userId: string, role: string) => invoke<StaffAccountView>("admin_staff_role", { userId, role }),
  adminStaffPassword: (userId: string) => invoke<PasswordResetView>("admin_staff_password", { userId }),
  timeline: (caseId: string) => invoke<TimelineView>("audit_timeline", { caseId }),
  /** A timeline picture as a `data:` URL (not cached on this computer). */
  timelinePhoto: (path: string) => invoke<string>("audit_photo", { path }),
  // Supervisor mode: quality (re-review samples, overrides).
  rereviews: (filter: RereviewFilterView) => invoke<RereviewPageView>("rereview_page", { filter }),
  /** The supervisor's blind verdict; the answer shows the first decision beside it. */
  rereviewDecide: (id: string, decision: DecisionInput) => invoke<RereviewView>("rereview_decide", { id, decision }),
  rereviewAgreement: () => invoke<AgreementView[]>("rereview_agreement"),
  /** `decisionId` is made once per override form: a retry is the same override. */
  overrideCase: (caseId: string, decisionId: string, decision: DecisionInput, reason: string) =>
    invoke<OverrideResultView>("override_case", { caseId, decisionId, decision, reason }),
  overrideRequests: (answered: boolean) => invoke<OverrideRequestRowView[]>("override_requests", { answered }),
  overrideConfirm: (requestId: string) => invoke<OverrideRequestRowView>("override_confirm", { requestId }),
  overrideDecline: (requestId: string, comment: string) =>
    invoke<OverrideRequestRowView>("override_decline", { requestId, comment }),
};

/** Event the core emits while an audit export runs (payload: ExportProgressView). */
export const EXPORT_EVENT = "audit-export-progress";

export function onExportProgress(cb: (p: ExportProgressView) => void): Promise<UnlistenFn> {
  return listen<ExportProgressView>(EXPORT_EVENT, (e) => cb(e.payload));
}

/** Event the core emits whenever the sync state changes (payload: SyncStatusView). */
export const SYNC_EVENT = "sync-status";

export function onSyncStatus(cb: (s: SyncStatusView) => void): Promise<UnlistenFn> {
  return listen<SyncStatusView>(SYNC_EVENT, (e) => cb(e.payload));
}

/** URL of a cached image, served by the core's `gpimg:` protocol out of the local cache. */
export function imageUrl(path: string): string {
  return convertFileSrc(path, "gpimg");
}

/** Normalizes whatever a command rejected with into an ErrorView. */
export function toError(e: unknown): ErrorView {
  if (e && typeof e === "object" && "code" in e && "message_zh" in e && "message_en" in e) {
    return e as ErrorView;
  }
  const text = e instanceof Error ? e.message : String(e);
  return { code: "internal", message_zh: `内部错误：${text}`, message_en: `Internal error: ${text}` };
}
