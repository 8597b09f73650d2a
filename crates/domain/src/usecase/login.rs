//! Logging in with an identifier and a password.

use chrono::Duration;

use super::{AuthService, required};
use crate::error::AuthError;
use crate::model::User;
use crate::model::{AuditEvent, AuditKind};
use crate::model::{ClientInfo, Session};
use crate::model::{TokenIdentity, TokenPair};
use crate::ports::{PasswordHasher, Ports, UserRepository};
use crate::validation::ValidationErrors;
use crate::values::{Login, PasswordAttempt};

/// A successful login.
#[derive(Debug, Clone)]
pub struct LoginOutcome {
    /// Who logged in.
    pub user: User,
    /// The new session.
    pub session: Session,
    /// Its tokens.
    pub tokens: TokenPair,
}

/// What a login asks for besides the credentials: the shape of its tokens
/// and whether only administrators may have them (issue 13, items 11, 12).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoginTerms {
    /// Access-token lifetime; `None` for [`AuthSettings::access_ttl`]
    /// (dialects whose clients cannot refresh ask for longer).
    pub access_ttl: Option<Duration>,
    /// How the tokens name the account in `sub` (seed 001's routes read the
    /// address, seed 003's the id).
    pub identity: TokenIdentity,
    /// An administrator login (seed 001's `/Admin/Login`): only an account
    /// holding one of [`AuthSettings::admin_login_roles`] succeeds. Any
    /// other account is refused as a wrong password is (same error, same
    /// work, counted by the login throttle) before a session is opened. The
    /// tokens say so in [`GrantClaims::admin_mode`] (written with the
    /// [`TokenIdentity::Email`] identity).
    pub admin_mode: bool,
}

impl<P: Ports> AuthService<P> {
    /// Logs in with a username, email or phone and a password, opening a new session.
    ///
    /// Unknown users and wrong passwords give the same error after the same
    /// work (a verification against a dummy hash).
    ///
    /// # Errors
    /// [`AuthError::Validation`] when a field is missing, [`AuthError::InvalidCredentials`],
    /// [`AuthError::AccountDisabled`], [`AuthError::Busy`], [`AuthError::Unavailable`].
    pub async fn login(
        &self,
        identifier: &str,
        password: &str,
        client: ClientInfo,
    ) -> Result<LoginOutcome, AuthError> {
        let mut errors = ValidationErrors::new();
        let identifier = errors.check("username", required(Some(identifier)));
        let attempt = errors.check("password", PasswordAttempt::parse(password));
        let (Some(identifier), Some(attempt)) = (identifier, attempt) else {
            return Err(errors.into());
        };
        self.login_with(identifier, &[attempt], client, LoginTerms::default())
            .await
    }

