//! Enrolment at sign-in (issue 17, `MFA_REQUIRED_ROLES`): an account that
//! holds a role of [`AuthSettings::mfa_required_roles`](crate::settings::AuthSettings::mfa_required_roles)
//! and has no second factor gets no session from its password. The login
//! answers an enrolment challenge instead
//! ([`SecondFactorChallenge::enrolment`](super::SecondFactorChallenge::enrolment)),
//! an `mfa_token` like the second-factor step's, with which the client
//! begins enrolling a TOTP factor or a passkey here, and finishes the login
//! with [`AuthService::verify_second_factor`]: the first TOTP code, or the
//! passkey's registration, enrols the factor, and the session opens at
//! assurance level 2 with the account's first recovery codes.

use super::AuthService;
use crate::error::AuthError;
use crate::mail::{FactorChange, Locale};
use crate::model::VerificationCode;
use crate::model::{AuthMethod, ClientInfo, CodePurpose, FactorKind, PasskeyName, User};
use crate::ports::{CeremonyOptions, CeremonyState, CodeStore as _, Ports, UserRepository as _};

use super::{DEFAULT_PASSKEY_NAME, RecoveryCodes, TotpEnrolment};

/// What a factor enrolled at sign-in proved: its kind, its RFC 8176 method
/// and the recovery codes issued with it.
pub(super) type Enrolled = (FactorKind, Option<AuthMethod>, Option<RecoveryCodes>);

impl<P: Ports> AuthService<P> {
    /// Whether `user` must have a second factor: holds a role of
    /// `MFA_REQUIRED_ROLES`.
    pub(super) fn must_have_second_factor(&self, user: &User) -> bool {
        self.settings
            .mfa_required_roles
            .iter()
            .any(|r| user.has_role(r.as_str()))
    }

    /// Begins the TOTP enrolment an enrolment challenge (`mfa_token`) waits
    /// for: a new secret, stored unconfirmed, and what the app needs (the
    /// secret and its `otpauth://` URI). Finish with
    /// [`Self::verify_second_factor`] and the app's first code. A second call
    /// replaces the secret.
    ///
    /// # Errors
    /// [`AuthError::ChallengeInvalid`] (unknown, expired, forged or used
    /// token, not an enrolment challenge, the password changed meanwhile),
    /// [`AuthError::AccountDisabled`], [`AuthError::Unavailable`].
    pub async fn begin_required_totp_enrolment(
        &self,
        mfa_token: &str,
    ) -> Result<TotpEnrolment, AuthError> {
        let (_, _, user) = self.enrolment_challenge(mfa_token).await?;
        match self.start_totp_enrolment(&user).await {
            // Enrolled meanwhile (elsewhere): this sign-in is the ordinary
            // second-factor step's business now.
            Err(AuthError::FactorAlreadyEnrolled) => Err(AuthError::ChallengeInvalid),
            other => other,
        }
    }

    /// The TOTP enrolment an enrolment challenge (`mfa_token`) began and
    /// that waits for its first code, shown again (the hosted pages redraw
    /// the QR code after a wrong code); `None` when none waits.
    ///
    /// # Errors
    /// As [`Self::begin_required_totp_enrolment`].
    pub async fn pending_required_totp_enrolment(
        &self,
        mfa_token: &str,
    ) -> Result<Option<TotpEnrolment>, AuthError> {
        let (_, _, user) = self.enrolment_challenge(mfa_token).await?;
        self.pending_totp_of(&user).await
    }

    /// Begins the passkey registration an enrolment challenge (`mfa_token`)
    /// waits for: the options for `navigator.credentials.create()`. Finish
    /// with [`Self::verify_second_factor`], kind
    /// [`FactorKind::Passkey`], the `PublicKeyCredential`'s JSON as the
    /// code. A second call replaces the first ceremony.
    ///
    /// # Errors
    /// As [`Self::begin_required_totp_enrolment`].
    pub async fn begin_required_passkey_enrolment(
        &self,
        mfa_token: &str,
    ) -> Result<CeremonyOptions, AuthError> {
        let (id, challenge, user) = self.enrolment_challenge(mfa_token).await?;
        let (options, state) = self.passkey_registration_options(&user).await?;
        self.store_challenge_ceremony(CodePurpose::PasskeyRegistration, id, &challenge, state)
            .await?;
        Ok(options)
    }

