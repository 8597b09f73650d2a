//! The access-token hook (issue 20): before Tessera signs an access token,
//! a configured endpoint may add claims to it — what Supabase Auth calls its
//! custom access token hook. The domain asks through
//! [`crate::ports::AccessTokenHook`] and merges what comes back, never over a
//! claim Tessera writes itself ([`RESERVED_CLAIMS`]).

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Claims a hook added: a JSON object's members.
pub type CustomClaims = serde_json::Map<String, serde_json::Value>;

/// Claims a hook may not set: those of RFC 7519 §4.1, RFC 9068 §2.2 and
/// OpenID Connect Core §2 that Tessera's tokens carry or could, and
/// Tessera's own (`uid`, `sid`, `role`, `token_use`, `aal`, `permissions`,
/// `is_superuser`, `is_admin`) and Flask-JWT-Extended's (`type`, `fresh`,
/// `csrf`), which the seeds' clients read. A hook's member of one of these
/// names is dropped.
pub const RESERVED_CLAIMS: [&str; 25] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "client_id",
    "scope",
    "auth_time",
    "acr",
    "amr",
    "azp",
    "nonce",
    "sid",
    "uid",
    "role",
    "token_use",
    "aal",
    "permissions",
    "is_superuser",
    "is_admin",
    "type",
    "fresh",
    "csrf",
];

/// The most a hook's claims may take, serialised, in bytes: a token grows
/// by about 4/3 of it, and tokens travel in headers.
pub const MAX_CUSTOM_CLAIMS_BYTES: usize = 4096;

/// What Tessera tells the hook about the token it is about to sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessTokenHookRequest {
    /// The token's own id (`jti`): the message id of the hook's call.
    pub token_id: Uuid,
    /// The account's integer id (`uid`).
    pub user_id: i64,
    /// The account's UUID.
    pub user_uuid: Uuid,
    /// Its username.
    pub username: String,
    /// Its e-mail address.
    pub email: String,
    /// Whether the address is verified.
    pub email_verified: bool,
    /// Every role it holds, the primary one first.
    pub roles: Vec<String>,
    /// The session (`sid`).
    pub session_id: Uuid,
    /// The OpenID Provider's client the token is for; `None` for the
    /// first-party API and pages.
    pub client_id: Option<String>,
    /// RFC 8176 methods of the session's sign-in (`amr`).
    pub amr: Vec<String>,
    /// The authenticator assurance level (1 or 2).
    pub aal: u8,
    /// When the token is issued (`iat`).
    pub issued_at: DateTime<Utc>,
    /// When it expires (`exp`).
    pub expires_at: DateTime<Utc>,
}

/// Why a hook gave no claims.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HookError {
    /// It did not answer in time, could not be reached, or answered a
    /// status other than 200.
    #[error("access-token hook unavailable: {0}")]
    Unavailable(String),
    /// Its answer was not `{"claims": {…}}` or was too large.
    #[error("access-token hook answer refused: {0}")]
    Refused(String),
}

/// `claims` without the [`RESERVED_CLAIMS`]; the names it dropped.
#[must_use]
pub fn without_reserved_claims(mut claims: CustomClaims) -> (CustomClaims, Vec<String>) {
    let dropped: Vec<String> = claims
        .keys()
        .filter(|k| RESERVED_CLAIMS.contains(&k.as_str()))
        .cloned()
        .collect();
    for k in &dropped {
        claims.remove(k);
    }
    (claims, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_claims_are_dropped_and_named() {
        let claims: CustomClaims = serde_json::from_str(
            r#"{"sub":"admin","tenant":"acme","role":"super_admin","plan":{"tier":2}}"#,
        )
        .unwrap();
        let (kept, dropped) = without_reserved_claims(claims);
        assert_eq!(
            serde_json::Value::Object(kept),
            serde_json::json!({"tenant":"acme","plan":{"tier":2}})
        );
        let mut dropped = dropped;
        dropped.sort();
        assert_eq!(dropped, vec!["role".to_owned(), "sub".to_owned()]);
    }
}
