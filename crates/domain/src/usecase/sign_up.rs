//! sign-up-up by e-mail code (issue 13, item 1): [`AuthService::sign_up`]
//! creates the account with its address unverified and mails a code;
//! [`AuthService::confirm_sign_up`] with the code confirms the address, for
//! whoever proved it.

use super::{AuthService, required};
use crate::clock::{Clock as _, IdSource as _};
use crate::error::{AuthError, CreateUserError};
use crate::mail::{Locale, MailKind, compose};
use crate::model::ClientInfo;
use crate::model::CodePurpose;
use crate::model::{AuditEvent, AuditKind};
use crate::model::{EventType, PendingEvent};
use crate::model::{NewUser, PasswordHash, UniqueField, User};
use crate::ports::{CodeStore as _, OutgoingMail, PasswordHasher as _, Ports, UserRepository as _};
use crate::validation::{Field, FieldIssue, ValidationErrors};
use crate::values::{Email, Login, PasswordAttempt, PasswordInput, Username, UsernamePolicy};

/// How often a sign-up confirmation reads the address's holder again when
/// sign-ups replace it meanwhile ([`AuthService::confirm_sign_up`]).
const MAX_VERIFY_ROUNDS: usize = 16;

/// The fields of a sign-up by code, as received. Its `Debug` hides the password.
#[derive(Clone, Copy, Default)]
pub struct SignUp<'a> {
    /// A display name; the username is derived from it.
    pub name: Option<&'a str>,
    /// The e-mail address.
    pub email: Option<&'a str>,
    /// The password, as the dialect reads it (for example
    /// [`PasswordInput::PlainOrSm3Digest`]).
    pub password: Option<PasswordInput<'a>>,
}

impl std::fmt::Debug for SignUp<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignUp")
            .field("name", &self.name)
            .field("email", &self.email)
            .field("password", &self.password)
            .finish()
    }
}

/// What a sign-up did.
#[derive(Debug, Clone)]
pub struct SignedUp {
    /// The new account, its address unverified.
    pub user: User,
    /// False when the per-recipient resend limits held the mail back (the
    /// last code mailed to the address stays valid).
    pub code_mailed: bool,
}

/// A username made from `raw`: its letters, digits and `_-.`, at most 40
/// characters; `None` when fewer than `policy.min_chars` remain
/// (`USERNAME_MIN_LENGTH`, issue 13, item 10) or only digits.
fn username_from(raw: &str, policy: &UsernamePolicy) -> Option<Username> {
    let kept: String = raw
        .trim()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .take(40)
        .collect();
    Username::parse(&kept, policy).ok()
}

impl<P: Ports> AuthService<P> {
    fn parse_sign_up(
        &self,
        form: &SignUp<'_>,
        errors: &mut ValidationErrors,
    ) -> Option<(String, Email, PasswordAttempt)> {
        let name = errors.check(
            Field::Name,
            required(form.name).and_then(|n| {
                let n = n.trim();
                if n.is_empty() {
                    Err(FieldIssue::Required)
                } else if n.chars().any(char::is_control) {
                    Err(FieldIssue::ControlCharacters)
                } else if n.chars().count() > Username::MAX {
                    Err(FieldIssue::Length {
                        min: 1,
                        max: Username::MAX,
                    })
                } else {
                    Ok(n.to_owned())
                }
            }),
        );
        let email = errors.check(Field::Email, required(form.email).and_then(Email::parse));
        let password = errors.check(
            Field::Password,
            form.password
                .ok_or(FieldIssue::Required)
                .and_then(|p| p.new_password(&self.settings.password_policy)),
        );
        match (name, email, password) {
            (Some(n), Some(e), Some(p)) => {
                if let Err(issue) = p.screen(&self.settings.password_policy, &n, e.as_str()) {
                    errors.add(Field::Password, issue);
                    return None;
                }
                Some((n, e, p))
            }
            _ => None,
        }
    }

