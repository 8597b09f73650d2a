//! Password reset: a code sent by mail or SMS to the
//! account's own contact, then the code and a new password.

use super::{AuthService, required};
use crate::error::AuthError;
use crate::mail::{Locale, MailKind, compose};
use crate::model::ClientInfo;
use crate::model::CodePurpose;
use crate::model::{AuditEvent, AuditKind};
use crate::model::{EventType, PendingEvent};
use crate::model::{PasswordHash, User};
use crate::ports::{
    CodeStore, FactorStore as _, MailOutbox, PasswordHasher as _, Ports, SmsSender, UserRepository,
};
use crate::validation::{Field, FieldIssue, ValidationErrors};
use crate::values::{Email, Login, PasswordInput, Phone};

/// Where the code goes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Contact {
    Email(Email),
    Phone(Phone),
}

impl Contact {
    fn kind(&self) -> &'static str {
        match self {
            Self::Email(_) => "email",
            Self::Phone(_) => "phone",
        }
    }

    fn key(&self) -> &str {
        match self {
            Self::Email(e) => e.as_str(),
            Self::Phone(p) => p.as_str(),
        }
    }
}

/// A code was issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetIssued {
    /// Seconds until the code expires .
    pub expires_in: i64,
    /// The code itself, only when `expose_debug_codes` is on (development).
    pub debug_code: Option<String>,
}

/// The fields of a reset request, as received.
#[derive(Debug, Clone, Copy, Default)]
pub struct ResetForm<'a> {
    /// `identifier`: username, email or phone.
    pub identifier: Option<&'a str>,
    /// `channel`: `email` or `phone`.
    pub channel: Option<&'a str>,
    /// `contact`: the account's email or phone.
    pub contact: Option<&'a str>,
    /// Where the request came from (for the audit trail).
    pub client: Option<&'a ClientInfo>,
}

impl<P: Ports> AuthService<P> {
    /// Finds the account and checks that `contact` is its own, collecting field errors.
    async fn reset_target(
        &self,
        form: ResetForm<'_>,
        errors: &mut ValidationErrors,
    ) -> Result<Option<(User, Contact)>, AuthError> {
        let identifier = errors.check(
            Field::Identifier,
            required(form.identifier).map(str::to_owned),
        );
        let contact = match form.channel.map(str::trim) {
            Some("email") => errors.check(
                Field::Contact,
                required(form.contact)
                    .and_then(Email::parse)
                    .map(Contact::Email),
            ),
            Some("phone") => errors.check(
                Field::Contact,
                required(form.contact)
                    .and_then(|p| Phone::parse(p, self.settings.phone_region))
                    .map(Contact::Phone),
            ),
            _ => {
                errors.add(
                    Field::Channel,
                    FieldIssue::NotOneOf {
                        allowed: vec!["email".into(), "phone".into()],
                    },
                );
                None
            }
        };
        let (Some(identifier), Some(contact)) = (identifier, contact) else {
            return Ok(None);
        };
        if !errors.is_empty() {
            return Ok(None);
        }
        let user = match Login::parse(&identifier, self.settings.phone_region) {
            Ok(login) => self.ports.users.find_by_login(&login).await?,
            Err(_) => None,
        }
        .ok_or(AuthError::AccountNotFound)?;
        let matches = match &contact {
            Contact::Email(e) => &user.email == e,
            Contact::Phone(p) => user.phone.as_ref() == Some(p),
        };
        if matches {
            Ok(Some((user, contact)))
        } else {
            Err(AuthError::ContactMismatch)
        }
    }

    /// Sets a new password on the word of someone who proved a contact
    /// of the account with a code: every session ends first (safe to
    /// retry), then the hash is stored with its notice mail, then every
    /// session opened meanwhile ends too.
    async fn replace_password(
        &self,
        user: &User,
        hash: &PasswordHash,
        locale: Locale,
    ) -> Result<(), AuthError> {
        // Sessions first (so a failure leaves nothing half-done and the
        // step can be retried), the hash, then the sessions once more: a
        // login that verified the old password opens its session either
        // before the second sweep (which ends it) or after the new hash
        // is stored (and sees it: `credentials_unchanged`).
        self.revoke_user_sessions(user.id, None).await?;
        self.store_password(user, hash, locale, EventType::UserPasswordReset)
            .await?;
        self.revoke_user_sessions(user.id, None).await?;
        Ok(())
    }

    /// The owner's claim of an address (issue 12, item 3): someone who
    /// read a code mailed to `user`'s address sets the password `hash`
    /// they chose. As [`Self::replace_password`]; then the address counts
    /// as verified, and when it was not, the phone number goes too (with
    /// its reset codes) and so do the second factors (with their recovery
    /// codes; audited and mailed): they came from whoever registered, not
    /// from the owner, and a reset by SMS or a recovery code would hand the
    /// account back. Used by
    /// the password reset by e-mail and by [`Self::confirm_sign_up`]
    /// (issue 13, item 1).
    ///
    /// # Errors
    /// [`AuthError::Unavailable`].
    pub(super) async fn claim_by_address(
        &self,
        user: &User,
        hash: &PasswordHash,
        locale: Locale,
    ) -> Result<(), AuthError> {
        self.replace_password(user, hash, locale).await?;
        // The phone goes before the address counts as verified: a
        // failure between the two leaves an unverified account without
        // the registrant's phone (the claim can be made again), never a
        // verified one that the registrant takes back by SMS.
        if !user.email_verified
            && let Some(phone) = &user.phone
        {
            self.ports.users.clear_phone(user.id, self.now()).await?;
            self.ports
                .codes
                .take(CodePurpose::ResetPassword, phone.as_str())
                .await?;
        }
        // The second factors of an unverified account are the registrant's
        // too (issue 17): left in place, they would lock the owner out, and
        // the registrant's recovery codes would still open it.
        if !user.email_verified && self.ports.factors.remove_all_factors(user.id).await? {
            self.audit(AuditEvent {
                actor: Some(user.id),
                subject: Some(user.id),
                detail: Some("all removed_by_address_claim".into()),
                ..self.event(AuditKind::FactorRemoved, &ClientInfo::without_peer(None))
            })
            .await;
            self.notice_factor_change(user, crate::mail::FactorChange::RemovedByClaim, locale)
                .await;
        }
        self.ports
            .users
            .mark_email_verified(
                user.id,
                self.now(),
                &[PendingEvent::new(EventType::UserEmailVerified, self.now())],
            )
            .await?;
        Ok(())
    }

