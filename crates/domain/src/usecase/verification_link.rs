//! Verification links: previewing, confirming (with the password) and
//! rejecting the link of a verification mail.

use chrono::{DateTime, Utc};

use super::throttle::{CheckKind, CheckOutcome};
use super::{AuthService, required};
use crate::error::AuthError;
use crate::model::ClientInfo;
use crate::model::TokenFingerprint;
use crate::model::User;
use crate::model::{CodePurpose, VerificationCode, constant_time_eq};
use crate::ports::{CodeStore as _, Ports, RefreshTokenCodec as _};
use crate::settings::LinkKind;
use crate::validation::{Field, ValidationErrors};
use crate::values::{Email, PasswordAttempt};

/// What a verification link confirms, shown on its page before anyone acts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkPreview {
    /// The address the link confirms.
    pub email: Email,
    /// The account it confirms it for.
    pub username: String,
    /// When that account was registered.
    pub registered_at: DateTime<Utc>,
    /// Whether the address is confirmed already.
    pub already_verified: bool,
    /// Whether the account is a pending registration that "this wasn't me"
    /// may remove (else its address's owner claims it by a password reset).
    pub pending: bool,
}

/// What opening a [`crate::settings::LinkKind::Direct`] verification link did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "built once per request and matched at once; boxing buys nothing"
)]
pub enum VerifyLinkOutcome {
    /// The address is now confirmed (code 0).
    Verified(User),
    /// It was confirmed before, by this link (code 3).
    AlreadyVerified,
}

/// What a used link leaves behind, so that a second click can say "already verified".
pub(super) fn used_marker(token: &str) -> String {
    format!("used:{token}")
}

/// The binding of a link entry: the tag of the link's kind
/// ([`crate::settings::LinkTemplate::tag`]), the account's public id and its
/// address.
pub(super) fn link_binding(tag: &str, user_public_id: &uuid::Uuid, email: &Email) -> String {
    format!("{tag} {user_public_id} {email}")
}

/// The recipient key under which a code that stands in for a missing one
/// lives (never an address: it has no `@`).
pub(super) const STAND_IN: &str = "-stand-in-";

/// A recipient key under which no code ever lives.
pub(super) const ABSENT: &str = "-absent-";

/// A link token as it may arrive: 64 hex digits (anything else is unknown).
pub(super) fn well_formed(token: &str) -> Option<&str> {
    let t = token.trim();
    (t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())).then_some(t)
}

/// A live link entry and the account it is bound to.
pub(super) struct LinkTarget {
    token: String,
    entry: VerificationCode,
    used: bool,
    style: LinkKind,
    user: User,
}

impl<P: Ports> AuthService<P> {
    /// The link entry of `token` and its account.
    ///
    /// # Errors
    /// [`AuthError::CodeExpired`] for an unknown, malformed or expired token;
    /// [`AuthError::UserNotFound`] when its account was replaced or removed.
    pub(super) async fn link_target(&self, token: &str) -> Result<LinkTarget, AuthError> {
        let token = well_formed(token).ok_or(AuthError::CodeExpired)?;
        let key = self.ports.codec.keyed_fingerprint(token);
        let entry = self
            .ports
            .codes
            .get(CodePurpose::VerifyEmailLink, &key.0)
            .await?
            .ok_or(AuthError::CodeExpired)?;
        let marker: TokenFingerprint = self.ports.codec.keyed_fingerprint(&used_marker(token));
        let used = constant_time_eq(marker.0.as_bytes(), entry.fingerprint.0.as_bytes());
        if !used && !constant_time_eq(key.0.as_bytes(), entry.fingerprint.0.as_bytes()) {
            return Err(AuthError::CodeExpired);
        }
        let (style, user) = self
            .bound_account(entry.binding.as_deref())
            .await?
            .ok_or(AuthError::UserNotFound)?;
        Ok(LinkTarget {
            token: token.to_owned(),
            entry,
            used,
            style,
            user,
        })
    }

    /// Spends a live link, atomically: of concurrent callers exactly one gets
    /// true (it took the live entry); the link then only answers "already
    /// verified", and the account's code goes with it.
    pub(super) async fn spend_link(&self, target: &LinkTarget) -> Result<bool, AuthError> {
        let live = self
            .ports
            .codes
            .take(CodePurpose::VerifyEmailLink, &target.entry.recipient)
            .await?
            .is_some_and(|e| {
                constant_time_eq(
                    e.fingerprint.0.as_bytes(),
                    target.entry.recipient.as_bytes(),
                )
            });
        if !live {
            return Ok(false);
        }
        self.ports
            .codes
            .take(CodePurpose::VerifyEmail, target.user.email.as_str())
            .await?;
        self.ports
            .codes
            .put(&VerificationCode {
                fingerprint: self
                    .ports
                    .codec
                    .keyed_fingerprint(&used_marker(&target.token)),
                attempts: 0,
                ..target.entry.clone()
            })
            .await?;
        Ok(true)
    }

    /// What the link of `token` would confirm, for its page (nothing changes).
    ///
    /// # Errors
    /// [`AuthError::CodeExpired`] for an unknown, used or expired token,
    /// [`AuthError::UserNotFound`] when its account is gone, [`AuthError::Unavailable`].
    pub async fn preview_verification_link(&self, token: &str) -> Result<LinkPreview, AuthError> {
        let target = self.link_target(token).await?;
        if target.used {
            return Err(AuthError::CodeExpired);
        }
        Ok(LinkPreview {
            email: target.user.email.clone(),
            username: target.user.username.as_str().to_owned(),
            registered_at: target.user.created_at,
            already_verified: target.user.email_verified,
            pending: self.is_pending(&target.user, self.now()),
        })
    }

