//! Passkeys (issue 17; W3C Web Authentication Level 3): an account's own
//! passkeys (register, rename, remove), a passkey as the second factor of a
//! password login, and a passkey alone as a sign-in without a username or
//! password (a discoverable credential with user verification: two factors
//! in one, `amr` `hwk`/`swk` and `mfa`, assurance level 2).
//!
//! Every ceremony's state stays on the server, in the code store, for
//! [`SecondFactorSettings::challenge_ttl`](crate::settings::SecondFactorSettings::challenge_ttl),
//! and is used once (WebAuthn §13.4.3: a challenge is never accepted twice).
//! The browser holds only a ceremony token `<id>.<secret>` whose secret is
//! stored as a keyed fingerprint, like a second-factor challenge's.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::login::{LoginOutcome, LoginTerms, VerifiedCredentials};
use super::{AuthService, Authenticated, RecoveryCodes};
use crate::clock::IdSource as _;
use crate::error::AuthError;
use crate::mail::{FactorChange, Locale};
use crate::model::{AuditEvent, AuditKind, AuthMethod, Authentication, ClientInfo, CodePurpose};
use crate::model::{PASSKEYS_PER_ACCOUNT, Passkey, PasskeyAdded, PasskeyName, User};
use crate::model::{VerificationCode, constant_time_eq};
use crate::ports::{CeremonyOptions, CeremonyState, PasskeyHolder, PasskeyRefusal};
use crate::ports::{CodeStore as _, FactorStore as _, Ports, RefreshTokenCodec as _};
use crate::ports::{RelyingParty as _, UserRepository as _};
use crate::secret::Secret;

/// A WebAuthn ceremony begun: what the browser runs, and the token that
/// names the ceremony when its answer comes back.
#[derive(Debug, Clone)]
pub struct PasskeyCeremony {
    /// `<id>.<secret>`, single use.
    pub token: Secret,
    /// For `navigator.credentials.create()` or `.get()`.
    pub options: CeremonyOptions,
    /// When the ceremony lapses.
    pub expires_at: DateTime<Utc>,
}

impl PasskeyCeremony {
    /// Whole seconds until the ceremony lapses (0 once it has).
    #[must_use]
    pub fn expires_in_secs(&self, now: DateTime<Utc>) -> i64 {
        (self.expires_at - now).num_seconds().max(0)
    }
}

/// The name a passkey gets when the account gives none.
pub const DEFAULT_PASSKEY_NAME: &str = "Passkey";

impl<P: Ports> AuthService<P> {
    /// The caller's passkeys, oldest first.
    ///
    /// # Errors
    /// [`AuthError::UserNotFound`], [`AuthError::AccountDisabled`],
    /// [`AuthError::Unavailable`].
    pub async fn passkeys(&self, auth: &Authenticated) -> Result<Vec<Passkey>, AuthError> {
        let user = self.current_user(auth).await?;
        Ok(self.ports.factors.passkeys(user.id).await?)
    }

    /// Begins registering a passkey for the caller: the options for
    /// `navigator.credentials.create()`, excluding the passkeys the account
    /// has. Needs a recent authentication (`REAUTH_MAX_AGE`).
    ///
    /// # Errors
    /// [`AuthError::ReauthenticationRequired`],
    /// [`AuthError::TooManyPasskeys`] at [`PASSKEYS_PER_ACCOUNT`],
    /// [`AuthError::UserNotFound`], [`AuthError::AccountDisabled`],
    /// [`AuthError::Unavailable`].
    pub async fn begin_passkey_registration(
        &self,
        auth: &Authenticated,
    ) -> Result<PasskeyCeremony, AuthError> {
        let user = self.current_user(auth).await?;
        self.require_recent_authentication(auth, &user).await?;
        let (options, state) = self.passkey_registration_options(&user).await?;
        let binding = format!("{} {}", user.id.0, state.0);
        self.store_ceremony(CodePurpose::PasskeyRegistration, options, binding)
            .await
    }

