//! An account's own second factors (issue 17): enrol a TOTP factor and
//! confirm it with a first code, remove it, and issue recovery codes.
//!
//! Every change to an enrolled factor is confirmed with a current code of
//! it (a TOTP code, or for removal also a recovery code, for the account
//! whose phone is gone): a stolen access token alone cannot turn the second
//! factor off or read new recovery codes. Every code check counts against
//! the account's factor-check limit
//! ([`SecondFactorSettings`](crate::settings::SecondFactorSettings)).

use super::{AuthService, Authenticated};
use crate::clock::IdSource as _;
use crate::error::AuthError;
use crate::mail::{FactorChange, Locale, MailKind, compose};
use crate::model::{AuditEvent, AuditKind, ClientInfo, TokenFingerprint, User};
use crate::model::{FactorKind, FactorOverview, RECOVERY_CODES_PER_SET, TotpFactor, TotpSecret};
use crate::ports::MailOutbox as _;
use crate::ports::{FactorStore as _, OneTimePasswords as _, Ports, RefreshTokenCodec as _};
use crate::secret::Secret;
use crate::validation::{Field, ValidationErrors, required};

/// A TOTP enrolment waiting for its first code: what the authenticator app
/// is given. `Debug` hides both (the URI holds the secret).
#[derive(Clone)]
pub struct TotpEnrolment {
    /// The shared secret in base32 (for typing into an app).
    pub secret: TotpSecret,
    /// The `otpauth://totp/…` URI (for a QR code).
    pub uri: Secret,
}

impl std::fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpEnrolment(***)")
    }
}

/// A new set of recovery codes, shown once: only their fingerprints are
/// stored. Each is 12 digits in groups of four (`1234-5678-9012`, 40 bits).
#[derive(Debug, Clone)]
pub struct RecoveryCodes(pub Vec<Secret>);

impl<P: Ports> AuthService<P> {
    /// What the caller's account holds of each factor.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`].
    pub async fn factor_overview(&self, auth: &Authenticated) -> Result<FactorOverview, AuthError> {
        Ok(self.ports.factors.overview(auth.user_id()).await?)
    }

    /// The factors of any account, for an administrator (see
    /// [`Self::factor_overview`]).
    ///
    /// # Errors
    /// [`AuthError::Unavailable`].
    pub async fn factors_of(&self, user: &User) -> Result<FactorOverview, AuthError> {
        Ok(self.ports.factors.overview(user.id).await?)
    }

    /// Begins a TOTP enrolment for the caller: a new secret, sealed and
    /// stored unconfirmed (replacing an earlier unconfirmed one), and what the
    /// app needs. Logins ignore the factor until
    /// [`Self::confirm_totp_enrolment`].
    ///
    /// Needs a recent authentication (`REAUTH_MAX_AGE`): a stolen session,
    /// kept alive by refreshes, cannot tie the account to the thief's app.
    ///
    /// # Errors
    /// [`AuthError::ReauthenticationRequired`],
    /// [`AuthError::FactorAlreadyEnrolled`] when a confirmed TOTP factor
    /// exists (remove it first), [`AuthError::UserNotFound`],
    /// [`AuthError::AccountDisabled`], [`AuthError::Unavailable`].
    pub async fn begin_totp_enrolment(
        &self,
        auth: &Authenticated,
    ) -> Result<TotpEnrolment, AuthError> {
        let user = self.current_user(auth).await?;
        self.require_recent_authentication(auth, &user).await?;
        self.start_totp_enrolment(&user).await
    }

    /// Stores a new, unconfirmed TOTP secret for `user` (replacing an
    /// earlier unconfirmed one) and answers what the app needs.
    ///
    /// # Errors
    /// [`AuthError::FactorAlreadyEnrolled`], [`AuthError::Unavailable`].
    pub(super) async fn start_totp_enrolment(
        &self,
        user: &User,
    ) -> Result<TotpEnrolment, AuthError> {
        let secret = self.ports.otp.new_secret()?;
        let factor = TotpFactor {
            user_id: user.id,
            sealed_secret: self.ports.otp.seal(user.public_id, &secret)?,
            created_at: self.now(),
            confirmed_at: None,
            last_used_step: None,
        };
        if !self.ports.factors.begin_totp(&factor).await? {
            return Err(AuthError::FactorAlreadyEnrolled);
        }
        Ok(self.enrolment_of(user, secret))
    }

