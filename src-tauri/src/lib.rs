//! gradphoto-desk: the Tauri shell of the reviewer workstation. Each command is a thin call into
//! `gradphoto_desk_core::Workstation`; failures reach the window as `{code, message_zh,
//! message_en}`. Cached images are served to the window by the `gpimg:` protocol.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use gradphoto_desk_core::view::{
    AdminSchoolView, AgreementView, AuditActionView, AuditFilterView, AuditPageView, ChainView,
    ClaimResult, CodesIssuedView, ConflictView, DecideRequest, DecideResult, DecisionInput,
    ErrorView, ExportDoneView, GridApproveRequest, GridApproveResult, GridView, HintsView,
    ItemView, OverrideRequestRowView, OverrideResultView, PasswordResetView, PolicyView,
    ProgressFilterView, ProgressStudentsView, ProgressView, QueueFilter, QueuePage, ReasonView,
    RereviewFilterView, RereviewPageView, RereviewView, SavePolicyRequest, SavedFileView,
    SessionView, SignInRequest, StaffAccountView, StartupView, StatsFilterView, StatsView,
    SyncStatusView, TimelineView,
};
use gradphoto_desk_core::{DeskError, Workstation};
use tauri::http::{header, Response, StatusCode};
use tauri::{Emitter, Manager, State};

type Cmd<T> = Result<T, ErrorView>;
type Ws<'a> = State<'a, Arc<Workstation>>;

fn err(e: DeskError) -> ErrorView {
    e.view()
}

/// Event carrying a `SyncStatusView` whenever the sync state changes.
pub const SYNC_EVENT: &str = "sync-status";

#[tauri::command]
async fn startup(ws: Ws<'_>) -> Cmd<StartupView> {
    ws.startup().await.map_err(err)
}

#[tauri::command]
async fn sign_in(ws: Ws<'_>, req: SignInRequest) -> Cmd<SessionView> {
    ws.sign_in(req).await.map_err(err)
}

#[tauri::command]
async fn sign_out(ws: Ws<'_>) -> Cmd<()> {
    ws.sign_out().await.map_err(err)
}

#[tauri::command]
fn reasons(ws: Ws<'_>) -> Vec<ReasonView> {
    ws.reasons()
}

#[tauri::command]
async fn queue_list(ws: Ws<'_>, filter: QueueFilter) -> Cmd<QueuePage> {
    ws.queue(&filter).await.map_err(err)
}

#[tauri::command]
async fn claim_next(ws: Ws<'_>, count: u32) -> Cmd<ClaimResult> {
    ws.claim(count).await.map_err(err)
}

#[tauri::command]
async fn next_item(ws: Ws<'_>, after: Option<String>) -> Cmd<Option<String>> {
    ws.next_item(after.as_deref()).await.map_err(err)
}

#[tauri::command]
async fn previous_item(ws: Ws<'_>, before: String) -> Cmd<Option<String>> {
    ws.previous_item(&before).await.map_err(err)
}

#[tauri::command]
async fn item_detail(ws: Ws<'_>, item_id: String) -> Cmd<ItemView> {
    ws.item(&item_id).await.map_err(err)
}

#[tauri::command]
async fn reveal_id_number(ws: Ws<'_>, item_id: String) -> Cmd<String> {
    ws.reveal_id_number(&item_id).await.map_err(err)
}

#[tauri::command]
async fn item_hints(ws: Ws<'_>, item_id: String) -> Cmd<HintsView> {
    ws.hints(&item_id).await.map_err(err)
}

/// Whether a decision is complete (a rejection's reasons and comment), answered by the same
/// rule `decide` applies, so the window never words the rule itself.
#[tauri::command]
fn check_decision(decision: DecisionInput) -> Cmd<()> {
    gradphoto_desk_core::workstation::check_decision(decision)
        .map(|_| ())
        .map_err(err)
}

#[tauri::command]
async fn decide(ws: Ws<'_>, req: DecideRequest) -> Cmd<DecideResult> {
    ws.decide(req).await.map_err(err)
}