    /// The options and state of a registration ceremony for `user`,
    /// excluding the passkeys the account has.
    ///
    /// # Errors
    /// [`AuthError::TooManyPasskeys`], [`AuthError::Unavailable`].
    pub(super) async fn passkey_registration_options(
        &self,
        user: &User,
    ) -> Result<(CeremonyOptions, CeremonyState), AuthError> {
        let existing = self.ports.factors.passkeys(user.id).await?;
        if existing.len() >= PASSKEYS_PER_ACCOUNT {
            return Err(AuthError::TooManyPasskeys);
        }
        let exclude: Vec<_> = existing.into_iter().map(|p| p.credential).collect();
        Ok(self.ports.relying_party.begin_registration(
            PasskeyHolder {
                handle: user.public_id,
                name: user.username.as_str(),
                display_name: user.username.as_str(),
            },
            &exclude,
        )?)
    }

    /// Finishes a registration: checks the browser's `response` (the JSON of
    /// the `PublicKeyCredential` that `create()` gave) against the ceremony
    /// `ceremony_token` names, stores the passkey as `name` (or
    /// [`DEFAULT_PASSKEY_NAME`]), audits it and mails a notice in `locale`.
    /// When the passkey is the account's first factor, the account's other
    /// sessions end and, as with a first TOTP factor, a set of recovery
    /// codes is issued (answered once, here).
    ///
    /// # Errors
    /// [`AuthError::Validation`] for a bad name,
    /// [`AuthError::ReauthenticationRequired`],
    /// [`AuthError::PasskeyRefused`] (unknown, expired or another account's
    /// ceremony; a response that fails WebAuthn §7.1),
    /// [`AuthError::FactorAlreadyEnrolled`] when the credential is
    /// registered already, [`AuthError::TooManyPasskeys`],
    /// [`AuthError::UserNotFound`], [`AuthError::AccountDisabled`],
    /// [`AuthError::Unavailable`].
    pub async fn finish_passkey_registration(
        &self,
        auth: &Authenticated,
        ceremony_token: &str,
        response: &str,
        name: Option<&str>,
        locale: Locale,
    ) -> Result<(Passkey, Option<RecoveryCodes>), AuthError> {
        let name = PasskeyName::parse(name, DEFAULT_PASSKEY_NAME)?;
        let user = self.current_user(auth).await?;
        self.require_recent_authentication(auth, &user).await?;
        let binding = self
            .take_ceremony(CodePurpose::PasskeyRegistration, ceremony_token)
            .await?;
        let (owner, state) = binding.split_once(' ').ok_or(AuthError::PasskeyRefused)?;
        if owner != user.id.0.to_string() {
            return Err(AuthError::PasskeyRefused);
        }
        let state = CeremonyState(state.to_owned());
        let (passkey, codes, first) = self
            .register_passkey(&user, &state, response, &name, &auth.client, locale)
            .await?;
        // The passkey and the codes are stored; the other sessions, opened
        // without a second factor, end now (a failure here is reported, and
        // the account can end them from its session list).
        if first {
            self.end_other_sessions(auth).await?;
        }
        Ok((passkey, codes))
    }

