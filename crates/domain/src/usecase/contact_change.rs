//! Changing the account's e-mail address or phone number (issue 20,
//! "Change e-mail"): after a recent authentication the holder names the new
//! address; a code goes to it ([`AuthService::request_email_change`],
//! [`AuthService::request_phone_change`]); the code confirms it
//! ([`AuthService::confirm_contact_change`]). The address the account had
//! before is told, with a link that undoes the change for 7 days and ends
//! every session ([`AuthService::revert_contact_change`]): the defence
//! against someone who took over a session.
//!
//! The new address obeys registration's rules: the same canonical form
//! ([`Email::parse`], [`Phone::parse`]) and the same uniqueness, decided by
//! the store's unique constraints
//! ([`crate::ports::UserRepository::change_contact`]).

use super::verification_link::well_formed;
use super::{AuthService, Authenticated, required};
use crate::error::{AuthError, CreateUserError};
use crate::mail::{Locale, MailKind, compose};
use crate::model::{
    AuditEvent, AuditKind, ClientInfo, CodePurpose, ContactChange, ContactKind, ContactRevert,
    EventType, PendingEvent, UniqueField, User, VerificationCode,
};
use crate::clock::IdSource as _;
use crate::ports::{
    CodeStore as _, MailOutbox as _, Ports, RefreshTokenCodec as _, SmsSender as _,
    UserRepository as _,
};
use crate::validation::{Field, ValidationErrors};
use crate::values::{Email, Login, Phone};

/// A code went to the new address or number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactChangeIssued {
    /// The address or number it went to, in canonical form.
    pub sent_to: String,
    /// Seconds until the code expires.
    pub expires_in_secs: i64,
    /// The code itself, only when `expose_debug_codes` is on (development).
    pub debug_code: Option<String>,
}

/// What a revert link would restore, shown on its page before anyone acts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRevertPreview {
    /// The account's username.
    pub username: String,
    /// Which contact.
    pub kind: ContactKind,
    /// The value the link restores (`None`: no phone number).
    pub restore: Option<String>,
    /// The value the change put in its place.
    pub replaced_by: String,
}

/// The recipient key of a change under way: one of each kind per account.
fn change_key(kind: ContactKind, user: &User) -> String {
    format!("{}:{}", kind.as_str(), user.public_id)
}

impl<P: Ports> AuthService<P> {
    /// The holder of `auth` asks to change the account's e-mail address to
    /// `new_email`: it needs an authentication within `REAUTH_MAX_AGE` (at the
    /// second-factor level once the account has a factor), the address must
    /// read as one (IDNA, canonical form) and be no account's, this one's
    /// included. A 6-digit code goes to the new address, under the limits of
    /// every code (one per `resend_after_secs`, `per_hour` an hour, per
    /// account); a new request replaces the code. Audited
    /// (`contact_change_requested`).
    ///
    /// # Errors
    /// [`AuthError::Validation`] ([`Field::Email`]),
    /// [`AuthError::ReauthenticationRequired`],
    /// [`AuthError::Conflict`] ([`UniqueField::Email`]) when the address is
    /// taken, [`AuthError::TooManyRequests`], [`AuthError::UserNotFound`],
    /// [`AuthError::Unavailable`].
    pub async fn request_email_change(
        &self,
        auth: &Authenticated,
        new_email: Option<&str>,
        locale: Locale,
    ) -> Result<ContactChangeIssued, AuthError> {
        let email = required(new_email)
            .and_then(Email::parse)
            .map_err(|issue| ValidationErrors::single(Field::Email, issue))?;
        let user = self.holder(auth).await?;
        self.require_recent_authentication(auth, &user).await?;
        self.ensure_free(&Login::Email(email.clone()), UniqueField::Email)
            .await?;
        let code = self
            .issue_code(
                CodePurpose::ContactChange,
                &change_key(ContactKind::Email, &user),
                "contact-change",
                Some(email.as_str().to_owned()),
            )
            .await?;
        let kind = MailKind::ContactChangeCode {
            username: user.username.as_str().to_owned(),
            code: code.clone(),
            minutes: self.settings.codes.ttl.num_minutes(),
        };
        self.ports
            .outbox
            .enqueue(
                &compose(&kind, &email, locale, &self.settings.mail),
                self.now(),
            )
            .await?;
        self.audit(self.by_self(
            AuditKind::ContactChangeRequested,
            auth,
            Some("email".into()),
        ))
        .await;
        Ok(self.change_issued(email.as_str(), code))
    }