    /// Checks the throttle of the account's username at this IP, then that
    /// `attempt` is the account's password; a wrong one counts in the
    /// throttle (the same as a failed login).
    pub(super) async fn prove_credential(
        &self,
        user: &User,
        attempt: &PasswordAttempt,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        let admitted = self
            .admit_password_check(
                CheckKind::Reproof,
                user.username.as_str(),
                client.ip.as_deref(),
            )
            .await?;
        let verified = self
            .matching_attempt(&user.password_hash, std::slice::from_ref(attempt))
            .await
            .map(|m| m.is_some());
        let outcome = match verified {
            Ok(true) => CheckOutcome::Succeeded,
            Ok(false) => CheckOutcome::Failed,
            Err(_) => CheckOutcome::Abandoned,
        };
        self.end_password_check(admitted, outcome).await?;
        if verified? {
            Ok(())
        } else {
            Err(AuthError::WrongPassword)
        }
    }

    /// Confirms an address with its link and the account's password: the
    /// person proves both that they read the mail and that they chose the
    /// credential (the link's page posts the token and the password). Wrong passwords count in the login throttle of the
    /// account's username and the client's IP. Of concurrent uses of one link
    /// exactly one succeeds. Every session opened before the verification ends.
    ///
    /// # Errors
    /// [`AuthError::Validation`] without a token or password,
    /// [`AuthError::CodeInvalid`] for an unknown, used or expired token or a
    /// replaced account, [`AuthError::WrongPassword`],
    /// [`AuthError::TooManyRequests`], [`AuthError::Busy`], [`AuthError::Unavailable`].
    pub async fn confirm_verification_link(
        &self,
        token: Option<&str>,
        password: Option<&str>,
        client: &ClientInfo,
    ) -> Result<User, AuthError> {
        let mut errors = ValidationErrors::new();
        let token = errors.check(Field::Token, required(token));
        let attempt = errors.check(
            Field::Password,
            required(password).and_then(PasswordAttempt::parse),
        );
        let (Some(token), Some(attempt)) = (token, attempt) else {
            return Err(errors.into());
        };
        let target = match self.link_target(token).await {
            Err(AuthError::UserNotFound | AuthError::CodeExpired) => {
                return Err(AuthError::CodeInvalid);
            }
            other => other?,
        };
        if target.used {
            return Err(AuthError::CodeInvalid);
        }
        self.prove_credential(&target.user, &attempt, client)
            .await?;
        if !self.spend_link(&target).await? {
            return Err(AuthError::CodeInvalid);
        }
        self.confirm_address(target.user, client).await
    }

    /// "This wasn't me": the person who holds the link (and so the address)
    /// did not register the account; the pending account is removed with its
    /// sessions, codes and links, and the address is free again. Only for a
    /// pending registration (`Self::is_pending`); an unverified account in
    /// use is claimed by a password reset by e-mail instead. Of concurrent
    /// uses of one link exactly one succeeds.
    ///
    /// # Errors
    /// [`AuthError::CodeInvalid`] for an unknown, used or expired token, a
    /// replaced account or a verified one; [`AuthError::Unavailable`].
    pub async fn reject_verification_link(
        &self,
        token: Option<&str>,
        client: &ClientInfo,
    ) -> Result<Email, AuthError> {
        let token = required(token)
            .map_err(|e| AuthError::Validation(ValidationErrors::single(Field::Token, e)))?;
        let target = match self.link_target(token).await {
            Err(AuthError::UserNotFound | AuthError::CodeExpired) => {
                return Err(AuthError::CodeInvalid);
            }
            other => other?,
        };
        // Only a pending registration goes; an unverified account in use on
        // the default configuration is claimed by a password reset instead.
        if target.used
            || !self.is_pending(&target.user, self.now())
            || !self.spend_link(&target).await?
        {
            return Err(AuthError::CodeInvalid);
        }
        if !self
            .remove_pending_account(&target.user, "not_me", client)
            .await?
        {
            return Err(AuthError::CodeInvalid);
        }
        Ok(target.user.email)
    }

    /// Opening a [`crate::settings::LinkKind::Direct`] link, where the
    /// deployment opted in: confirms the address on open, for links of that
    /// kind only (a [`crate::settings::LinkKind::Page`] link always needs
    /// the password);
    /// every session opened before ends. By default the HTTP layer shows the
    /// link's page instead, which confirms only with the account's password.
    ///
    /// # Errors
    /// [`AuthError::CodeExpired`] for an unknown, malformed, expired or
    /// [`crate::settings::LinkKind::Page`] token (code 1), [`AuthError::UserNotFound`] when the
    /// account is gone (code 2), [`AuthError::Unavailable`].
    pub async fn verify_email_link(
        &self,
        token: &str,
        client: &ClientInfo,
    ) -> Result<VerifyLinkOutcome, AuthError> {
        let target = self.link_target(token).await?;
        if target.style != LinkKind::Direct {
            return Err(AuthError::CodeExpired);
        }
        if target.used || target.user.email_verified || !self.spend_link(&target).await? {
            return Ok(VerifyLinkOutcome::AlreadyVerified);
        }
        Ok(VerifyLinkOutcome::Verified(
            self.confirm_address(target.user, client).await?,
        ))
    }
}