    /// Checks the registration `response` of `user` against the ceremony
    /// `state`, stores the passkey as `name`, audits it and mails a notice
    /// in `locale`. Answers the passkey, the recovery codes issued with it
    /// (when the account held none) and whether it is the account's first
    /// second factor.
    ///
    /// # Errors
    /// [`AuthError::PasskeyRefused`], [`AuthError::FactorAlreadyEnrolled`],
    /// [`AuthError::TooManyPasskeys`], [`AuthError::Unavailable`].
    pub(super) async fn register_passkey(
        &self,
        user: &User,
        state: &CeremonyState,
        response: &str,
        name: &PasskeyName,
        client: &ClientInfo,
        locale: Locale,
    ) -> Result<(Passkey, Option<RecoveryCodes>, bool), AuthError> {
        let user = user.clone();
        let created = match self
            .ports
            .relying_party
            .finish_registration(response, state)
        {
            Ok(c) => c,
            Err(refusal) => {
                self.passkey_refused(&user, client, "registration", &refusal)
                    .await;
                return Err(AuthError::PasskeyRefused);
            }
        };
        let before = self.ports.factors.overview(user.id).await?;
        let codes = self.draw_recovery_codes(&user);
        let passkey = Passkey {
            id: self.ports.ids.new_uuid(),
            user_id: user.id,
            credential_id: created.credential_id,
            name: name.as_str().to_owned(),
            credential: created.credential,
            backup_eligible: created.backup_eligible,
            created_at: self.now(),
            last_used_at: None,
        };
        let issued = match self
            .ports
            .factors
            .add_passkey(&passkey, PASSKEYS_PER_ACCOUNT, &codes.1)
            .await?
        {
            PasskeyAdded::Added {
                recovery_codes_issued,
            } => recovery_codes_issued,
            PasskeyAdded::CredentialTaken => return Err(AuthError::FactorAlreadyEnrolled),
            PasskeyAdded::AccountFull => return Err(AuthError::TooManyPasskeys),
        };
        self.audit(self.factor_event(
            AuditKind::FactorEnrolled,
            &user,
            client,
            &format!("passkey {}", passkey.id),
        ))
        .await;
        if issued {
            self.audit(self.factor_event(
                AuditKind::RecoveryCodesIssued,
                &user,
                client,
                "recovery_code",
            ))
            .await;
        }
        self.notice_factor_change(&user, FactorChange::Enrolled, locale)
            .await;
        Ok((
            passkey,
            issued.then_some(codes.0),
            !before.has_second_factor(),
        ))
    }

    /// Renames the caller's passkey `id`.
    ///
    /// # Errors
    /// [`AuthError::Validation`] for a blank or bad name, [`AuthError::FactorNotEnrolled`]
    /// when the caller holds no such passkey, [`AuthError::UserNotFound`],
    /// [`AuthError::AccountDisabled`], [`AuthError::Unavailable`].
    pub async fn rename_passkey(
        &self,
        auth: &Authenticated,
        id: Uuid,
        name: &str,
    ) -> Result<(), AuthError> {
        let name = PasskeyName::parse_required(name)?;
        let user = self.current_user(auth).await?;
        if !self
            .ports
            .factors
            .rename_passkey(user.id, id, name.as_str())
            .await?
        {
            return Err(AuthError::FactorNotEnrolled);
        }
        Ok(())
    }

    /// Removes the caller's passkey `id` (with the recovery codes when it
    /// was the last factor), audits it and mails a notice in `locale`.
    /// Needs a recent authentication (`REAUTH_MAX_AGE`). The last factor of
    /// an account of `MFA_REQUIRED_ROLES` stays.
    ///
    /// # Errors
    /// [`AuthError::ReauthenticationRequired`], [`AuthError::FactorRequired`],
    /// [`AuthError::FactorNotEnrolled`], [`AuthError::UserNotFound`],
    /// [`AuthError::AccountDisabled`], [`AuthError::Unavailable`].
    pub async fn remove_passkey(
        &self,
        auth: &Authenticated,
        id: Uuid,
        locale: Locale,
    ) -> Result<(), AuthError> {
        let user = self.current_user(auth).await?;
        self.require_recent_authentication(auth, &user).await?;
        if self.must_have_second_factor(&user) {
            let overview = self.ports.factors.overview(user.id).await?;
            let owned = self
                .ports
                .factors
                .passkeys(user.id)
                .await?
                .iter()
                .any(|p| p.id == id);
            if owned && overview.totp_confirmed_at.is_none() && overview.passkeys <= 1 {
                return Err(AuthError::FactorRequired);
            }
        }
        if !self.ports.factors.remove_passkey(user.id, id).await? {
            return Err(AuthError::FactorNotEnrolled);
        }
        self.audit(self.factor_event(
            AuditKind::FactorRemoved,
            &user,
            &auth.client,
            &format!("passkey {id}"),
        ))
        .await;
        self.notice_factor_change(&user, FactorChange::Removed, locale)
            .await;
        Ok(())
    }