#[tauri::command]
async fn grid(ws: Ws<'_>) -> Cmd<GridView> {
    ws.grid().await.map_err(err)
}

#[tauri::command]
async fn grid_fill(ws: Ws<'_>) -> Cmd<GridView> {
    ws.grid_fill().await.map_err(err)
}

#[tauri::command]
async fn grid_approve(ws: Ws<'_>, req: GridApproveRequest) -> Cmd<GridApproveResult> {
    ws.grid_approve(req).await.map_err(err)
}

#[tauri::command]
fn sync_status(ws: Ws<'_>) -> SyncStatusView {
    ws.status()
}

#[tauri::command]
async fn sync_now(ws: Ws<'_>) -> Cmd<SyncStatusView> {
    ws.sync_pass().await.map_err(err)
}

#[tauri::command]
async fn conflicts(ws: Ws<'_>) -> Cmd<Vec<ConflictView>> {
    ws.conflicts().await.map_err(err)
}

#[tauri::command]
async fn dismiss_conflict(ws: Ws<'_>, id: i64) -> Cmd<()> {
    ws.acknowledge_conflict(id).await.map_err(err)
}

#[tauri::command]
fn audit_actions() -> Vec<AuditActionView> {
    gradphoto_desk_core::audit::actions()
}

#[tauri::command]
async fn audit_page(ws: Ws<'_>, filter: AuditFilterView) -> Cmd<AuditPageView> {
    ws.audit_page(&filter).await.map_err(err)
}

#[tauri::command]
async fn audit_reveal(ws: Ws<'_>, student_id: String, reason: String) -> Cmd<String> {
    ws.audit_reveal(&student_id, &reason).await.map_err(err)
}

#[tauri::command]
async fn audit_timeline(ws: Ws<'_>, case_id: String) -> Cmd<TimelineView> {
    ws.timeline(&case_id).await.map_err(err)
}

#[tauri::command]
async fn audit_photo(ws: Ws<'_>, path: String) -> Cmd<String> {
    ws.timeline_photo(&path).await.map_err(err)
}

#[tauri::command]
async fn admin_schools(ws: Ws<'_>) -> Cmd<Vec<AdminSchoolView>> {
    ws.admin_schools().await.map_err(err)
}

#[tauri::command]
async fn admin_policy(ws: Ws<'_>, school_id: String) -> Cmd<PolicyView> {
    ws.school_policy(&school_id).await.map_err(err)
}

#[tauri::command]
async fn admin_save_policy(ws: Ws<'_>, request: SavePolicyRequest) -> Cmd<PolicyView> {
    ws.save_school_policy(&request).await.map_err(err)
}

#[tauri::command]
async fn admin_progress(ws: Ws<'_>, school_id: String, by: String) -> Cmd<ProgressView> {
    ws.progress(&school_id, &by).await.map_err(err)
}

#[tauri::command]
async fn admin_progress_students(
    ws: Ws<'_>,
    school_id: String,
    filter: ProgressFilterView,
    after: Option<String>,
) -> Cmd<ProgressStudentsView> {
    ws.progress_students(&school_id, &filter, after)
        .await
        .map_err(err)
}

#[tauri::command]
async fn admin_progress_export(
    app: tauri::AppHandle,
    ws: Ws<'_>,
    school_id: String,
    filter: ProgressFilterView,
) -> Cmd<SavedFileView> {
    let dir = export_dir(&app, &ws);
    ws.progress_export(&school_id, &filter, &dir)
        .await
        .map_err(err)
}

#[tauri::command]
async fn admin_issue_codes(
    ws: Ws<'_>,
    school_id: String,
    student_no: String,
    reissue: bool,
) -> Cmd<CodesIssuedView> {
    ws.issue_codes(&school_id, &student_no, reissue)
        .await
        .map_err(err)
}

#[tauri::command]
async fn admin_unbind_code(ws: Ws<'_>, case_id: String) -> Cmd<bool> {
    ws.unbind_code(&case_id).await.map_err(err)
}