    /// The caller's TOTP enrolment that waits for its first code, shown
    /// again (the hosted pages redraw the QR code after a wrong code);
    /// `None` when none waits.
    ///
    /// # Errors
    /// [`AuthError::UserNotFound`], [`AuthError::AccountDisabled`],
    /// [`AuthError::Unavailable`].
    pub async fn pending_totp_enrolment(
        &self,
        auth: &Authenticated,
    ) -> Result<Option<TotpEnrolment>, AuthError> {
        let user = self.current_user(auth).await?;
        self.pending_totp_of(&user).await
    }

    /// The unconfirmed TOTP enrolment of `user`, if one waits.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`].
    pub(super) async fn pending_totp_of(
        &self,
        user: &User,
    ) -> Result<Option<TotpEnrolment>, AuthError> {
        let pending = self
            .ports
            .factors
            .totp(user.id)
            .await?
            .filter(|f| !f.is_confirmed());
        Ok(pending
            .and_then(|f| self.ports.otp.open(user.public_id, &f.sealed_secret))
            .map(|secret| self.enrolment_of(user, secret)))
    }

    fn enrolment_of(&self, user: &User, secret: TotpSecret) -> TotpEnrolment {
        let uri = self.ports.otp.provisioning_uri(
            &secret,
            &self.settings.mail.product_name,
            user.email.as_str(),
        );
        TotpEnrolment {
            secret,
            uri: Secret::new(uri),
        }
    }

    /// Confirms the caller's pending TOTP enrolment with a first `code`
    /// (RFC 6238, one step of skew either side). The factor counts from now
    /// on: every other session of the account ends (they were opened
    /// without it), the account is mailed a notice in `locale`, and when it
    /// held no recovery codes, a first set is issued and returned (shown
    /// once). Needs a recent authentication, as [`Self::begin_totp_enrolment`].
    ///
    /// # Errors
    /// [`AuthError::Validation`] for a blank code,
    /// [`AuthError::ReauthenticationRequired`],
    /// [`AuthError::FactorNotEnrolled`] when no enrolment is pending,
    /// [`AuthError::FactorAlreadyEnrolled`] when the factor is confirmed already,
    /// [`AuthError::CodeInvalid`] for a wrong code,
    /// [`AuthError::TooManyRequests`] over the factor-check limit,
    /// [`AuthError::UserNotFound`], [`AuthError::AccountDisabled`],
    /// [`AuthError::Unavailable`].
    pub async fn confirm_totp_enrolment(
        &self,
        auth: &Authenticated,
        code: &str,
        locale: Locale,
    ) -> Result<Option<RecoveryCodes>, AuthError> {
        let code = Self::required_code(code)?;
        let user = self.current_user(auth).await?;
        self.require_recent_authentication(auth, &user).await?;
        self.confirm_pending_totp(&user, code, &auth.client).await?;
        self.end_other_sessions(auth).await?;
        self.notice_factor_change(&user, FactorChange::Enrolled, locale)
            .await;
        self.first_recovery_codes(&user, &auth.client).await
    }

    /// Confirms the pending TOTP factor of `user` with `code` and audits it.
    ///
    /// # Errors
    /// [`AuthError::FactorNotEnrolled`], [`AuthError::FactorAlreadyEnrolled`],
    /// [`AuthError::CodeInvalid`], [`AuthError::TooManyRequests`],
    /// [`AuthError::Unavailable`].
    pub(super) async fn confirm_pending_totp(
        &self,
        user: &User,
        code: &str,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        let user = user.clone();
        let pending = self
            .ports
            .factors
            .totp(user.id)
            .await?
            .ok_or(AuthError::FactorNotEnrolled)?;
        if pending.is_confirmed() {
            return Err(AuthError::FactorAlreadyEnrolled);
        }
        self.limit_factor_checks(&user).await?;
        let step = self.step_of(&user, &pending, code);
        let Some(step) = step else {
            self.audit(self.factor_event(
                AuditKind::SecondFactorFailed,
                &user,
                client,
                "totp wrong_code",
            ))
            .await;
            return Err(AuthError::CodeInvalid);
        };
        if !self
            .ports
            .factors
            .confirm_totp(user.id, &pending.sealed_secret, step, self.now())
            .await?
        {
            // Confirmed or replaced by a concurrent request meanwhile.
            return Err(AuthError::FactorNotEnrolled);
        }
        self.audit(self.factor_event(AuditKind::FactorEnrolled, &user, client, "totp"))
            .await;
        Ok(())
    }

