//! Why a service could not be built.

use thiserror::Error;

/// Why [`crate::Builder`] could not build a service.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No secret was given: call `.secret(Secret::…)`.
    #[error("no secret: call .secret(Secret::from_bytes(..)) (refresh tokens and HS256 need one)")]
    NoSecret,
    /// No mail sink was given: call `.mail(MailSink::…)`.
    #[error(
        "no mail sink: call .mail(MailSink::smtp(..) | MailSink::files(..) | MailSink::memory(..)); without one, verification and reset mail would never leave"
    )]
    NoMail,
    /// The secret is shorter than [`crate::Secret::MIN_BYTES`].
    #[error("the secret has {0} bytes; HS256 needs at least 32 (RFC 7518, section 3.2)")]
    ShortSecret(usize),
    /// The system's random source failed.
    #[error("random source: {0}")]
    Random(String),
    /// The database could not be opened or migrated.
    #[cfg(feature = "sqlite")]
    #[error(transparent)]
    Database(#[from] tessera_sql::DbError),
    /// A store failed while loading.
    #[error("store: {0}")]
    Store(String),
    /// The password hasher could not be built.
    #[error("password hasher: {0}")]
    Hasher(String),
    /// Mail or text delivery could not be set up.
    #[error("mail: {0}")]
    Mail(String),
    /// The relying party of upstream providers could not be built.
    #[error("upstream providers' HTTP client: {0}")]
    Upstream(String),
    /// The webhooks' HTTP client could not be built.
    #[error("webhooks' HTTP client: {0}")]
    Webhooks(String),
    /// The JWT signing keys could not be read or made.
    #[error("JWT keys: {0}")]
    Keys(String),
}
