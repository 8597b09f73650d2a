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
use crate::ports::{CodeStore as _, MailOutbox as _, Ports, SmsSender as _, UserRepository as _};
use crate::validation::{Field, ValidationErrors};
use crate::values::Login;

/// A sign-in code was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInCodeIssued {
    /// Seconds until the code expires.
    pub expires_in_secs: i64,
    /// The code itself, only when `expose_debug_codes` is on (development).
    pub debug_code: Option<String>,
}

/// The key a sign-in code lives under: the identifier's canonical form.
fn code_key(login: &Login) -> String {
    match login {
        Login::Username(u) => format!("username:{}", u.canonical()),
        Login::Email(e) => e.as_str().to_owned(),
        Login::Phone(p) => p.as_str().to_owned(),
    }
}

impl<P: Ports> AuthService<P> {
    /// Sends a sign-in code for the account `identifier` names (username,
    /// e-mail address or phone number): to its address, or by text message
    /// when the identifier is its number. Only an active account whose
    /// address is verified gets one; every other identifier gets the same
    /// answer after the same limits and store work (a code is kept that was
    /// sent nowhere and signs in no one), so the answer never tells whether
    /// an account exists. The limits are those of every code, per identifier:
    /// one per `resend_after_secs`, `per_hour` an hour.
    ///
    /// # Errors
    /// [`AuthError::PasswordlessLoginDisabled`], [`AuthError::Validation`]
    /// ([`Field::Identifier`]: nothing, or no identifier's shape),
    /// [`AuthError::TooManyRequests`], [`AuthError::Unavailable`].
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
        let user = self
            .ports
            .users
            .find_by_login(&login)
            .await?
            .filter(|u| u.is_active && u.email_verified);
        let (code, stored) = self
            .draw_code(
                CodePurpose::SignInCode,
                &key,
                "sign-in-code",
                user.as_ref().map(|u| u.public_id.to_string()),
            )
            .await?;
        self.ports.codes.put(&stored).await?;
        if let Some(user) = &user {
            self.send_sign_in_code(user, &login, &code, locale).await?;
        }
        Ok(SignInCodeIssued {
            expires_in_secs: self.settings.codes.ttl.num_seconds(),
            debug_code: self.settings.expose_debug_codes.then_some(code),
        })
    }

    /// Checks the sign-in `code` sent for `identifier` (counted first, at
    /// most `max_attempts` comparisons per code under any concurrency:
    /// [`Self::check_code`]; single use) and answers what follows, as a
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
        if let Err(e) = self.check_code(CodePurpose::SignInCode, &key, code).await {
            if matches!(e, AuthError::CodeWrong { .. } | AuthError::CodeExhausted) {
                self.audit(failed(None, "wrong_sign_in_code")).await;
            }
            return Err(e);
        }
        let issued = self
            .ports
            .codes
            .take(CodePurpose::SignInCode, &key)
            .await?
            .ok_or(AuthError::CodeExpired)?;
        let user = self.ports.users.find_by_login(&login).await?;
        let Some(user) = user.filter(|u| {
            issued.binding.as_deref() == Some(u.public_id.to_string().as_str())
        }) else {
            self.audit(failed(None, "sign_in_code_for_no_account")).await;
            return Err(AuthError::InvalidCredentials);
        };
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

    /// Mails `code` to `user`'s address, or texts it when `login` is its number.
    async fn send_sign_in_code(
        &self,
        user: &User,
        login: &Login,
        code: &str,
        locale: Locale,
    ) -> Result<(), AuthError> {
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
            // Not the caller's to learn: a failed hand-over answers as a
            // sent one (the holder asks again).
            let _ = self.ports.sms.send(phone, &text).await;
            return Ok(());
        }
        let kind = MailKind::SignInCode {
            username: user.username.as_str().to_owned(),
            code: code.to_owned(),
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
}
