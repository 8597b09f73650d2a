//! Second factors: where they are kept ([`FactorStore`]) and the
//! one-time-password arithmetic with the sealing of their secrets
//! ([`OneTimePasswords`]).

use std::future::Future;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::StoreError;
use crate::model::{
    FactorOverview, SealedSecret, TokenFingerprint, TotpFactor, TotpSecret, UserId,
};

/// Where an account's second factors are kept. Every method that decides
/// something (a step accepted, a code used) decides it in one atomic step of
/// the store, so that of concurrent callers exactly one wins.
pub trait FactorStore: Send + Sync + 'static {
    /// What `user` holds of each factor.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn overview(
        &self,
        user: UserId,
    ) -> impl Future<Output = Result<FactorOverview, StoreError>> + Send;

    /// The TOTP factor of `user`, confirmed or not.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn totp(
        &self,
        user: UserId,
    ) -> impl Future<Output = Result<Option<TotpFactor>, StoreError>> + Send;

    /// Stores `factor` (unconfirmed) as the enrolment of its user, replacing
    /// an unconfirmed one; `false`, changing nothing, when the user already
    /// holds a confirmed TOTP factor.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn begin_totp(
        &self,
        factor: &TotpFactor,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Confirms the unconfirmed factor of `user` whose secret is
    /// `sealed_secret`, recording `step` as used; `false` when there is no
    /// such factor (never enrolled, already confirmed, or replaced by a newer
    /// enrolment).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn confirm_totp(
        &self,
        user: UserId,
        sealed_secret: &SealedSecret,
        step: u64,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Records `step` as the last used step of the confirmed factor of
    /// `user` when it is later than the recorded one (RFC 6238 §5.2: a code is
    /// accepted once); `false` when it is not, or there is no confirmed factor.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn use_totp_step(
        &self,
        user: UserId,
        step: u64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Removes the TOTP factor of `user` (confirmed or not) and, with it, the
    /// recovery codes; `false` when there was none.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn remove_totp(&self, user: UserId) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Replaces the recovery codes of `user` by `fingerprints`, in one
    /// transaction (the old set is void once the new one is stored).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn replace_recovery_codes(
        &self,
        user: UserId,
        fingerprints: &[TokenFingerprint],
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Marks the unused recovery code `fingerprint` of `user` used; `false`
    /// when there is no such unused code (single use: of concurrent callers,
    /// one gets `true`).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn use_recovery_code(
        &self,
        user: UserId,
        fingerprint: &TokenFingerprint,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// TOTP arithmetic (RFC 6238 with SHA-1, 6 digits and 30-second steps, which
/// every common authenticator app reads) and the sealing of its secrets at
/// rest. Implementations keep the sealing key to themselves.
pub trait OneTimePasswords: Send + Sync + 'static {
    /// A new random shared secret (160 bits, RFC 4226 §4's recommendation).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the system's randomness fails.
    fn new_secret(&self) -> Result<TotpSecret, StoreError>;

    /// `secret` sealed for storage under an AEAD key derived from the
    /// server's secret, bound to the account `owner` (a sealed secret moved to
    /// another account does not open).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when sealing fails.
    fn seal(&self, owner: Uuid, secret: &TotpSecret) -> Result<SealedSecret, StoreError>;

    /// The secret `sealed` holds for `owner`; `None` when it does not open
    /// (another key, another owner, altered).
    fn open(&self, owner: Uuid, sealed: &SealedSecret) -> Option<TotpSecret>;

    /// The `otpauth://totp/` URI an authenticator app scans (Google
    /// Authenticator's key-URI format): `issuer` and `account` label it.
    fn provisioning_uri(&self, secret: &TotpSecret, issuer: &str, account: &str) -> String;

    /// The time step (RFC 6238 §4.2 `T`, Unix seconds / 30) whose code is
    /// `code` for `secret` at `at`, looking one step either side for clock
    /// skew (§5.2); `None` when no step within the window gives `code`.
    fn matching_step(&self, secret: &TotpSecret, code: &str, at: DateTime<Utc>) -> Option<u64>;
}
