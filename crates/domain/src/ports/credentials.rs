//! Password hashing, access-token signing and refresh-token coding.

use std::future::Future;

use crate::error::{HashError, SigningError, TokenProblem};
use crate::model::PasswordHash;
use crate::model::SessionId;
use crate::model::{AccessClaims, RefreshToken, RefreshTokenParts, TokenFingerprint};
use crate::values::PasswordAttempt;

/// Password hashing. Implementations must keep the work off the async executor.
pub trait PasswordHasher: Send + Sync + 'static {
    /// Hashes a password into a PHC string.
    ///
    /// # Errors
    /// [`HashError::Busy`] when too many hashes are waiting; [`HashError::Failed`] otherwise.
    fn hash(
        &self,
        password: &PasswordAttempt,
    ) -> impl Future<Output = Result<PasswordHash, HashError>> + Send;

    /// True when `password` matches `hash`.
    ///
    /// # Errors
    /// [`HashError::Busy`] when too many hashes are waiting; [`HashError::Failed`]
    /// when `hash` cannot be read.
    fn verify(
        &self,
        password: &PasswordAttempt,
        hash: &PasswordHash,
    ) -> impl Future<Output = Result<bool, HashError>> + Send;

    /// A valid hash of a random password, with the same cost as real ones. The
    /// service verifies against it when the user is unknown, so that unknown
    /// users and wrong passwords take the same time.
    fn dummy_hash(&self) -> &PasswordHash;

    /// True when `hash` should be replaced at the next successful login: a
    /// imported format, or argon2 with other parameters than the configured ones.
    fn needs_rehash(&self, hash: &PasswordHash) -> bool;

    /// True when `hash` is in a format this hasher can verify (used to refuse
    /// unusable hashes at import).
    fn can_verify(&self, hash: &PasswordHash) -> bool;
}

/// Signs and checks access tokens.
pub trait AccessTokenSigner: Send + Sync + 'static {
    /// Encodes and signs `claims` as an access token.
    ///
    /// # Errors
    /// [`SigningError`] on a key problem.
    fn sign(&self, claims: &AccessClaims) -> Result<String, SigningError>;

    /// Checks the signature, the algorithm (from configuration, never from the
    /// token), the token type, issuer and audience, and returns the claims. The
    /// caller checks the times against its clock.
    ///
    /// # Errors
    /// [`TokenProblem::Malformed`] for anything that is not a JWT,
    /// [`TokenProblem::BadSignature`] for a JWT no key of ours signed, and
    /// [`TokenProblem::Invalid`] for a well-signed token that is not one of
    /// our access tokens.
    fn verify(&self, token: &str) -> Result<AccessClaims, TokenProblem>;

    /// The public keys that verify tokens, as JWKs (for `/.well-known/jwks.json`);
    /// none for symmetric keys.
    fn public_keys(&self) -> Vec<serde_json::Value> {
        Vec::new()
    }
}

/// Signs OpenID Connect ID tokens (OpenID Connect Core 1.0 §2) with an
/// asymmetric key whose public half [`AccessTokenSigner::public_keys`]
/// publishes, whatever the access tokens are signed with (an HS256
/// deployment has an asymmetric key for ID tokens too, issue 18).
pub trait IdTokenSigner: Send + Sync + 'static {
    /// The JWS algorithm of ID tokens (`RS256`, `EdDSA`), for the
    /// discovery document's `id_token_signing_alg_values_supported`.
    fn id_token_algorithm(&self) -> &'static str;

    /// Signs `claims`, a JSON object, as a JWT with a `kid` header.
    ///
    /// # Errors
    /// [`SigningError`] when no ID-token key is configured or signing fails.
    fn sign_id_token(&self, claims: &serde_json::Value) -> Result<String, SigningError>;

    /// The claims of a JWT this signer's ID-token key signed (its `kid`
    /// one of ours, the signature valid), whatever its times: what an
    /// `id_token_hint` needs (OpenID Connect RP-Initiated Logout §2 accepts
    /// an expired one). `None` for anything else.
    fn read_own_id_token(&self, token: &str) -> Option<serde_json::Value>;
}

/// Checks the signature of a client's assertion (a JWT, RFC 7523 §2.2,
/// `private_key_jwt`) against the client's registered public keys.
pub trait ClientAssertionVerifier: Send + Sync + 'static {
    /// The claims of `assertion` when a key of `jwks` (a JWK Set, JSON;
    /// the one its header's `kid` names, or any when it names none) signed
    /// it with RS256, PS256, ES256 or EdDSA. The caller checks the claims.
    ///
    /// # Errors
    /// Why not, in words for the log.
    fn verify_client_assertion(
        &self,
        assertion: &str,
        jwks: &str,
    ) -> Result<serde_json::Value, String>;
}

/// Issues and reads refresh tokens.
pub trait RefreshTokenCodec: Send + Sync + 'static {
    /// The refresh token of `session` at `generation`. The same inputs always
    /// give the same token, so the live token can be handed out again within
    /// the reuse interval without storing it.
    fn issue(&self, session: SessionId, generation: u32) -> RefreshToken;

    /// Reads a token and checks its MAC; `None` for anything not issued by [`Self::issue`].
    fn parse(&self, token: &str) -> Option<RefreshTokenParts>;

    /// The fingerprint stored in place of the token.
    fn fingerprint(&self, token: &RefreshToken) -> TokenFingerprint;

    /// A keyed fingerprint of a short secret (a verification code or link
    /// secret): without the server's key, a leaked store does not let anyone
    /// try the million six-digit codes offline.
    fn keyed_fingerprint(&self, secret: &str) -> TokenFingerprint;
}
