//! Seed 001's sign-up: a mailed code, then the account.

use super::{AuthService, Locale, MailKind, compose, required};
use crate::clock::{Clock as _, IdSource as _};
use crate::code::CodePurpose;
use crate::error::{AuthError, CreateUserError};
use crate::newtypes::{Email, Login, Password, PasswordAttempt, Username, UsernamePolicy};
use crate::ports::{
    CodeStore as _, MailOutbox as _, PasswordHasher as _, Ports, UserRepository as _,
};
use crate::session::ClientInfo;
use crate::user::{NewUser, UniqueField, User};
use crate::validation::{FieldIssue, ValidationErrors};

/// Seed 001's sign-up fields, as received.
#[derive(Debug, Clone, Copy, Default)]
pub struct SignUp<'a> {
    /// `Name`: a display name; the username is derived from it.
    pub name: Option<&'a str>,
    /// `Email`.
    pub email: Option<&'a str>,
    /// `Password`: the password, or its SM3 digest (64 hex digits).
    pub password: Option<&'a str>,
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
    /// A new password as seed 001 sends it: a 64-hex SM3 digest is taken as
    /// the digest (the policy cannot be checked on it); anything else is the
    /// password and must meet the policy.
    ///
    /// # Errors
    /// The [`FieldIssue`] that refuses it.
    pub fn parse_legacy_new_password(
        &self,
        raw: Option<&str>,
    ) -> Result<PasswordAttempt, FieldIssue> {
        let raw = required(raw)?;
        if PasswordAttempt::looks_like_sm3_digest(raw) {
            PasswordAttempt::sm3_digest(raw)
        } else {
            Password::parse(raw, &self.settings.password_policy).map(PasswordAttempt::from)
        }
    }

    /// The ways seed 001's `Password` may be meant, most likely first: the SM3
    /// digest its README describes, then the password itself.
    ///
    /// # Errors
    /// The [`FieldIssue`] when the field is empty or too long.
    pub fn legacy_attempts(raw: Option<&str>) -> Result<Vec<PasswordAttempt>, FieldIssue> {
        let raw = required(raw)?;
        let plain = PasswordAttempt::parse(raw)?;
        Ok(match PasswordAttempt::sm3_digest(raw) {
            Ok(digest) => vec![digest, plain],
            Err(_) => vec![plain],
        })
    }

    fn parse_sign_up(
        &self,
        form: &SignUp<'_>,
        errors: &mut ValidationErrors,
    ) -> Option<(String, Email, PasswordAttempt)> {
        let name = errors.check(
            "Name",
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
        let email = errors.check("Email", required(form.email).and_then(Email::parse));
        let password = errors.check("Password", self.parse_legacy_new_password(form.password));
        match (name, email, password) {
            (Some(n), Some(e), Some(p)) => {
                // An SM3 digest cannot be screened (only its length was checked).
                if !p.is_sm3_digest()
                    && let Err(issue) = crate::newtypes::screen_password(
                        p.expose(),
                        &self.settings.password_policy,
                        &n,
                        e.as_str(),
                    )
                {
                    errors.add("Password", issue);
                    return None;
                }
                Some((n, e, p))
            }
            _ => None,
        }
    }

    /// Seed 001's `/Auth/Sign`: mails a sign-up code to a new address.
    ///
    /// # Errors
    /// [`AuthError::Validation`], [`AuthError::Conflict`] when the address is
    /// registered, [`AuthError::TooManyRequests`], [`AuthError::Unavailable`].
    pub async fn send_sign_up_code(
        &self,
        form: &SignUp<'_>,
        locale: Locale,
    ) -> Result<(), AuthError> {
        let mut errors = ValidationErrors::new();
        let Some((name, email, _)) = self.parse_sign_up(form, &mut errors) else {
            return Err(errors.into());
        };
        // A pending registration of the address (issue 12, item 3) does not
        // block the owner: the account made at `/Auth/Verify` replaces it.
        if self
            .ports
            .users
            .find_by_login(&Login::Email(email.clone()))
            .await?
            .is_some_and(|u| !self.is_pending(&u, self.ports.clock.now()))
        {
            return Err(AuthError::Conflict(UniqueField::Email));
        }
        let cs = self.settings.codes;
        let code = self
            .issue_code(CodePurpose::Register, email.as_str(), "signup", None)
            .await?;
        let now = self.ports.clock.now();
        let kind = MailKind::SignUpCode {
            name,
            code,
            minutes: cs.ttl.num_minutes(),
        };
        self.ports
            .outbox
            .enqueue(&compose(&kind, &email, locale, &self.settings.mail), now)
            .await?;
        Ok(())
    }

    /// Seed 001's `/Auth/Verify`: creates the account (email confirmed) when
    /// the code matches. The username is the name when it is a valid, free
    /// username; otherwise it is derived from the name or the address, with a
    /// numeric suffix when taken.
    ///
    /// # Errors
    /// [`AuthError::Validation`], [`AuthError::CodeExpired`], [`AuthError::CodeWrong`],
    /// [`AuthError::CodeExhausted`], [`AuthError::Conflict`] (address taken meanwhile),
    /// [`AuthError::Busy`], [`AuthError::Unavailable`].
    pub async fn complete_sign_up(
        &self,
        form: &SignUp<'_>,
        code: Option<&str>,
    ) -> Result<User, AuthError> {
        let mut errors = ValidationErrors::new();
        let parsed = self.parse_sign_up(form, &mut errors);
        let code = errors.check("VerifyCode", required(code).map(|c| c.trim().to_owned()));
        let (Some((name, email, password)), Some(code)) = (parsed, code) else {
            return Err(errors.into());
        };
        self.check_code(CodePurpose::Register, email.as_str(), &code)
            .await?;
        let hash = self.ports.hasher.hash(&password).await?;
        // The code proved the address and the password comes with it: a
        // pending registration of the address by someone else is replaced.
        if let Some(pending) = self
            .ports
            .users
            .find_by_login(&Login::Email(email.clone()))
            .await?
            .filter(|u| self.is_pending(u, self.ports.clock.now()))
        {
            self.remove_pending_account(&pending, "replaced", &ClientInfo::default())
                .await?;
        }
        let local = email.as_str().split('@').next().unwrap_or_default();
        let policy = &self.settings.username_policy;
        let base = username_from(&name, policy)
            .or_else(|| username_from(local, policy))
            .or_else(|| username_from(&format!("user-{local}"), policy))
            .unwrap_or_else(|| Username::from_stored("user".to_owned()));
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
                email_verified: true,
                created_at: now,
            };
            match self.ports.users.create(user, None).await {
                Ok(user) => {
                    // Single use; a failure here leaves a code that can only
                    // answer "user exists" (502) and expires on its own.
                    let _ = self
                        .ports
                        .codes
                        .take(CodePurpose::Register, email.as_str())
                        .await;
                    return Ok(user);
                }
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
