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

use super::{AuthService, LinkStyle, Locale, MailKind, compose, required};
use crate::audit::{AuditEvent, AuditKind};
use crate::clock::{Clock as _, IdSource as _};
use crate::code::{AttemptGrant, CodePurpose, VerificationCode, constant_time_eq};
use crate::error::AuthError;
use crate::newtypes::{Email, Login, PasswordAttempt};
use crate::ports::{
    CodeStore as _, DeferredTask, MailOutbox as _, OutgoingMail, PasswordHasher as _, Ports,
    RateLimiter as _, RefreshTokenCodec as _, TaskQueue as _, UserDirectory as _,
    UserRepository as _,
};
use crate::session::ClientInfo;
use crate::token::TokenFingerprint;
use crate::user::User;
use crate::validation::ValidationErrors;

/// A verification mail and the code and link entries it carries, before
/// anything is stored.
pub(super) struct Issued {
    pub(super) mail: OutgoingMail,
    codes: [VerificationCode; 2],
}

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

/// What a seed-002 verification link did.
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
fn used_marker(token: &str) -> String {
    format!("used:{token}")
}

/// The binding of a link entry: the link's style (`modern` or `v1`), the
/// account's public id and its address.
fn link_binding(style: LinkStyle, user_public_id: &uuid::Uuid, email: &Email) -> String {
    let style = match style {
        LinkStyle::Modern => "modern",
        LinkStyle::V1 => "v1",
    };
    format!("{style} {user_public_id} {email}")
}

/// The recipient key under which a code that stands in for a missing one
/// lives (never an address: it has no `@`).
const STAND_IN: &str = "-stand-in-";

/// A recipient key under which no code ever lives.
const ABSENT: &str = "-absent-";

/// A link token as it may arrive: 64 hex digits (anything else is unknown).
fn well_formed(token: &str) -> Option<&str> {
    let t = token.trim();
    (t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())).then_some(t)
}