    /// A first set of recovery codes for `user`, issued (and answered, to
    /// show once) only when the account holds none.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`].
    pub(super) async fn first_recovery_codes(
        &self,
        user: &User,
        client: &ClientInfo,
    ) -> Result<Option<RecoveryCodes>, AuthError> {
        if self
            .ports
            .factors
            .overview(user.id)
            .await?
            .recovery_codes_left
            > 0
        {
            return Ok(None);
        }
        self.issue_recovery_codes(user, client).await.map(Some)
    }

    /// Removes the caller's TOTP factor (and with it the recovery codes),
    /// confirmed by a current TOTP `code` or an unused recovery code, and
    /// mails the account a notice in `locale`. A pending enrolment is
    /// removed without a code.
    ///
    /// # Errors
    /// [`AuthError::Validation`] for a blank code (when one is needed),
    /// [`AuthError::FactorRequired`] when it is the last factor of an
    /// account of `MFA_REQUIRED_ROLES`,
    /// [`AuthError::FactorNotEnrolled`], [`AuthError::CodeInvalid`],
    /// [`AuthError::TooManyRequests`], [`AuthError::UserNotFound`],
    /// [`AuthError::AccountDisabled`], [`AuthError::Unavailable`].
    pub async fn remove_totp(
        &self,
        auth: &Authenticated,
        code: &str,
        locale: Locale,
    ) -> Result<(), AuthError> {
        let user = self.current_user(auth).await?;
        let factor = self
            .ports
            .factors
            .totp(user.id)
            .await?
            .ok_or(AuthError::FactorNotEnrolled)?;
        if factor.is_confirmed() {
            let code = Self::required_code(code)?;
            if self.must_have_second_factor(&user)
                && self.ports.factors.overview(user.id).await?.passkeys == 0
            {
                return Err(AuthError::FactorRequired);
            }
            self.check_enrolled_factor(&user, None, code, &auth.client)
                .await?;
        }
        if self.ports.factors.remove_totp(user.id).await? && factor.is_confirmed() {
            self.audit(self.factor_event(AuditKind::FactorRemoved, &user, &auth.client, "totp"))
                .await;
            self.notice_factor_change(&user, FactorChange::Removed, locale)
                .await;
        }
        Ok(())
    }

    /// Issues a new set of recovery codes for the caller, confirmed by a
    /// current TOTP `code` (an account whose only factors are passkeys
    /// confirms with a recent authentication instead, `REAUTH_MAX_AGE`: a
    /// passkey sign-in, `code` unused); the old set is void, and the account
    /// is mailed a notice in `locale`.
    ///
    /// # Errors
    /// [`AuthError::Validation`] for a blank code,
    /// [`AuthError::FactorNotEnrolled`] without a confirmed factor,
    /// [`AuthError::CodeInvalid`], [`AuthError::TooManyRequests`],
    /// [`AuthError::UserNotFound`], [`AuthError::AccountDisabled`],
    /// [`AuthError::Unavailable`].
    pub async fn regenerate_recovery_codes(
        &self,
        auth: &Authenticated,
        code: &str,
        locale: Locale,
    ) -> Result<RecoveryCodes, AuthError> {
        let user = self.current_user(auth).await?;
        let overview = self.ports.factors.overview(user.id).await?;
        if !overview.has_second_factor() {
            return Err(AuthError::FactorNotEnrolled);
        }
        if overview.totp_confirmed_at.is_some() {
            let code = Self::required_code(code)?;
            self.check_enrolled_factor(&user, Some(FactorKind::Totp), code, &auth.client)
                .await?;
        } else {
            self.require_recent_authentication(auth, &user).await?;
        }
        let codes = self.issue_recovery_codes(&user, &auth.client).await?;
        self.notice_factor_change(&user, FactorChange::RecoveryCodesIssued, locale)
            .await;
        Ok(codes)
    }

