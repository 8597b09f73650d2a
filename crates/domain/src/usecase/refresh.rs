//! Refreshing: a rotated refresh token, or a still-valid access token, for new tokens.

use chrono::{DateTime, Utc};

use super::access::Presentation;
use super::{AuthService, Authenticated};
use crate::error::{AuthError, TokenProblem};
use crate::model::User;
use crate::model::{AuditEvent, AuditKind};
use crate::model::{ClientInfo, Session, SessionRotation};
use crate::model::{IssuedAccess, TokenPair};
use crate::ports::{Ports, RefreshTokenCodec, SessionStore, UserRepository};

impl<P: Ports> AuthService<P> {
    /// Exchanges a refresh token for a new pair, rotating it.
    ///
    /// Within the reuse interval after a rotation, the rotated-out token answers
    /// with the current pair (clients that raced or lost a response). Later, or
    /// with any older token, the whole session is revoked.
    ///
    /// # Errors
    /// [`AuthError::Token`] (invalid, expired, revoked), [`AuthError::RefreshReused`],
    /// [`AuthError::AccountDisabled`], [`AuthError::Unavailable`].
    pub async fn refresh(
        &self,
        refresh_token: &str,
        client: ClientInfo,
    ) -> Result<(User, TokenPair), AuthError> {
        self.refresh_issued_to(refresh_token, client, None).await
    }

    /// [`Self::refresh`] of a session opened for the OAuth client
    /// `issued_to` (`None`: a first-party session). A session of another
    /// audience is refused as an invalid token: a client's refresh token
    /// does not work at the first-party refresh routes, nor another
    /// client's (issue 18).
    ///
    /// # Errors
    /// As [`Self::refresh`].
    pub(super) async fn refresh_issued_to(
        &self,
        refresh_token: &str,
        client: ClientInfo,
        issued_to: Option<&crate::model::ClientId>,
    ) -> Result<(User, TokenPair), AuthError> {
        let invalid = AuthError::Token(TokenProblem::Invalid);
        let parts = self.ports.codec.parse(refresh_token).ok_or(invalid)?;
        let presented = self
            .ports
            .codec
            .fingerprint(&crate::model::RefreshToken::new(refresh_token.to_owned()));
        let now = self.now();

        // The common case from this process's recent copy of the session:
        // the token is the current one and the session live. The rotation's
        // compare-and-swap confirms the copy (it fails on a session rotated
        // or revoked since); anything else is decided below from the store.
        if let Some(recent) = self.ports.sessions.get_recent(parts.session_id).await?
            && recent.generation == parts.generation
            && recent.refresh_fingerprint == presented
            && recent.issued_to.as_ref() == issued_to
            && self.check_live(&recent, now).is_ok()
            // A refusal (a disabled account, say) is decided below, from
            // the store, in the order it always was.
            && let Ok(user) = self.session_user(&recent).await
            && let Some(pair) = self.rotate_and_issue(&recent, &user, now).await?
        {
            return Ok((user, pair));
        }

        let mut session = self
            .ports
            .sessions
            .get(parts.session_id)
            .await?
            .ok_or(AuthError::Token(TokenProblem::Invalid))?;
        if session.issued_to.as_ref() != issued_to {
            return Err(AuthError::Token(TokenProblem::Invalid));
        }
        self.check_live(&session, now)?;
        let user = self.session_user(&session).await?;

        if parts.generation == session.generation {
            if presented != session.refresh_fingerprint {
                return Err(AuthError::Token(TokenProblem::Invalid));
            }
            if let Some(pair) = self.rotate_and_issue(&session, &user, now).await? {
                return Ok((user, pair));
            }
            // Someone else rotated it a moment ago: read where it is now.
            session = self
                .ports
                .sessions
                .get(session.id)
                .await?
                .ok_or(AuthError::Token(TokenProblem::Invalid))?;
            self.check_live(&session, now)?;
        }

        let within_grace = parts.generation + 1 == session.generation
            && session
                .rotated_at
                .is_some_and(|t| now - t <= self.settings.reuse_interval);
        if within_grace {
            let access = self.refreshed_access(&user, &session, now).await?;
            let refresh = self.ports.codec.issue(session.id, session.generation);
            return Ok((user, TokenPair { access, refresh }));
        }
        if parts.generation < session.generation {
            self.revoke_sessions(&[session.id], now).await?;
            self.audit(AuditEvent {
                subject: Some(session.user_id),
                detail: Some(format!("session {}", session.id.0)),
                ..self.event(AuditKind::RefreshReused, &client)
            })
            .await;
            return Err(AuthError::RefreshReused);
        }
        Err(AuthError::Token(TokenProblem::Invalid))
    }

