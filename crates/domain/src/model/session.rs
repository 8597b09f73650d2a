//! Sessions: one per login, also the refresh-token family.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::model::TokenFingerprint;
use crate::model::{Authentication, UserId};

/// A session id (`sid` in access tokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub Uuid);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Where a session came from, recorded for the user's session list; the
/// login throttle counts failures per address (`ip`).
///
/// There is no `Default` on purpose: a default client has no address, and
/// every client without one shares one failure count, so 30 failed logins by
/// anyone would delay everyone's. Build one with [`Self::new`] from the
/// caller's address, or [`Self::without_peer`] where no caller exists.
///
/// ```compile_fail
/// let _ = tessera_domain::model::ClientInfo::default();
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client's IP address, as the server saw it.
    pub ip: Option<String>,
    /// The `User-Agent` header, truncated to 255 characters.
    pub user_agent: Option<String>,
}

impl ClientInfo {
    /// The longest `User-Agent` kept, in characters.
    pub const MAX_USER_AGENT_CHARS: usize = 255;

    /// The caller at `ip` (the throttle counts failures per address; `None`
    /// only when the transport gives none) with its `User-Agent`, truncated
    /// to [`Self::MAX_USER_AGENT_CHARS`] characters.
    #[must_use]
    pub fn new(ip: Option<std::net::IpAddr>, user_agent: Option<&str>) -> Self {
        Self {
            ip: ip.map(|ip| ip.to_string()),
            user_agent: user_agent.map(|ua| ua.chars().take(Self::MAX_USER_AGENT_CHARS).collect()),
        }
    }

    /// A client with no network peer: the service acting on its own
    /// (expiring or replacing a pending account), the command line
    /// (`user_agent` `tessera-cli`), a test. Every such client shares one
    /// throttle bucket (`ip:-`), so never build one for a request: a request
    /// has a peer, pass its address to [`Self::new`].
    #[must_use]
    pub fn without_peer(user_agent: Option<&str>) -> Self {
        Self::new(None, user_agent)
    }
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
    /// How and when the holder authenticated: every access token of the
    /// session, refreshed ones too, carries it (`amr`, `acr`, `auth_time`).
    pub authentication: Authentication,
    /// The OAuth client the session was opened for by an authorization code
    /// (issue 18); `None` for a session of the first-party API or pages. A
    /// client's session refreshes only at the provider's token endpoint, by
    /// that client, and its access tokens work only at UserInfo and
    /// introspection.
    pub issued_to: Option<crate::model::ClientId>,
}

impl Session {
    /// True while neither revoked nor past its absolute lifetime (what a
    /// store can tell without the idle lifetime; see [`Self::is_live`]).
    #[must_use]
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }

    /// True while the session works: open ([`Self::is_open`]) and used
    /// (logged in or refreshed) less than `idle` ago (`SESSION_IDLE_TTL`).
    /// The one rule for refreshing, listing, counting and ending sessions.
    #[must_use]
    pub fn is_live(&self, now: DateTime<Utc>, idle: Duration) -> bool {
        self.is_open(now) && now - self.last_used_at < idle
    }
}

/// One compare-and-swap rotation of a session's refresh token, for
/// [`SessionStore::rotate`](crate::ports::SessionStore::rotate): the compare
/// is "unrevoked and still at `from_generation`", the swap moves the session
/// to `from_generation + 1` with `new_fingerprint` and sets `rotated_at` and
/// `last_used_at` to `at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRotation {
    /// The session.
    pub id: SessionId,
    /// The generation the caller saw (the compare).
    pub from_generation: u32,
    /// The fingerprint of the next refresh token.
    pub new_fingerprint: TokenFingerprint,
    /// When the rotation happens.
    pub at: DateTime<Utc>,
}

impl SessionRotation {
    /// Applies the rotation to `session` held in memory: true when the
    /// compare held and the swap was made, false (nothing changed) otherwise.
    pub fn apply_to(&self, session: &mut Session) -> bool {
        if session.id != self.id
            || session.generation != self.from_generation
            || session.revoked_at.is_some()
        {
            return false;
        }
        session.generation += 1;
        session.refresh_fingerprint = self.new_fingerprint.clone();
        session.rotated_at = Some(self.at);
        session.last_used_at = self.at;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A session opened at `t0` for seven days, and `t0`.
    fn fresh_session() -> (DateTime<Utc>, Session) {
        let t0 = DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        let session = Session {
            id: SessionId(Uuid::nil()),
            user_id: UserId(1),
            generation: 0,
            refresh_fingerprint: TokenFingerprint("fp".into()),
            created_at: t0,
            last_used_at: t0,
            rotated_at: None,
            expires_at: t0 + Duration::days(7),
            revoked_at: None,
            client: ClientInfo::without_peer(None),
            authentication: Authentication::password(t0),
            issued_to: None,
        };
        (t0, session)
    }

    #[test]
    fn a_session_is_live_until_revoked_expired_or_idle() {
        let (t0, s) = fresh_session();
        let idle = Duration::days(3);
        assert!(s.is_live(t0 + Duration::days(2), idle));
        assert!(!s.is_live(t0 + Duration::days(3), idle), "idle");
        assert!(s.is_open(t0 + Duration::days(3)), "idle, yet open");
        let used = Session {
            last_used_at: t0 + Duration::days(6),
            ..s.clone()
        };
        assert!(used.is_live(t0 + Duration::days(6), idle));
        assert!(!used.is_live(t0 + Duration::days(7), idle), "expired");
        let revoked = Session {
            revoked_at: Some(t0),
            ..s
        };
        assert!(!revoked.is_live(t0, idle));
    }

    #[test]
    fn a_rotation_applies_once_and_never_to_a_revoked_session() {
        let (t0, fresh) = fresh_session();
        let mut s = Session {
            generation: 3,
            refresh_fingerprint: TokenFingerprint("fp3".into()),
            ..fresh
        };
        let at = t0 + Duration::minutes(5);
        let rotation = SessionRotation {
            id: s.id,
            from_generation: 3,
            new_fingerprint: TokenFingerprint("fp4".into()),
            at,
        };
        assert!(rotation.apply_to(&mut s));
        assert_eq!(
            (
                s.generation,
                s.refresh_fingerprint.0.as_str(),
                s.rotated_at,
                s.last_used_at
            ),
            (4, "fp4", Some(at), at)
        );
        assert!(!rotation.apply_to(&mut s), "the generation moved on");
        let mut revoked = Session {
            generation: 3,
            revoked_at: Some(t0),
            ..s.clone()
        };
        assert!(!rotation.apply_to(&mut revoked));
        assert_eq!(revoked.generation, 3);
        let other = SessionRotation {
            id: SessionId(Uuid::from_u128(7)),
            from_generation: 4,
            ..rotation
        };
        assert!(!other.apply_to(&mut s), "another session's rotation");
    }

    #[test]
    fn a_client_without_a_peer_has_no_address() {
        let cli = ClientInfo::without_peer(Some("tessera-cli"));
        assert_eq!(
            (cli.ip, cli.user_agent.as_deref()),
            (None, Some("tessera-cli"))
        );
        let long = "x".repeat(300);
        let cut = ClientInfo::without_peer(Some(&long));
        assert_eq!(cut.user_agent.map(|ua| ua.chars().count()), Some(255));
    }
}