    /// Logs in with the first of `attempts` that matches (seed 001 sends a
    /// password or its SM3 digest; both are tried). Unknown users cost the
    /// same verifications against the dummy hash. `terms` shape the tokens
    /// (lifetime, identity) and may ask for an administrator login.
    ///
    /// # Errors
    /// As [`Self::login`]; an administrator login by an account without an
    /// administrator role is [`AuthError::InvalidCredentials`].
    pub async fn login_with(
        &self,
        identifier: &str,
        attempts: &[PasswordAttempt],
        client: ClientInfo,
        terms: LoginTerms,
    ) -> Result<LoginOutcome, AuthError> {
        let throttle = self.throttle_keys(identifier, client.ip.as_deref());
        if let Err(e) = self.check_throttle(&throttle).await {
            self.audit(self.event(AuditKind::LoginThrottled, &client))
                .await;
            return Err(e);
        }
        // An identifier that cannot name any account (for example "ab") is
        // answered exactly like an unknown one.
        let user = match Login::parse(identifier, self.settings.phone_region) {
            Ok(login) => self.ports.users.find_by_login(&login).await?,
            Err(_) => None,
        };
        let Some(user) = user else {
            for attempt in attempts {
                let _ = self
                    .ports
                    .hasher
                    .verify(attempt, self.ports.hasher.dummy_hash())
                    .await?;
            }
            self.record_login_failure(&throttle).await?;
            self.audit(AuditEvent {
                detail: Some("unknown_account".into()),
                ..self.event(AuditKind::LoginFailed, &client)
            })
            .await;
            return Err(AuthError::InvalidCredentials);
        };
        let failed = |reason: &str| AuditEvent {
            subject: Some(user.id),
            identifier: Some(identifier.trim().chars().take(100).collect()),
            detail: Some(reason.to_owned()),
            ..self.event(AuditKind::LoginFailed, &client)
        };
        let Some(attempt) = self.matching_attempt(&user.password_hash, attempts).await? else {
            self.record_login_failure(&throttle).await?;
            self.audit(failed("wrong_password")).await;
            return Err(AuthError::InvalidCredentials);
        };
        // Issue 13, item 11: an account without an administrator role gets
        // the wrong-password answer, counted as a failure, and no session.
        if terms.admin_mode && !self.is_administrator(&user) {
            self.record_login_failure(&throttle).await?;
            self.audit(failed("not_an_administrator")).await;
            return Err(AuthError::InvalidCredentials);
        }
        self.clear_login_failures(&throttle).await?;
        let mut rehashed = None;
        if self.ports.hasher.needs_rehash(&user.password_hash) {
            // Imported (legacy) or outdated hashes become current argon2id at
            // the first successful login. Best effort: if it fails now, the
            // next login tries again; the login itself succeeds either way.
            if let Ok(hash) = self.ports.hasher.hash(attempt).await
                && self
                    .ports
                    .users
                    .update_password(user.id, &hash, self.now(), None)
                    .await
                    .is_ok()
            {
                rehashed = Some(hash);
            }
        }
        if !user.is_active {
            self.audit(failed("account_disabled")).await;
            return Err(AuthError::AccountDisabled);
        }
        if self.settings.require_verified_email && !user.email_verified {
            self.audit(failed("email_not_verified")).await;
            return Err(AuthError::EmailNotVerified);
        }
        let succeeded = AuditEvent {
            actor: Some(user.id),
            subject: Some(user.id),
            identifier: Some(identifier.trim().chars().take(100).collect()),
            ..self.event(AuditKind::LoginSucceeded, &client)
        };
        let superseded = failed("credentials_changed_during_login");
        let (session, tokens) = self.open_session_for(&user, client, terms).await?;
        // A password change, reset or claim, or a disabling, that ran while
        // this login was verifying the old password ended every session it
        // found, but this one may have been opened just after. The account
        // is read again: when its password or status moved on, the new
        // session ends too and the answer is the wrong-password one.
        if !self.credentials_unchanged(&user, rehashed.as_ref()).await? {
            self.revoke_sessions(&[session.id], self.now()).await?;
            self.audit(superseded).await;
            return Err(AuthError::InvalidCredentials);
        }
        self.audit(AuditEvent {
            detail: Some(format!("session {}", session.id.0)),
            ..succeeded
        })
        .await;
        Ok(LoginOutcome {
            user,
            session,
            tokens,
        })
    }

    /// The first of `attempts` that `hash` verifies (on the hasher's
    /// threads, never on the executor), if any.
    ///
    /// # Errors
    /// [`AuthError::Busy`] when the hasher is saturated, [`AuthError::Internal`].
    pub(crate) async fn matching_attempt<'a>(
        &self,
        hash: &crate::model::PasswordHash,
        attempts: &'a [PasswordAttempt],
    ) -> Result<Option<&'a PasswordAttempt>, AuthError> {
        for attempt in attempts {
            if self.ports.hasher.verify(attempt, hash).await? {
                return Ok(Some(attempt));
            }
        }
        Ok(None)
    }

    /// Whether `user`, as a login loaded it, still holds the same password
    /// (or the `rehashed` form this login stored) and is still active.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`].
    pub(super) async fn credentials_unchanged(
        &self,
        user: &User,
        rehashed: Option<&crate::model::PasswordHash>,
    ) -> Result<bool, AuthError> {
        Ok(self
            .ports
            .users
            .find_by_id(user.id)
            .await?
            .is_some_and(|now| {
                now.is_active
                    && (now.password_hash == user.password_hash
                        || Some(&now.password_hash) == rehashed)
            }))
    }

    /// True when `user` holds one of [`AuthSettings::admin_login_roles`].
    pub(super) fn is_administrator(&self, user: &User) -> bool {
        self.settings
            .admin_login_roles
            .iter()
            .any(|r| user.has_role(r.as_str()))
    }
}
