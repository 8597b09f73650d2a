//! The second-factor step of a login (issue 17): a password that is right
//! for an account with a second factor yields a challenge, not a session;
//! [`AuthService::verify_second_factor`] answers it with a factor and opens
//! the session.
//!
//! The challenge is an `mfa_token` of the form `<id>.<secret>`: the code
//! store keeps it under its id (purpose
//! [`CodePurpose::SecondFactor`]) as a keyed fingerprint of the secret, bound
//! to the account and a stamp of its password hash. It dies after
//! `challenge_ttl`, after `challenge_attempts` wrong codes, at its first
//! success, and when the password changes meanwhile.

use super::AuthService;
use super::login::{
    LoginOutcome, LoginStep, LoginTerms, SecondFactorChallenge, VerifiedCredentials,
};
use super::passkey::split_token;
use crate::clock::IdSource as _;
use crate::error::AuthError;
use crate::mail::{Locale, MailKind};
use crate::model::{AttemptGrant, AuditKind, AuthMethod, Authentication, ClientInfo, CodePurpose};
use crate::model::{FactorKind, UserId, VerificationCode, constant_time_eq};
use crate::ports::{
    CodeStore as _, FactorStore as _, Ports, RefreshTokenCodec as _, UserRepository as _,
};
use crate::secret::Secret;

impl<P: Ports> AuthService<P> {
    /// What follows verified credentials: a session at once, or for an
    /// account with a second factor, a challenge.
    ///
    /// # Errors
    /// As [`Self::finish_login`], and [`AuthError::Unavailable`].
    pub(super) async fn next_step(
        &self,
        verified: VerifiedCredentials,
        client: ClientInfo,
        terms: LoginTerms,
    ) -> Result<LoginStep, AuthError> {
        let overview = self.ports.factors.overview(verified.user().id).await?;
        let enrolment =
            !overview.has_second_factor() && self.must_have_second_factor(verified.user());
        if !overview.has_second_factor() && !enrolment {
            return self
                .finish_login(verified, client, terms)
                .await
                .map(LoginStep::Done);
        }
        let now = self.now();
        let id = self.ports.ids.new_uuid();
        let secret = self.ports.ids.secret_token();
        let user = verified.user();
        let binding = format!(
            "{} {} {}{} {}",
            user.id.0,
            self.hash_stamp(verified.stored_hash()),
            u8::from(terms.admin_mode),
            if enrolment { "e" } else { "" },
            verified.authentication().methods_text(),
        );
        let s = self.settings.second_factor;
        let expires_at = now + s.challenge_ttl;
        self.ports
            .codes
            .put(&VerificationCode {
                purpose: CodePurpose::SecondFactor,
                recipient: id.to_string(),
                fingerprint: self.ports.codec.keyed_fingerprint(&secret),
                digits: 0,
                expires_at,
                attempts: 0,
                max_attempts: s.challenge_attempts,
                binding: Some(binding),
            })
            .await?;
        // The password was right: recorded, so that someone who knows it and
        // gives up at the second step leaves a trace.
        self.audit(crate::model::AuditEvent {
            subject: Some(user.id),
            identifier: Some(user.username.as_str().to_owned()),
            detail: Some(format!("challenge {id}")),
            ..self.event(AuditKind::SecondFactorChallenged, &client)
        })
        .await;
        Ok(LoginStep::SecondFactor(SecondFactorChallenge {
            id,
            token: Secret::new(format!("{id}.{secret}")),
            factors: if enrolment {
                vec![FactorKind::Totp, FactorKind::Passkey]
            } else {
                overview.kinds()
            },
            enrolment,
            expires_at,
        }))
    }

