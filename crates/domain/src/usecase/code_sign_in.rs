//! Sign-in by a one-time code (issue 20, `PASSWORDLESS_LOGIN`, off by
//! default): a 6-digit code mailed to the account's address (or texted to its
//! number) stands in for the password. The request answers the same whether
//! or not an account may sign in with what was given
//! ([`AuthService::request_sign_in_code`]); the code then enters the login's
//! steps like a password ([`AuthService::verify_sign_in_code`]): a second
//! factor follows when the account has one, and the tokens say how the
//! account authenticated (`amr` `email` or `sms`).

use super::login::VerifiedCredentials;
use super::{AuthService, LoginStep, LoginTerms, required};
use crate::error::AuthError;
use crate::mail::{Locale, MailKind, compose};
use crate::model::{AuditEvent, AuditKind, Authentication, ClientInfo, CodePurpose, User};
use crate::ports::{
    CodeStore as _, DeferredTask, MailOutbox as _, Ports, RateLimiter as _, SmsSender as _,
    TaskQueue as _, UserRepository as _,
};
use crate::validation::{Field, ValidationErrors};
use crate::values::Login;

/// A sign-in code was asked for. There is no `debug_code`, even in
/// development: a code returned to whoever asks would sign anyone in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInCodeIssued {
    /// Seconds until the code expires.
    pub expires_in_secs: i64,
}

/// The key a sign-in code lives under: the identifier's canonical form.
fn code_key(login: &Login) -> String {
    match login {
        Login::Username(u) => format!("username:{}", u.canonical()),
        Login::Email(e) => e.as_str().to_owned(),
        Login::Phone(p) => p.as_str().to_owned(),
    }
}

/// Where a code for `login` goes for `user`: its number when `login` is
/// one, else its address (as stored: E.164, canonical address).
fn destination(user: &User, login: &Login) -> String {
    match login {
        Login::Phone(p) => p.as_str().to_owned(),
        _ => user.email.as_str().to_owned(),
    }
}

impl<P: Ports> AuthService<P> {
    /// Asks for a sign-in code for the account `identifier` names
    /// (username, e-mail address or phone number): to its address, or by
    /// text message when the identifier is its number. The answer and the
    /// work before it are the same for every identifier: the limits are
    /// counted (one per `resend_after_secs`, `per_hour` an hour, per
    /// identifier) and the rest is handed to the deferred worker
    /// ([`DeferredTask::SendSignInCode`], [`Self::run_deferred`]), which
    /// sends a code only to an active account with a verified address (at
    /// most `per_hour` an hour per account, however it is named) and keeps a
    /// code bound to nobody for every other identifier.
    ///
    /// # Errors
    /// [`AuthError::PasswordlessLoginDisabled`], [`AuthError::Validation`]
    /// ([`Field::Identifier`]: nothing, or no identifier's shape),
    /// [`AuthError::TooManyRequests`], [`AuthError::Unavailable`] (the
    /// worker's queue is full).
    pub async fn request_sign_in_code(
        &self,
        identifier: Option<&str>,
        locale: Locale,
    ) -> Result<SignInCodeIssued, AuthError> {
        if !self.settings.passwordless_login {
            return Err(AuthError::PasswordlessLoginDisabled);
        }
        let login = self.sign_in_login(identifier)?;
        let key = code_key(&login);
        let cs = self.settings.codes;
        self.limit(format!("sign-in-code-gap:{key}"), 1, cs.resend_after_secs)
            .await?;
        self.limit(format!("sign-in-code-hour:{key}"), cs.per_hour, 3600)
            .await?;
        self.ports
            .tasks
            .defer(DeferredTask::SendSignInCode { login, locale })?;
        Ok(SignInCodeIssued {
            expires_in_secs: cs.ttl.num_seconds(),
        })
    }

    /// The deferred half of [`Self::request_sign_in_code`].
    ///
    /// # Errors
    /// [`AuthError::Unavailable`] when a store fails.
    pub(super) async fn send_sign_in_code(
        &self,
        login: &Login,
        locale: Locale,
    ) -> Result<(), AuthError> {
        let key = code_key(login);
        let mut user = self
            .ports
            .users
            .find_by_login(login)
            .await?
            .filter(|u| u.is_active && u.email_verified);
        if let Some(u) = &user {
            // Per account too: a username, an address and a number name the
            // same account, and each has its own identifier limit.
            let window = crate::ports::RateWindow {
                limit: self.settings.codes.per_hour,
                window_secs: 3600,
            };
            let counted = self
                .ports
                .limiter
                .hit(&format!("sign-in-code-account:{}", u.public_id), window)
                .await?;
            if !counted.allowed {
                user = None;
            }
        }
        let binding = user
            .as_ref()
            .map(|u| format!("{} {}", u.public_id, destination(u, login)));
        let (code, stored) = self.fresh_code(CodePurpose::SignInCode, &key, binding);
        self.ports.codes.put(&stored).await?;
        let Some(user) = user else {
            return Ok(());
        };
        let minutes = self.settings.codes.ttl.num_minutes();
        if let Login::Phone(phone) = login {
            let product = &self.settings.mail.product_name;
            let text = match locale {
                Locale::ZhCn => {
                    format!("【{product}】您的登录验证码是 {code}，{minutes} 分钟内有效。")
                }
                Locale::En => {
                    format!("[{product}] Your sign-in code is {code}, valid for {minutes} minutes.")
                }
            };
            self.ports.sms.send(phone, &text).await?;
            return Ok(());
        }
        let kind = MailKind::SignInCode {
            username: user.username.as_str().to_owned(),
            code,
            minutes,
        };
        self.ports
            .outbox
            .enqueue(
                &compose(&kind, &user.email, locale, &self.settings.mail),
                self.now(),
            )
            .await?;
        Ok(())
    }