    /// Begins a passkey assertion for the login waiting at `mfa_token`: the
    /// options for `navigator.credentials.get()`, allowing the account's
    /// passkeys. Answer with [`Self::verify_second_factor`], kind
    /// [`FactorKind::Passkey`](crate::model::FactorKind::Passkey), the
    /// `PublicKeyCredential`'s JSON as the code. A second call replaces the
    /// first ceremony.
    ///
    /// # Errors
    /// [`AuthError::ChallengeInvalid`], [`AuthError::FactorNotEnrolled`]
    /// when the account has no passkey, [`AuthError::Unavailable`].
    pub async fn begin_second_factor_passkey(
        &self,
        mfa_token: &str,
    ) -> Result<CeremonyOptions, AuthError> {
        let (id, challenge) = self.open_challenge(mfa_token).await?;
        // An enrolment challenge (`MFA_REQUIRED_ROLES`) has no passkey to
        // assert: its token serves the enrolment routes only.
        let user_id = challenge
            .binding
            .as_deref()
            .and_then(super::second_factor::parse_binding)
            .filter(|b| !b.enrolment)
            .map(|b| b.user)
            .ok_or(AuthError::ChallengeInvalid)?;
        let passkeys = self.ports.factors.passkeys(user_id).await?;
        if passkeys.is_empty() {
            return Err(AuthError::FactorNotEnrolled);
        }
        let allowed: Vec<_> = passkeys.into_iter().map(|p| p.credential).collect();
        let (options, state) = self.ports.relying_party.begin_assertion(&allowed)?;
        self.store_challenge_ceremony(CodePurpose::PasskeyAssertion, id, &challenge, state)
            .await?;
        Ok(options)
    }

    /// Keeps the `state` of a ceremony begun for the waiting login
    /// `challenge` (id `id`) under that id, single use, living as long as
    /// the challenge; it replaces an earlier ceremony of the same purpose.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`].
    pub(super) async fn store_challenge_ceremony(
        &self,
        purpose: CodePurpose,
        id: String,
        challenge: &VerificationCode,
        state: CeremonyState,
    ) -> Result<(), AuthError> {
        self.ports
            .codes
            .put(&VerificationCode {
                purpose,
                recipient: id,
                fingerprint: challenge.fingerprint.clone(),
                digits: 0,
                expires_at: challenge.expires_at,
                attempts: 0,
                max_attempts: 1,
                binding: Some(state.0),
            })
            .await?;
        Ok(())
    }

    /// Checks a passkey assertion `response` of `user` against the ceremony
    /// begun for the second-factor challenge `challenge_id` (used up
    /// either way), under the factor-check limit; records the use. Answers
    /// the RFC 8176 method it proves (`swk` for a passkey that may be
    /// synced, `hwk` for a device-bound one).
    ///
    /// # Errors
    /// [`AuthError::CodeInvalid`] (no ceremony begun, another account's
    /// passkey, a failed check), [`AuthError::TooManyRequests`],
    /// [`AuthError::Unavailable`].
    pub(super) async fn check_passkey_factor(
        &self,
        user: &User,
        challenge_id: &str,
        response: &str,
        client: &ClientInfo,
    ) -> Result<AuthMethod, AuthError> {
        self.limit_factor_checks(user).await?;
        let state = self
            .ports
            .codes
            .take(CodePurpose::PasskeyAssertion, challenge_id)
            .await?
            .and_then(|c| c.binding)
            .map(CeremonyState);
        let checked = match state {
            Some(state) => self.check_assertion(response, &state, Some(user)).await?,
            None => Err((None, PasskeyRefusal("no ceremony was begun".into()))),
        };
        match checked {
            Ok((passkey, _)) => Ok(Self::passkey_method(&passkey)),
            Err((_, refusal)) => {
                self.passkey_refused(user, client, "second_factor", &refusal)
                    .await;
                Err(AuthError::CodeInvalid)
            }
        }
    }

    /// Begins a sign-in with a passkey alone: options for
    /// `navigator.credentials.get()` that allow any discoverable credential
    /// of this relying party (the browser may offer them as autofill).
    ///
    /// # Errors
    /// [`AuthError::Unavailable`].
    pub async fn begin_passkey_sign_in(&self) -> Result<PasskeyCeremony, AuthError> {
        let (options, state) = self.ports.relying_party.begin_assertion(&[])?;
        self.store_ceremony(CodePurpose::PasskeySignIn, options, state.0)
            .await
    }

