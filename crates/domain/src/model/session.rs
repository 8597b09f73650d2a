//! Sessions: one per login, also the refresh-token family.

use std::fmt;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::model::TokenFingerprint;
use crate::model::UserId;

/// A session id (`sid` in access tokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub Uuid);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Where a session came from, recorded for the user's session list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client's IP address, as the server saw it.
    pub ip: Option<String>,
    /// The `User-Agent` header, truncated to 255 characters.
    pub user_agent: Option<String>,
}

/// A login session and its refresh-token family. Every rotation bumps
/// `generation`; only the current generation's fingerprint is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Id.
    pub id: SessionId,
    /// Owner.
    pub user_id: UserId,
    /// Rotation counter: the refresh token for `generation` is the live one.
    pub generation: u32,
    /// Fingerprint of the live refresh token.
    pub refresh_fingerprint: TokenFingerprint,
    /// Login time.
    pub created_at: DateTime<Utc>,
    /// Last refresh.
    pub last_used_at: DateTime<Utc>,
    /// When the previous refresh token was rotated out.
    pub rotated_at: Option<DateTime<Utc>>,
    /// Absolute end of the session: nothing of it works after this.
    pub expires_at: DateTime<Utc>,
    /// Set when revoked (logout, reuse, password change, admin).
    pub revoked_at: Option<DateTime<Utc>>,
    /// Where the login came from.
    pub client: ClientInfo,
}

impl Session {
    /// True while neither revoked nor past its absolute lifetime.
    #[must_use]
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}
