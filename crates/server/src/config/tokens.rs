//! Tokens and sessions: `JWT_*`, `*_TOKEN_TTL`, `SESSION_IDLE_TTL`,
//! `MAX_SESSIONS_PER_USER`, `REFRESH_REUSE_INTERVAL`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tessera_crypto::keyring::KeyAlg;
use tessera_domain::secret::Secret;
use tessera_domain::settings::{
    DEFAULT_ACCESS_TTL_SECS, DEFAULT_IDLE_TTL_SECS, DEFAULT_LEEWAY_SECS, DEFAULT_REFRESH_TTL_SECS,
    DEFAULT_REUSE_INTERVAL_SECS,
};

use super::source::Reader;
use super::{ConfigError, Environment};

/// The token profiles' defaults, which only the dialects that ask for them know
/// (the other lifetimes' defaults are the domain's, `tessera_domain::settings`).
const DEFAULT_LEGACY_ACCESS_TTL_SECS: u64 = 86_400;
const DEFAULT_V1_ACCESS_TTL_SECS: u64 = 3600;

/// How access tokens are signed and how long tokens and sessions live.
#[derive(Debug, Clone)]
pub struct TokenSettings {
    /// `JWT_SECRET_KEY` (redacted in `Debug`): the HS256 key, also keying the
    /// refresh-token MAC. See [`Self::resolve_secret`].
    pub secret: Option<Secret>,
    /// `JWT_ALGORITHM`: `HS256` (default, `None`, with `JWT_SECRET_KEY`),
    /// `EdDSA` or `RS256` (keys in `JWT_KEYS_DIR`, rotated by `tessera keys rotate`).
    pub algorithm: Option<KeyAlg>,
    /// `JWT_KEYS_DIR`, default `<var>/jwt-keys`: the asymmetric key ring.
    pub keys_dir: PathBuf,
    /// `JWT_KEY_ACTIVATION_DELAY` seconds (default 60): a rotated-in key is
    /// published at each instance's next re-read of the folder (every 10 s)
    /// and signs only after this, so that every instance knows it first.
    pub key_activation_delay: Duration,
    /// `JWT_ISSUER`, default `tessera`.
    pub issuer: String,
    /// `JWT_AUDIENCE`, default `tessera`.
    pub audience: String,
    /// `JWT_LEEWAY` seconds of clock skew tolerated on `exp`/`nbf`, default 30.
    pub leeway: Duration,
    /// `ACCESS_TOKEN_TTL` seconds, default 900.
    pub access_ttl: Duration,
    /// `LEGACY_ACCESS_TOKEN_TTL`: access tokens issued at `/Auth/Login` and
    /// `/Admin/Login` (seed 001 clients cannot refresh). Default 86 400 s.
    pub legacy_access_ttl: Duration,
    /// `V1_ACCESS_TOKEN_TTL`: access tokens issued at `/api/v1/auth/login`
    /// (seed 002 promises 1 hour). Default 3600 s.
    pub v1_access_ttl: Duration,
    /// `REFRESH_TOKEN_TTL` seconds, default 604800 (7 days): the absolute session lifetime.
    pub refresh_ttl: Duration,
    /// `SESSION_IDLE_TTL`: a session whose refresh token has not been used for
    /// this long refreshes no more. Default 259 200 s (3 days).
    pub idle_ttl: Duration,
    /// `MAX_SESSIONS_PER_USER`: most live sessions per account; a login
    /// beyond it ends the least recently used ones. Default 50; `0` or `off`
    /// for no limit (`None`).
    pub max_sessions_per_user: Option<u32>,
    /// `REFRESH_REUSE_INTERVAL` seconds, default 10.
    pub refresh_reuse_interval: Duration,
    /// `REAUTH_MAX_AGE` seconds, default 900: how recent a session's
    /// authentication must be for a sensitive action (turning a second
    /// factor on; issue 17).
    pub reauth_max_age: Duration,
    /// `TOKEN_CACHE_MAX_BYTES`: bytes of verified access tokens kept so that
    /// a token presented again is not checked again (default 1 MiB, 0 = none).
    pub verified_cache_max_bytes: u64,
}