    /// As [`Self::request_email_change`] for the phone number: `new_phone`
    /// read in `PHONE_DEFAULT_REGION` (E.164), the code texted to it.
    ///
    /// # Errors
    /// As [`Self::request_email_change`], with [`Field::Phone`] and
    /// [`UniqueField::Phone`].
    pub async fn request_phone_change(
        &self,
        auth: &Authenticated,
        new_phone: Option<&str>,
        locale: Locale,
    ) -> Result<ContactChangeIssued, AuthError> {
        let phone = required(new_phone)
            .and_then(|p| Phone::parse(p, self.settings.phone_region))
            .map_err(|issue| ValidationErrors::single(Field::Phone, issue))?;
        let user = self.holder(auth).await?;
        self.require_recent_authentication(auth, &user).await?;
        self.ensure_free(&Login::Phone(phone.clone()), UniqueField::Phone)
            .await?;
        let code = self
            .issue_code(
                CodePurpose::ContactChange,
                &change_key(ContactKind::Phone, &user),
                "contact-change",
                Some(phone.as_str().to_owned()),
            )
            .await?;
        let minutes = self.settings.codes.ttl.num_minutes();
        let product = &self.settings.mail.product_name;
        let text = match locale {
            Locale::ZhCn => {
                format!("【{product}】您正在把账户手机号改为本号码，验证码 {code}，{minutes} 分钟内有效。")
            }
            Locale::En => format!(
                "[{product}] Your code to make this your account's phone number is {code}, valid for {minutes} minutes."
            ),
        };
        self.ports.sms.send(&phone, &text).await?;
        self.audit(self.by_self(
            AuditKind::ContactChangeRequested,
            auth,
            Some("phone".into()),
        ))
        .await;
        Ok(self.change_issued(phone.as_str(), code))
    }

