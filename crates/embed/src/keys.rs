//! The shared secret and the folder of signing keys.

use std::path::PathBuf;

use tessera_crypto::keyring::{self, KeyAlg, KeyRing};

use crate::BuildError;

/// The shared secret: the HS256 key of access tokens (when no key folder is
/// used) and the HMAC key that binds refresh tokens. Changing it ends every
/// session.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret(<{} bytes>)", self.0.len())
    }
}

impl Secret {
    /// The shortest secret [`Secret::from_bytes`] accepts: 32 bytes, the
    /// size of the SHA-256 output (RFC 7518, section 3.2).
    pub const MIN_BYTES: usize = 32;

    /// A secret from its bytes (for instance an environment variable's value).
    ///
    /// # Errors
    /// [`BuildError::ShortSecret`] below [`Secret::MIN_BYTES`] bytes.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Result<Self, BuildError> {
        let bytes = bytes.into();
        if bytes.len() < Self::MIN_BYTES {
            return Err(BuildError::ShortSecret(bytes.len()));
        }
        Ok(Self(bytes))
    }

    /// A random 32-byte secret for this process only: every token dies with
    /// it. For examples and tests; a service that restarts needs a stored one.
    ///
    /// # Errors
    /// [`BuildError::Random`] when the system's random source fails.
    pub fn generate() -> Result<Self, BuildError> {
        tessera_crypto::random_bytes(Self::MIN_BYTES)
            .map(Self)
            .map_err(|e| BuildError::Random(e.to_string()))
    }

    /// A secret of any length, even empty, unchecked: **insecure**, for a
    /// development setting only (the server takes a short `JWT_SECRET_KEY`
    /// outside production, after warning about it). Compiled only with the
    /// `development-secret` feature, so that an embedding reaches it only on
    /// purpose; everything else uses [`Secret::from_bytes`] or
    /// [`Secret::generate`].
    #[cfg(feature = "development-secret")]
    #[must_use]
    pub fn unchecked_for_development(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

/// A folder of asymmetric signing keys (EdDSA or RS256) kept by
/// `tessera keys rotate`: the newest activated key signs, every key retired
/// less than `keep` ago still verifies.
#[derive(Debug, Clone)]
pub struct KeyRingDir {
    /// The folder (`JWT_KEYS_DIR`).
    pub dir: PathBuf,
    /// The algorithm of the keys to use.
    pub alg: KeyAlg,
    /// How long a retired key keeps verifying: at least the longest
    /// access-token lifetime plus the leeway.
    pub keep: chrono::Duration,
    /// Whether an empty folder gets its first key (development); otherwise
    /// building fails without an active key.
    pub create_when_empty: bool,
}

impl KeyRingDir {
    /// The ring as the folder holds it now; `None` while no key signs.
    ///
    /// # Errors
    /// [`BuildError::Keys`] when the folder cannot be read.
    pub fn read_active(&self) -> Result<Option<KeyRing>, BuildError> {
        let ring = keyring::load_dir(&self.dir, self.alg, chrono::Utc::now(), self.keep)
            .map_err(|e| BuildError::Keys(e.to_string()))?;
        Ok(ring.active.is_some().then_some(ring))
    }

    /// The refusal when no key signs.
    #[must_use]
    pub fn no_active_key(&self) -> BuildError {
        BuildError::Keys(format!(
            "no active {} key in {}: run `tessera keys rotate` first",
            self.alg.as_str(),
            self.dir.display()
        ))
    }

    /// The ring; an empty folder gets its first key when
    /// [`KeyRingDir::create_when_empty`] says so.
    ///
    /// # Errors
    /// [`BuildError::Keys`] when the folder cannot be read or written, or
    /// holds no active key and may not get one.
    pub fn load(&self) -> Result<KeyRing, BuildError> {
        if let Some(ring) = self.read_active()? {
            return Ok(ring);
        }
        if !self.create_when_empty {
            return Err(self.no_active_key());
        }
        let kid = keyring::rotate(
            &self.dir,
            self.alg,
            chrono::Utc::now(),
            chrono::Duration::zero(),
            self.keep,
        )
        .map_err(|e| BuildError::Keys(e.to_string()))?;
        tracing::warn!(%kid, dir = %self.dir.display(), "generated a development JWT signing key");
        self.read_active()?.ok_or_else(|| self.no_active_key())
    }
}
