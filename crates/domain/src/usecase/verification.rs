//! E-mail verification (issue 4) with the pre-hijacking rules of issue 12,
//! item 3: proving control of an address never hands a verified account to a
//! credential chosen by someone who did not prove it.
//!
//! - Codes and links are bound to the account they were issued for (its
//!   public id): a replaced or removed pending account takes them along.
//! - Link tokens are 244 random bits, opaque (no address in them), stored
//!   only as keyed fingerprints, and looked up by that fingerprint.
//! - A link opened in a browser confirms only with the account's password
//!   (the person proves both the address and the credential), and offers
//!   "this wasn't me", which removes the pending account.
//! - A verification ends every session opened before it.
//! - While `REQUIRE_VERIFIED_EMAIL` is on (or once `UNVERIFIED_ACCOUNT_TTL`
//!   has passed), an unverified account is pending: a new registration of its
//!   address replaces it, and the expiry sweep removes it.

use chrono::{DateTime, Utc};

use super::verification_link::link_binding;
use super::{AuthService, required};
use crate::clock::{Clock as _, IdSource as _};
use crate::error::AuthError;
use crate::mail::{Locale, MailKind, compose};
use crate::model::ClientInfo;
use crate::model::User;
use crate::model::{AuditEvent, AuditKind};
use crate::model::{CodePurpose, VerificationCode};
use crate::model::{EventType, PendingEvent};
use crate::ports::{
    CodeStore as _, DeferredTask, MailOutbox as _, OutgoingMail, Ports, RefreshTokenCodec as _,
    TaskQueue as _, UserDirectory as _, UserRepository as _,
};
use crate::settings::LinkKind;
use crate::validation::{Field, ValidationErrors};
use crate::values::{Email, Login, PasswordAttempt};

/// A verification mail and the code and link entries it carries, before
/// anything is stored.
pub(super) struct Issued {
    pub(super) mail: OutgoingMail,
    codes: [VerificationCode; 2],
}

impl<P: Ports> AuthService<P> {
    /// A fresh code and link for the account `public_id` (named `user_name`,
    /// address `email`), and the mail that carries them.
    pub(super) fn issue_verification(
        &self,
        user_name: &str,
        public_id: &uuid::Uuid,
        email: &Email,
        locale: Locale,
        now: DateTime<Utc>,
        link: LinkKind,
    ) -> Issued {
        let cs = self.settings.codes;
        let code = self.ports.ids.secret_digits(6);
        let token = self.ports.ids.secret_token();
        let base = &self.settings.mail.public_base_url;
        let template = self.settings.verification_links.template(link);
        let link = template.url(base, &token);
        let kind = MailKind::VerifyEmail {
            username: user_name.to_owned(),
            code: code.clone(),
            link,
            minutes: cs.ttl.num_minutes(),
        };
        let link_fp = self.ports.codec.keyed_fingerprint(&token);
        let entry = |purpose, recipient: String, fingerprint, binding| VerificationCode {
            purpose,
            recipient,
            fingerprint,
            digits: 6,
            expires_at: now + cs.ttl,
            attempts: 0,
            max_attempts: cs.max_attempts,
            binding: Some(binding),
        };
        Issued {
            mail: compose(&kind, email, locale, &self.settings.mail),
            codes: [
                entry(
                    CodePurpose::VerifyEmail,
                    email.as_str().to_owned(),
                    self.ports.codec.keyed_fingerprint(&code),
                    public_id.to_string(),
                ),
                entry(
                    CodePurpose::VerifyEmailLink,
                    link_fp.0.clone(),
                    link_fp,
                    link_binding(&template.tag, public_id, email),
                ),
            ],
        }
    }

    pub(super) async fn store_codes(&self, issued: &Issued) -> Result<(), AuthError> {
        for c in &issued.codes {
            self.ports.codes.put(c).await?;
        }
        Ok(())
    }

    /// True when `user` is a pending registration that a new registration of
    /// its address may replace and the expiry sweep may remove: its address
    /// is unverified and either unverified accounts cannot sign in
    /// (`REQUIRE_VERIFIED_EMAIL`) or it is older than `UNVERIFIED_ACCOUNT_TTL`.
    /// On the default configuration unverified accounts are ordinary accounts
    /// in use; their owner claims the address by a password reset by e-mail.
    pub(super) fn is_pending(&self, user: &User, now: DateTime<Utc>) -> bool {
        !user.email_verified
            && (self.settings.require_verified_email
                || self
                    .settings
                    .unverified_account_ttl
                    .is_some_and(|ttl| now - user.created_at >= ttl))
    }

