//! Object storage on S3: the store is built from configuration exactly as the server builds
//! it and runs against a real S3-compatible server, moto's server mode on a free loopback
//! port. scripts/test.sh installs moto and sets `GRADPHOTO_TEST_MOTO`; otherwise
//! `moto_server` must be on PATH.
#![allow(clippy::unwrap_used)]

mod support;

use gradphoto_api::error::ErrorCode;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use gradphoto_api::common::AttemptStatus;
use gradphoto_server::config::{Config, S3Config, Secret};
use gradphoto_server::crypto::Crypto;
use gradphoto_server::objects::{ObjectKind, Objects};
use gradphoto_server::store::{attempts, cases};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::ObjectStore;

use support::{fixture, flows, photos, Db, TestServer};

fn moto_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("GRADPHOTO_TEST_MOTO") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "GRADPHOTO_TEST_MOTO={} does not exist; run scripts/test.sh to install moto",
            path.display()
        );
        return path;
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("moto_server"))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| {
            panic!(
                "the S3 tests need moto's S3-compatible server: run scripts/test.sh (it installs \
                 moto and sets GRADPHOTO_TEST_MOTO), or put moto_server on PATH"
            )
        })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

/// A moto server of this test alone; killed when dropped.
struct Moto {
    child: Child,
    endpoint: String,
    http: reqwest::Client,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    async fn start() -> Moto {
        let port = free_port();
        let child = Command::new(moto_binary())
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
        };
        // Bounded, so a server that never comes up fails the test instead of hanging it.
        for _ in 0..600 {
            if let Some(status) = moto.child.try_wait().unwrap() {
                panic!("moto_server exited before answering: {status}");
            }
            let ready = moto
                .http
                .get(format!("{}/moto-api/", moto.endpoint))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return moto;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("moto_server did not answer on {}", moto.endpoint);
    }

    async fn create_bucket(&self, bucket: &str) {
        let response = self
            .http
            .put(format!("{}/{bucket}", self.endpoint))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{response:?}");
    }

    fn s3_config(&self, bucket: &str) -> S3Config {
        S3Config {
            bucket: bucket.into(),
            region: Some("us-east-1".into()),
            endpoint: Some(self.endpoint.clone()),
            access_key_id: Some("test".into()),
            secret_access_key: Some(Secret::new("test")),
            allow_http: true,
        }
    }

    /// The bucket's keys, read from S3's plain XML listing rather than through object_store.
    async fn keys(&self, bucket: &str) -> Vec<String> {
        let response = self
            .http
            .get(format!("{}/{bucket}", self.endpoint))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{response:?}");
        let xml = response.text().await.unwrap();
        xml.split("<Key>")
            .skip(1)
            .map(|rest| rest.split("</Key>").next().unwrap().to_string())
            .collect()
    }