    /// Confirms the change of `kind` under way with the `code` sent to the
    /// new address or number (the same atomic attempt limits as every code:
    /// [`Self::check_code`]). The account takes the new value (an e-mail
    /// address counts as verified) and `user.email_changed` is queued with
    /// it; the previous address is mailed (a previous number texted, and the
    /// account's address mailed) a link that undoes the change within
    /// `contact_revert_ttl` (7 days). Audited (`contact_changed`). Returns
    /// the account as it is now.
    ///
    /// # Errors
    /// [`AuthError::Validation`] ([`Field::Code`]), [`AuthError::CodeExpired`]
    /// (no change under way), [`AuthError::CodeWrong`],
    /// [`AuthError::CodeExhausted`], [`AuthError::Conflict`] when another
    /// account took the address meanwhile, [`AuthError::UserNotFound`],
    /// [`AuthError::Unavailable`].
    pub async fn confirm_contact_change(
        &self,
        auth: &Authenticated,
        kind: ContactKind,
        code: Option<&str>,
        locale: Locale,
    ) -> Result<User, AuthError> {
        let code = required(code).map_err(|issue| ValidationErrors::single(Field::Code, issue))?;
        let user = self.holder(auth).await?;
        let key = change_key(kind, &user);
        self.check_code(CodePurpose::ContactChange, &key, code)
            .await?;
        let issued = self
            .ports
            .codes
            .take(CodePurpose::ContactChange, &key)
            .await?
            .ok_or(AuthError::CodeExpired)?;
        let value = issued.binding.unwrap_or_default();
        let (change, restore) = match kind {
            ContactKind::Email => (
                ContactChange::Email(Email::parse(&value).map_err(|_| AuthError::CodeExpired)?),
                ContactChange::Email(user.email.clone()),
            ),
            ContactKind::Phone => (
                ContactChange::Phone(Some(
                    Phone::parse(&value, self.settings.phone_region)
                        .map_err(|_| AuthError::CodeExpired)?,
                )),
                ContactChange::Phone(user.phone.clone()),
            ),
        };
        let now = self.now();
        let revert = ContactRevert {
            user: user.id,
            user_public_id: user.public_id,
            restore,
            replaced_by: change.value_text().to_owned(),
        };
        // The link is stored before the change: a failure in between leaves
        // a link that restores what the account still holds (nothing).
        let token = self.ports.ids.secret_token();
        let fingerprint = self.ports.codec.keyed_fingerprint(&token);
        let revert_key = fingerprint.0.clone();
        self.ports
            .codes
            .put(&VerificationCode {
                purpose: CodePurpose::ContactRevert,
                recipient: fingerprint.0.clone(),
                fingerprint,
                digits: 0,
                expires_at: now + self.settings.contact_revert_ttl,
                attempts: 0,
                max_attempts: 1,
                binding: Some(revert.to_text()),
            })
            .await?;
        let link = format!(
            "{}/ui/account/revert?token={token}",
            self.settings.mail.public_base_url
        );
        let notice = MailKind::ContactChanged {
            username: user.username.as_str().to_owned(),
            kind,
            new_value: change.value_text().to_owned(),
            at: now,
            link: link.clone(),
            days: self.settings.contact_revert_ttl.num_days(),
        };
        // The notice goes to the address the account had (for a number: to
        // the account's address, which the change left alone), queued with
        // the change itself.
        let mail = compose(&notice, &user.email, locale, &self.settings.mail);
        let events = match kind {
            ContactKind::Email => {
                vec![PendingEvent::new(EventType::UserEmailChanged, now).detail("changed")]
            }
            ContactKind::Phone => Vec::new(),
        };
        let written = match self
            .ports
            .users
            .change_contact(user.id, &change, now, Some(&mail), &events)
            .await
        {
            Ok(true) => Ok(()),
            Ok(false) => Err(AuthError::UserNotFound),
            Err(e) => Err(contact_error(e)),
        };
        if let Err(e) = written {
            // Nothing changed: the link would only end sessions.
            let _ = self
                .ports
                .codes
                .take(CodePurpose::ContactRevert, &revert_key)
                .await;
            return Err(e);
        }
        if let (ContactKind::Phone, Some(old)) = (kind, &user.phone) {
            let product = &self.settings.mail.product_name;
            let text = match locale {
                Locale::ZhCn => format!(
                    "【{product}】您账户“{}”的手机号已改为其他号码。如果不是您本人操作，请打开邮件中的链接撤销。",
                    user.username.as_str()
                ),
                Locale::En => format!(
                    "[{product}] The phone number of your account \"{}\" was changed. If this was not you, open the link in the mail we sent to undo it.",
                    user.username.as_str()
                ),
            };
            // Best effort: the mail, queued with the change, carries the link.
            let _ = self.ports.sms.send(old, &text).await;
        }
        self.audit(self.by_self(
            AuditKind::ContactChanged,
            auth,
            Some(kind.as_str().into()),
        ))
        .await;
        self.holder(auth).await
    }

    /// What the revert link `token` would restore, without using it (its
    /// page shows this before anyone acts; a mail scanner's GET changes nothing).
    ///
    /// # Errors
    /// [`AuthError::CodeExpired`] for an unknown, used, malformed or expired
    /// link, or one whose account is gone; [`AuthError::Unavailable`].
    pub async fn preview_contact_revert(
        &self,
        token: &str,
    ) -> Result<ContactRevertPreview, AuthError> {
        let (revert, user) = self.revert_target(token).await?;
        Ok(ContactRevertPreview {
            username: user.username.as_str().to_owned(),
            kind: revert.restore.kind(),
            restore: match &revert.restore {
                ContactChange::Phone(None) => None,
                other => Some(other.value_text().to_owned()),
            },
            replaced_by: revert.replaced_by,
        })
    }