    /// Checks the sign-in `code` sent for `identifier` (counted first, at
    /// most `max_attempts` comparisons per code under any concurrency:
    /// [`crate::ports::CodeStore::claim_attempt`]; single use) and answers what follows, as a
    /// password login does ([`LoginStep`]): the session, or the second-factor
    /// step when the account has a factor (or must enrol one). The
    /// authentication is `amr` `email` for a mailed code, `sms` for a texted
    /// one; with the second factor the session reaches assurance level 2.
    ///
    /// # Errors
    /// [`AuthError::PasswordlessLoginDisabled`], [`AuthError::Validation`]
    /// ([`Field::Identifier`], [`Field::Code`]), [`AuthError::CodeExpired`]
    /// (no live code), [`AuthError::CodeWrong`], [`AuthError::CodeExhausted`],
    /// [`AuthError::InvalidCredentials`] (the account changed, was disabled
    /// or removed since), [`AuthError::Unavailable`].
    pub async fn verify_sign_in_code(
        &self,
        identifier: Option<&str>,
        code: Option<&str>,
        client: ClientInfo,
        terms: LoginTerms,
    ) -> Result<LoginStep, AuthError> {
        if !self.settings.passwordless_login {
            return Err(AuthError::PasswordlessLoginDisabled);
        }
        let mut errors = ValidationErrors::new();
        let login = errors.check(
            Field::Identifier,
            required(identifier).and_then(|i| Login::parse(i, self.settings.phone_region)),
        );
        let code = errors.check(Field::Code, required(code));
        let (Some(login), Some(code)) = (login, code) else {
            return Err(errors.into());
        };
        let key = code_key(&login);
        let shown: String = identifier.unwrap_or("").trim().chars().take(100).collect();
        let failed = |user: Option<&User>, reason: &str| AuditEvent {
            subject: user.map(|u| u.id),
            identifier: Some(shown.clone()),
            detail: Some(reason.to_owned()),
            ..self.event(AuditKind::LoginFailed, &client)
        };
        let checked = match self.check_code(CodePurpose::SignInCode, &key, code).await {
            Ok(checked) => checked,
            Err(e) => {
                if matches!(e, AuthError::CodeWrong { .. } | AuthError::CodeExhausted) {
                    self.audit(failed(None, "wrong_sign_in_code")).await;
                }
                return Err(e);
            }
        };
        // The code must be bound to the account the identifier names now,
        // and to where it still goes: a code sent before the account's
        // address or number changed (or was restored) signs in no one. A
        // code bound to nobody, or to another state, answers as a wrong
        // guess (it stays, with one attempt fewer).
        let user = self.ports.users.find_by_login(&login).await?.filter(|u| {
            checked.binding.as_deref()
                == Some(format!("{} {}", u.public_id, destination(u, &login)).as_str())
        });
        let Some(user) = user else {
            self.audit(failed(None, "wrong_sign_in_code")).await;
            return Err(if checked.attempts >= checked.max_attempts {
                AuthError::CodeExhausted
            } else {
                AuthError::CodeWrong {
                    remaining: checked.max_attempts - checked.attempts,
                }
            });
        };
        self.ports
            .codes
            .take(CodePurpose::SignInCode, &key)
            .await?
            .ok_or(AuthError::CodeExpired)?;
        if let Err(e) = user.ensure_active() {
            self.audit(failed(Some(&user), "account_disabled")).await;
            return Err(e);
        }
        let authentication =
            Authentication::sign_in_code(self.now(), matches!(login, Login::Phone(_)));
        let verified = VerifiedCredentials::sign_in_code(user, shown, authentication);
        self.next_step(verified, client, terms).await
    }

    /// The identifier of a sign-in by code.
    fn sign_in_login(&self, identifier: Option<&str>) -> Result<Login, AuthError> {
        required(identifier)
            .and_then(|i| Login::parse(i, self.settings.phone_region))
            .map_err(|issue| ValidationErrors::single(Field::Identifier, issue).into())
    }
}