    /// Answers the second-factor step of a login: `mfa_token` names the
    /// waiting login, `code` is a TOTP code or a recovery code (`kind`, or
    /// when `None`, six digits are read as TOTP and anything else as a
    /// recovery code), or with `kind` [`FactorKind::Passkey`] the JSON of a
    /// `PublicKeyCredential` answering [`Self::begin_second_factor_passkey`]
    /// (`amr` `pwd swk mfa` or `pwd hwk mfa`). `locale` is the language of the notice mail. On success the session opens with `terms` and `amr`
    /// `pwd otp mfa` (TOTP) or `pwd mfa` (a recovery code, which is also
    /// mailed to the account as a notice): assurance level 2.
    ///
    /// Every answer counts against the challenge (`challenge_attempts`) and
    /// the account's factor-check limit, each atomically.
    ///
    /// # Errors
    /// [`AuthError::Validation`] ([`Field::Code`](crate::validation::Field::Code)) for a blank code,
    /// [`AuthError::ChallengeInvalid`] (unknown, expired, forged or used
    /// token, the password changed meanwhile, or `terms` ask for another
    /// administrator mode than the login did), [`AuthError::CodeWrong`]
    /// with the answers left, [`AuthError::CodeExhausted`] at the last one,
    /// [`AuthError::TooManyRequests`], [`AuthError::AccountDisabled`],
    /// [`AuthError::InvalidCredentials`] (see [`Self::finish_login`]),
    /// [`AuthError::Unavailable`].
    pub async fn verify_second_factor(
        &self,
        mfa_token: &str,
        kind: Option<FactorKind>,
        code: &str,
        client: ClientInfo,
        terms: LoginTerms,
        locale: Locale,
    ) -> Result<LoginOutcome, AuthError> {
        let code = Self::required_code(code)?;
        // The token is checked before an attempt is counted: a forged token
        // naming a real challenge cannot use its attempts up.
        let (id, _) = self.open_challenge(mfa_token).await?;
        let id = id.as_str();
        let purpose = CodePurpose::SecondFactor;
        let challenge = match self.ports.codes.claim_attempt(purpose, id).await? {
            AttemptGrant::Granted(c) => c,
            AttemptGrant::NoCode => return Err(AuthError::ChallengeInvalid),
            AttemptGrant::Exhausted => {
                self.ports.codes.take(purpose, id).await?;
                return Err(AuthError::CodeExhausted);
            }
        };
        let ChallengeBinding {
            user: user_id,
            stamp,
            admin_mode,
            enrolment,
            methods,
        } = challenge
            .binding
            .as_deref()
            .and_then(parse_binding)
            .ok_or(AuthError::ChallengeInvalid)?;
        // An administrator login is finished as one, and only it is: a
        // challenge of a plain login never yields administrator tokens.
        if admin_mode != terms.admin_mode {
            return Err(AuthError::ChallengeInvalid);
        }
        let user = self
            .ports
            .users
            .find_by_id(user_id)
            .await?
            .ok_or(AuthError::ChallengeInvalid)?;
        if self.password_stamp(&user) != stamp {
            self.ports.codes.take(purpose, id).await?;
            return Err(AuthError::ChallengeInvalid);
        }
        user.ensure_active()?;
        // An administrator login's challenge finishes only while the account
        // is still an administrator (a role revoked meanwhile ends it).
        if admin_mode && !self.is_administrator(&user) {
            self.ports.codes.take(purpose, id).await?;
            return Err(AuthError::ChallengeInvalid);
        }
        let mut recovery_codes = None;
        let checked = if enrolment {
            self.finish_required_enrolment(&user, id, kind, code, &client, locale)
                .await
                .map(|(kind, method, codes)| {
                    recovery_codes = codes;
                    (kind, method)
                })
        } else if kind == Some(FactorKind::Passkey) {
            self.check_passkey_factor(&user, id, code, &client)
                .await
                .map(|method| (FactorKind::Passkey, Some(method)))
        } else {
            self.check_enrolled_factor(&user, kind, code, &client)
                .await
                .map(|kind| (kind, (kind == FactorKind::Totp).then_some(AuthMethod::Otp)))
        };
        let (matched, method) = match checked {
            Ok(found) => found,
            Err(AuthError::CodeInvalid) => {
                let left = challenge.max_attempts.saturating_sub(challenge.attempts);
                if left == 0 {
                    self.ports.codes.take(purpose, id).await?;
                    return Err(AuthError::CodeExhausted);
                }
                return Err(AuthError::CodeWrong { remaining: left });
            }
            Err(e) => return Err(e),
        };
        // Single use: of two answers that both matched (two different
        // codes), only the one that takes the challenge opens a session.
        if self.ports.codes.take(purpose, id).await?.is_none() {
            return Err(AuthError::ChallengeInvalid);
        }
        let mut methods = methods;
        methods.extend(method);
        methods.push(AuthMethod::Mfa);
        self.audit(self.factor_event(
            AuditKind::SecondFactorSucceeded,
            &user,
            &client,
            matched.as_str(),
        ))
        .await;
        if matched == FactorKind::RecoveryCode {
            self.notice_recovery_code_used(&user, &client, locale).await;
        }
        let verified = VerifiedCredentials::after_second_factor(
            user,
            Authentication {
                at: self.now(),
                methods,
            },
        );
        let mut outcome = self.finish_login(verified, client, terms).await?;
        outcome.recovery_codes = recovery_codes;
        Ok(outcome)
    }