    /// Removes a pending account: its sessions first (denied at once), then
    /// the account itself, only while its address is still unverified.
    /// `reason` goes to the audit trail (`replaced`, `not_me`, `expired`).
    pub(super) async fn remove_pending_account(
        &self,
        user: &User,
        reason: &str,
        client: &ClientInfo,
    ) -> Result<bool, AuthError> {
        self.revoke_user_sessions(user.id, None).await?;
        // Receivers were told of the account (`user.created`): they are
        // told it is gone.
        let removed = self
            .ports
            .users
            .delete_unverified(
                user.id,
                &[PendingEvent::new(EventType::UserDeleted, self.now())],
            )
            .await?;
        if removed {
            self.audit(AuditEvent {
                subject: Some(user.id),
                detail: Some(reason.to_owned()),
                ..self.event(AuditKind::PendingAccountRemoved, client)
            })
            .await;
        }
        Ok(removed)
    }

    /// Marks `user`'s address verified; when that changed something, every
    /// session opened before ends (whoever held one did not prove the address).
    ///
    /// # Errors
    /// [`AuthError::CodeInvalid`] when the account is gone (removed by a
    /// concurrent "this wasn't me" or replacement).
    pub(super) async fn confirm_address(
        &self,
        user: User,
        client: &ClientInfo,
    ) -> Result<User, AuthError> {
        if !self
            .ports
            .users
            .mark_email_verified(
                user.id,
                self.now(),
                &[PendingEvent::new(EventType::UserEmailVerified, self.now())],
            )
            .await?
        {
            return self
                .ports
                .users
                .find_by_id(user.id)
                .await?
                .filter(|u| u.email_verified)
                .ok_or(AuthError::CodeInvalid);
        }
        self.revoke_user_sessions(user.id, None).await?;
        self.audit(AuditEvent {
            subject: Some(user.id),
            ..self.event(AuditKind::EmailVerified, client)
        })
        .await;
        Ok(User {
            email_verified: true,
            ..user
        })
    }

    /// The link kind and the account `binding` names, if it still holds the address.
    pub(super) async fn bound_account(
        &self,
        binding: Option<&str>,
    ) -> Result<Option<(LinkKind, User)>, AuthError> {
        let mut parts = binding.unwrap_or_default().splitn(3, ' ');
        let (Some(style), Some(public_id), Some(email)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Ok(None);
        };
        let style = self.settings.verification_links.kind_of(style);
        let Ok(email) = Email::parse(email) else {
            return Ok(None);
        };
        Ok(self
            .ports
            .users
            .find_by_login(&Login::Email(email))
            .await?
            .filter(|u| u.public_id.to_string() == public_id)
            .map(|u| (style, u)))
    }

    /// Confirms an email address with the code that was mailed to it and the
    /// account's password (the one who reads the mail must also be the one
    /// who chose the password: issue 12, item 3). A wrong, expired,
    /// used-up or never-issued code all answer [`AuthError::CodeInvalid`]
    /// after the same store work, so neither the answer nor its time tells
    /// whether the address has a pending registration. Every session opened
    /// before the verification ends.
    ///
    /// # Errors
    /// [`AuthError::Validation`], [`AuthError::CodeInvalid`],
    /// [`AuthError::WrongPassword`], [`AuthError::TooManyRequests`],
    /// [`AuthError::Busy`], [`AuthError::Unavailable`].
    pub async fn verify_email_code(
        &self,
        email: Option<&str>,
        code: Option<&str>,
        password: Option<&str>,
        client: &ClientInfo,
    ) -> Result<User, AuthError> {
        let mut errors = ValidationErrors::new();
        let email = errors.check(Field::Email, required(email).and_then(Email::parse));
        let code = errors.check(Field::Code, required(code).map(|c| c.trim().to_owned()));
        let attempt = errors.check(
            Field::Password,
            required(password).and_then(PasswordAttempt::parse),
        );
        let (Some(email), Some(code), Some(attempt)) = (email, code, attempt) else {
            return Err(errors.into());
        };
        let checked = self
            .check_code(CodePurpose::VerifyEmail, email.as_str(), &code)
            .await;
        self.even_out_code_check(!matches!(checked, Err(AuthError::CodeExpired)))
            .await?;
        let issued = match checked {
            Ok(c) => c,
            Err(
                AuthError::CodeExpired | AuthError::CodeWrong { .. } | AuthError::CodeExhausted,
            ) => return Err(AuthError::CodeInvalid),
            Err(e) => return Err(e),
        };
        let user = self
            .ports
            .users
            .find_by_login(&Login::Email(email.clone()))
            .await?
            .filter(|u| issued.binding.as_deref() == Some(u.public_id.to_string().as_str()))
            .ok_or(AuthError::CodeInvalid)?;
        self.prove_credential(&user, &attempt, client).await?;
        self.ports
            .codes
            .take(CodePurpose::VerifyEmail, email.as_str())
            .await?
            .ok_or(AuthError::CodeInvalid)?;
        self.confirm_address(user, client).await
    }