    /// The answer of an enrolment challenge `challenge_id` of `user`: `code`
    /// confirms the TOTP factor begun with
    /// [`Self::begin_required_totp_enrolment`], or with `kind`
    /// [`FactorKind::Passkey`] registers the passkey of the ceremony begun
    /// with [`Self::begin_required_passkey_enrolment`]. The account is mailed
    /// a notice in `locale`, and its sessions (opened without a factor) end.
    ///
    /// # Errors
    /// [`AuthError::CodeInvalid`] for a wrong code (or one sent before a
    /// TOTP enrolment was begun) or a refused registration,
    /// [`AuthError::ChallengeInvalid`] when a TOTP factor was confirmed
    /// meanwhile, [`AuthError::TooManyPasskeys`],
    /// [`AuthError::TooManyRequests`], [`AuthError::Unavailable`].
    pub(super) async fn finish_required_enrolment(
        &self,
        user: &User,
        challenge_id: &str,
        kind: Option<FactorKind>,
        code: &str,
        client: &ClientInfo,
        locale: Locale,
    ) -> Result<Enrolled, AuthError> {
        let enrolled = if kind == Some(FactorKind::Passkey) {
            self.limit_factor_checks(user).await?;
            let state = self
                .ports
                .codes
                .take(CodePurpose::PasskeyRegistration, challenge_id)
                .await?
                .and_then(|c| c.binding)
                .map(CeremonyState)
                .ok_or(AuthError::CodeInvalid)?;
            let name = PasskeyName::parse(None, DEFAULT_PASSKEY_NAME)?;
            let (passkey, codes, _) = match self
                .register_passkey(user, &state, code, &name, client, locale)
                .await
            {
                // A refused registration, or a credential another account
                // registered: a wrong answer, as a wrong code is.
                Err(AuthError::PasskeyRefused | AuthError::FactorAlreadyEnrolled) => {
                    return Err(AuthError::CodeInvalid);
                }
                other => other?,
            };
            (
                FactorKind::Passkey,
                Some(Self::passkey_method(&passkey)),
                codes,
            )
        } else {
            match self.confirm_pending_totp(user, code, client).await {
                // No enrolment begun: no code can be right.
                Err(AuthError::FactorNotEnrolled) => return Err(AuthError::CodeInvalid),
                // Confirmed meanwhile (elsewhere): sign in again, as anyone
                // with a factor does.
                Err(AuthError::FactorAlreadyEnrolled) => return Err(AuthError::ChallengeInvalid),
                other => other?,
            }
            self.notice_factor_change(user, FactorChange::Enrolled, locale)
                .await;
            let codes = self.first_recovery_codes(user, client).await?;
            (FactorKind::Totp, Some(AuthMethod::Otp), codes)
        };
        // Sessions opened before the account had a factor end with it.
        self.revoke_user_sessions(user.id, None).await?;
        Ok(enrolled)
    }

    /// The id and the stored enrolment challenge `mfa_token` names, and its
    /// account, active and with the password the challenge was issued for.
    ///
    /// # Errors
    /// [`AuthError::ChallengeInvalid`], [`AuthError::AccountDisabled`],
    /// [`AuthError::Unavailable`].
    async fn enrolment_challenge(
        &self,
        mfa_token: &str,
    ) -> Result<(String, VerificationCode, User), AuthError> {
        let (id, challenge) = self.open_challenge(mfa_token).await?;
        let binding = challenge
            .binding
            .as_deref()
            .and_then(super::second_factor::parse_binding)
            .ok_or(AuthError::ChallengeInvalid)?;
        if !binding.enrolment {
            return Err(AuthError::ChallengeInvalid);
        }
        let user = self
            .ports
            .users
            .find_by_id(binding.user)
            .await?
            .ok_or(AuthError::ChallengeInvalid)?;
        if self.password_stamp(&user) != binding.stamp {
            return Err(AuthError::ChallengeInvalid);
        }
        user.ensure_active()?;
        Ok((id, challenge, user))
    }
}