impl TokenSettings {
    /// Reads the section ([`Self::check`] checks it).
    pub(crate) fn read(r: &Reader<'_>, var_dir: &Path) -> Result<Self, ConfigError> {
        Ok(Self {
            secret: r.string("JWT_SECRET_KEY").map(Secret::new),
            algorithm: match r.string("JWT_ALGORITHM").as_deref() {
                None => {
                    r.default_shown("JWT_ALGORITHM", "HS256");
                    None
                }
                Some("HS256") => None,
                Some("EdDSA") => Some(KeyAlg::EdDsa),
                Some("RS256") => Some(KeyAlg::Rs256),
                Some(other) => {
                    return Err(ConfigError::Invalid {
                        name: "JWT_ALGORITHM",
                        reason: format!("{other:?}: expected HS256, EdDSA or RS256"),
                    });
                }
            },
            keys_dir: PathBuf::from(
                r.string_or("JWT_KEYS_DIR", &var_dir.join("jwt-keys").to_string_lossy()),
            ),
            key_activation_delay: r.seconds("JWT_KEY_ACTIVATION_DELAY", 60)?,
            issuer: r.string_or("JWT_ISSUER", "tessera"),
            audience: r.string_or("JWT_AUDIENCE", "tessera"),
            access_ttl: r.seconds("ACCESS_TOKEN_TTL", DEFAULT_ACCESS_TTL_SECS.unsigned_abs())?,
            legacy_access_ttl: r
                .seconds("LEGACY_ACCESS_TOKEN_TTL", DEFAULT_LEGACY_ACCESS_TTL_SECS)?,
            v1_access_ttl: r.seconds("V1_ACCESS_TOKEN_TTL", DEFAULT_V1_ACCESS_TTL_SECS)?,
            refresh_ttl: r.seconds("REFRESH_TOKEN_TTL", DEFAULT_REFRESH_TTL_SECS.unsigned_abs())?,
            idle_ttl: r.seconds("SESSION_IDLE_TTL", DEFAULT_IDLE_TTL_SECS.unsigned_abs())?,
            max_sessions_per_user: r.optional_count(
                "MAX_SESSIONS_PER_USER",
                tessera_domain::usecase::DEFAULT_MAX_SESSIONS_PER_USER,
            )?,
            refresh_reuse_interval: r.seconds(
                "REFRESH_REUSE_INTERVAL",
                DEFAULT_REUSE_INTERVAL_SECS.unsigned_abs(),
            )?,
            leeway: r.seconds("JWT_LEEWAY", DEFAULT_LEEWAY_SECS.unsigned_abs())?,
            reauth_max_age: r.seconds(
                "REAUTH_MAX_AGE",
                tessera_domain::settings::DEFAULT_REAUTH_MAX_AGE_SECS.unsigned_abs(),
            )?,
            verified_cache_max_bytes: r.parse(
                "TOKEN_CACHE_MAX_BYTES",
                tessera_embed::DEFAULT_VERIFIED_TOKENS_BYTES,
            )?,
        })
    }

    /// The checks that need the whole configuration read first (so that a
    /// bad value elsewhere is reported before them, as it always was).
    pub(crate) fn check(&self, environment: Environment) -> Result<(), ConfigError> {
        if self.access_ttl.is_zero() || self.refresh_ttl < self.access_ttl {
            return Err(ConfigError::Invalid {
                name: "ACCESS_TOKEN_TTL",
                reason: "must be positive and no longer than REFRESH_TOKEN_TTL".into(),
            });
        }
        // 0 would refuse every sensitive action to every session, however
        // fresh (auth_time is in whole seconds).
        if self.reauth_max_age.as_secs() < 1 {
            return Err(ConfigError::Invalid {
                name: "REAUTH_MAX_AGE",
                reason: "must be at least 1 second".into(),
            });
        }
        if environment == Environment::Production
            && self.secret.as_ref().is_some_and(|s| s.expose().len() < 32)
        {
            return Err(ConfigError::MissingProductionKey);
        }
        Ok(())
    }

    /// The JWT key: the configured one; in development without one, the key
    /// kept in `<var_dir>/jwt-secret.key`, generated on first use.
    ///
    /// # Errors
    /// [`ConfigError::MissingProductionKey`] in production without a key of at
    /// least 32 bytes; [`ConfigError::KeyFile`] when the development key file fails.
    pub fn resolve_secret(
        &self,
        environment: Environment,
        var_dir: &Path,
    ) -> Result<Vec<u8>, ConfigError> {
        match (&self.secret, environment) {
            (Some(s), Environment::Production) if s.expose().len() >= 32 => {
                Ok(s.expose().as_bytes().to_vec())
            }
            (_, Environment::Production) => Err(ConfigError::MissingProductionKey),
            (Some(s), Environment::Development) => {
                if s.expose().len() < 32 {
                    tracing::warn!(
                        "JWT_SECRET_KEY is shorter than 32 bytes; production would refuse it"
                    );
                }
                Ok(s.expose().as_bytes().to_vec())
            }
            (None, Environment::Development) => development_key(var_dir),
        }
    }
}

fn development_key(var_dir: &Path) -> Result<Vec<u8>, ConfigError> {
    let path = var_dir.join("jwt-secret.key");
    let fail = |reason: String| ConfigError::KeyFile {
        path: path.display().to_string(),
        reason,
    };
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let key = existing.trim();
        if key.len() >= 32 {
            return Ok(key.as_bytes().to_vec());
        }
    }
    std::fs::create_dir_all(var_dir).map_err(|e| fail(e.to_string()))?;
    let key =
        tessera_crypto::hex(&tessera_crypto::random_bytes(32).map_err(|e| fail(e.to_string()))?);
    write_private(&path, &key).map_err(|e| fail(e.to_string()))?;
    tracing::warn!(
        path = %path.display(),
        "no JWT_SECRET_KEY set: generated a development key; set JWT_SECRET_KEY (32+ bytes) in production"
    );
    Ok(key.into_bytes())
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}