#[tauri::command]
async fn admin_save_codes(
    app: tauri::AppHandle,
    ws: Ws<'_>,
    school_id: String,
    filter: ProgressFilterView,
    format: String,
) -> Cmd<SavedFileView> {
    let dir = export_dir(&app, &ws);
    ws.save_codes(&school_id, &filter, &format, &dir)
        .await
        .map_err(err)
}

#[tauri::command]
async fn admin_staff(ws: Ws<'_>) -> Cmd<Vec<StaffAccountView>> {
    ws.staff_accounts().await.map_err(err)
}

#[tauri::command]
async fn admin_staff_disable(ws: Ws<'_>, user_id: String, disabled: bool) -> Cmd<StaffAccountView> {
    ws.set_staff_disabled(&user_id, disabled).await.map_err(err)
}

#[tauri::command]
async fn admin_staff_role(ws: Ws<'_>, user_id: String, role: String) -> Cmd<StaffAccountView> {
    ws.set_staff_role(&user_id, &role).await.map_err(err)
}

#[tauri::command]
async fn admin_staff_password(ws: Ws<'_>, user_id: String) -> Cmd<PasswordResetView> {
    ws.reset_staff_password(&user_id).await.map_err(err)
}

#[tauri::command]
async fn supervisor_stats(ws: Ws<'_>, filter: StatsFilterView) -> Cmd<StatsView> {
    ws.stats(&filter).await.map_err(err)
}

#[tauri::command]
async fn rereview_page(ws: Ws<'_>, filter: RereviewFilterView) -> Cmd<RereviewPageView> {
    ws.rereviews(&filter).await.map_err(err)
}

#[tauri::command]
async fn rereview_decide(ws: Ws<'_>, id: String, decision: DecisionInput) -> Cmd<RereviewView> {
    ws.rereview_decide(&id, decision).await.map_err(err)
}

#[tauri::command]
async fn rereview_agreement(ws: Ws<'_>) -> Cmd<Vec<AgreementView>> {
    ws.rereview_agreement().await.map_err(err)
}

#[tauri::command]
async fn override_case(
    ws: Ws<'_>,
    case_id: String,
    decision_id: String,
    decision: DecisionInput,
    reason: String,
) -> Cmd<OverrideResultView> {
    ws.override_case(&case_id, &decision_id, decision, &reason)
        .await
        .map_err(err)
}

#[tauri::command]
async fn override_requests(ws: Ws<'_>, answered: bool) -> Cmd<Vec<OverrideRequestRowView>> {
    ws.override_requests(answered).await.map_err(err)
}

#[tauri::command]
async fn override_confirm(ws: Ws<'_>, request_id: String) -> Cmd<OverrideRequestRowView> {
    ws.override_confirm(&request_id).await.map_err(err)
}

#[tauri::command]
async fn override_decline(
    ws: Ws<'_>,
    request_id: String,
    comment: String,
) -> Cmd<OverrideRequestRowView> {
    ws.override_decline(&request_id, &comment)
        .await
        .map_err(err)
}

#[tauri::command]
async fn audit_verify(ws: Ws<'_>) -> Cmd<ChainView> {
    ws.audit_verify().await.map_err(err)
}

/// Event carrying an `ExportProgressView` while an export runs.
pub const EXPORT_EVENT: &str = "audit-export-progress";

/// Exports into `GRADPHOTO_DESK_EXPORT_DIR`, else the user's Downloads folder, else the app's
/// data folder; the window shows where the file went.
#[tauri::command]
async fn audit_export(
    app: tauri::AppHandle,
    ws: Ws<'_>,
    filter: AuditFilterView,
) -> Cmd<ExportDoneView> {
    let dir = export_dir(&app, &ws);
    let events = app.clone();
    ws.audit_export(&filter, &dir, move |p| {
        let _ = events.emit(EXPORT_EVENT, p);
    })
    .await
    .map_err(err)
}

