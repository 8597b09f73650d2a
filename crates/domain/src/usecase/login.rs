//! Logging in, as steps: [`AuthService::verify_credentials`] checks what
//! the client sent and answers a [`LoginStep`]: either the login is done
//! (a session is open) or a second factor must follow. Opening the session
//! once every step passed is its own use case, [`AuthService::finish_login`].
//!
//! **Second factors** (issue 17). `verify_credentials` ends in
//! `next_step` (in `second_factor.rs`), the one place that decides what
//! follows a verified credential: an account without a second factor goes
//! straight to `finish_login`; an account with one gets what the password
//! step established kept under a challenge and the caller gets
//! [`LoginStep::SecondFactor`]; [`AuthService::verify_second_factor`]
//! checks the factor, adds its method to the authentication and calls
//! `finish_login`. Passkeys or an upstream assertion enter the same way:
//! another credential check that yields [`VerifiedCredentials`].

use chrono::Duration;

use super::throttle::{CheckKind, CheckOutcome};
use super::{AuthService, required};
use crate::error::AuthError;
use crate::model::{AuditEvent, AuditKind};
use crate::model::{Authentication, FactorKind, PasswordHash, User};
use crate::model::{ClientInfo, Session};
use crate::model::{TokenIdentity, TokenPair};
use crate::ports::{PasswordHasher, Ports, UserRepository};
use crate::secret::Secret;
use crate::validation::Field;
use crate::validation::ValidationErrors;
use crate::values::{Login, PasswordAttempt, PasswordInput};

/// A successful login.
#[derive(Debug, Clone)]
pub struct LoginOutcome {
    /// Who logged in.
    pub user: User,
    /// The new session.
    pub session: Session,
    /// Its tokens.
    pub tokens: TokenPair,
    /// The recovery codes of a factor enrolled to finish this login
    /// ([`SecondFactorChallenge::enrolment`]): shown once, here.
    pub recovery_codes: Option<super::RecoveryCodes>,
}

/// What a login asks for besides the credentials: the shape of its tokens
/// and whether only administrators may have them (issue 13, items 11, 12).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoginTerms {
    /// Access-token lifetime; `None` for [`AuthSettings::access_ttl`](crate::settings::AuthSettings::access_ttl)
    /// (dialects whose clients cannot refresh ask for longer).
    pub access_ttl: Option<Duration>,
    /// How the tokens name the account in `sub`.
    pub identity: TokenIdentity,
    /// An administrator login: only an account
    /// holding one of [`AuthSettings::admin_login_roles`](crate::settings::AuthSettings::admin_login_roles) succeeds. Any
    /// other account is refused as a wrong password is (same error, same
    /// work, counted by the login throttle) before a session is opened. The
    /// tokens say so in [`GrantClaims::admin_mode`](crate::model::GrantClaims::admin_mode) (written with the
    /// [`TokenIdentity::Email`] identity).
    pub admin_mode: bool,
}

/// What follows a credential check.
#[derive(Debug, Clone)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)] // a login is rare; boxing buys nothing
pub enum LoginStep {
    /// The login is complete: a session is open.
    Done(LoginOutcome),
    /// The credentials were right, and a second factor must follow before
    /// a session opens (issue 17 adds the factors).
    SecondFactor(SecondFactorChallenge),
}

impl LoginStep {
    /// The outcome of a completed login.
    ///
    /// # Errors
    /// [`AuthError::SecondFactorRequired`] when a second factor must follow.
    pub fn done(self) -> Result<LoginOutcome, AuthError> {
        match self {
            Self::Done(outcome) => Ok(outcome),
            Self::SecondFactor(_) => Err(AuthError::SecondFactorRequired),
        }
    }
}

/// A login waiting for its second factor
/// ([`AuthService::verify_second_factor`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SecondFactorChallenge {
    /// The waiting login's id (the first part of [`Self::token`]).
    pub id: uuid::Uuid,
    /// The `mfa_token` the client answers with: `<id>.<secret>`.
    pub token: Secret,
    /// The kinds of factor the account may answer with.
    pub factors: Vec<FactorKind>,
    /// The account holds a role of `MFA_REQUIRED_ROLES` and has no second
    /// factor yet: `factors` are the kinds it may enrol (TOTP, passkey), and
    /// the login finishes once one is enrolled with this challenge
    /// ([`AuthService::begin_required_totp_enrolment`],
    /// [`AuthService::begin_required_passkey_enrolment`], then
    /// [`AuthService::verify_second_factor`] with the first code or the
    /// passkey's registration).
    pub enrolment: bool,
    /// When the waiting login lapses.
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

impl SecondFactorChallenge {
    /// Seconds from `now` until the challenge lapses (at least 0).
    #[must_use]
    pub fn expires_in_secs(&self, now: chrono::DateTime<chrono::Utc>) -> i64 {
        (self.expires_at - now).num_seconds().max(0)
    }
}