    /// sign-ups up by code (issue 13, item 1): creates the account at
    /// once, its address unverified, and queues a mail with a 6-digit sign-up
    /// code in the same transaction (the code confirms the address at
    /// [`Self::confirm_sign_up`]). On the default configuration the account
    /// can log in at once (front ends that sign up then log in at once
    /// expect it); with
    /// `REQUIRE_VERIFIED_EMAIL` it can log in once the code confirmed it.
    ///
    /// The username is derived from the name (`Self::create_signed_up`).
    /// A pending registration of the address (`Self::is_pending`, issue 12,
    /// item 3) is replaced, as [`Self::register`] does; any other
    /// account of the address refuses the sign-up, as the peer answers a
    /// second sign-up. The per-recipient resend limits (`resend_after_secs`,
    /// `per_hour`) throttle the mail only: a sign-up over them is made
    /// without a mail (the last code mailed to the address stays valid) and
    /// [`SignedUp::code_mailed`] says so.
    ///
    /// # Errors
    /// [`AuthError::Validation`], [`AuthError::Conflict`] when an account that
    /// is not pending holds the address (or the name ran out of suffixes),
    /// [`AuthError::Busy`], [`AuthError::Unavailable`].
    pub async fn sign_up(&self, form: &SignUp<'_>, locale: Locale) -> Result<SignedUp, AuthError> {
        let mut errors = ValidationErrors::new();
        let Some((name, email, password)) = self.parse_sign_up(form, &mut errors) else {
            return Err(errors.into());
        };
        // Checked before a code is issued, so that a sign-up for a taken address
        // never replaces that account's live code.
        let pending = self.pending_registration_of(&email).await?;
        let hash = self.ports.hasher.hash(&password).await?;
        // The code is stored only once the account and its mail are
        // committed: a sign-up that loses a race for the address (or fails)
        // must not replace the code another sign-up mailed.
        let drawn = match self
            .draw_code(CodePurpose::Register, email.as_str(), "signup", None)
            .await
        {
            Ok(drawn) => Some(drawn),
            Err(AuthError::TooManyRequests { .. }) => None,
            Err(e) => return Err(e),
        };
        let (code, stored) = drawn.unzip();
        let mail = code.map(|code| {
            let kind = MailKind::SignUpCode {
                name: name.clone(),
                code,
                minutes: self.settings.codes.ttl.num_minutes(),
            };
            compose(&kind, &email, locale, &self.settings.mail)
        });
        if let Some(pending) = pending {
            self.remove_pending_account(&pending, "replaced", &ClientInfo::without_peer(None))
                .await?;
        }
        let user = self
            .create_signed_up(&name, email, hash, false, mail.as_ref())
            .await?;
        if let Some(stored) = &stored {
            self.ports.codes.put(stored).await?;
        }
        Ok(SignedUp {
            user,
            code_mailed: mail.is_some(),
        })
    }

    /// Confirms a sign-up with its code (issue 13, items 1 and 5): the code mailed by [`Self::sign_up`] proves
    /// the address, and whoever proved it ends up holding the account with
    /// the password they sent here (the pre-hijacking rule of issue 12,
    /// item 3; docs/security.md "Pre-account hijacking"):
    ///
    /// - an address whose account is verified answers
    ///   [`AuthError::Conflict`] before the code is looked at (no attempt is
    ///   spent), as the peer does;
    /// - an unverified account whose password is the one sent (as a password
    ///   or its SM3 digest, [`PasswordInput::attempts`]): its address is
    ///   confirmed, and every session opened before ends
    ///   (`Self::confirm_address`);
    /// - an unverified account with another password was made by someone
    ///   else: a pending one is replaced by a new verified account, one in use
    ///   is claimed as a password reset by e-mail claims it
    ///   (`Self::claim_by_address`: sessions end, the password becomes the
    ///   one sent, the address verified, the phone dropped);
    /// - no account (a code mailed before sign-up created accounts, or an account
    ///   that expired): a verified account is created as [`Self::sign_up`]
    ///   would name it.
    ///
    /// The code is single use: of concurrent confirmations with it, one proceeds.
    /// A sign-up that replaces a pending account while a confirmation runs does not
    /// defeat the proof: the confirmation reads the address's holder again and
    /// applies the same rules to it.
    ///
    /// # Errors
    /// [`AuthError::Validation`], [`AuthError::Conflict`],
    /// [`AuthError::CodeExpired`], [`AuthError::CodeWrong`],
    /// [`AuthError::CodeExhausted`], [`AuthError::CodeInvalid`] (the account
    /// went away meanwhile), [`AuthError::Busy`], [`AuthError::Unavailable`].
    pub async fn confirm_sign_up(
        &self,
        form: &SignUp<'_>,
        code: Option<&str>,
        locale: Locale,
        client: &ClientInfo,
    ) -> Result<User, AuthError> {
        let mut errors = ValidationErrors::new();
        let parsed = self.parse_sign_up(form, &mut errors);
        let code = errors.check(Field::Code, required(code).map(|c| c.trim().to_owned()));
        let (Some((name, email, password)), Some(code)) = (parsed, code) else {
            return Err(errors.into());
        };
        let attempts = form
            .password
            .ok_or(FieldIssue::Required)
            .and_then(PasswordInput::attempts)
            .map_err(|issue| ValidationErrors::single(Field::Password, issue))?;
        let existing = self.holder_of(&email).await?;
        if existing.as_ref().is_some_and(|u| u.email_verified) {
            return Err(AuthError::Conflict(UniqueField::Email));
        }
        self.check_code(CodePurpose::Register, email.as_str(), &code)
            .await?;
        // Single use: of concurrent confirmations with the code, one goes on.
        self.take_sign_up_code(&email).await?;
        // The code proved the address. A sign-up running meanwhile may have
        // replaced a pending account of it, so the proof is applied to
        // whoever holds the address now, read again if it moved.
        let mut holder = existing;
        let mut hash = None;
        // Each round that has to start again lost to a sign-up that created an
        // account in between; sign-ups are rate-limited per address and IP,
        // so a few rounds are enough, and a storm beyond them is 510 "busy"
        // (the code is spent; a reset by e-mail claims the address).
        for _ in 0..MAX_VERIFY_ROUNDS {
            let Some(user) = holder else {
                let new_hash = self.hash_once(&mut hash, &password).await?;
                match self
                    .create_signed_up(&name, email.clone(), new_hash, true, None)
                    .await
                {
                    Err(AuthError::Conflict(UniqueField::Email)) => {
                        holder = self.holder_of(&email).await?;
                        continue;
                    }
                    created => return created,
                }
            };
            if user.email_verified {
                return Err(AuthError::Conflict(UniqueField::Email));
            }
            if self
                .matching_attempt(&user.password_hash, &attempts)
                .await?
                .is_some()
            {
                match self.confirm_address(user, client).await {
                    Err(AuthError::CodeInvalid) => {
                        holder = self.holder_of(&email).await?;
                        continue;
                    }
                    confirmed => return confirmed,
                }
            }
            let new_hash = self.hash_once(&mut hash, &password).await?;
            if self.is_pending(&user, self.ports.clock.now()) {
                self.remove_pending_account(&user, "replaced", client)
                    .await?;
                holder = None;
                continue;
            }
            self.claim_by_address(&user, &new_hash, locale).await?;
            self.audit(AuditEvent {
                subject: Some(user.id),
                detail: Some("sign_up_code".to_owned()),
                ..self.event(AuditKind::PasswordReset, client)
            })
            .await;
            return self
                .ports
                .users
                .find_by_id(user.id)
                .await?
                .ok_or(AuthError::CodeInvalid);
        }
        Err(AuthError::Busy)
    }

