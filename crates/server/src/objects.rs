//! Object storage for photos and ID-card images: a local directory by default, any
//! S3-compatible store by configuration. Sensitive objects are encrypted before they leave
//! the process and named by a keyed hash of their content, so equal content is stored once
//! without the name revealing a plain hash.

use gradphoto_api::common::UploadFormat;
use gradphoto_api::error::ErrorCode;
use gradphoto_vision::{ImageFormat as VisionFormat, VisionError};
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

fn not_an_image() -> AppError {
    let names: Vec<&str> = UploadFormat::ALL.iter().map(|f| f.name()).collect();
    let (zh, en) = match names.split_last() {
        Some((last, [])) => (last.to_string(), last.to_string()),
        Some((last, rest)) => (
            format!("{} 或 {last}", rest.join("、")),
            format!("{} or {last}", rest.join(", ")),
        ),
        None => (String::new(), String::new()),
    };
    AppError::new(
        ErrorCode::NotAnImage,
        format!("文件不是支持的图片格式（{zh}）。"),
        format!("The file is not a supported image ({en})."),
    )
}

fn truncated_image() -> AppError {
    AppError::from(ErrorCode::TruncatedImage)
}

/// Recognises the image format from its content (never from the file name or the client's
/// content type) and refuses empty and visibly truncated files. It accepts exactly the formats
/// the analysis decodes (`gradphoto_vision::sniff`), which are the ones advertised to the portal
/// ([`UploadFormat`]): a picture in another format (HEIC, WebP, …) is refused here, named, instead
/// of being stored, counted as an attempt and then failed by the analysis.
pub fn sniff_image(bytes: &[u8]) -> AppResult<UploadFormat> {
    if bytes.is_empty() {
        return Err(AppError::from(ErrorCode::EmptyUpload));
    }
    let format = match gradphoto_vision::sniff(bytes) {
        Ok(format) => format,
        Err(e @ VisionError::UnsupportedFormat(_)) => return Err(AppError::localized(&e)),
        Err(_) if bytes.len() < 12 => return Err(truncated_image()),
        Err(_) => return Err(not_an_image()),
    };
    // Exhaustive: a format the analysis learns to decode must be advertised before it is taken.
    match format {
        VisionFormat::Jpeg => {
            // A complete JPEG ends with EOI; some cameras append a few bytes after it.
            let tail = &bytes[bytes.len().saturating_sub(4096)..];
            if !tail.windows(2).any(|w| w == [0xFF, 0xD9]) {
                return Err(truncated_image());
            }
            Ok(UploadFormat::Jpeg)
        }
        VisionFormat::Png => {
            let tail = &bytes[bytes.len().saturating_sub(64)..];
            if !tail.windows(4).any(|w| w == b"IEND") {
                return Err(truncated_image());
            }
            Ok(UploadFormat::Png)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_content_and_refuses_truncation() {
        assert_eq!(
            sniff_image(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0, 0xFF, 0xD9]).unwrap(),
            UploadFormat::Jpeg
        );
        assert_eq!(
            sniff_image(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0, 0, 0])
                .unwrap_err()
                .code,
            ErrorCode::TruncatedImage
        );
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend_from_slice(b"....IEND\xaeB`\x82");
        assert_eq!(sniff_image(&png).unwrap(), UploadFormat::Png);
        assert_eq!(sniff_image(b"").unwrap_err().code, ErrorCode::EmptyUpload);
        let err = sniff_image(b"%PDF-1.7 this is a document").unwrap_err();
        assert_eq!(err.code, ErrorCode::NotAnImage);
        assert!(err.message_en.contains("JPEG or PNG"), "{}", err.message_en);
    }

    #[test]
    fn pictures_the_analysis_cannot_decode_are_refused_by_name() {
        let heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic";
        let err = sniff_image(heic).unwrap_err();
        assert_eq!(err.code, ErrorCode::UnsupportedFormat);
        assert_eq!(err.status(), axum::http::StatusCode::UNPROCESSABLE_ENTITY);
        assert!(err.message_zh.contains("HEIC") && err.message_en.contains("HEIC"));
        for (bytes, name) in [
            (&b"RIFF\x00\x00\x00\x00WEBPVP8 "[..], "WebP"),
            (b"GIF89a\x01\x00\x01\x00\x00\x00", "GIF"),
            (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00", "AVIF"),
        ] {
            let err = sniff_image(bytes).unwrap_err();
            assert_eq!(err.code, ErrorCode::UnsupportedFormat, "{name}");
            assert!(err.message_en.contains(name), "{}", err.message_en);
        }
        // A video is not a picture at all.
        let mp4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00isomiso2";
        assert_eq!(sniff_image(mp4).unwrap_err().code, ErrorCode::NotAnImage);
    }

    /// Every advertised format is taken at upload and decoded by the analysis, so the portal is
    /// never told to send what the server then fails.
    #[test]
    fn every_advertised_format_is_accepted_and_decoded() {
        let img = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8, y as u8, 90]));
        for format in UploadFormat::ALL {
            let encoding = match format {
                UploadFormat::Jpeg => image::ImageFormat::Jpeg,
                UploadFormat::Png => image::ImageFormat::Png,
            };
            let mut bytes = std::io::Cursor::new(Vec::new());
            img.write_to(&mut bytes, encoding).unwrap();
            let bytes = bytes.into_inner();
            assert_eq!(sniff_image(&bytes).unwrap(), format);
            let decoded =
                gradphoto_vision::decode(&bytes, gradphoto_vision::DecodeLimits::default())
                    .unwrap();
            assert_eq!(decoded.original_size, (64, 48), "{format:?}");
        }
    }
}