/// Credentials that were checked: who, how and when. Only the domain makes
/// one (a credential check); [`AuthService::finish_login`] turns it into a
/// session.
#[derive(Debug, Clone)]
pub struct VerifiedCredentials {
    user: User,
    /// The identifier as sent, trimmed to 100 characters (for the audit trail).
    identifier: String,
    /// The hash this login stored when it upgraded an outdated one.
    rehashed: Option<PasswordHash>,
    authentication: Authentication,
}

impl VerifiedCredentials {
    /// The account.
    #[must_use]
    pub fn user(&self) -> &User {
        &self.user
    }

    /// How and when the account authenticated so far.
    #[must_use]
    pub fn authentication(&self) -> &Authentication {
        &self.authentication
    }

    /// The password hash the store holds now: the one the login upgraded
    /// it to, else the one it was loaded with.
    pub(super) fn stored_hash(&self) -> &PasswordHash {
        self.rehashed.as_ref().unwrap_or(&self.user.password_hash)
    }

    /// The credentials of a sign-in through an upstream provider (issue 19):
    /// `user` as found by its linked identity or address.
    pub(super) fn upstream(user: User, authentication: Authentication) -> Self {
        Self {
            identifier: user.username.as_str().to_owned(),
            user,
            rehashed: None,
            authentication,
        }
    }

    /// The credentials of a sign-in by a one-time code (issue 20): `user`
    /// as the code's identifier names it, `identifier` as sent (trimmed to
    /// 100 characters).
    pub(super) fn sign_in_code(
        user: User,
        identifier: String,
        authentication: Authentication,
    ) -> Self {
        Self {
            identifier,
            user,
            rehashed: None,
            authentication,
        }
    }

    /// The credentials of a login whose second factor passed: `user` as
    /// read again after the check, authenticated as `authentication` says.
    pub(super) fn after_second_factor(user: User, authentication: Authentication) -> Self {
        Self {
            identifier: user.username.as_str().to_owned(),
            user,
            rehashed: None,
            authentication,
        }
    }
}

impl<P: Ports> AuthService<P> {
    /// Checks an identifier (username, e-mail address or phone number) and a
    /// password, read as `password` says, and answers what follows
    /// ([`LoginStep`]). `terms` shape the tokens (lifetime, identity) and may
    /// ask for an administrator login.
    ///
    /// Unknown users and wrong passwords give the same error after the same
    /// work (verifications against a dummy hash), counted by the login
    /// throttle; so does an administrator login by an account without an
    /// administrator role.
    ///
    /// # Errors
    /// [`AuthError::Validation`] ([`Field::Username`], [`Field::Password`])
    /// when a field is missing, [`AuthError::TooManyRequests`],
    /// [`AuthError::InvalidCredentials`], [`AuthError::AccountDisabled`],
    /// [`AuthError::EmailNotVerified`], [`AuthError::Busy`],
    /// [`AuthError::Unavailable`].
    pub async fn verify_credentials(
        &self,
        identifier: &str,
        password: PasswordInput<'_>,
        client: ClientInfo,
        terms: LoginTerms,
    ) -> Result<LoginStep, AuthError> {
        let mut errors = ValidationErrors::new();
        let identifier = errors.check(Field::Username, required(Some(identifier)));
        let attempts = errors.check(Field::Password, password.attempts());
        let (Some(identifier), Some(attempts)) = (identifier, attempts) else {
            return Err(errors.into());
        };
        let verified = self
            .check_password(identifier, &attempts, &client, terms)
            .await?;
        self.next_step(verified, client, terms).await
    }

    /// Checks the password `attempts` for `identifier` under the login
    /// throttle (see [`Self::verify_credentials`]).
    async fn check_password(
        &self,
        identifier: &str,
        attempts: &[PasswordAttempt],
        client: &ClientInfo,
        terms: LoginTerms,
    ) -> Result<VerifiedCredentials, AuthError> {
        let admitted = match self
            .admit_password_check(CheckKind::Login, identifier, client.ip.as_deref())
            .await
        {
            Ok(admitted) => admitted,
            Err(e) => {
                self.audit(self.event(AuditKind::LoginThrottled, client))
                    .await;
                return Err(e);
            }
        };
        let matched = self
            .match_password(identifier, attempts, client, terms)
            .await;
        let outcome = match &matched {
            Ok(Some(_)) => CheckOutcome::Succeeded,
            Ok(None) => CheckOutcome::Failed,
            Err(_) => CheckOutcome::Abandoned,
        };
        self.end_password_check(admitted, outcome).await?;
        let Some((user, attempt)) = matched? else {
            return Err(AuthError::InvalidCredentials);
        };
        let failed = |reason: &str| AuditEvent {
            subject: Some(user.id),
            identifier: Some(identifier.trim().chars().take(100).collect()),
            detail: Some(reason.to_owned()),
            ..self.event(AuditKind::LoginFailed, client)
        };
        if let Err(e) = user.ensure_active() {
            self.audit(failed("account_disabled")).await;
            return Err(e);
        }
        if self.settings.require_verified_email && !user.email_verified {
            self.audit(failed("email_not_verified")).await;
            return Err(AuthError::EmailNotVerified);
        }
        let mut rehashed = None;
        if self.ports.hasher.needs_rehash(&user.password_hash) {
            // Imported or outdated hashes become current argon2id at
            // the first successful login of an active (and, when required,
            // verified) account, never before those checks. Best effort: if it fails now, the
            // next login tries again; the login itself succeeds either way.
            if let Ok(hash) = self.ports.hasher.hash(attempt).await
                && self
                    .ports
                    .users
                    .update_password(user.id, &hash, self.now(), None, &[])
                    .await
                    .is_ok()
            {
                rehashed = Some(hash);
            }
        }
        Ok(VerifiedCredentials {
            identifier: identifier.trim().chars().take(100).collect(),
            authentication: Authentication::password(self.now()),
            user,
            rehashed,
        })
    }

