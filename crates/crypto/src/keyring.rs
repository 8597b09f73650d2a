//! Asymmetric signing keys (EdDSA or RS256) with `kid`s, kept in a folder
//! and rotated without a gap.
//!
//! The folder holds one PKCS#8 PEM file per key (`<kid>.pem`) and
//! `keyring.json`, which says when each key starts signing (`activates_at`)
//! and when it stopped (`retired_at`). Every instance reads the folder at
//! start and again every few seconds; a rotated-in key is published (in the
//! JWKS and for verification) at once but signs only after the activation
//! delay, so every instance knows it before any token it signs arrives. A
//! retired key keeps verifying until the last token it signed has expired,
//! then it is removed at the next rotation.
//!
//! A `kid` is the RFC 7638 thumbprint of the public key (base64url SHA-256).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use hmac::digest::Digest as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Which asymmetric algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlg {
    /// Ed25519 signatures.
    EdDsa,
    /// RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit keys.
    Rs256,
}

impl KeyAlg {
    /// The JOSE name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EdDsa => "EdDSA",
            Self::Rs256 => "RS256",
        }
    }

    /// jsonwebtoken's algorithm.
    #[must_use]
    pub fn algorithm(self) -> Algorithm {
        match self {
            Self::EdDsa => Algorithm::EdDSA,
            Self::Rs256 => Algorithm::RS256,
        }
    }
}

/// Why keys could not be read, made or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A file could not be read or written.
    #[error("{path}: {reason}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A key or the keyring file is not what it should be.
    #[error("key material: {0}")]
    Invalid(String),
}

fn io(path: &Path, e: impl std::fmt::Display) -> KeyError {
    KeyError::Io {
        path: path.to_owned(),
        reason: e.to_string(),
    }
}

fn invalid(e: impl std::fmt::Display) -> KeyError {
    KeyError::Invalid(e.to_string())
}

/// One key: what signs, what verifies, and its public JWK.
pub struct SigningKey {
    /// The key id.
    pub kid: String,
    /// The algorithm.
    pub alg: KeyAlg,
    pub(crate) encoding: EncodingKey,
    pub(crate) decoding: DecodingKey,
    /// The public key as a JWK (with `kid`, `alg`, `use`).
    pub jwk: Value,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

fn thumbprint(canonical: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(canonical.as_bytes()))
}

impl SigningKey {
    /// Reads a PKCS#8 private key (DER) of `alg`.
    ///
    /// # Errors
    /// [`KeyError::Invalid`] when it is not such a key.
    pub fn from_pkcs8(alg: KeyAlg, der: &[u8]) -> Result<Self, KeyError> {
        match alg {
            KeyAlg::EdDsa => {
                let pair = aws_lc_rs::signature::Ed25519KeyPair::from_pkcs8(der)
                    .or_else(|_| {
                        aws_lc_rs::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
                    })
                    .map_err(invalid)?;
                let x = URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
                let kid = thumbprint(&format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#));
                Ok(Self {
                    encoding: EncodingKey::from_ed_der(der),
                    decoding: DecodingKey::from_ed_components(&x).map_err(invalid)?,
                    jwk: json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA", "use": "sig"}),
                    kid,
                    alg,
                })
            }
            KeyAlg::Rs256 => {
                let pair = aws_lc_rs::rsa::KeyPair::from_pkcs8(der).map_err(invalid)?;
                let public = pair.public_key();
                let n = URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero());
                let e = URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero());
                let kid = thumbprint(&format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#));
                let pem = pem::encode(&pem::Pem::new("PRIVATE KEY", der.to_vec()));
                Ok(Self {
                    encoding: EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(invalid)?,
                    decoding: DecodingKey::from_rsa_components(&n, &e).map_err(invalid)?,
                    jwk: json!({"kty": "RSA", "n": n, "e": e, "kid": kid, "alg": "RS256", "use": "sig"}),
                    kid,
                    alg,
                })
            }
        }
    }