/// Where saved files go: the user's downloads folder (a test names its own).
fn export_dir(app: &tauri::AppHandle, ws: &Workstation) -> PathBuf {
    std::env::var_os("GRADPHOTO_DESK_EXPORT_DIR")
        .map(PathBuf::from)
        .or_else(|| app.path().download_dir().ok())
        .unwrap_or_else(|| ws.data_dir().join("exports"))
}

/// `%2F` and friends back to bytes; image paths are `<case id>/<kind>`.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn image_response(status: StatusCode, content_type: &str, body: Vec<u8>) -> Response<Vec<u8>> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        // Same item, same bytes: the webview may keep them for the session.
        .header(header::CACHE_CONTROL, "private, max-age=3600")
        .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
        .body(body)
        .unwrap_or_else(|_| Response::new(Vec::new()))
}

async fn serve_image(ws: Arc<Workstation>, path: String) -> Response<Vec<u8>> {
    let path = percent_decode(path.trim_start_matches('/'));
    let Some((item, kind)) = path.rsplit_once('/') else {
        return image_response(StatusCode::BAD_REQUEST, "text/plain", b"bad path".to_vec());
    };
    match ws.image(item, kind).await {
        Ok(Some((ct, bytes))) => image_response(StatusCode::OK, &ct, bytes),
        Ok(None) => image_response(StatusCode::NOT_FOUND, "text/plain", b"not cached".to_vec()),
        Err(e) => image_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain",
            e.to_string().into_bytes(),
        ),
    }
}

/// Where the cache and the account file live: `GRADPHOTO_DESK_DATA`, else the OS app-data dir.
fn data_dir(app: &tauri::App) -> PathBuf {
    if let Some(dir) = std::env::var_os("GRADPHOTO_DESK_DATA") {
        return PathBuf::from(dir);
    }
    app.path()
        .app_data_dir()
        .unwrap_or_else(|_| std::env::temp_dir().join("gradphoto-desk"))
}

fn sync_interval() -> Duration {
    let secs = std::env::var("GRADPHOTO_DESK_SYNC_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(5);
    Duration::from_secs(secs)
}

pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .try_init()
        .ok();
    let result = tauri::Builder::default()
        .register_asynchronous_uri_scheme_protocol("gpimg", |ctx, request, responder| {
            let ws = ctx.app_handle().state::<Arc<Workstation>>().inner().clone();
            let path = request.uri().path().to_string();
            tauri::async_runtime::spawn(async move {
                responder.respond(serve_image(ws, path).await);
            });
        })
        .setup(|app| {
            let ws = Arc::new(
                Workstation::new(&data_dir(app))
                    .with_default_server(std::env::var("GRADPHOTO_DESK_SERVER_URL").ok()),
            );
            let handle = app.handle().clone();
            ws.on_status(move |st| {
                let _ = handle.emit(SYNC_EVENT, st);
            });
            tauri::async_runtime::spawn(ws.clone().run_background(sync_interval()));
            app.manage(ws);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            startup,
            sign_in,
            sign_out,
            reasons,
            queue_list,
            claim_next,
            next_item,
            previous_item,
            item_detail,
            item_hints,
            reveal_id_number,
            check_decision,
            decide,
            grid,
            grid_fill,
            grid_approve,
            sync_status,
            sync_now,
            conflicts,
            dismiss_conflict,
            audit_actions,
            audit_page,
            audit_reveal,
            audit_verify,
            audit_export,
            supervisor_stats,
            audit_timeline,
            audit_photo,
            rereview_page,
            rereview_decide,
            rereview_agreement,
            override_case,
            override_requests,
            override_confirm,
            override_decline,
            admin_schools,
            admin_policy,
            admin_save_policy,
            admin_staff,
            admin_staff_disable,
            admin_staff_role,
            admin_staff_password,
            admin_progress,
            admin_progress_students,
            admin_progress_export,
            admin_issue_codes,
            admin_unbind_code,
            admin_save_codes,
        ])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("gradphoto-desk: {e}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn image_paths_are_decoded() {
        assert_eq!(percent_decode("case%2Fid_front"), "case/id_front");
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("plain/original"), "plain/original");
    }
}