    /// Sends a reset code to the account's email or phone.
    ///
    /// # Errors
    /// [`AuthError::Validation`], [`AuthError::AccountNotFound`] ,
    /// [`AuthError::ContactMismatch`], [`AuthError::TooManyRequests`], [`AuthError::Unavailable`].
    pub async fn request_reset_code(
        &self,
        form: ResetForm<'_>,
        locale: Locale,
    ) -> Result<ResetIssued, AuthError> {
        let mut errors = ValidationErrors::new();
        let target = self.reset_target(form, &mut errors).await?;
        let Some((user, contact)) = target else {
            return Err(errors.into());
        };
        let cs = self.settings.codes;
        let code = self
            .issue_code(
                CodePurpose::ResetPassword,
                contact.key(),
                "reset",
                Some(self.password_stamp(&user)),
            )
            .await?;
        let now = self.now();
        let minutes = cs.ttl.num_minutes();
        match &contact {
            Contact::Email(email) => {
                let kind = MailKind::ResetCode {
                    username: user.username.as_str().to_owned(),
                    code: code.clone(),
                    minutes,
                };
                self.ports
                    .outbox
                    .enqueue(&compose(&kind, email, locale, &self.settings.mail), now)
                    .await?;
            }
            Contact::Phone(phone) => {
                let text = match locale {
                    Locale::ZhCn => format!(
                        "【{}】您的重置密码验证码是 {code}，{minutes} 分钟内有效。",
                        self.settings.mail.product_name
                    ),
                    Locale::En => format!(
                        "[{}] Your password reset code is {code}, valid for {minutes} minutes.",
                        self.settings.mail.product_name
                    ),
                };
                self.ports.sms.send(phone, &text).await?;
            }
        }
        Ok(ResetIssued {
            expires_in: cs.ttl.num_seconds(),
            debug_code: self.settings.expose_debug_codes.then_some(code),
        })
    }

    /// Sets a new password with a reset code; every session of the user is
    /// revoked. `new_password` is read as the dialect says
    /// ([`PasswordInput::new_password`]); a password (not a digest) is
    /// screened against the account's identity too.
    ///
    /// # Errors
    /// [`AuthError::Validation`] (fields [`Field::Code`],
    /// [`Field::NewPassword`] and those of [`ResetForm`]),
    /// [`AuthError::AccountNotFound`], [`AuthError::ContactMismatch`],
    /// [`AuthError::CodeExpired`], [`AuthError::CodeWrong`], [`AuthError::CodeExhausted`],
    /// [`AuthError::Busy`], [`AuthError::Unavailable`].
    pub async fn reset_password(
        &self,
        form: ResetForm<'_>,
        code: Option<&str>,
        new_password: Option<PasswordInput<'_>>,
        locale: Locale,
    ) -> Result<(), AuthError> {
        let password = new_password
            .ok_or(FieldIssue::Required)
            .and_then(|p| p.new_password(&self.settings.password_policy));
        let mut errors = ValidationErrors::new();
        let code = errors.check(Field::Code, required(code).map(str::to_owned));
        let password = errors.check(Field::NewPassword, password);
        let target = self.reset_target(form, &mut errors).await?;
        let (Some((user, contact)), Some(code), Some(password)) = (target, code, password) else {
            return Err(errors.into());
        };
        password
            .screen(
                &self.settings.password_policy,
                user.username.as_str(),
                user.email.as_str(),
            )
            .map_err(|issue| ValidationErrors::single(Field::NewPassword, issue))?;
        let issued = self
            .check_code(CodePurpose::ResetPassword, contact.key(), &code)
            .await?;
        self.ports
            .codes
            .take(CodePurpose::ResetPassword, contact.key())
            .await?
            .ok_or(AuthError::CodeExpired)?;
        // A code issued before any later password change is void (issue
        // 12, item 2): it was bound to the password hash it may replace.
        if issued.binding.as_deref() != Some(self.password_stamp(&user).as_str()) {
            return Err(AuthError::CodeExpired);
        }
        let hash = self.ports.hasher.hash(&password).await?;
        match &contact {
            Contact::Email(_) => self.claim_by_address(&user, &hash, locale).await?,
            Contact::Phone(_) => self.replace_password(&user, &hash, locale).await?,
        }
        // A reset without a caller (a tool) is audited without an address.
        let client = form
            .client
            .cloned()
            .unwrap_or_else(|| ClientInfo::without_peer(None));
        self.audit(AuditEvent {
            subject: Some(user.id),
            detail: Some(contact.kind().to_owned()),
            ..self.event(AuditKind::PasswordReset, &client)
        })
        .await;
        Ok(())
    }
}
