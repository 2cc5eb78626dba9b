//! Keys and primitives for data at rest: AES-256-GCM for sensitive bytes, keyed hashes for
//! lookups and object names, SHA-256 for session tokens, argon2 for passwords.

use std::path::Path;

use aes_gcm::aead::Aead;
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("encryption key must be 32 bytes encoded as base64")]
    BadKey,
    #[error("encrypted data is damaged or was written with another key")]
    Decrypt,
    #[error("encryption failed")]
    Encrypt,
    #[error("key file {path}: {source}")]
    KeyFile {
        path: String,
        source: std::io::Error,
    },
}

/// Where the master key came from; the embedded default says so when it creates one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    Configured,
    ExistingFile,
    GeneratedFile,
}

/// Sub-keys derived from one 32-byte master key so a single secret has to be managed.
pub struct Crypto {
    cipher: Aes256Gcm,
    mac_key: [u8; 32],
    sandbox_key: [u8; 32],
}

impl std::fmt::Debug for Crypto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Crypto(<redacted>)")
    }
}

fn mac(key: &[u8]) -> Hmac<Sha256> {
    <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length")
}

fn derive(master: &[u8], label: &str) -> [u8; 32] {
    let mut m = mac(master);
    m.update(label.as_bytes());
    m.finalize().into_bytes().into()
}

impl Crypto {
    pub fn from_master(master: &[u8; 32]) -> Crypto {
        let enc = derive(master, "gradphoto/encryption/v1");
        let cipher = Aes256Gcm::new(&enc.into());
        Crypto {
            cipher,
            mac_key: derive(master, "gradphoto/keyed-hash/v1"),
            sandbox_key: derive(master, "gradphoto/payment-sandbox/v1"),
        }
    }

    pub fn from_base64(key: &str) -> Result<Crypto, CryptoError> {
        let bytes = STANDARD
            .decode(key.trim())
            .map_err(|_| CryptoError::BadKey)?;
        let master: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::BadKey)?;
        Ok(Crypto::from_master(&master))
    }

    /// Reads the key file beside the database, creating it (mode 0600) on first run.
    pub fn load_or_create_file(path: &Path) -> Result<(Crypto, KeySource), CryptoError> {
        let err = |source| CryptoError::KeyFile {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => Ok((Crypto::from_base64(&text)?, KeySource::ExistingFile)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut master = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut master);
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(err)?;
                }
                write_private(path, STANDARD.encode(master).as_bytes()).map_err(err)?;
                Ok((Crypto::from_master(&master), KeySource::GeneratedFile))
            }
            Err(e) => Err(err(e)),
        }
    }

    /// Random nonce prefixed to the ciphertext.
    pub fn encrypt(&self, plain: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plain)
            .map_err(|_| CryptoError::Encrypt)?;
        let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    pub fn decrypt(&self, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if data.len() < NONCE_LEN {
            return Err(CryptoError::Decrypt);
        }
        let (nonce, ct) = data.split_at(NONCE_LEN);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), ct)
            .map_err(|_| CryptoError::Decrypt)
    }

    /// Keyed hash (hex HMAC-SHA256) used for lookups and object names: equal inputs give equal
    /// outputs without revealing a plain hash of personal data.
    pub fn keyed_hash(&self, purpose: &str, data: &[u8]) -> String {
        let mut mac = mac(&self.mac_key);
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(data);
        hex::encode(mac.finalize().into_bytes())
    }

    pub fn sandbox_key(&self) -> &[u8; 32] {
        &self.sandbox_key
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// A random bearer secret (32 bytes, URL-safe base64).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A short code printed on invitations: unambiguous characters only.
pub fn random_code(len: usize) -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let mut bytes = vec![0u8; len];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
        .iter()
        .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
        .collect()
}

pub fn hmac_sha256_hex(key: &[u8], data: &[u8]) -> String {
    let mut mac = mac(key);
    mac.update(data);
    hex::encode(mac.finalize().into_bytes())
}

/// Constant-time comparison of a hex HMAC against the expected value.
pub fn verify_hmac_sha256_hex(key: &[u8], data: &[u8], signature_hex: &str) -> bool {
    let Ok(sig) = hex::decode(signature_hex.trim()) else {
        return false;
    };
    let mut mac = mac(key);
    mac.update(data);
    mac.verify_slice(&sig).is_ok()
}

pub fn hash_password(password: &str) -> Result<String, CryptoError> {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| CryptoError::Encrypt)
}

static DUMMY: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| hash_password("gradphoto: no such account").unwrap_or_default());

/// Makes the hash unknown usernames are checked against, so that the first of them costs no
/// more than the others (the server calls this before it listens).
pub fn prepare_dummy_hash() {
    std::sync::LazyLock::force(&DUMMY);
}

/// Checks a password against the account's hash, or against a hash of nothing when there is no
/// such account, so an unknown username costs the same time as a known one and the answer's
/// timing does not tell which accounts exist.
pub fn verify_password_or_dummy(password: &str, hash: Option<&str>) -> bool {
    match hash {
        Some(hash) => verify_password(password, hash),
        None => {
            verify_password(password, &DUMMY);
            false
        }
    }
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    match PasswordHash::new(hash) {
        Ok(parsed) => argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}