/// A live link entry and the account it is bound to.
struct LinkTarget {
    token: String,
    entry: VerificationCode,
    used: bool,
    style: LinkStyle,
    user: User,
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
        style: LinkStyle,
    ) -> Issued {
        let cs = self.settings.codes;
        let code = self.ports.ids.secret_digits(6);
        let token = self.ports.ids.secret_token();
        let base = &self.settings.mail.public_base_url;
        let link = match style {
            LinkStyle::Modern => format!("{base}/api/auth/verify-email?token={token}"),
            LinkStyle::V1 => format!("{base}/api/v1/auth/verify/{token}"),
        };
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
                    link_binding(style, public_id, email),
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

    /// A new 6-digit code for (`purpose`, `recipient`) bound to `binding`,
    /// stored as a keyed fingerprint, once the per-recipient limits allow it
    /// ([`Self::draw_code`]).
    ///
    /// # Errors
    /// [`AuthError::TooManyRequests`], [`AuthError::Unavailable`].
    pub(super) async fn issue_code(
        &self,
        purpose: CodePurpose,
        recipient: &str,
        limit_key: &str,
        binding: Option<String>,
    ) -> Result<String, AuthError> {
        let (code, stored) = self
            .draw_code(purpose, recipient, limit_key, binding)
            .await?;
        self.ports.codes.put(&stored).await?;
        Ok(code)
    }

    /// A new 6-digit code for (`purpose`, `recipient`) bound to `binding`
    /// and what the store is to keep of it (a keyed fingerprint), not yet
    /// stored: for callers that store it only once the write it belongs to
    /// has committed. Counts against the per-recipient limits (no sooner
    /// than `resend_after_secs` after the last one, at most `per_hour` an
    /// hour; counters `<limit_key>-gap:` and `<limit_key>-hour:`).
    ///
    /// # Errors
    /// [`AuthError::TooManyRequests`], [`AuthError::Unavailable`].
    pub(super) async fn draw_code(
        &self,
        purpose: CodePurpose,
        recipient: &str,
        limit_key: &str,
        binding: Option<String>,
    ) -> Result<(String, VerificationCode), AuthError> {
        let cs = self.settings.codes;
        self.limit(
            format!("{limit_key}-gap:{recipient}"),
            1,
            cs.resend_after_secs,
        )
        .await?;
        self.limit(format!("{limit_key}-hour:{recipient}"), cs.per_hour, 3600)
            .await?;
        let code = self.ports.ids.secret_digits(6);
        let stored = VerificationCode {
            purpose,
            recipient: recipient.to_owned(),
            fingerprint: self.ports.codec.keyed_fingerprint(&code),
            digits: 6,
            expires_at: self.now() + cs.ttl,
            attempts: 0,
            max_attempts: cs.max_attempts,
            binding,
        };
        Ok((code, stored))
    }

    pub(super) async fn limit(
        &self,
        key: String,
        limit: u32,
        window: u64,
    ) -> Result<(), AuthError> {
        let d = self.ports.limiter.hit(&key, limit, window).await?;
        if d.allowed {
            Ok(())
        } else {
            Err(AuthError::TooManyRequests {
                retry_after_secs: d.reset_after_secs.max(1),
                limit,
            })
        }
    }

    /// Checks a guess against the live code of (purpose, recipient) and
    /// returns the code when it matches. The comparison is counted before it
    /// is made, atomically in the store ([`crate::ports::CodeStore::claim_attempt`]),
    /// so no code is compared more than `max_attempts` times under any
    /// concurrency; the code dies after its last wrong guess. The code stays
    /// stored on success: the caller takes it (single use).
    ///
    /// # Errors
    /// [`AuthError::CodeExpired`] (no live code), [`AuthError::CodeWrong`],
    /// [`AuthError::CodeExhausted`], [`AuthError::Unavailable`].
    pub(super) async fn check_code(
        &self,
        purpose: CodePurpose,
        recipient: &str,
        guess: &str,
    ) -> Result<VerificationCode, AuthError> {
        // Fingerprinted first, so a check costs the same with or without a code.
        let guess = self.ports.codec.keyed_fingerprint(guess.trim());
        let stored = match self.ports.codes.claim_attempt(purpose, recipient).await? {
            AttemptGrant::NoCode => return Err(AuthError::CodeExpired),
            // An exhausted code is dead without being removed: no store
            // grants it another attempt, and removing it could remove a
            // newer code, or the one a concurrent right guess is about to
            // take (six concurrent right guesses would all fail).
            AttemptGrant::Exhausted => return Err(AuthError::CodeExhausted),
            AttemptGrant::Granted(code) => code,
        };
        if constant_time_eq(guess.0.as_bytes(), stored.fingerprint.0.as_bytes()) {
            return Ok(stored);
        }
        if stored.attempts >= stored.max_attempts {
            return Err(AuthError::CodeExhausted);
        }
        Err(AuthError::CodeWrong {
            remaining: stored.max_attempts - stored.attempts,
        })
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
        let removed = self.ports.users.delete_unverified(user.id).await?;
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
            .mark_email_verified(user.id, self.now())
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

    /// The link style and the account `binding` names, if it still holds the address.
    async fn bound_account(
        &self,
        binding: Option<&str>,
    ) -> Result<Option<(LinkStyle, User)>, AuthError> {
        let mut parts = binding.unwrap_or_default().splitn(3, ' ');
        let (Some(style), Some(public_id), Some(email)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Ok(None);
        };
        let style = match style {
            "v1" => LinkStyle::V1,
            _ => LinkStyle::Modern,
        };
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

    /// The link entry of `token` and its account.
    ///
    /// # Errors
    /// [`AuthError::CodeExpired`] for an unknown, malformed or expired token;
    /// [`AuthError::UserNotFound`] when its account was replaced or removed.
    async fn link_target(&self, token: &str) -> Result<LinkTarget, AuthError> {
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
    async fn spend_link(&self, target: &LinkTarget) -> Result<bool, AuthError> {
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
    async fn prove_credential(
        &self,
        user: &User,
        attempt: &PasswordAttempt,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        let throttle = self.throttle_keys(user.username.as_str(), client.ip.as_deref());
        self.check_throttle(&throttle).await?;
        if self
            .ports
            .hasher
            .verify(attempt, &user.password_hash)
            .await?
        {
            Ok(())
        } else {
            self.record_login_failure(&throttle).await?;
            Err(AuthError::WrongPassword)
        }
    }

    /// Confirms an address with its link and the account's password: the
    /// person proves both that they read the mail and that they chose the
    /// credential (the page and `POST /api/auth/verify-email {token,
    /// password}`). Wrong passwords count in the login throttle of the
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
        let token = errors.check("token", required(token));
        let attempt = errors.check(
            "password",
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
    /// pending registration ([`Self::is_pending`]); an unverified account in
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
            .map_err(|e| AuthError::Validation(ValidationErrors::single("token", e)))?;
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

    /// Seed 002's `GET /api/v1/auth/verify/<token>` for JSON clients, where
    /// the deployment opted in (`V1_VERIFY_ON_GET`): confirms the address on
    /// GET, as that contract says, for links mailed by seed 002's
    /// registration only (an `/api/auth` link always needs the password);
    /// every session opened before ends. By default the HTTP layer shows the
    /// link's page instead, which confirms only with the account's password.
    ///
    /// # Errors
    /// [`AuthError::CodeExpired`] for an unknown, malformed, expired or
    /// `/api/auth` token (code 1), [`AuthError::UserNotFound`] when the
    /// account is gone (code 2), [`AuthError::Unavailable`].
    pub async fn verify_email_link(
        &self,
        token: &str,
        client: &ClientInfo,
    ) -> Result<VerifyLinkOutcome, AuthError> {
        let target = self.link_target(token).await?;
        if target.style != LinkStyle::V1 {
            return Err(AuthError::CodeExpired);
        }
        if target.used || target.user.email_verified || !self.spend_link(&target).await? {
            return Ok(VerifyLinkOutcome::AlreadyVerified);
        }
        Ok(VerifyLinkOutcome::Verified(
            self.confirm_address(target.user, client).await?,
        ))
    }

    /// Evens out the store work of a code check (issue 12, "verify-email
    /// answers one way"): every check makes one claim that finds a code and
    /// one that finds none. A check that found no code claims the stand-in
    /// code (made on first use); one that found a code claims a key that
    /// never exists.
    async fn even_out_code_check(&self, found_a_code: bool) -> Result<(), AuthError> {
        let key = if found_a_code { ABSENT } else { STAND_IN };
        let claim = self
            .ports
            .codes
            .claim_attempt(CodePurpose::VerifyEmail, key)
            .await?;
        if !found_a_code && !matches!(claim, AttemptGrant::Granted(_)) {
            self.ports
                .codes
                .put(&VerificationCode {
                    purpose: CodePurpose::VerifyEmail,
                    recipient: STAND_IN.to_owned(),
                    fingerprint: TokenFingerprint(String::new()),
                    digits: 6,
                    expires_at: self.now() + chrono::Duration::days(3650),
                    attempts: 0,
                    max_attempts: i32::MAX.unsigned_abs(),
                    binding: None,
                })
                .await?;
        }
        Ok(())
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
        let email = errors.check("email", required(email).and_then(Email::parse));
        let code = errors.check("code", required(code).map(|c| c.trim().to_owned()));
        let attempt = errors.check(
            "password",
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
            .map_err(|e| AuthError::Validation(ValidationErrors::single("email", e)))?;
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
                    LinkStyle::Modern,
                );
                self.store_codes(&issued).await?;
                self.ports.outbox.enqueue(&issued.mail, now).await?;
                Ok(())
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
                    .remove_pending_account(&user, "expired", &ClientInfo::default())
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
            link_binding(LinkStyle::V1, &id, &email),
            "v1 00000000-0000-0000-0000-000000000000 a.b+c@example.com"
        );
    }

    #[test]
    fn field_issue_for_missing_password_is_required() {
        assert_eq!(required(None), Err(FieldIssue::Required));
    }
}