    /// Undoes a change of address or number with the link mailed to the
    /// previous address (single use, within `contact_revert_ttl`): the
    /// account takes the previous value back (an address counts as
    /// verified), any change under way is dropped, and every session of the
    /// account ends, so that whoever made the change is signed out; the
    /// holder then resets the password by the restored address.
    /// `user.email_changed` is queued (detail `reverted`) for an address.
    /// Audited (`contact_change_reverted`). Returns the account.
    ///
    /// # Errors
    /// [`AuthError::CodeExpired`] (unknown, used or expired link, or its
    /// account gone), [`AuthError::Conflict`] when another account holds the
    /// previous address now, [`AuthError::Unavailable`] (the link still
    /// works: retry).
    pub async fn revert_contact_change(
        &self,
        token: &str,
        client: &ClientInfo,
    ) -> Result<User, AuthError> {
        // Every step below is safe to repeat, and the link is spent only
        // once they all succeeded: a store failure half-way leaves a link
        // that still works, never an intruder's session that the spent link
        // can no longer end.
        let (revert, user) = self.revert_target(token).await?;
        let now = self.now();
        let kind = revert.restore.kind();
        let events = match kind {
            ContactKind::Email => {
                vec![PendingEvent::new(EventType::UserEmailChanged, now).detail("reverted")]
            }
            ContactKind::Phone => Vec::new(),
        };
        let written = self
            .ports
            .users
            .change_contact(user.id, &revert.restore, now, None, &events)
            .await
            .map_err(contact_error)?;
        if !written {
            return Err(AuthError::CodeExpired);
        }
        for k in [ContactKind::Email, ContactKind::Phone] {
            self.ports
                .codes
                .take(CodePurpose::ContactChange, &change_key(k, &user))
                .await?;
        }
        self.revoke_user_sessions(user.id, None).await?;
        let key = self.ports.codec.keyed_fingerprint(token.trim());
        if self
            .ports
            .codes
            .take(CodePurpose::ContactRevert, &key.0)
            .await?
            .is_none()
        {
            // A concurrent use of the same link did the same work first.
            return Err(AuthError::CodeExpired);
        }
        self.audit(AuditEvent {
            actor: Some(user.id),
            subject: Some(user.id),
            detail: Some(kind.as_str().into()),
            ..self.event(AuditKind::ContactChangeReverted, client)
        })
        .await;
        self.ports
            .users
            .find_by_id(user.id)
            .await?
            .ok_or(AuthError::UserNotFound)
    }

    /// The revert of the live link `token` and its account (the link stays).
    async fn revert_target(&self, token: &str) -> Result<(ContactRevert, User), AuthError> {
        let token = well_formed(token).ok_or(AuthError::CodeExpired)?;
        let key = self.ports.codec.keyed_fingerprint(token);
        let entry = self
            .ports
            .codes
            .get(CodePurpose::ContactRevert, &key.0)
            .await?
            .filter(|e| e.expires_at > self.now())
        .ok_or(AuthError::CodeExpired)?;
        let revert = entry
            .binding
            .as_deref()
            .and_then(|b| ContactRevert::from_text(b, self.settings.phone_region))
            .ok_or(AuthError::CodeExpired)?;
        let user = self
            .ports
            .users
            .find_by_id(revert.user)
            .await?
            .filter(|u| u.public_id == revert.user_public_id)
            // The account is gone: the link is as dead as an expired one
            // (its caller holds no token that a 401 would speak of).
            .ok_or(AuthError::CodeExpired)?;
        Ok((revert, user))
    }

    /// The account of `auth`.
    async fn holder(&self, auth: &Authenticated) -> Result<User, AuthError> {
        self.ports
            .users
            .find_by_id(auth.user_id())
            .await?
            .ok_or(AuthError::UserNotFound)
    }

    /// Refuses an address or number some account holds already (this one
    /// included); the store's constraint decides again at the change.
    async fn ensure_free(&self, login: &Login, field: UniqueField) -> Result<(), AuthError> {
        if self.ports.users.find_by_login(login).await?.is_some() {
            return Err(AuthError::Conflict(field));
        }
        Ok(())
    }

    fn change_issued(&self, sent_to: &str, code: String) -> ContactChangeIssued {
        ContactChangeIssued {
            sent_to: sent_to.to_owned(),
            expires_in_secs: self.settings.codes.ttl.num_seconds(),
            debug_code: self.settings.expose_debug_codes.then_some(code),
        }
    }
}

/// A store refusal of a change as the use cases answer it.
fn contact_error(e: CreateUserError) -> AuthError {
    match e {
        CreateUserError::Duplicate(field) => AuthError::Conflict(field),
        CreateUserError::Store(e) => e.into(),
    }
}
