//! Second factors: where they are kept ([`FactorStore`]) and the
//! one-time-password arithmetic with the sealing of their secrets
//! ([`OneTimePasswords`]).

use std::future::Future;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::StoreError;
use crate::model::{
    FactorOverview, Passkey, PasskeyAdded, SealedSecret, StoredCredential, TokenFingerprint,
    TotpFactor, TotpSecret, UserId,
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

    /// Removes the TOTP factor of `user` (confirmed or not) and, when no
    /// passkey remains either, the recovery codes; `false` when there was
    /// none.
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

    /// The passkeys of `user`, oldest first.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn passkeys(
        &self,
        user: UserId,
    ) -> impl Future<Output = Result<Vec<Passkey>, StoreError>> + Send;

    /// The passkey whose WebAuthn credential id is `credential_id`, of any
    /// account.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn passkey_by_credential(
        &self,
        credential_id: &str,
    ) -> impl Future<Output = Result<Option<Passkey>, StoreError>> + Send;

    /// Stores `passkey` and, when its user holds no unused recovery code,
    /// `recovery_codes` with it (created at `passkey.created_at`), in one
    /// transaction; changes nothing when its credential id is registered
    /// already (to any account, WebAuthn §7.1 step 26) or its user holds
    /// `max_per_account` passkeys. Concurrent registrations never pass the
    /// bound, and of concurrent first factors exactly one issues its codes.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn add_passkey(
        &self,
        passkey: &Passkey,
        max_per_account: usize,
        recovery_codes: &[TokenFingerprint],
    ) -> impl Future<Output = Result<PasskeyAdded, StoreError>> + Send;

    /// Renames the passkey `id` of `user`; `false` when `user` holds none
    /// with that id.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn rename_passkey(
        &self,
        user: UserId,
        id: Uuid,
        name: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Removes the passkey `id` of `user` and, when no factor remains
    /// (no other passkey, no confirmed TOTP factor), the recovery codes, in
    /// one transaction; `false` when `user` holds no passkey with that id.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn remove_passkey(
        &self,
        user: UserId,
        id: Uuid,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Records a sign-in with the passkey `id` at `at`. With `updated` (the
    /// credential as the assertion left it: a higher signature counter, a
    /// new backup state), the credential is replaced only while it is still
    /// `previous`, the one the assertion was checked against (so that of two
    /// concurrent assertions the counter never moves back); `backup_eligible`
    /// is stored with it. `false` when the passkey is gone or, with
    /// `updated`, no longer `previous`.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn record_passkey_use(
        &self,
        id: Uuid,
        previous: &StoredCredential,
        updated: Option<(&StoredCredential, bool)>,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Removes every factor of `user` (TOTP, passkeys, recovery codes) in one
    /// transaction; `true` when there was any.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn remove_all_factors(
        &self,
        user: UserId,
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