    /// Rotates `session` from its generation (the store's compare-and-swap)
    /// and issues the new pair; `None` when another caller rotated or
    /// revoked it first (nothing was written).
    ///
    /// # Errors
    /// [`AuthError::Unavailable`], or signing failing.
    async fn rotate_and_issue(
        &self,
        session: &Session,
        user: &User,
        now: DateTime<Utc>,
    ) -> Result<Option<TokenPair>, AuthError> {
        // The access token first: an access-token hook that refuses
        // (issue 20) must not leave the session rotated to a refresh token
        // the client never got.
        let access = self.refreshed_access(user, session, now).await?;
        let next = self.ports.codec.issue(session.id, session.generation + 1);
        let rotated = self
            .ports
            .sessions
            .rotate(&SessionRotation {
                id: session.id,
                from_generation: session.generation,
                new_fingerprint: self.ports.codec.fingerprint(&next),
                at: now,
            })
            .await?;
        if !rotated {
            return Ok(None);
        }
        Ok(Some(TokenPair {
            access,
            refresh: next,
        }))
    }

    /// Issues a new access token for the session of a still-valid access token
    /// (a refresh without a refresh token), never beyond the session's absolute lifetime.
    ///
    /// # Errors
    /// [`AuthError::Token`] when the session is gone, [`AuthError::AccountDisabled`],
    /// [`AuthError::Unavailable`].
    pub async fn refresh_access(
        &self,
        auth: &Authenticated,
    ) -> Result<(User, IssuedAccess), AuthError> {
        let session = self
            .ports
            .sessions
            .get(auth.session_id())
            .await?
            .ok_or(AuthError::Token(TokenProblem::Revoked))?;
        let now = self.now();
        self.check_live(&session, now)?;
        let user = self.session_user(&session).await?;
        // A refresh, even without rotation, keeps the session from going idle.
        self.ports.sessions.touch(session.id, now).await?;
        let access = self.refreshed_access(&user, &session, now).await?;
        Ok((user, access))
    }

    /// The access token a refresh hands out: the default lifetime, `sub` the
    /// account id (a refresh never keeps a dialect's token profile), capped
    /// by the session's end.
    async fn refreshed_access(
        &self,
        user: &User,
        session: &Session,
        now: DateTime<Utc>,
    ) -> Result<IssuedAccess, AuthError> {
        self.issue_access(
            user,
            session,
            now,
            self.settings.access_ttl,
            &Presentation::account_id(),
        )
        .await
    }

    pub(super) fn check_live(
        &self,
        session: &Session,
        now: DateTime<Utc>,
    ) -> Result<(), AuthError> {
        if session.revoked_at.is_some() {
            Err(AuthError::Token(TokenProblem::Revoked))
        } else if !session.is_live(now, self.settings.idle_ttl) {
            Err(AuthError::Token(TokenProblem::Expired))
        } else {
            Ok(())
        }
    }

    pub(super) async fn session_user(&self, session: &Session) -> Result<User, AuthError> {
        let user = self
            .ports
            .users
            .find_by_id(session.user_id)
            .await?
            .ok_or(AuthError::Token(TokenProblem::Revoked))?;
        user.ensure_active()?;
        Ok(user)
    }
}
