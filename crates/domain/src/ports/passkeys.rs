//! The relying party of Web Authentication (issue 17): the ceremonies that
//! register a passkey and that check an assertion of one. The adapter keeps
//! the WebAuthn wire format to itself; the use cases see ceremony options to
//! hand to the browser, an opaque state to keep server-side until the
//! answer comes, and verdicts.

use uuid::Uuid;

use crate::error::StoreError;
use crate::model::StoredCredential;

/// The account a passkey is registered for, as the authenticator shows and
/// stores it (WebAuthn §5.4.3 `PublicKeyCredentialUserEntity`).
#[derive(Debug, Clone, Copy)]
pub struct PasskeyHolder<'a> {
    /// The user handle (`user.id`): the account's public id, never an
    /// e-mail address or a name (§14.6.1).
    pub handle: Uuid,
    /// `user.name`: the username.
    pub name: &'a str,
    /// `user.displayName`.
    pub display_name: &'a str,
}

/// What the browser gets to run a ceremony: the JSON of
/// `{"publicKey": …}` for `navigator.credentials.create()` or `.get()`
/// (WebAuthn §5.4 / §5.5, binary members as base64url, the form
/// `PublicKeyCredential.parseCreationOptionsFromJSON()` /
/// `parseRequestOptionsFromJSON()` read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CeremonyOptions(pub String);

/// A ceremony's server-side state (its challenge, the credentials it
/// allows): opaque text, kept until the answer comes and used once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CeremonyState(pub String);

/// A credential a registration ceremony created, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCredential {
    /// Its credential id, base64url without padding.
    pub credential_id: String,
    /// What to store of it.
    pub credential: StoredCredential,
    /// Whether it may be synced (flag `BE`).
    pub backup_eligible: bool,
}

/// An assertion that passed every check of WebAuthn §7.2 (challenge,
/// origin, RP id hash, user presence and verification, signature,
/// signature counter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedAssertion {
    /// The credential as it should now be stored, when the assertion
    /// changed it (counter, backup state).
    pub updated: Option<StoredCredential>,
    /// Whether the credential may be synced (flag `BE`), as it now stands.
    pub backup_eligible: bool,
}

/// Why a ceremony's answer was refused (the client's doing, not the
/// store's: a 4xx).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("passkey refused: {0}")]
pub struct PasskeyRefusal(pub String);

/// The relying party's side of WebAuthn: configured with its RP id and the
/// origins it accepts (`WEBAUTHN_RP_ID`, `WEBAUTHN_ORIGINS`).
pub trait RelyingParty: Send + Sync + 'static {
    /// Starts registering a passkey for `holder`, excluding the credentials
    /// it has (`exclude`, so an authenticator does not register twice).
    /// The options ask for a discoverable credential (resident key
    /// `preferred`) and user verification (`required`).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the options cannot be built.
    fn begin_registration(
        &self,
        holder: PasskeyHolder<'_>,
        exclude: &[StoredCredential],
    ) -> Result<(CeremonyOptions, CeremonyState), StoreError>;

    /// Checks the browser's `response` (the JSON of a
    /// `PublicKeyCredential` from `create()`, as `toJSON()` writes it)
    /// against `state` (WebAuthn §7.1).
    ///
    /// # Errors
    /// [`PasskeyRefusal`] when the response is malformed or fails a check
    /// (another origin or RP id, another challenge, no user verification).
    fn finish_registration(
        &self,
        response: &str,
        state: &CeremonyState,
    ) -> Result<NewCredential, PasskeyRefusal>;

    /// Starts an assertion: of one of `allowed`, or when `allowed` is
    /// empty, of any discoverable credential of this RP (sign-in without a
    /// username; the browser may offer it as autofill, "conditional
    /// mediation").
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the options cannot be built.
    fn begin_assertion(
        &self,
        allowed: &[StoredCredential],
    ) -> Result<(CeremonyOptions, CeremonyState), StoreError>;

    /// The credential id (base64url) and, when the authenticator returned
    /// it, the user handle an assertion `response` names, before it is
    /// checked (to find the passkey it must be checked against).
    ///
    /// # Errors
    /// [`PasskeyRefusal`] when the response is malformed.
    fn asserted_credential(&self, response: &str)
    -> Result<(String, Option<Uuid>), PasskeyRefusal>;

    /// Checks an assertion `response` (the JSON of a `PublicKeyCredential`
    /// from `get()`) against `state` and the stored `credential` as it is
    /// now (WebAuthn §7.2; the signature counter is compared with this one,
    /// not with a copy the ceremony took), user verification required.
    ///
    /// # Errors
    /// [`PasskeyRefusal`] when a check fails, among them a signature counter
    /// that did not grow (a cloned authenticator, §6.1.1).
    fn finish_assertion(
        &self,
        response: &str,
        state: &CeremonyState,
        credential: &StoredCredential,
    ) -> Result<CheckedAssertion, PasskeyRefusal>;
}
