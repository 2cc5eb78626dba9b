//! Server configuration, layered: built-in defaults, then a TOML file, then `GRADPHOTO_*`
//! environment variables. Secret fields never print their value.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// A configuration value that must not reach logs.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"<redacted>\"")
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to bind, e.g. `127.0.0.1:8080`; port 0 picks a free port.
    pub listen: String,
    /// Directory for the SQLite file, the key file and the local object store.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; defaults to `<data_dir>/gradphoto.db`.
    pub database_url: Option<Secret>,
    /// Base URL students open (invitation links, sandbox pay pages).
    pub public_url: Option<String>,
    /// Base64 of 32 random bytes; defaults to a key file created beside the database.
    pub encryption_key: Option<Secret>,
    pub max_upload_bytes: u64,
    pub session_hours: u64,
    /// In-process job workers started by `serve` (0 = rely on `gradphoto worker`).
    pub workers: usize,
    pub identity_max_failures: u32,
    pub identity_window_minutes: u64,
    /// How long a reviewer's claim on a case lasts before it returns to the queue.
    pub review_lease_seconds: u64,
    /// Items one reviewer may hold (claimed, undecided) at once: by default a full grid of
    /// the workstation's grid review.
    pub review_max_held: u32,
    /// Failed staff sign-ins per account, and per client address, within the window.
    pub login_max_failures: u32,
    pub login_address_max_failures: u32,
    pub login_window_minutes: u64,
    pub payment: PaymentConfig,
    pub s3: Option<S3Config>,
    pub tls: Option<TlsConfig>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct PaymentConfig {
    /// Who collects fees: `sandbox` (test payments with signed callbacks, never real money) or
    /// `waived` (nobody: only schools without a fee). Unset is `waived`, and a server with a
    /// school that charges a fee then refuses to start, so nobody is let past a fee by accident.
    pub provider: Option<String>,
    /// Secret used to sign sandbox callbacks; derived from the encryption key when unset.
    pub sandbox_secret: Option<Secret>,
}

impl PaymentConfig {
    /// The sandbox, chosen explicitly (the demo and tests).
    pub fn sandbox() -> PaymentConfig {
        PaymentConfig {
            provider: Some("sandbox".into()),
            sandbox_secret: None,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct S3Config {
    pub bucket: String,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<Secret>,
    pub allow_http: bool,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            public_url: None,
            encryption_key: None,
            max_upload_bytes: 20 * 1024 * 1024,
            session_hours: 24 * 30,
            workers: 2,
            identity_max_failures: 5,
            identity_window_minutes: 15,
            review_lease_seconds: 15 * 60,
            review_max_held: gradphoto_api::review::GRID_MAX,
            login_max_failures: 10,
            login_address_max_failures: 50,
            login_window_minutes: 15,
            payment: PaymentConfig::default(),
            s3: None,
            tls: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {source}")]
    Parse {
        path: String,
        source: Box<toml::de::Error>,
    },
    #[error("invalid value for {var}: {reason}")]
    Env { var: String, reason: String },
}

impl Config {
    /// Defaults → optional TOML file → process environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        Config::load_from(file, |name| std::env::var(name).ok())
    }

    pub fn load_from(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                toml::from_str(&text).map_err(|source| ConfigError::Parse {
                    path: path.display().to_string(),
                    source: Box::new(source),
                })?
            }
            None => Config::default(),
        };
        config.apply_env(env)?;
        Ok(config)
    }

    fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let var = |name: &str| env(&format!("GRADPHOTO_{name}")).filter(|v| !v.is_empty());
        if let Some(v) = var("LISTEN") {
            self.listen = v;
        }
        if let Some(v) = var("DATA_DIR") {
            self.data_dir = PathBuf::from(v);
        }
        if let Some(v) = var("DATABASE_URL") {
            self.database_url = Some(Secret(v));
        }
        if let Some(v) = var("PUBLIC_URL") {
            self.public_url = Some(v);
        }
        if let Some(v) = var("ENCRYPTION_KEY") {
            self.encryption_key = Some(Secret(v));
        }
        if let Some(v) = var("MAX_UPLOAD_BYTES") {
            self.max_upload_bytes = parse_num("GRADPHOTO_MAX_UPLOAD_BYTES", &v)?;
        }
        if let Some(v) = var("SESSION_HOURS") {
            self.session_hours = parse_num("GRADPHOTO_SESSION_HOURS", &v)?;
        }
        if let Some(v) = var("WORKERS") {
            self.workers = parse_num("GRADPHOTO_WORKERS", &v)?;
        }
        if let Some(v) = var("PAYMENT_PROVIDER") {
            self.payment.provider = Some(v);
        }
        if let Some(v) = var("SANDBOX_SECRET") {
            self.payment.sandbox_secret = Some(Secret(v));
        }
        if let Some(bucket) = var("S3_BUCKET") {
            let s3 = self.s3.get_or_insert_with(S3Config::default);
            s3.bucket = bucket;
        }
        if let Some(s3) = self.s3.as_mut() {
            if let Some(v) = var("S3_REGION") {
                s3.region = Some(v);
            }
            if let Some(v) = var("S3_ENDPOINT") {
                s3.endpoint = Some(v);
            }
            if let Some(v) = var("S3_ACCESS_KEY_ID") {
                s3.access_key_id = Some(v);
            }
            if let Some(v) = var("S3_SECRET_ACCESS_KEY") {
                s3.secret_access_key = Some(Secret(v));
            }
            if let Some(v) = var("S3_ALLOW_HTTP") {
                s3.allow_http = matches!(v.as_str(), "1" | "true" | "yes");
            }
        }
        match (var("TLS_CERT"), var("TLS_KEY")) {
            (Some(cert), Some(key)) => {
                self.tls = Some(TlsConfig {
                    cert: cert.into(),
                    key: key.into(),
                })
            }
            (None, None) => {}
            _ => {
                return Err(ConfigError::Env {
                    var: "GRADPHOTO_TLS_CERT/GRADPHOTO_TLS_KEY".into(),
                    reason: "both must be set".into(),
                })
            }
        }
        Ok(())
    }

    /// The database URL in use: the configured one or the embedded SQLite file.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose().to_string(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("gradphoto.db").display()
            ),
        }
    }

    pub fn key_file(&self) -> PathBuf {
        self.data_dir.join("secret.key")
    }

    pub fn objects_dir(&self) -> PathBuf {
        self.data_dir.join("objects")
    }
}

fn parse_num<T: std::str::FromStr>(var: &str, value: &str) -> Result<T, ConfigError> {
    value.trim().parse().map_err(|_| ConfigError::Env {
        var: var.into(),
        reason: format!("not a number: {value:?}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_apply_in_order_and_secrets_are_redacted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "listen = \"0.0.0.0:9000\"\nencryption_key = \"s3cr3t\"\n[payment]\nprovider = \"waived\"\n",
        )
        .unwrap();
        let config = Config::load_from(Some(&path), |name| match name {
            "GRADPHOTO_LISTEN" => Some("127.0.0.1:7000".into()),
            "GRADPHOTO_S3_BUCKET" => Some("photos".into()),
            "GRADPHOTO_S3_SECRET_ACCESS_KEY" => Some("aws-secret".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(config.listen, "127.0.0.1:7000");
        assert_eq!(config.payment.provider.as_deref(), Some("waived"));
        assert_eq!(config.s3.as_ref().unwrap().bucket, "photos");
        assert_eq!(config.max_upload_bytes, 20 * 1024 * 1024);
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cr3t"));
        assert!(!shown.contains("aws-secret"));
        assert!(shown.contains("<redacted>"));
    }

    #[test]
    fn unknown_keys_and_bad_numbers_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "lisen = \"x\"\n").unwrap();
        assert!(matches!(
            Config::load_from(Some(&path), |_| None),
            Err(ConfigError::Parse { .. })
        ));
        let err = Config::load_from(None, |name| {
            (name == "GRADPHOTO_WORKERS").then(|| "many".to_string())
        })
        .unwrap_err();
        assert!(matches!(err, ConfigError::Env { .. }));
    }
}