    /// Asks for a new verification mail. The request itself only checks the
    /// address's form and the per-recipient limits (no sooner than
    /// `resend_after_secs`, at most `per_hour` an hour), which apply to every
    /// address alike, and hands the rest to the worker
    /// ([`Self::run_deferred`]): the answer and the work before it are the
    /// same for unknown, verified and unverified addresses (issue 12, item 12).
    ///
    /// # Errors
    /// [`AuthError::Validation`], [`AuthError::TooManyRequests`], [`AuthError::Unavailable`].
    pub async fn resend_verification(
        &self,
        email: Option<&str>,
        locale: Locale,
    ) -> Result<(), AuthError> {
        let email = required(email)
            .and_then(Email::parse)
            .map_err(|e| AuthError::Validation(ValidationErrors::single(Field::Email, e)))?;
        let cs = self.settings.codes;
        self.limit(format!("mail-gap:{email}"), 1, cs.resend_after_secs)
            .await?;
        self.limit(format!("mail-hour:{email}"), cs.per_hour, 3600)
            .await?;
        self.ports
            .tasks
            .defer(DeferredTask::ResendVerification { email, locale })?;
        Ok(())
    }

    /// Runs every deferred task queued so far (the server's worker calls this
    /// every 100 ms; an embedder calls it from its own loop). Returns how many
    /// ran; a task whose store fails is logged by the adapter's error and dropped
    /// (a resend the person can ask for again).
    pub async fn run_deferred(&self) -> usize {
        let tasks = self.ports.tasks.take_ready();
        let n = tasks.len();
        for task in tasks {
            let _ = self.perform(task).await;
        }
        n
    }

    /// Does one deferred task.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`] when a store fails.
    pub async fn perform(&self, task: DeferredTask) -> Result<(), AuthError> {
        match task {
            DeferredTask::ResendVerification { email, locale } => {
                let Some(user) = self.ports.users.find_by_login(&Login::Email(email)).await? else {
                    return Ok(());
                };
                if user.email_verified {
                    return Ok(());
                }
                let now = self.now();
                let issued = self.issue_verification(
                    user.username.as_str(),
                    &user.public_id,
                    &user.email,
                    locale,
                    now,
                    LinkKind::Page,
                );
                self.store_codes(&issued).await?;
                self.ports.outbox.enqueue(&issued.mail, now).await?;
                Ok(())
            }
            DeferredTask::SendSignInCode { login, locale } => {
                self.send_sign_in_code(&login, locale).await
            }
        }
    }

    /// Removes up to 100 accounts whose address stayed unverified longer
    /// than `UNVERIFIED_ACCOUNT_TTL` (nothing when it is off); returns how
    /// many. The server's worker calls this every minute.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`] when a store fails.
    pub async fn expire_unverified_accounts(&self) -> Result<usize, AuthError> {
        let Some(ttl) = self.settings.unverified_account_ttl else {
            return Ok(0);
        };
        let now = self.ports.clock.now();
        let mut removed = 0;
        for id in self.ports.users.unverified_before(now - ttl, 100).await? {
            if let Some(user) = self.ports.users.find_by_id(id).await?
                && self
                    .remove_pending_account(&user, "expired", &ClientInfo::without_peer(None))
                    .await?
            {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usecase::verification_link::well_formed;
    use crate::validation::FieldIssue;

    #[test]
    fn link_tokens_are_64_hex_digits() {
        let token = "ab".repeat(32);
        assert_eq!(well_formed(&format!(" {token} ")), Some(token.as_str()));
        assert!(well_formed("short").is_none());
        assert!(well_formed(&format!("{}zz", "a".repeat(62))).is_none());
    }

    #[test]
    fn a_link_binding_names_the_account_and_its_address() {
        let id = uuid::Uuid::nil();
        let email = Email::parse("a.b+c@example.com").unwrap();
        assert_eq!(
            link_binding("direct", &id, &email),
            "direct 00000000-0000-0000-0000-000000000000 a.b+c@example.com"
        );
    }

    #[test]
    fn field_issue_for_missing_password_is_required() {
        assert_eq!(required(None), Err(FieldIssue::Required));
    }
}