    /// The account `identifier` names and the first of `attempts` that is
    /// its password, or `None` (audited) when the account is unknown, no
    /// attempt matches, or an administrator login names an account without
    /// an administrator role — each answered alike, with the same work.
    ///
    /// # Errors
    /// [`AuthError::Busy`], [`AuthError::Unavailable`], [`AuthError::Internal`].
    async fn match_password<'a>(
        &self,
        identifier: &str,
        attempts: &'a [PasswordAttempt],
        client: &ClientInfo,
        terms: LoginTerms,
    ) -> Result<Option<(User, &'a PasswordAttempt)>, AuthError> {
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
            self.audit(AuditEvent {
                detail: Some("unknown_account".into()),
                ..self.event(AuditKind::LoginFailed, client)
            })
            .await;
            return Ok(None);
        };
        let failed = |reason: &str| AuditEvent {
            subject: Some(user.id),
            identifier: Some(identifier.trim().chars().take(100).collect()),
            detail: Some(reason.to_owned()),
            ..self.event(AuditKind::LoginFailed, client)
        };
        let Some(attempt) = self.matching_attempt(&user.password_hash, attempts).await? else {
            self.audit(failed("wrong_password")).await;
            return Ok(None);
        };
        // Issue 13, item 11: an account without an administrator role gets
        // the wrong-password answer, counted as a failure, and no session.
        if terms.admin_mode && !self.is_administrator(&user) {
            self.audit(failed("not_an_administrator")).await;
            return Ok(None);
        }
        Ok(Some((user, attempt)))
    }

    /// Opens the session of a login whose every step passed, with tokens
    /// shaped by `terms` and carrying how and when the account authenticated
    /// (`amr`, `acr`, `auth_time`).
    ///
    /// A password change, reset or claim, or a disabling, that ran while the
    /// credentials were checked ended every session it found, but this one
    /// may open just after: the account is read again, and when its password
    /// or status moved on, the new session ends too and the answer is the
    /// wrong-password one.
    ///
    /// # Errors
    /// [`AuthError::InvalidCredentials`] (see above),
    /// [`AuthError::Unavailable`], [`AuthError::Internal`].
    pub async fn finish_login(
        &self,
        verified: VerifiedCredentials,
        client: ClientInfo,
        terms: LoginTerms,
    ) -> Result<LoginOutcome, AuthError> {
        let VerifiedCredentials {
            user,
            identifier,
            rehashed,
            authentication,
        } = verified;
        let failed = |reason: &str| AuditEvent {
            subject: Some(user.id),
            identifier: Some(identifier.clone()),
            detail: Some(reason.to_owned()),
            ..self.event(AuditKind::LoginFailed, &client)
        };
        let succeeded = AuditEvent {
            actor: Some(user.id),
            subject: Some(user.id),
            identifier: Some(identifier.clone()),
            ..self.event(AuditKind::LoginSucceeded, &client)
        };
        let superseded = failed("credentials_changed_during_login");
        let (session, tokens) = self
            .open_session(&user, client.clone(), terms, authentication)
            .await?;
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
            recovery_codes: None,
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
        // An account without a password (issue 19) matches no attempt,
        // after the same work as a wrong one.
        let none = hash.is_none();
        let hash = if none {
            self.ports.hasher.dummy_hash()
        } else {
            hash
        };
        for attempt in attempts {
            if self.ports.hasher.verify(attempt, hash).await? && !none {
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

    /// True when `user` holds one of [`AuthSettings::admin_login_roles`](crate::settings::AuthSettings::admin_login_roles).
    pub(super) fn is_administrator(&self, user: &User) -> bool {
        self.settings
            .admin_login_roles
            .iter()
            .any(|r| user.has_role(r.as_str()))
    }
}
