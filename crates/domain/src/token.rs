//! Access tokens (signed, self-contained) and refresh tokens (opaque, stored only as a fingerprint).

use std::fmt;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::newtypes::RoleName;
use crate::session::SessionId;
use crate::user::UserId;

/// What an access token says. The signer adds and checks issuer, audience and
/// token type; the service checks the times against its [`crate::clock::Clock`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    /// The user (`sub`).
    pub user_id: UserId,
    /// The session the token belongs to (`sid`).
    pub session_id: SessionId,
    /// This token's own id (`jti`).
    pub token_id: Uuid,
    /// The user's role when the token was issued.
    pub role: RoleName,
    /// Issued at (`iat`).
    pub issued_at: DateTime<Utc>,
    /// Not before (`nbf`).
    pub not_before: DateTime<Utc>,
    /// Expires at (`exp`).
    pub expires_at: DateTime<Utc>,
}

/// A signed access token (a JWT). Its `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

impl AccessToken {
    /// Wraps an encoded token.
    #[must_use]
    pub fn new(encoded: String) -> Self {
        Self(encoded)
    }

    /// The encoded token, to hand to the client.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(***)")
    }
}

/// An opaque refresh token. Its `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken(String);

impl RefreshToken {
    /// Wraps an encoded token.
    #[must_use]
    pub fn new(encoded: String) -> Self {
        Self(encoded)
    }

    /// The encoded token, to hand to the client.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshToken(***)")
    }
}

/// A one-way fingerprint (SHA-256, hex) of a secret token: what the store keeps
/// instead of the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenFingerprint(pub String);

/// What a refresh token carries once its MAC has been checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshTokenParts {
    /// The session (refresh family).
    pub session_id: SessionId,
    /// The rotation generation the token was issued for.
    pub generation: u32,
}

/// What may be put on the denylist: one access token, or every access token of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RevocationKey {
    /// One token, by `jti`.
    Token(Uuid),
    /// Every access token carrying this `sid`.
    Session(SessionId),
}

/// A freshly issued access token with its lifetime.
#[derive(Debug, Clone)]
pub struct IssuedAccess {
    /// The token.
    pub token: AccessToken,
    /// Its claims.
    pub claims: AccessClaims,
    /// Seconds until it expires.
    pub expires_in: i64,
}

/// An access token and the refresh token of the same session.
#[derive(Debug, Clone)]
pub struct TokenPair {
    /// The access token.
    pub access: IssuedAccess,
    /// The refresh token.
    pub refresh: RefreshToken,
}