    /// The bytes the bucket holds under `key`, fetched without the server's decryption.
    async fn raw(&self, bucket: &str, key: &str) -> Vec<u8> {
        let store = AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region("us-east-1")
            .with_endpoint(&self.endpoint)
            .with_access_key_id("test")
            .with_secret_access_key("test")
            .with_allow_http(true)
            .build()
            .unwrap();
        store
            .get(&ObjectPath::from(key))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .to_vec()
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn objects_on_s3_are_encrypted_content_addressed_and_deletable() {
    let moto = Moto::start().await;
    let bucket = "gradphoto-objects";
    moto.create_bucket(bucket).await;
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        s3: Some(moto.s3_config(bucket)),
        ..Config::default()
    };
    let crypto = Arc::new(Crypto::from_master(&[9u8; 32]));
    let objects = Objects::from_config(&config, crypto.clone()).unwrap();

    let photo = b"\xFF\xD8\xFF\xE0 a photo of someone on S3 \xFF\xD9".to_vec();
    let key = objects
        .put_sensitive(ObjectKind::Original, &photo)
        .await
        .unwrap();
    assert!(key.starts_with("originals/"), "{key}");
    assert_eq!(objects.get_sensitive(&key).await.unwrap(), photo);
    assert_eq!(moto.keys(bucket).await, vec![key.clone()]);
    // Nothing went to the local directory the store would otherwise use.
    assert!(!config.objects_dir().exists());

    // At rest the bucket holds ciphertext that only the server's key opens.
    let stored = moto.raw(bucket, &key).await;
    assert!(!contains(&stored, b"photo of someone"));
    assert_eq!(crypto.decrypt(&stored).unwrap(), photo);
    assert!(!key.contains(&hex_sha256(&photo)));

    // Same content, same name, one object.
    assert_eq!(
        objects
            .put_sensitive(ObjectKind::Original, &photo)
            .await
            .unwrap(),
        key
    );
    assert_eq!(moto.keys(bucket).await.len(), 1);

    // Other content gets another name; deleting removes it from the bucket and only it.
    let card = objects
        .put_sensitive(ObjectKind::IdCard, b"an ID card front")
        .await
        .unwrap();
    assert!(card.starts_with("id-cards/"), "{card}");
    assert_ne!(card, key);
    assert!(objects.exists(&card).await.unwrap());
    objects.delete(&card).await.unwrap();
    assert!(!objects.exists(&card).await.unwrap());
    assert_eq!(
        objects.get_sensitive(&card).await.unwrap_err().code,
        ErrorCode::NotFound
    );
    assert_eq!(moto.keys(bucket).await, vec![key.clone()]);
    // Deleting what is already gone is not an error (retention may run twice).
    objects.delete(&card).await.unwrap();
    assert_eq!(objects.get_sensitive(&key).await.unwrap(), photo);
}

fn hex_sha256(data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(data))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_through_the_api_land_encrypted_in_the_bucket() {
    let moto = Moto::start().await;
    let bucket = "gradphoto-uploads";
    moto.create_bucket(bucket).await;
    let s3 = moto.s3_config(bucket);
    let server = TestServer::start_with(Db::Sqlite, support::analyzer(), |config| {
        config.s3 = Some(s3);
    })
    .await;
    let state = server.state().clone();
    let fx = fixture::seed(&state, 1, &fixture::policy(0)).await;
    let student = &fx.students[0];

    // The identity step stores both ID card sides; the upload stores the original and the
    // analysis its standardized photo.
    let client = flows::to_ready(&server.client(), student).await;
    let portrait = photos::portrait();
    let attempt = flows::upload_checked(&client, portrait.clone()).await;
    assert_eq!(attempt.status, AttemptStatus::Checked, "{attempt:?}");

    let row = attempts::get(&state.store, &attempt.id)
        .await
        .unwrap()
        .unwrap();
    let case = cases::get(&state.store, &student.case_id)
        .await
        .unwrap()
        .unwrap();
    let standardized = row.standardized_key.clone().unwrap();
    let front = case.id_front_key.clone().unwrap();
    let back = case.id_back_key.clone().unwrap();
    let mut expected = vec![row.original_key.clone(), standardized.clone(), front, back];
    expected.sort();
    let mut keys = moto.keys(bucket).await;
    keys.sort();
    assert_eq!(keys, expected);
    assert!(!state.config.objects_dir().exists());

    let original = moto.raw(bucket, &row.original_key).await;
    assert_ne!(original, portrait.bytes);
    assert!(!contains(&original, &portrait.bytes[..64]));
    assert_eq!(
        state
            .objects
            .get_sensitive(&row.original_key)
            .await
            .unwrap(),
        portrait.bytes
    );
    let jpeg = state.objects.get_sensitive(&standardized).await.unwrap();
    assert!(jpeg.starts_with(&[0xFF, 0xD8, 0xFF]));
    assert!(!moto
        .raw(bucket, &standardized)
        .await
        .starts_with(&[0xFF, 0xD8]));

    server.stop().await;
}