    /// The id and the stored challenge `mfa_token` names, its secret
    /// checked (nothing is counted or used).
    ///
    /// # Errors
    /// [`AuthError::ChallengeInvalid`] for an unknown, expired or forged
    /// token; [`AuthError::Unavailable`].
    pub(super) async fn open_challenge(
        &self,
        mfa_token: &str,
    ) -> Result<(String, VerificationCode), AuthError> {
        let (id, secret) = split_token(mfa_token).ok_or(AuthError::ChallengeInvalid)?;
        let stored = self
            .ports
            .codes
            .get(CodePurpose::SecondFactor, id)
            .await?
            .ok_or(AuthError::ChallengeInvalid)?;
        let presented = self.ports.codec.keyed_fingerprint(secret);
        if !constant_time_eq(presented.0.as_bytes(), stored.fingerprint.0.as_bytes()) {
            return Err(AuthError::ChallengeInvalid);
        }
        Ok((id.to_owned(), stored))
    }

    /// Audits a used recovery code and mails the account a notice (best
    /// effort: a failing outbox does not undo the login, the audit trail
    /// still has the event).
    async fn notice_recovery_code_used(
        &self,
        user: &crate::model::User,
        client: &ClientInfo,
        locale: Locale,
    ) {
        let remaining = self
            .ports
            .factors
            .overview(user.id)
            .await
            .map_or(0, |o| o.recovery_codes_left);
        self.audit(self.factor_event(
            AuditKind::RecoveryCodeUsed,
            user,
            client,
            &format!("{remaining} left"),
        ))
        .await;
        let kind = MailKind::RecoveryCodeUsed {
            username: user.username.as_str().to_owned(),
            at: self.now(),
            remaining,
        };
        self.send_notice(user, &kind, locale).await;
    }
}

/// What a second-factor challenge is bound to.
pub(super) struct ChallengeBinding {
    /// The account.
    pub user: UserId,
    /// The stamp of its password hash when the login began.
    pub stamp: String,
    /// An administrator login (seed 001's `/Admin/Login`).
    pub admin_mode: bool,
    /// An enrolment challenge (`MFA_REQUIRED_ROLES`).
    pub enrolment: bool,
    /// The methods the login used so far.
    pub methods: Vec<AuthMethod>,
}

/// `<user id> <password stamp> <admin mode 0|1><e for an enrolment> <methods…>`
/// as [`AuthService::next_step`] wrote it.
pub(super) fn parse_binding(binding: &str) -> Option<ChallengeBinding> {
    let mut parts = binding.splitn(4, ' ');
    let user = parts.next()?.parse().ok()?;
    let stamp = parts.next()?.to_owned();
    let flags = parts.next()?;
    let methods = Authentication::methods_from_text(parts.next().unwrap_or(""));
    Some(ChallengeBinding {
        user: UserId(user),
        stamp,
        admin_mode: flags.starts_with('1'),
        enrolment: flags.ends_with('e'),
        methods,
    })
}