    /// A new set of recovery codes for `user` and their fingerprints (not
    /// stored).
    pub(super) fn draw_recovery_codes(
        &self,
        user: &User,
    ) -> (RecoveryCodes, Vec<TokenFingerprint>) {
        let codes: Vec<String> = (0..RECOVERY_CODES_PER_SET)
            .map(|_| {
                let d = self.ports.ids.secret_digits(12);
                format!("{}-{}-{}", &d[..4], &d[4..8], &d[8..])
            })
            .collect();
        let fingerprints = codes
            .iter()
            .map(|c| self.recovery_fingerprint(user, c))
            .collect();
        (
            RecoveryCodes(codes.into_iter().map(Secret::new).collect()),
            fingerprints,
        )
    }

    /// Draws, stores (replacing the old set) and audits a set of recovery codes.
    async fn issue_recovery_codes(
        &self,
        user: &User,
        client: &ClientInfo,
    ) -> Result<RecoveryCodes, AuthError> {
        let (codes, fingerprints) = self.draw_recovery_codes(user);
        self.ports
            .factors
            .replace_recovery_codes(user.id, &fingerprints, self.now())
            .await?;
        self.audit(self.factor_event(
            AuditKind::RecoveryCodesIssued,
            user,
            client,
            "recovery_code",
        ))
        .await;
        Ok(codes)
    }

    /// The keyed fingerprint a recovery code is stored under: bound to its
    /// account, read without the separators and spaces people type.
    pub(super) fn recovery_fingerprint(&self, user: &User, code: &str) -> TokenFingerprint {
        let digits: String = code.chars().filter(char::is_ascii_digit).collect();
        self.ports
            .codec
            .keyed_fingerprint(&format!("recovery:{}:{digits}", user.public_id))
    }

    /// Mails `user` a notice of a change to their factors (best effort: the
    /// change stands and is audited whether or not the outbox takes it).
    pub(super) async fn notice_factor_change(
        &self,
        user: &User,
        change: FactorChange,
        locale: Locale,
    ) {
        let kind = MailKind::FactorChanged {
            username: user.username.as_str().to_owned(),
            at: self.now(),
            change,
        };
        self.send_notice(user, &kind, locale).await;
    }

    /// Queues the notice `kind` to `user` in `locale`, best effort: what it
    /// tells of stands, and is audited, whether or not the outbox takes it.
    pub(super) async fn send_notice(&self, user: &User, kind: &MailKind, locale: Locale) {
        let now = self.now();
        let mail = compose(kind, &user.email, locale, &self.settings.mail);
        let _ = self.ports.outbox.enqueue(&mail, now).await;
    }

    /// Whether the caller, `user`, authenticated within `REAUTH_MAX_AGE` at
    /// the account's highest level: assurance level 2 once the account has a
    /// second factor (issue 17, "Login, tokens, policy").
    ///
    /// # Errors
    /// [`AuthError::ReauthenticationRequired`], [`AuthError::Unavailable`].
    pub(super) async fn require_recent_authentication(
        &self,
        auth: &Authenticated,
        user: &User,
    ) -> Result<(), AuthError> {
        self.require_recent(&auth.claims.authentication, user, false)
            .await
    }

    /// Whether `authentication` of `user` is recent (`REAUTH_MAX_AGE`) and
    /// at the account's highest level. `fresh_password` says the request
    /// itself proved the current password: for an account without a second
    /// factor that is a fresh authentication at its highest level.
    ///
    /// # Errors
    /// [`AuthError::ReauthenticationRequired`], [`AuthError::Unavailable`].
    pub(super) async fn require_recent(
        &self,
        authentication: &crate::model::Authentication,
        user: &User,
        fresh_password: bool,
    ) -> Result<(), AuthError> {
        let has_factor = self
            .ports
            .factors
            .overview(user.id)
            .await?
            .has_second_factor();
        if !has_factor && fresh_password {
            return Ok(());
        }
        let max_age = self.settings.second_factor.reauth_max_age;
        let recent = self.now() - authentication.at <= max_age;
        let level_met = !has_factor || authentication.assurance() == crate::model::Assurance::Aal2;
        if recent && level_met {
            Ok(())
        } else {
            Err(AuthError::ReauthenticationRequired)
        }
    }