    /// Finishes a sign-in with a passkey alone: checks `response` against
    /// the ceremony `ceremony_token` names and the passkey it asserts, then
    /// opens a session with `terms`: `amr` `swk mfa` or `hwk mfa`, assurance
    /// level 2 (a passkey with user verification is something held and
    /// something known or been, NIST SP 800-63B §5.1.9). The login policy
    /// of a password login holds (an active account; a verified address
    /// when `REQUIRE_VERIFIED_EMAIL`), audited the same way.
    ///
    /// # Errors
    /// [`AuthError::PasskeyRefused`] (unknown, expired or used ceremony;
    /// an unknown passkey; a failed check), [`AuthError::AccountDisabled`],
    /// [`AuthError::EmailNotVerified`], [`AuthError::InvalidCredentials`]
    /// (see [`Self::finish_login`]), [`AuthError::Unavailable`].
    pub async fn finish_passkey_sign_in(
        &self,
        ceremony_token: &str,
        response: &str,
        client: ClientInfo,
        terms: LoginTerms,
    ) -> Result<LoginOutcome, AuthError> {
        let state = CeremonyState(
            self.take_ceremony(CodePurpose::PasskeySignIn, ceremony_token)
                .await?,
        );
        let (passkey, user) = match self.check_assertion(response, &state, None).await? {
            Ok(found) => found,
            Err((known, refusal)) => {
                // The account is named when the credential was found (a
                // possible clone, a stale counter), so that its owner's
                // trail shows it.
                self.audit(AuditEvent {
                    subject: known.as_ref().map(|p| p.user_id),
                    detail: Some(match &known {
                        Some(p) => format!("passkey {}: {}", p.id, refusal.0),
                        None => format!("passkey {}", refusal.0),
                    }),
                    ..self.event(AuditKind::LoginFailed, &client)
                })
                .await;
                return Err(AuthError::PasskeyRefused);
            }
        };
        let failed = |reason: &str| AuditEvent {
            subject: Some(user.id),
            identifier: Some(user.username.as_str().to_owned()),
            detail: Some(format!("passkey {reason}")),
            ..self.event(AuditKind::LoginFailed, &client)
        };
        if let Err(e) = user.ensure_active() {
            self.audit(failed("account_disabled")).await;
            return Err(e);
        }
        if self.settings.require_verified_email && !user.email_verified {
            self.audit(failed("email_not_verified")).await;
            return Err(AuthError::EmailNotVerified);
        }
        let methods = vec![Self::passkey_method(&passkey), AuthMethod::Mfa];
        let verified = VerifiedCredentials::after_second_factor(
            user,
            Authentication {
                at: self.now(),
                methods,
            },
        );
        self.finish_login(verified, client, terms).await
    }

    /// Checks an assertion `response` against `state` and the passkey it
    /// names (of `owner` when given, else of the account it names, read
    /// once), and records the use; answers the passkey and its holder. The
    /// inner `Err` is the client's fault (audited by the caller, with the
    /// passkey when it was found), the outer one the store's.
    async fn check_assertion(
        &self,
        response: &str,
        state: &CeremonyState,
        owner: Option<&User>,
    ) -> Result<Result<(Passkey, User), (Option<Passkey>, PasskeyRefusal)>, AuthError> {
        let rp = &self.ports.relying_party;
        let (credential_id, handle) = match rp.asserted_credential(response) {
            Ok(found) => found,
            Err(refusal) => return Ok(Err((None, refusal))),
        };
        let Some(passkey) = self
            .ports
            .factors
            .passkey_by_credential(&credential_id)
            .await?
            .filter(|p| owner.is_none_or(|o| o.id == p.user_id))
        else {
            return Ok(Err((None, PasskeyRefusal("unknown credential".into()))));
        };
        // The user handle the authenticator stored must be the owner's
        // (WebAuthn §7.2 step 6). A sign-in without a username needs it (an
        // authenticator returns it for every discoverable credential); a
        // second factor already knows the account.
        let holder = match owner {
            Some(user) => Some(user.clone()),
            None => self.ports.users.find_by_id(passkey.user_id).await?,
        };
        let holder = match (holder, handle) {
            (Some(user), Some(handle)) if user.public_id == handle => user,
            (Some(user), None) if owner.is_some() => user,
            _ => {
                let refusal = PasskeyRefusal("user handle missing or not the owner's".into());
                return Ok(Err((Some(passkey), refusal)));
            }
        };
        let checked = match rp.finish_assertion(response, state, &passkey.credential) {
            Ok(c) => c,
            Err(refusal) => return Ok(Err((Some(passkey), refusal))),
        };
        let updated = checked
            .updated
            .as_ref()
            .map(|c| (c, checked.backup_eligible));
        if !self
            .ports
            .factors
            .record_passkey_use(passkey.id, &passkey.credential, updated, self.now())
            .await?
        {
            // Another assertion of the same credential moved its counter
            // meanwhile: one of the two is a clone.
            let refusal = PasskeyRefusal("credential changed by a concurrent assertion".into());
            return Ok(Err((Some(passkey), refusal)));
        }
        let passkey = Passkey {
            backup_eligible: checked.backup_eligible,
            ..passkey
        };
        Ok(Ok((passkey, holder)))
    }

