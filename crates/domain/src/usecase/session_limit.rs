//! Bounded sessions per account, and the caller's session list in pages
//! (issue 12, item 11: "sessions per account are unbounded, and the list
//! ignores paging").
//!
//! **The limit.** After a login stores its session (`AuthService::open_session`,
//! which every dialect's login goes through), `AuthService::evict_over_limit`
//! lists the account's live sessions and revokes all but the new one and the
//! `MAX_SESSIONS_PER_USER - 1` most recently used others (by `last_used_at`,
//! which login and both kinds of refresh set). Revocation takes the
//! usual path: the session id is denied first (its access tokens are refused
//! at once), then the session is marked revoked (its refresh token is
//! refused); each session this login revoked is one `session_evicted` audit
//! event.
//!
//! **Under concurrency** no lock is needed: every login lists *after* its
//! own session is stored, and leaves at most `MAX` live sessions among those
//! it listed. Take the login whose list ran last: every session created by
//! then is in its list (or was already revoked), so when it is done at most
//! `MAX` sessions are live, and later revocations only lower that. A login
//! racing others may see its own new session evicted by one of them (its
//! tokens are then refused, as for any evicted session); the store's
//! `revoke` tells exactly one of several concurrent revokers that it
//! revoked, so each eviction is audited once.
//!
//! Sessions past the idle lifetime (`SESSION_IDLE_TTL`) do not count: they
//! refresh no more and are not listed.

use chrono::{DateTime, Utc};

use super::AuthService;
use super::Authenticated;
use crate::error::AuthError;
use crate::model::RevocationKey;
use crate::model::Session;
use crate::model::{AuditEvent, AuditKind};
use crate::ports::{Ports, SessionStore as _, TokenDenylist as _};

/// Default `MAX_SESSIONS_PER_USER`: 50 live sessions per account. One person
/// rarely uses more than a handful of devices and browsers at once; clients
/// that cannot refresh open a session per login (idle
/// sessions stop counting after `SESSION_IDLE_TTL`, 3 days). 50 leaves room
/// for both while bounding what one account can store and list to a few
/// kilobytes (about 200 bytes per session).
pub const DEFAULT_MAX_SESSIONS_PER_USER: u32 = 50;

/// Default page size of the session list: as many as the default
/// limit, so that a client written before paging still sees every session
/// of an account on the default configuration.
pub const DEFAULT_SESSIONS_PER_PAGE: u32 = 50;

/// One page of the caller's live sessions, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionPage {
    /// The sessions of the page (at most the page size).
    pub sessions: Vec<Session>,
    /// How many live sessions the caller has in all.
    pub total: u64,
}

impl<P: Ports> AuthService<P> {
    /// True while the session counts: live and not idle.
    fn counts(&self, s: &Session, now: DateTime<Utc>) -> bool {
        s.is_live(now, self.settings.idle_ttl)
    }

    /// Revokes the least recently used sessions of `fresh`'s owner beyond
    /// `MAX_SESSIONS_PER_USER` (`fresh` itself is kept); see the module docs
    /// for why this holds under concurrent logins. Returns how many this
    /// call revoked.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`] when a store fails (the sessions revoked
    /// until then stay revoked; a retry finishes the job).
    pub(super) async fn evict_over_limit(&self, fresh: &Session) -> Result<usize, AuthError> {
        let Some(max) = self.settings.max_sessions_per_user.filter(|m| *m > 0) else {
            return Ok(0);
        };
        let now = fresh.created_at;
        let mut others: Vec<Session> = self
            .ports
            .sessions
            .list_for_user(fresh.user_id, now)
            .await?
            .into_iter()
            .filter(|s| s.id != fresh.id && self.counts(s, now))
            .collect();
        let keep = usize::try_from(max - 1).unwrap_or(usize::MAX);
        if others.len() <= keep {
            return Ok(0);
        }
        // Most recently used first; ties broken by login time, then id, so
        // that concurrent logins agree on the order.
        others.sort_by(|a, b| {
            (b.last_used_at, b.created_at, b.id).cmp(&(a.last_used_at, a.created_at, a.id))
        });
        let until = self.settings.revocation_horizon(now);
        let mut evicted = 0;
        for s in &others[keep..] {
            self.ports
                .denylist
                .deny(RevocationKey::Session(s.id), until)
                .await?;
            if self.ports.sessions.revoke(s.id, now).await? {
                evicted += 1;
                self.audit(AuditEvent {
                    subject: Some(s.user_id),
                    detail: Some(format!("session {}", s.id.0)),
                    ..self.event(AuditKind::SessionEvicted, &fresh.client)
                })
                .await;
            }
        }
        Ok(evicted)
    }

    /// One page of the caller's live sessions, oldest first: `per_page`
    /// sessions (at least 1, at most [`super::MAX_PAGE_SIZE`], 100) from the
    /// `page`th page (1-based; a page past the end is empty).
    ///
    /// # Errors
    /// [`AuthError::Unavailable`].
    pub async fn list_sessions_page(
        &self,
        auth: &Authenticated,
        page: u64,
        per_page: u32,
    ) -> Result<SessionPage, AuthError> {
        let all = self.list_sessions(auth).await?;
        let per_page = usize::try_from(per_page.clamp(1, super::MAX_PAGE_SIZE)).unwrap_or(1);
        let skip = usize::try_from(page.saturating_sub(1))
            .unwrap_or(usize::MAX)
            .saturating_mul(per_page);
        Ok(SessionPage {
            total: u64::try_from(all.len()).unwrap_or(u64::MAX),
            sessions: all.into_iter().skip(skip).take(per_page).collect(),
        })
    }
}