    /// `code` when it is not blank.
    ///
    /// # Errors
    /// [`AuthError::Validation`] ([`Field::Code`] required).
    pub(super) fn required_code(code: &str) -> Result<&str, AuthError> {
        let mut errors = ValidationErrors::new();
        match errors.check(Field::Code, required(Some(code))) {
            Some(code) => Ok(code),
            None => Err(errors.into()),
        }
    }

    /// Counts one factor check of `user` against the account's limit.
    ///
    /// # Errors
    /// [`AuthError::TooManyRequests`], [`AuthError::Unavailable`].
    pub(super) async fn limit_factor_checks(&self, user: &User) -> Result<(), AuthError> {
        let s = self.settings.second_factor;
        self.limit(
            format!("factor-check:{}", user.public_id),
            s.checks_per_window,
            s.check_window_secs,
        )
        .await
    }

    /// Checks `code` against the confirmed factors of `user` — TOTP (a step
    /// later than the last one used, which it then records) or, unless
    /// `only` says otherwise, an unused recovery code (which it uses up) —
    /// under the factor-check limit; audits a failure. Answers the kind
    /// that matched.
    ///
    /// # Errors
    /// [`AuthError::CodeInvalid`], [`AuthError::TooManyRequests`],
    /// [`AuthError::Unavailable`].
    pub(super) async fn check_enrolled_factor(
        &self,
        user: &User,
        only: Option<FactorKind>,
        code: &str,
        client: &ClientInfo,
    ) -> Result<FactorKind, AuthError> {
        self.limit_factor_checks(user).await?;
        let code = code.trim();
        let kind = only.unwrap_or(
            if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
                FactorKind::Totp
            } else {
                FactorKind::RecoveryCode
            },
        );
        let accepted = match kind {
            FactorKind::Totp => self.use_totp_code(user, code).await?,
            // A passkey answers only a login's second-factor step, which
            // checks it with its ceremony (`check_passkey_factor`).
            FactorKind::Passkey => false,
            FactorKind::RecoveryCode => {
                let fingerprint = self.recovery_fingerprint(user, code);
                self.ports
                    .factors
                    .use_recovery_code(user.id, &fingerprint, self.now())
                    .await?
            }
        };
        if accepted {
            Ok(kind)
        } else {
            let detail = format!("{} wrong_code", kind.as_str());
            self.audit(self.factor_event(AuditKind::SecondFactorFailed, user, client, &detail))
                .await;
            Err(AuthError::CodeInvalid)
        }
    }

    /// Whether `code` is a TOTP code of the confirmed factor of `user` for a
    /// step later than the last one used (recorded atomically: a code is
    /// accepted once, RFC 6238 §5.2).
    async fn use_totp_code(&self, user: &User, code: &str) -> Result<bool, AuthError> {
        let Some(factor) = self
            .ports
            .factors
            .totp(user.id)
            .await?
            .filter(TotpFactor::is_confirmed)
        else {
            return Ok(false);
        };
        let step = self.step_of(user, &factor, code);
        match step {
            Some(step) => Ok(self.ports.factors.use_totp_step(user.id, step).await?),
            None => Ok(false),
        }
    }

    /// The time step whose code `code` is for `factor`'s secret (opened with
    /// `user`'s public id), within the allowed skew; `None` when the secret
    /// does not open or no step matches.
    fn step_of(&self, user: &User, factor: &TotpFactor, code: &str) -> Option<u64> {
        self.ports
            .otp
            .open(user.public_id, &factor.sealed_secret)
            .and_then(|secret| self.ports.otp.matching_step(&secret, code, self.now()))
    }

    /// An audit event about `user`'s factors, acted by `user`.
    pub(super) fn factor_event(
        &self,
        kind: AuditKind,
        user: &User,
        client: &ClientInfo,
        detail: &str,
    ) -> AuditEvent {
        AuditEvent {
            actor: Some(user.id),
            subject: Some(user.id),
            detail: Some(detail.to_owned()),
            ..self.event(kind, client)
        }
    }
}