    /// `swk` for a passkey that may be synced, `hwk` for a device-bound one
    /// (RFC 8176 §2).
    pub(super) fn passkey_method(passkey: &Passkey) -> AuthMethod {
        if passkey.backup_eligible {
            AuthMethod::Swk
        } else {
            AuthMethod::Hwk
        }
    }

    /// Audits a refused passkey of `user` (`stage`: registration,
    /// second_factor).
    async fn passkey_refused(
        &self,
        user: &User,
        client: &ClientInfo,
        stage: &str,
        refusal: &PasskeyRefusal,
    ) {
        let detail = format!("passkey {stage}: {}", refusal.0);
        self.audit(self.factor_event(AuditKind::SecondFactorFailed, user, client, &detail))
            .await;
    }

    /// Keeps a ceremony's `binding` (its state) under a new id for
    /// `challenge_ttl`, and answers its token `<id>.<secret>`.
    async fn store_ceremony(
        &self,
        purpose: CodePurpose,
        options: CeremonyOptions,
        binding: String,
    ) -> Result<PasskeyCeremony, AuthError> {
        let id = self.ports.ids.new_uuid();
        let secret = self.ports.ids.secret_token();
        let expires_at = self.now() + self.settings.second_factor.challenge_ttl;
        self.ports
            .codes
            .put(&VerificationCode {
                purpose,
                recipient: id.to_string(),
                fingerprint: self.ports.codec.keyed_fingerprint(&secret),
                digits: 0,
                expires_at,
                attempts: 0,
                max_attempts: 1,
                binding: Some(binding),
            })
            .await?;
        Ok(PasskeyCeremony {
            token: Secret::new(format!("{id}.{secret}")),
            options,
            expires_at,
        })
    }

    /// Takes (single use) the ceremony `token` names and answers its
    /// binding. A forged secret leaves the ceremony in place.
    ///
    /// # Errors
    /// [`AuthError::PasskeyRefused`] for an unknown, expired, used or forged
    /// token; [`AuthError::Unavailable`].
    async fn take_ceremony(&self, purpose: CodePurpose, token: &str) -> Result<String, AuthError> {
        let (id, secret) = split_token(token).ok_or(AuthError::PasskeyRefused)?;
        let stored = self
            .ports
            .codes
            .get(purpose, id)
            .await?
            .ok_or(AuthError::PasskeyRefused)?;
        let presented = self.ports.codec.keyed_fingerprint(secret);
        if !constant_time_eq(presented.0.as_bytes(), stored.fingerprint.0.as_bytes()) {
            return Err(AuthError::PasskeyRefused);
        }
        self.ports
            .codes
            .take(purpose, id)
            .await?
            .and_then(|c| c.binding)
            .ok_or(AuthError::PasskeyRefused)
    }
}

/// `<uuid>.<secret>` split in two, when it has that shape (a secret of 1 to
/// 128 characters).
pub(super) fn split_token(token: &str) -> Option<(&str, &str)> {
    token
        .trim()
        .split_once('.')
        .filter(|(id, s)| Uuid::parse_str(id).is_ok() && !s.is_empty() && s.len() <= 128)
}
