//! The one error type of the workstation. Every variant has a stable code and a message in
//! each product language; the window receives it as an [`ErrorView`].

use gradphoto_api::error::{ErrorBody, ErrorCode};
use gradphoto_client::ClientError;
use gradphoto_domain::Localized;

use crate::view::ErrorView;

#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error("no keyring service: {0}")]
    KeyringUnavailable(String),
    #[error("keyring: {0}")]
    Keyring(String),
    #[error("not signed in")]
    NotSignedIn,
    #[error("invalid server address {0:?}")]
    BadServerUrl(String),
    #[error("server unreachable: {0}")]
    Unreachable(String),
    #[error("server refused ({status}): {}", body.code.as_str())]
    Server { status: u16, body: ErrorBody },
    #[error("unexpected server response {status}: {snippet}")]
    Protocol { status: u16, snippet: String },
    #[error("local cache: {0}")]
    Cache(#[from] sqlx::Error),
    #[error("local cache migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("local cache data: {0}")]
    CacheData(String),
    #[error("file: {0}")]
    Io(#[from] std::io::Error),
    #[error("item {0} is not in the local cache")]
    ItemNotFound(String),
    #[error("item {0} is not held by this workstation")]
    NotClaimed(String),
    #[error("invalid decision: {en}")]
    InvalidDecision { zh: String, en: String },
    /// Something typed into a form that cannot be used as it is (a date, a filter).
    #[error("invalid input: {en}")]
    InvalidInput { zh: String, en: String },
    #[error("hints: {code}: {en}")]
    Hints {
        code: String,
        zh: String,
        en: String,
    },
}

pub type DeskResult<T> = Result<T, DeskError>;

impl DeskError {
    /// Whether the failure means "the server could not be reached" (as opposed to a refusal).
    pub fn is_offline(&self) -> bool {
        match self {
            DeskError::Unreachable(_) => true,
            DeskError::Server { status, .. } | DeskError::Protocol { status, .. } => {
                matches!(status, 502..=504)
            }
            _ => false,
        }
    }

    pub fn server_code(&self) -> Option<ErrorCode> {
        match self {
            DeskError::Server { body, .. } => Some(body.code),
            _ => None,
        }
    }

    /// The server's code travels to the window unchanged so the reviewer sees the precise
    /// reason; a hints failure keeps the vision code.
    pub fn view(&self) -> ErrorView {
        let code = match self {
            DeskError::Server { body, .. } => body.code.as_str().to_string(),
            DeskError::Hints { code, .. } => code.clone(),
            other => other.code().to_string(),
        };
        ErrorView {
            code,
            message_zh: self.message_zh(),
            message_en: self.message_en(),
        }
    }

    pub(crate) fn invalid(zh: impl Into<String>, en: impl Into<String>) -> DeskError {
        DeskError::InvalidDecision {
            zh: zh.into(),
            en: en.into(),
        }
    }

    pub(crate) fn data(what: impl std::fmt::Display) -> DeskError {
        DeskError::CacheData(what.to_string())
    }
}

impl From<ClientError> for DeskError {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Api { status, body } => DeskError::Server { status, body },
            ClientError::Unexpected { status, snippet } => DeskError::Protocol { status, snippet },
            ClientError::Transport(t) => match t.status() {
                Some(s) => DeskError::Protocol {
                    status: s.as_u16(),
                    snippet: t.to_string(),
                },
                None if t.is_decode() => DeskError::Protocol {
                    status: 200,
                    snippet: t.to_string(),
                },
                None => DeskError::Unreachable(t.to_string()),
            },
            ClientError::BadBaseUrl(u) => DeskError::BadServerUrl(u),
        }
    }
}

