//! Who is signed in. The session token lives in the OS credential store (Secret Service on
//! Linux, Keychain on macOS, Credential Manager on Windows) or, when the reviewer chooses a
//! session-only sign-in, in memory only. The account file beside the cache holds no secret.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{DeskError, DeskResult};
use crate::view::{KeyringStatus, SessionView};

/// Service name under which tokens are filed in the OS credential store.
pub const KEYRING_SERVICE: &str = "org.gradphoto.desk";

/// The signed-in account, without its token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub server_url: String,
    pub user_name: String,
    /// The server's id of the user: lease holders are named by it.
    pub user_id: String,
    pub role: String,
    pub session_only: bool,
}

impl Account {
    /// Whether the account reviews (reviewers and supervisors) and so holds items and syncs
    /// decisions; administrators only manage. An unknown role reviews nothing.
    pub fn reviews(&self) -> bool {
        serde_json::from_value::<gradphoto_domain::role::Role>(serde_json::Value::String(
            self.role.clone(),
        ))
        .is_ok_and(|r| r.can_review())
    }

    /// Key of the token in the credential store and name of the account's cache file.
    pub fn key(&self) -> String {
        account_key(&self.server_url, &self.user_name)
    }

    pub fn cache_file(&self, data_dir: &Path) -> PathBuf {
        let digest = Sha256::digest(self.key().as_bytes());
        data_dir
            .join("cache")
            .join(format!("{}.sqlite", hex::encode(&digest[..8])))
    }

    pub fn view(&self) -> SessionView {
        SessionView {
            server_url: self.server_url.clone(),
            user_name: self.user_name.clone(),
            role: self.role.clone(),
            session_only: self.session_only,
        }
    }
}

pub fn account_key(server_url: &str, user_name: &str) -> String {
    format!("{user_name}@{server_url}")
}

/// What the account file remembers between runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountFile {
    /// Set while signed in with the token in the credential store.
    pub current: Option<Account>,
    pub last_server_url: Option<String>,
    pub last_user_name: Option<String>,
}

impl AccountFile {
    fn path(data_dir: &Path) -> PathBuf {
        data_dir.join("account.json")
    }

    pub fn load(data_dir: &Path) -> AccountFile {
        std::fs::read(AccountFile::path(data_dir))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Written through a temporary file so a crash never leaves half a file.
    pub fn save(&self, data_dir: &Path) -> DeskResult<()> {
        std::fs::create_dir_all(data_dir)?;
        let path = AccountFile::path(data_dir);
        let tmp = path.with_extension("json.tmp");
        let bytes = serde_json::to_vec_pretty(self).map_err(DeskError::data)?;
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, &path)?;
        Ok(())
    }
}

/// The OS credential store.
#[derive(Debug, Clone)]
pub struct Keyring {
    service: String,
}

impl Default for Keyring {
    fn default() -> Self {
        Keyring::new(KEYRING_SERVICE)
    }
}

fn platform(e: keyring::Error) -> DeskError {
    match e {
        keyring::Error::PlatformFailure(_) | keyring::Error::NoStorageAccess(_) => {
            DeskError::KeyringUnavailable(e.to_string())
        }
        other => DeskError::Keyring(other.to_string()),
    }
}

impl Keyring {
    pub fn new(service: &str) -> Keyring {
        Keyring {
            service: service.to_string(),
        }
    }

    fn entry(&self, key: &str) -> DeskResult<keyring::Entry> {
        keyring::Entry::new(&self.service, key).map_err(platform)
    }

    /// Looks up a credential that does not exist: only a working store answers "no entry".
    pub fn status(&self) -> KeyringStatus {
        let probe = self
            .entry("availability-probe")
            .and_then(|e| match e.get_password() {
                Ok(_) | Err(keyring::Error::NoEntry) => Ok(()),
                Err(e) => Err(platform(e)),
            });
        match probe {
            Ok(()) => KeyringStatus {
                available: true,
                detail: None,
            },
            Err(e) => KeyringStatus {
                available: false,
                detail: Some(e.to_string()),
            },
        }
    }

    pub fn store(&self, key: &str, token: &str) -> DeskResult<()> {
        self.entry(key)?.set_password(token).map_err(platform)
    }

    pub fn load(&self, key: &str) -> DeskResult<Option<String>> {
        match self.entry(key)?.get_password() {
            Ok(t) => Ok(Some(t)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(platform(e)),
        }
    }

    pub fn delete(&self, key: &str) -> DeskResult<()> {
        match self.entry(key)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(platform(e)),
        }
    }
}

/// Accepts "host:port" or a full URL; returns the URL without a trailing slash.
pub fn normalize_server_url(input: &str) -> DeskResult<String> {
    let t = input.trim();
    let (scheme, rest) = if let Some(r) = t.strip_prefix("https://") {
        ("https://", r)
    } else if let Some(r) = t.strip_prefix("http://") {
        ("http://", r)
    } else {
        ("http://", t)
    };
    let rest = rest.trim_end_matches('/');
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() || host.starts_with(':') || rest.contains(char::is_whitespace) {
        return Err(DeskError::BadServerUrl(input.to_string()));
    }
    Ok(format!("{scheme}{rest}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_are_normalized() {
        assert_eq!(
            normalize_server_url(" 127.0.0.1:8080/ ").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            normalize_server_url("https://photo.example.edu.cn").unwrap(),
            "https://photo.example.edu.cn"
        );
        assert!(normalize_server_url("").is_err());
        assert!(normalize_server_url("http://").is_err());
        assert!(normalize_server_url("a b").is_err());
    }

    #[test]
    fn account_file_round_trips_without_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let file = AccountFile {
            current: Some(Account {
                server_url: "http://127.0.0.1:1".into(),
                user_name: "reviewer".into(),
                user_id: "u1".into(),
                role: "reviewer".into(),
                session_only: false,
            }),
            last_server_url: Some("http://127.0.0.1:1".into()),
            last_user_name: Some("reviewer".into()),
        };
        file.save(dir.path()).unwrap();
        assert_eq!(AccountFile::load(dir.path()), file);
        let text = std::fs::read_to_string(dir.path().join("account.json")).unwrap();
        assert!(!text.contains("token"));
    }

    /// Run by `scripts/desk.sh test` inside a D-Bus session with an unlocked gnome-keyring
    /// (GRADPHOTO_TEST_KEYRING=1); without a session bus the store must report itself missing.
    #[test]
    fn keyring_stores_loads_and_deletes_or_reports_missing() {
        let ring = Keyring::new("org.gradphoto.desk.test");
        let key = format!("tester-{}@http://127.0.0.1:9", std::process::id());
        let status = ring.status();
        if std::env::var("GRADPHOTO_TEST_KEYRING").as_deref() == Ok("1") {
            assert!(status.available, "{status:?}");
        }
        if status.available {
            ring.store(&key, "secret-token").unwrap();
            assert_eq!(ring.load(&key).unwrap().as_deref(), Some("secret-token"));
            ring.delete(&key).unwrap();
            assert_eq!(ring.load(&key).unwrap(), None);
        } else {
            assert!(status.detail.is_some());
            assert!(matches!(
                ring.store(&key, "x"),
                Err(DeskError::KeyringUnavailable(_))
            ));
        }
    }
}