    /// A new random key of `alg`, as PKCS#8 DER.
    ///
    /// # Errors
    /// [`KeyError::Invalid`] when the generator fails.
    pub fn generate(alg: KeyAlg) -> Result<Vec<u8>, KeyError> {
        match alg {
            KeyAlg::EdDsa => {
                let rng = aws_lc_rs::rand::SystemRandom::new();
                aws_lc_rs::signature::Ed25519KeyPair::generate_pkcs8(&rng)
                    .map(|d| d.as_ref().to_vec())
                    .map_err(invalid)
            }
            KeyAlg::Rs256 => {
                let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                    .map_err(invalid)?;
                pair.as_der().map(|d| d.as_ref().to_vec()).map_err(invalid)
            }
        }
    }
}

/// One entry of `keyring.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeyRecord {
    /// Key id (also the file name, `<kid>.pem`).
    pub kid: String,
    /// `EdDSA` or `RS256`.
    pub alg: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it starts signing.
    pub activates_at: DateTime<Utc>,
    /// When a newer key took over signing, if one has.
    pub retired_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct RingFile {
    keys: Vec<KeyRecord>,
}

/// The keys of a folder at one moment.
#[derive(Debug, Default)]
pub struct KeyRing {
    /// The key that signs now.
    pub active: Option<Arc<SigningKey>>,
    /// Every key that still verifies, by kid (the active one included).
    pub verifying: BTreeMap<String, Arc<SigningKey>>,
}

impl KeyRing {
    /// A ring of one key that signs and verifies (keys given by configuration).
    #[must_use]
    pub fn single(key: SigningKey) -> Self {
        let key = Arc::new(key);
        Self {
            verifying: BTreeMap::from([(key.kid.clone(), Arc::clone(&key))]),
            active: Some(key),
        }
    }

    /// The public keys as a JWK Set.
    #[must_use]
    pub fn jwks(&self) -> Value {
        json!({"keys": self.verifying.values().map(|k| k.jwk.clone()).collect::<Vec<_>>()})
    }
}

fn ring_path(dir: &Path) -> PathBuf {
    dir.join("keyring.json")
}

fn read_ring(dir: &Path) -> Result<RingFile, KeyError> {
    let path = ring_path(dir);
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| io(&path, e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(RingFile::default()),
        Err(e) => Err(io(&path, e)),
    }
}

fn write_private(path: &Path, contents: &str) -> Result<(), KeyError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, contents).map_err(|e| io(&tmp, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| io(&tmp, e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| io(path, e))
}

/// The key of `alg` kept in the PEM file `path` (PKCS#8), made and written
/// (mode 0600) when the file does not exist. Of processes that make it at
/// the same moment, one file wins and every process reads that one.
///
/// # Errors
/// [`KeyError`] when the file cannot be read, written or holds no such key.
pub fn load_or_create_key_file(path: &Path, alg: KeyAlg) -> Result<SigningKey, KeyError> {
    let read = |path: &Path| -> Result<SigningKey, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|e| io(path, e))?;
        let der = pem::parse(text.as_bytes()).map_err(|e| io(path, e))?;
        SigningKey::from_pkcs8(alg, der.contents())
    };
    if path.exists() {
        return read(path);
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    }
    let der = SigningKey::generate(alg)?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    write_private(&tmp, &pem::encode(&pem::Pem::new("PRIVATE KEY", der)))?;
    // A hard link fails when the file exists: the first writer wins.
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => read(path),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read(path),
        Err(e) => Err(io(path, e)),
    }
}

/// Reads the keys of `dir` for `alg` at `now`: the newest activated key
/// signs; every key not retired for longer than `keep` verifies.
///
/// # Errors
/// [`KeyError`] when a file cannot be read or holds no valid key.
pub fn load_dir(
    dir: &Path,
    alg: KeyAlg,
    now: DateTime<Utc>,
    keep: Duration,
) -> Result<KeyRing, KeyError> {
    let ring = read_ring(dir)?;
    let mut out = KeyRing::default();
    let mut newest: Option<(DateTime<Utc>, Arc<SigningKey>)> = None;
    for r in ring.keys.iter().filter(|r| r.alg == alg.as_str()) {
        if r.retired_at.is_some_and(|t| t + keep <= now) {
            continue;
        }
        let path = dir.join(format!("{}.pem", r.kid));
        let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
        let der = pem::parse(text.as_bytes()).map_err(|e| io(&path, e))?;
        let key = Arc::new(SigningKey::from_pkcs8(alg, der.contents())?);
        if key.kid != r.kid {
            return Err(invalid(format!("{} holds key {}", path.display(), key.kid)));
        }
        if r.activates_at <= now && newest.as_ref().is_none_or(|(t, _)| r.activates_at > *t) {
            newest = Some((r.activates_at, Arc::clone(&key)));
        }
        out.verifying.insert(key.kid.clone(), key);
    }
    out.active = newest.map(|(_, k)| k);
    Ok(out)
}