    /// `password` hashed (off the executor), once per request: later rounds
    /// reuse `cached`.
    ///
    /// # Errors
    /// [`AuthError::Busy`], [`AuthError::Internal`] from the hasher.
    async fn hash_once(
        &self,
        cached: &mut Option<PasswordHash>,
        password: &PasswordAttempt,
    ) -> Result<PasswordHash, AuthError> {
        if let Some(hash) = cached {
            return Ok(hash.clone());
        }
        let hash = self.ports.hasher.hash(password).await?;
        *cached = Some(hash.clone());
        Ok(hash)
    }

    /// The account that holds `email` now, if any.
    async fn holder_of(&self, email: &Email) -> Result<Option<User>, AuthError> {
        Ok(self
            .ports
            .users
            .find_by_login(&Login::Email(email.clone()))
            .await?)
    }

    /// Takes the live sign-up code of `email` (single use): of concurrent
    /// callers exactly one gets it.
    ///
    /// # Errors
    /// [`AuthError::CodeExpired`] when another caller took it first,
    /// [`AuthError::Unavailable`].
    async fn take_sign_up_code(&self, email: &Email) -> Result<(), AuthError> {
        self.ports
            .codes
            .take(CodePurpose::Register, email.as_str())
            .await?
            .map(|_| ())
            .ok_or(AuthError::CodeExpired)
    }

    /// Creates the signed-up account for `email` with the password `hash`,
    /// queuing `mail` in the same transaction. The username is the name when
    /// it is a valid, free username; otherwise it is derived from the name or
    /// the address's local part (letters, digits, `_-.`), with a 4-digit
    /// suffix when taken (up to 8 tries). The role is `DEFAULT_ROLE`.
    ///
    /// # Errors
    /// [`AuthError::Conflict`] when the address was taken meanwhile or no
    /// free username was found, [`AuthError::Unavailable`].
    pub(super) async fn create_signed_up(
        &self,
        name: &str,
        email: Email,
        hash: PasswordHash,
        email_verified: bool,
        mail: Option<&OutgoingMail>,
    ) -> Result<User, AuthError> {
        let local = email.as_str().split('@').next().unwrap_or_default();
        let policy = &self.settings.username_policy;
        let base = username_from(name, policy)
            .or_else(|| username_from(local, policy))
            .or_else(|| username_from(&format!("user-{local}"), policy))
            .unwrap_or_else(|| {
                // "user-" and digits, as long as `USERNAME_MIN_LENGTH` asks.
                let digits = u8::try_from(policy.min_chars.saturating_sub(5).max(4)).unwrap_or(45);
                Username::from_stored(format!("user-{}", self.ports.ids.secret_digits(digits)))
            });
        let now = self.ports.clock.now();
        let mut candidate = base.clone();
        for _ in 0..8 {
            let user = NewUser {
                public_id: self.ports.ids.new_uuid(),
                username: candidate.clone(),
                email: email.clone(),
                phone: None,
                password_hash: hash.clone(),
                role: self.settings.default_role.clone(),
                email_verified,
                created_at: now,
            };
            let created = [PendingEvent::new(EventType::UserCreated, now)];
            match self.ports.users.create(user, mail, &created).await {
                Ok(user) => return Ok(user),
                Err(CreateUserError::Duplicate(UniqueField::Username)) => {
                    let suffix = self.ports.ids.secret_digits(4);
                    let stem: String = base.as_str().chars().take(40).collect();
                    candidate = Username::from_stored(format!("{stem}-{suffix}"));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(AuthError::Conflict(UniqueField::Username))
    }
}
