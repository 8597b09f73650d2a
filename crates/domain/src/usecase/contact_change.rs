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

use chrono::{DateTime, Utc};

use super::verification_link::well_formed;
use super::{AuthService, Authenticated, required};
use crate::clock::IdSource as _;
use crate::error::{AuthError, CreateUserError};
use crate::mail::{Locale, MailKind, compose};
use crate::model::{
    AuditEvent, AuditKind, ClientInfo, CodePurpose, ContactChange, ContactKind, ContactRevert,
    EventType, PendingEvent, UniqueField, User, VerificationCode,
};
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

/// The recipient key of the revert window's anchor of `kind` (never a
/// link's key: those are 64 hex digits).
fn anchor_key(kind: ContactKind, user: &User) -> String {
    format!("anchor:{}:{}", kind.as_str(), user.public_id)
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
                format!(
                    "【{product}】您正在把账户手机号改为本号码，验证码 {code}，{minutes} 分钟内有效。"
                )
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
    /// [`crate::ports::CodeStore::claim_attempt`]). The account takes the new value (an e-mail
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
        let change = match kind {
            ContactKind::Email => {
                ContactChange::Email(Email::parse(&value).map_err(|_| AuthError::CodeExpired)?)
            }
            ContactKind::Phone => ContactChange::Phone(Some(
                Phone::parse(&value, self.settings.phone_region)
                    .map_err(|_| AuthError::CodeExpired)?,
            )),
        };
        let current = match kind {
            ContactKind::Email => ContactChange::Email(user.email.clone()),
            ContactKind::Phone => ContactChange::Phone(user.phone.clone()),
        };
        let now = self.now();
        // What a revert restores, and where its link goes: the value the
        // account had before the first change of the window
        // (`contact_revert_ttl` since the last change), so that a second
        // change, made by whoever made the first, never sends a link to an
        // address they hold. See `revert_anchor`.
        let restore = self.revert_anchor(kind, &user).await?;
        let link_to = match (&restore, kind) {
            (Some(ContactChange::Email(anchor)), _) => Some(anchor.clone()),
            // A number's link goes to the address before the first e-mail
            // change of that window, else to the account's verified address.
            (Some(ContactChange::Phone(_)), _) => {
                match self.kept_anchor(ContactKind::Email, &user).await? {
                    Some(ContactChange::Email(anchor)) => Some(anchor),
                    _ => user.email_verified.then(|| user.email.clone()),
                }
            }
            (None, _) => None,
        };
        let mut revert_key = None;
        let mail = match (restore, link_to) {
            (Some(restore), Some(to)) => {
                let revert = ContactRevert {
                    user: user.id,
                    user_public_id: user.public_id,
                    restore,
                    replaced_by: change.value_text().to_owned(),
                };
                // Stored before the change: a failure in between leaves a
                // link that restores what the account still holds.
                let token = self.ports.ids.secret_token();
                let fingerprint = self.ports.codec.keyed_fingerprint(&token);
                revert_key = Some(fingerprint.0.clone());
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
                self.keep_anchor(kind, &user, &revert.restore, now).await?;
                let notice = MailKind::ContactChanged {
                    username: user.username.as_str().to_owned(),
                    kind,
                    new_value: change.value_text().to_owned(),
                    at: now,
                    link: format!(
                        "{}/ui/account/revert?token={token}",
                        self.settings.mail.public_base_url
                    ),
                    days: self.settings.contact_revert_ttl.num_days(),
                };
                Some(compose(&notice, &to, locale, &self.settings.mail))
            }
            // The account never proved an address: there is nobody to tell
            // and nothing to restore (a link to an address the holder may
            // have mistyped would hand the account to whoever reads it).
            _ => None,
        };
        let events = match kind {
            ContactKind::Email => {
                vec![PendingEvent::new(EventType::UserEmailChanged, now).detail("changed")]
            }
            ContactKind::Phone => Vec::new(),
        };
        let written = match self
            .ports
            .users
            .change_contact(
                user.id,
                &change,
                Some(&current),
                now,
                mail.as_ref(),
                &events,
            )
            .await
        {
            Ok(true) => Ok(()),
            // Gone, or its value moved on since it was read (a revert ran):
            // the change is void, as the code is.
            Ok(false) => Err(AuthError::CodeExpired),
            Err(e) => Err(contact_error(e)),
        };
        if let Err(e) = written {
            // Nothing changed: the link would only end sessions.
            if let Some(key) = revert_key {
                let _ = self
                    .ports
                    .codes
                    .take(CodePurpose::ContactRevert, &key)
                    .await;
            }
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
        self.audit(self.by_self(AuditKind::ContactChanged, auth, Some(kind.as_str().into())))
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
        // Sessions first: whoever changed the address is signed out even
        // when the address cannot come back (409 below), and the link stays.
        self.revoke_user_sessions(user.id, None).await?;
        let mut restored = self
            .ports
            .users
            .change_contact(user.id, &revert.restore, None, now, None, &events)
            .await;
        // An unverified registration of the previous address (whoever made
        // the change could have made one, to keep it from coming back) gives
        // way: its registrant never proved the address.
        if let Err(CreateUserError::Duplicate(_)) = &restored
            && let ContactChange::Email(previous) = &revert.restore
            && let Some(holder) = self
                .ports
                .users
                .find_by_login(&Login::Email(previous.clone()))
                .await?
            && holder.id != user.id
            && !holder.email_verified
            && self
                .remove_pending_account(&holder, "address_restored", client)
                .await?
        {
            restored = self
                .ports
                .users
                .change_contact(user.id, &revert.restore, None, now, None, &events)
                .await;
        }
        // Another account holds the previous number now (registration does
        // not prove numbers, so anyone could have taken it): the changed
        // number goes at least, so that no reset or sign-in code reaches it.
        if let Err(CreateUserError::Duplicate(_)) = &restored
            && let ContactChange::Phone(Some(_)) = &revert.restore
        {
            restored = self
                .ports
                .users
                .change_contact(
                    user.id,
                    &ContactChange::Phone(None),
                    None,
                    now,
                    None,
                    &events,
                )
                .await;
        }
        if !restored.map_err(contact_error)? {
            return Err(AuthError::CodeExpired);
        }
        for k in [ContactKind::Email, ContactKind::Phone] {
            self.ports
                .codes
                .take(CodePurpose::ContactChange, &change_key(k, &user))
                .await?;
        }
        // The sweep again: a session opened while the address was coming
        // back (a sign-in code sent to the changed address) ends too.
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
        // A new window starts: the next change's link restores what the
        // account holds now.
        self.ports
            .codes
            .take(CodePurpose::ContactRevert, &anchor_key(kind, &user))
            .await?;
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

    /// What a revert of a `kind` change of `user` restores: the value kept
    /// as the window's anchor by an earlier change (`contact_revert_ttl`
    /// since the last change), else what the account holds now. `None` for
    /// an address never verified: nothing to restore.
    async fn revert_anchor(
        &self,
        kind: ContactKind,
        user: &User,
    ) -> Result<Option<ContactChange>, AuthError> {
        if let Some(kept) = self.kept_anchor(kind, user).await? {
            return Ok(Some(kept));
        }
        Ok(match kind {
            ContactKind::Email => user
                .email_verified
                .then(|| ContactChange::Email(user.email.clone())),
            ContactKind::Phone => Some(ContactChange::Phone(user.phone.clone())),
        })
    }

    /// The live anchor of `user`'s `kind` window, if an earlier change left one.
    async fn kept_anchor(
        &self,
        kind: ContactKind,
        user: &User,
    ) -> Result<Option<ContactChange>, AuthError> {
        Ok(self
            .ports
            .codes
            .get(CodePurpose::ContactRevert, &anchor_key(kind, user))
            .await?
            .filter(|a| a.expires_at > self.now())
            .and_then(|a| a.binding)
            .and_then(|b| ContactRevert::from_text(&b, self.settings.phone_region))
            .filter(|r| r.user_public_id == user.public_id && r.restore.kind() == kind)
            .map(|r| r.restore))
    }

    /// Keeps `restore` as the anchor of `user`'s `kind` window for another
    /// `contact_revert_ttl` from `now` (every change extends it, so that a
    /// chain of changes a few days apart keeps sending the links to the
    /// address before the first).
    async fn keep_anchor(
        &self,
        kind: ContactKind,
        user: &User,
        restore: &ContactChange,
        now: DateTime<Utc>,
    ) -> Result<(), AuthError> {
        let anchor = ContactRevert {
            user: user.id,
            user_public_id: user.public_id,
            restore: restore.clone(),
            replaced_by: "-".to_owned(),
        };
        self.ports
            .codes
            .put(&VerificationCode {
                purpose: CodePurpose::ContactRevert,
                recipient: anchor_key(kind, user),
                fingerprint: crate::model::TokenFingerprint(String::new()),
                digits: 0,
                expires_at: now + self.settings.contact_revert_ttl,
                attempts: 0,
                max_attempts: 0,
                binding: Some(anchor.to_text()),
            })
            .await?;
        Ok(())
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
