//! A real gradphoto server in the test process (SQLite in a temporary directory, demo data),
//! which can be stopped and started again on the same address and data.

#![allow(dead_code, clippy::unwrap_used)]

use std::io::Cursor;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use gradphoto_domain::measures::{AssessStatus, CheckReport, MeasureId, MeasureResult, Verdict};
use gradphoto_domain::role::Role;
use gradphoto_server::analyzer::{
    AnalyzeError, AnalyzeInput, AnalyzeOutput, CardSide, FaceMatchResult, PhotoAnalyzer,
};
use gradphoto_server::config::{Config, PaymentConfig};
use gradphoto_server::demo::DemoReport;
use gradphoto_server::{serve, ServerHandle};
use image::imageops::FilterType;
use tempfile::TempDir;

/// The server side of these tests only needs standardized photos to exist; it decodes the
/// upload and scales it to the spec size (the desk computes its own hints with the models).
pub struct ScalingAnalyzer;

impl PhotoAnalyzer for ScalingAnalyzer {
    /// The workstation's tests are about review and sync: a card is held to being a picture.
    fn check_id_card(&self, _side: CardSide, picture: &[u8]) -> Result<(), AnalyzeError> {
        image::load_from_memory(picture)
            .map(|_| ())
            .map_err(|e| AnalyzeError {
                code: "unreadable_image",
                message_zh: "无法读取这张图片。".into(),
                message_en: format!("The image could not be read ({e})."),
            })
    }

    fn analyze(&self, input: AnalyzeInput) -> Result<AnalyzeOutput, AnalyzeError> {
        let img = image::load_from_memory(&input.photo).map_err(|e| AnalyzeError {
            code: "unreadable_image",
            message_zh: "无法读取这张图片。".into(),
            message_en: format!("The image could not be read ({e})."),
        })?;
        let out = img
            .resize_to_fill(input.spec.width, input.spec.height, FilterType::Triangle)
            .to_rgb8();
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(Cursor::new(&mut jpeg), 85)
            .encode_image(&out)
            .map_err(|e| AnalyzeError {
                code: "encode_failed",
                message_zh: "无法生成标准照片。".into(),
                message_en: format!("The standardized photo could not be encoded ({e})."),
            })?;
        Ok(AnalyzeOutput {
            report: CheckReport {
                measures: vec![MeasureResult {
                    id: MeasureId::CropFeasible,
                    raw: Some(0.0),
                    score: Some(100),
                    verdict: Verdict::Pass,
                    status: AssessStatus::Ok,
                    message_zh: String::new(),
                    message_en: String::new(),
                }],
                models: Vec::new(),
                config_version: "test".into(),
            },
            standardized: Some(jpeg),
            // Compares nothing: the faces count as the same person, so the demo's submissions
            // reach review unflagged, as they do with the real analyzer.
            face_match: Some(FaceMatchResult {
                distance: 0.3,
                same_person: true,
            }),
            ocr: None,
        })
    }
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub struct Server {
    pub url: String,
    pub addr: SocketAddr,
    pub demo: Option<DemoReport>,
    handle: Option<ServerHandle>,
    dir: Arc<TempDir>,
    lease_seconds: u64,
}

impl Server {
    /// Starts a fresh server with demo data. `lease_seconds` sets the review lease length.
    pub async fn start(lease_seconds: u64) -> Server {
        // The demo reads its photos from `tests/data/photos` relative to the working directory.
        std::env::set_current_dir(repo_root()).unwrap();
        let dir = Arc::new(tempfile::tempdir().unwrap());
        let mut s = Server::launch(dir, "127.0.0.1:0".parse().unwrap(), lease_seconds).await;
        let report = gradphoto_server::demo::seed(s.state()).await.unwrap();
        s.demo = Some(report);
        s
    }

    async fn launch(dir: Arc<TempDir>, addr: SocketAddr, lease_seconds: u64) -> Server {
        let config = Config {
            listen: addr.to_string(),
            data_dir: dir.path().to_path_buf(),
            workers: 1,
            review_lease_seconds: lease_seconds,
            payment: PaymentConfig::sandbox(),
            ..Config::default()
        };
        let (addr, handle) = serve(config, Arc::new(ScalingAnalyzer)).await.unwrap();
        Server {
            url: format!("http://{addr}"),
            addr,
            demo: None,
            handle: Some(handle),
            dir,
            lease_seconds,
        }
    }

    pub fn state(&self) -> &gradphoto_server::AppState {
        &self.handle.as_ref().unwrap().state
    }

    /// Stops serving; the data stays for [`Server::restart`].
    pub async fn stop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.shutdown().await;
        }
    }

    /// Serves the same data on the same address again.
    pub async fn restart(&mut self) {
        let again = Server::launch(self.dir.clone(), self.addr, self.lease_seconds).await;
        self.handle = again.handle;
    }

    pub fn password(&self, user: &str) -> String {
        self.demo
            .as_ref()
            .unwrap()
            .accounts
            .iter()
            .find(|(u, _, _)| u == user)
            .map(|(_, _, p)| p.clone())
            .unwrap()
    }

    /// Adds a staff account directly in the store (the admin API is another story's subject).
    pub async fn add_staff(&self, username: &str, role: Role, password: &str) {
        use gradphoto_server::store::{users, Actor};
        let hash = gradphoto_server::crypto::hash_password(password).unwrap();
        let mut tx = self.state().store.begin().await.unwrap();
        users::add(
            &mut tx,
            &Actor::new(Role::Admin, "test"),
            username,
            username,
            role,
            &hash,
            None,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }

    /// Student session tokens of the demo cases waiting for review.
    pub fn pending_tokens(&self) -> Vec<(String, String)> {
        self.demo
            .as_ref()
            .unwrap()
            .cases
            .iter()
            .filter(|(_, s, _)| *s == gradphoto_domain::state::CaseState::PendingReview)
            .filter_map(|(n, _, t)| t.clone().map(|t| (n.clone(), t)))
            .collect()
    }
}
