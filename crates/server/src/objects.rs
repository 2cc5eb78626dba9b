//! Object storage for photos and ID-card images: a local directory by default, any
//! S3-compatible store by configuration. Sensitive objects are encrypted before they leave
//! the process and named by a keyed hash of their content, so equal content is stored once
//! without the name revealing a plain hash.

use gradphoto_api::error::ErrorCode;
use std::sync::Arc;

use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};

use crate::config::Config;
use crate::crypto::Crypto;
use crate::http::error::{AppError, AppResult};

#[derive(Clone)]
pub struct Objects {
    store: Arc<dyn ObjectStore>,
    crypto: Arc<Crypto>,
}

impl std::fmt::Debug for Objects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Objects({})", self.store)
    }
}

/// What an object holds; the prefix groups objects by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    IdCard,
    Original,
    Standardized,
    Enrollment,
}

impl ObjectKind {
    fn prefix(self) -> &'static str {
        match self {
            ObjectKind::IdCard => "id-cards",
            ObjectKind::Original => "originals",
            ObjectKind::Standardized => "standardized",
            ObjectKind::Enrollment => "enrollment",
        }
    }
}

impl Objects {
    pub fn new(store: Arc<dyn ObjectStore>, crypto: Arc<Crypto>) -> Objects {
        Objects { store, crypto }
    }

    pub fn from_config(config: &Config, crypto: Arc<Crypto>) -> AppResult<Objects> {
        let store: Arc<dyn ObjectStore> = match &config.s3 {
            Some(s3) => {
                let mut b = AmazonS3Builder::from_env()
                    .with_bucket_name(&s3.bucket)
                    .with_allow_http(s3.allow_http);
                if let Some(region) = &s3.region {
                    b = b.with_region(region);
                }
                if let Some(endpoint) = &s3.endpoint {
                    b = b.with_endpoint(endpoint);
                }
                if let Some(key) = &s3.access_key_id {
                    b = b.with_access_key_id(key);
                }
                if let Some(secret) = &s3.secret_access_key {
                    b = b.with_secret_access_key(secret.expose());
                }
                Arc::new(b.build()?)
            }
            None => {
                let dir = config.objects_dir();
                std::fs::create_dir_all(&dir).map_err(|e| {
                    AppError::internal(format_args!("creating {}: {e}", dir.display()))
                })?;
                Arc::new(LocalFileSystem::new_with_prefix(&dir)?)
            }
        };
        Ok(Objects::new(store, crypto))
    }

    /// Encrypts and stores `plain`; returns the object key to keep in the database.
    pub async fn put_sensitive(&self, kind: ObjectKind, plain: &[u8]) -> AppResult<String> {
        let name = self.crypto.keyed_hash("object", plain);
        let key = format!("{}/{}/{}", kind.prefix(), &name[..2], name);
        let path = ObjectPath::from(key.as_str());
        // Content-addressed: if the object exists, it already holds these bytes.
        match self.store.head(&path).await {
            Ok(_) => return Ok(key),
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        let sealed = self.crypto.encrypt(plain)?;
        self.store.put(&path, PutPayload::from(sealed)).await?;
        Ok(key)
    }

    pub async fn get_sensitive(&self, key: &str) -> AppResult<Vec<u8>> {
        let sealed = self
            .store
            .get(&ObjectPath::from(key))
            .await?
            .bytes()
            .await?;
        Ok(self.crypto.decrypt(&sealed)?)
    }

    pub async fn delete(&self, key: &str) -> AppResult<()> {
        match self.store.delete(&ObjectPath::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn exists(&self, key: &str) -> AppResult<bool> {
        match self.store.head(&ObjectPath::from(key)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

/// Image formats accepted for upload, recognised from their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageType {
    Jpeg,
    Png,
    Heif,
}

impl ImageType {
    pub fn mime(self) -> &'static str {
        match self {
            ImageType::Jpeg => "image/jpeg",
            ImageType::Png => "image/png",
            ImageType::Heif => "image/heic",
        }
    }
}

fn not_an_image() -> AppError {
    AppError::new(
        ErrorCode::NotAnImage,
        "文件不是支持的图片格式（JPEG、PNG 或 HEIC）。",
        "The file is not a supported image (JPEG, PNG or HEIC).",
    )
}

fn truncated_image() -> AppError {
    AppError::from(ErrorCode::TruncatedImage)
}

/// Recognises the image type from its content (never from the file name or the client's
/// content type) and refuses empty and visibly truncated files.
pub fn sniff_image(bytes: &[u8]) -> AppResult<ImageType> {
    if bytes.is_empty() {
        return Err(AppError::from(ErrorCode::EmptyUpload));
    }
    const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        // A complete JPEG ends with EOI; some cameras append a few bytes after it.
        let tail = &bytes[bytes.len().saturating_sub(4096)..];
        if !tail.windows(2).any(|w| w == [0xFF, 0xD9]) {
            return Err(truncated_image());
        }
        return Ok(ImageType::Jpeg);
    }
    if bytes.starts_with(PNG_MAGIC) {
        let tail = &bytes[bytes.len().saturating_sub(64)..];
        if !tail.windows(4).any(|w| w == b"IEND") {
            return Err(truncated_image());
        }
        return Ok(ImageType::Png);
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        const BRANDS: [&[u8]; 8] = [
            b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1",
        ];
        if BRANDS.contains(&&bytes[8..12]) {
            return Ok(ImageType::Heif);
        }
    }
    if bytes.len() < 12 {
        return Err(truncated_image());
    }
    Err(not_an_image())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_content_and_refuses_truncation() {
        assert_eq!(
            sniff_image(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0, 0xFF, 0xD9]).unwrap(),
            ImageType::Jpeg
        );
        assert_eq!(
            sniff_image(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0, 0, 0])
                .unwrap_err()
                .code,
            ErrorCode::TruncatedImage
        );
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend_from_slice(b"....IEND\xaeB`\x82");
        assert_eq!(sniff_image(&png).unwrap(), ImageType::Png);
        assert_eq!(
            sniff_image(b"\x00\x00\x00\x18ftypheic\x00\x00").unwrap(),
            ImageType::Heif
        );
        assert_eq!(sniff_image(b"").unwrap_err().code, ErrorCode::EmptyUpload);
        assert_eq!(
            sniff_image(b"GIF89a this is not allowed here")
                .unwrap_err()
                .code,
            ErrorCode::NotAnImage
        );
    }
}
