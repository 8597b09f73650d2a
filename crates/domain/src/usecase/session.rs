//! Sessions: opening one after a login, listing, ending and revoking them.

use chrono::{DateTime, Utc};

use super::{AuthService, Authenticated, LoginTerms};
use crate::clock::IdSource;
use crate::error::AuthError;
use crate::model::AuditKind;
use crate::model::{Authentication, ClientInfo, Session, SessionId};
use crate::model::{RevocationKey, TokenPair};
use crate::model::{User, UserId};
use crate::ports::{Ports, RefreshTokenCodec, SessionStore, TokenDenylist};

impl<P: Ports> AuthService<P> {
    /// Opens a session for `user`, whose credentials were checked as
    /// `authentication` says, with tokens shaped by `terms` (lifetime,
    /// identity, administrator mode). The tokens claim administrator mode
    /// only for an account holding one of
    /// [`crate::AuthSettings::admin_login_roles`]; refusing the others is
    /// the credential check's.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`] or [`AuthError::Internal`].
    pub(super) async fn open_session(
        &self,
        user: &User,
        client: ClientInfo,
        terms: LoginTerms,
        authentication: Authentication,
    ) -> Result<(Session, TokenPair), AuthError> {
        self.open_session_issued_to(user, client, terms, authentication, None)
            .await
    }

    /// [`Self::open_session`] for the OAuth client `issued_to` (`None`: the
    /// first-party API and pages).
    pub(super) async fn open_session_issued_to(
        &self,
        user: &User,
        client: ClientInfo,
        terms: LoginTerms,
        authentication: Authentication,
        issued_to: Option<crate::model::ClientId>,
    ) -> Result<(Session, TokenPair), AuthError> {
        let presentation = self.presentation(user, terms).await?;
        let now = self.now();
        let id = SessionId(self.ports.ids.new_uuid());
        let refresh = self.ports.codec.issue(id, 0);
        let session = Session {
            id,
            user_id: user.id,
            generation: 0,
            refresh_fingerprint: self.ports.codec.fingerprint(&refresh),
            created_at: now,
            last_used_at: now,
            rotated_at: None,
            expires_at: now + self.settings.refresh_ttl,
            revoked_at: None,
            client,
            authentication,
            issued_to,
        };
        let ttl = terms.access_ttl.unwrap_or(self.settings.access_ttl);
        // The access token first: an access-token hook that refuses
        // (issue 20) leaves no session behind.
        let access = self
            .issue_access(user, &session, now, ttl, &presentation)
            .await?;
        // Every sign-in of every dialect opens its session here: the place
        // where one cancels the account's scheduled deletion (issue 20);
        // before the session is stored, so that a sign-in that could not
        // cancel fails whole.
        self.cancel_scheduled_deletion(user, &session.client)
            .await?;
        self.ports.sessions.create(&session).await?;
        self.evict_over_limit(&session).await?;
        Ok((session, TokenPair { access, refresh }))
    }

    /// Denies the access tokens of `ids` and marks them revoked. Safe to retry:
    /// both steps are idempotent, and the denial comes first so that a failure
    /// between them never leaves a revoked session with live access tokens.
    pub(super) async fn revoke_sessions(
        &self,
        ids: &[SessionId],
        now: DateTime<Utc>,
    ) -> Result<(), AuthError> {
        let until = self.settings.revocation_horizon(now);
        for id in ids {
            self.ports
                .denylist
                .deny(RevocationKey::Session(*id), until)
                .await?;
            self.ports.sessions.revoke(*id, now).await?;
        }
        Ok(())
    }

    /// Ends the session of the token: its access and refresh tokens stop working.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`].
    pub async fn logout(&self, auth: &Authenticated) -> Result<(), AuthError> {
        self.revoke_sessions(&[auth.session_id()], self.now())
            .await?;
        self.audit(self.by_self(AuditKind::Logout, auth, None))
            .await;
        Ok(())
    }

    /// The caller's live sessions, oldest first.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`].
    pub async fn list_sessions(&self, auth: &Authenticated) -> Result<Vec<Session>, AuthError> {
        let now = self.now();
        let mut live = self
            .ports
            .sessions
            .list_for_user(auth.user_id(), now)
            .await?;
        live.retain(|s| s.is_live(now, self.settings.idle_ttl));
        Ok(live)
    }

    /// Ends one of the caller's own sessions (its tokens are refused at once).
    ///
    /// # Errors
    /// [`AuthError::SessionNotFound`] when the caller has no such live session,
    /// [`AuthError::Unavailable`].
    pub async fn revoke_own_session(
        &self,
        auth: &Authenticated,
        id: SessionId,
    ) -> Result<(), AuthError> {
        let now = self.now();
        match self.ports.sessions.get(id).await? {
            Some(s) if s.user_id == auth.user_id() && s.is_live(now, self.settings.idle_ttl) => {
                self.revoke_sessions(&[id], now).await?;
                let detail = Some(format!("session {}", id.0));
                self.audit(self.by_self(AuditKind::SessionEnded, auth, detail))
                    .await;
                Ok(())
            }
            _ => Err(AuthError::SessionNotFound),
        }
    }

    /// Ends every session of the caller, this one included; returns how many.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`].
    pub async fn logout_all(&self, auth: &Authenticated) -> Result<usize, AuthError> {
        let n = self.revoke_user_sessions(auth.user_id(), None).await?;
        let detail = Some(format!("{n} sessions"));
        self.audit(self.by_self(AuditKind::LogoutAll, auth, detail))
            .await;
        Ok(n)
    }

    /// Ends every session of the caller but the caller's own (the account
    /// page's "end all other sessions"); returns how many. Audited as a
    /// logout-all whose detail says the caller's session was kept.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`].
    pub async fn end_other_sessions(&self, auth: &Authenticated) -> Result<usize, AuthError> {
        let n = self
            .revoke_user_sessions(auth.user_id(), Some(auth.session_id()))
            .await?;
        let detail = Some(format!("{n} sessions, kept {}", auth.session_id().0));
        self.audit(self.by_self(AuditKind::LogoutAll, auth, detail))
            .await;
        Ok(n)
    }

    /// Revokes every session of `user` except `keep`; returns how many were revoked.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`].
    pub async fn revoke_user_sessions(
        &self,
        user: UserId,
        keep: Option<SessionId>,
    ) -> Result<usize, AuthError> {
        let now = self.now();
        let until = self.settings.revocation_horizon(now);
        // Deny first, from the store's list of live sessions, then mark them
        // revoked: if a denial fails, nothing is marked yet and a retry finds
        // the same sessions again (marking first would leave their access
        // tokens valid until expiry). Sessions the marking finds beyond the
        // list (opened meanwhile, or past their absolute end) are denied after.
        let mut denied = Vec::new();
        for session in self.ports.sessions.list_for_user(user, now).await? {
            if Some(session.id) != keep {
                self.ports
                    .denylist
                    .deny(RevocationKey::Session(session.id), until)
                    .await?;
                denied.push(session.id);
            }
        }
        let ids = self
            .ports
            .sessions
            .revoke_all_for_user(user, keep, now)
            .await?;
        for id in ids.iter().filter(|id| !denied.contains(id)) {
            self.ports
                .denylist
                .deny(RevocationKey::Session(*id), until)
                .await?;
        }
        Ok(ids.len())
    }
}