/// Adds a new key of `alg` to `dir`, signing from `now + activation_delay`;
/// the key signing until then is retired at that moment; keys retired for
/// longer than `keep` are removed. Returns the new kid.
///
/// # Errors
/// [`KeyError`] when the folder cannot be written.
pub fn rotate(
    dir: &Path,
    alg: KeyAlg,
    now: DateTime<Utc>,
    activation_delay: Duration,
    keep: Duration,
) -> Result<String, KeyError> {
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let mut ring = read_ring(dir)?;
    let der = SigningKey::generate(alg)?;
    let key = SigningKey::from_pkcs8(alg, &der)?;
    let pem = pem::encode(&pem::Pem::new("PRIVATE KEY", der));
    write_private(&dir.join(format!("{}.pem", key.kid)), &pem)?;
    let activates_at = now + activation_delay;
    for r in &mut ring.keys {
        if r.retired_at.is_none() {
            r.retired_at = Some(activates_at);
        }
    }
    let (gone, kept): (Vec<KeyRecord>, Vec<KeyRecord>) = ring
        .keys
        .into_iter()
        .partition(|r| r.retired_at.is_some_and(|t| t + keep <= now));
    ring.keys = kept;
    ring.keys.push(KeyRecord {
        kid: key.kid.clone(),
        alg: alg.as_str().to_owned(),
        created_at: now,
        activates_at,
        retired_at: None,
    });
    let text = serde_json::to_string_pretty(&ring).map_err(invalid)?;
    write_private(&ring_path(dir), &text)?;
    for r in gone {
        let _ = std::fs::remove_file(dir.join(format!("{}.pem", r.kid)));
    }
    Ok(key.kid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_publishes_first_signs_later_and_keeps_old_keys_for_a_while() {
        for alg in [KeyAlg::EdDsa, KeyAlg::Rs256] {
            let dir = tempfile::tempdir().unwrap();
            let t0 = Utc::now();
            let delay = Duration::seconds(60);
            let keep = Duration::seconds(3600);
            let first = rotate(dir.path(), alg, t0, Duration::zero(), keep).unwrap();
            let ring = load_dir(dir.path(), alg, t0, keep).unwrap();
            assert_eq!(ring.active.as_ref().unwrap().kid, first);
            let second = rotate(dir.path(), alg, t0 + Duration::seconds(10), delay, keep).unwrap();
            assert_ne!(first, second);
            // Published at once, signing only after the delay.
            let ring = load_dir(dir.path(), alg, t0 + Duration::seconds(20), keep).unwrap();
            assert_eq!(ring.active.as_ref().unwrap().kid, first);
            assert!(ring.verifying.contains_key(&second));
            assert_eq!(ring.jwks()["keys"].as_array().unwrap().len(), 2);
            let ring = load_dir(dir.path(), alg, t0 + Duration::seconds(71), keep).unwrap();
            assert_eq!(ring.active.as_ref().unwrap().kid, second);
            assert!(
                ring.verifying.contains_key(&first),
                "the old key still verifies"
            );
            // Past `keep`, the old key is gone (and its file after the next rotation).
            let late = t0 + Duration::seconds(70) + keep;
            let ring = load_dir(dir.path(), alg, late, keep).unwrap();
            assert!(!ring.verifying.contains_key(&first));
            rotate(dir.path(), alg, late, delay, keep).unwrap();
            assert!(!dir.path().join(format!("{first}.pem")).exists());
        }
    }
}