impl Localized for DeskError {
    fn code(&self) -> &'static str {
        match self {
            DeskError::KeyringUnavailable(_) => "keyring_unavailable",
            DeskError::Keyring(_) => "keyring_error",
            DeskError::NotSignedIn => "not_signed_in",
            DeskError::BadServerUrl(_) => "invalid_server_url",
            DeskError::Unreachable(_) => "server_unreachable",
            // The server's own code is forwarded through `view()`; this is the fallback.
            DeskError::Server { .. } => "server_error",
            DeskError::Protocol { .. } => "server_protocol_error",
            DeskError::Cache(_) | DeskError::Migrate(_) | DeskError::CacheData(_) => "cache_error",
            DeskError::Io(_) => "file_error",
            DeskError::ItemNotFound(_) => "item_not_cached",
            DeskError::NotClaimed(_) => "item_not_claimed",
            DeskError::InvalidDecision { .. } => "invalid_decision",
            DeskError::InvalidInput { .. } => "invalid_input",
            DeskError::Hints { .. } => "hints_failed",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            DeskError::KeyringUnavailable(_) => {
                "系统钥匙串不可用，无法安全保存登录凭据。可选择“仅本次运行登录”。".into()
            }
            DeskError::Keyring(e) => format!("访问系统钥匙串失败：{e}"),
            DeskError::NotSignedIn => "尚未登录或登录已过期，请重新登录。".into(),
            DeskError::BadServerUrl(u) => {
                format!("服务器地址无效：{u}（示例：https://photo.example.edu.cn）")
            }
            DeskError::Unreachable(_) => {
                "无法连接服务器，已转为离线工作；恢复连接后自动同步。".into()
            }
            DeskError::Server { body, .. } => body.message_zh.clone(),
            DeskError::Protocol { status, .. } => {
                format!("服务器返回了无法识别的响应（HTTP {status}）。")
            }
            DeskError::Cache(_) | DeskError::Migrate(_) | DeskError::CacheData(_) => {
                "本地缓存读写失败，请重启应用；如仍失败请联系管理员。".into()
            }
            DeskError::Io(e) => format!("文件读写失败：{e}"),
            DeskError::ItemNotFound(_) => "本机没有该照片的缓存，请在联网时重新领取。".into(),
            DeskError::NotClaimed(_) => "该照片不在您的已领取列表中，无法审核。".into(),
            DeskError::InvalidDecision { zh, .. } => zh.clone(),
            DeskError::InvalidInput { zh, .. } => zh.clone(),
            DeskError::Hints { zh, .. } => format!("本地辅助判断失败：{zh}"),
        }
    }

    fn message_en(&self) -> String {
        match self {
            DeskError::KeyringUnavailable(_) => {
                "No OS keyring is available to keep the session token safely. Choose \"session only\" to sign in for this run.".into()
            }
            DeskError::Keyring(e) => format!("The OS keyring failed: {e}"),
            DeskError::NotSignedIn => "Not signed in, or the session expired: sign in again.".into(),
            DeskError::BadServerUrl(u) => format!("Invalid server address: {u} (e.g. https://photo.example.edu.cn)"),
            DeskError::Unreachable(_) => "The server cannot be reached; working offline. Work syncs when the connection returns.".into(),
            DeskError::Server { body, .. } => body.message_en.clone(),
            DeskError::Protocol { status, .. } => format!("The server sent an unexpected response (HTTP {status})."),
            DeskError::Cache(_) | DeskError::Migrate(_) | DeskError::CacheData(_) => {
                "The local cache failed. Restart the app; if it keeps failing, contact your administrator.".into()
            }
            DeskError::Io(e) => format!("File access failed: {e}"),
            DeskError::ItemNotFound(_) => "This photo is not cached on this computer; claim it again while online.".into(),
            DeskError::NotClaimed(_) => "This photo is not among the items you hold; it cannot be decided.".into(),
            DeskError::InvalidDecision { en, .. } => en.clone(),
            DeskError::InvalidInput { en, .. } => en.clone(),
            DeskError::Hints { en, .. } => format!("Local hints failed: {en}"),
        }
    }
}
