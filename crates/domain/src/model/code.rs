//! Verification codes (email verification, password reset, registration), used by the mail flows.

use chrono::{DateTime, Utc};

use crate::model::TokenFingerprint;

/// What a code may be used for; a code of one purpose never serves another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodePurpose {
    /// Confirm an email address.
    VerifyEmail,
    /// Reset a forgotten password.
    ResetPassword,
    /// Create an account (sign-up by code, then its confirmation).
    Register,
    /// The secret of an email-verification link, stored under its keyed
    /// fingerprint (the link token is opaque: it carries no address).
    VerifyEmailLink,
    /// A login waiting for its second factor: the recipient is the
    /// challenge's id, the fingerprint that of the `mfa_token`'s secret, the
    /// binding what the password step established (issue 17).
    SecondFactor,
    /// A passkey registration under way: the recipient is the ceremony's
    /// id, the binding `<user id> <ceremony state>` (issue 17).
    PasskeyRegistration,
    /// A passkey assertion answering a second-factor challenge: the
    /// recipient is the challenge's id, the binding the ceremony state.
    PasskeyAssertion,
    /// A sign-in with a passkey alone under way: the recipient is the
    /// ceremony's id, the binding the ceremony state.
    PasskeySignIn,
    /// An authorization code of the OpenID Provider waiting for its
    /// redemption: the recipient is the code's id, the binding the
    /// [`AuthorizationGrant`](crate::model::AuthorizationGrant) as JSON (issue 18).
    AuthorizationCode,
    /// A redeemed authorization code, kept until the code's expiry: the
    /// binding is the session its redemption opened, ended if the code
    /// comes again (RFC 6749 §4.1.2).
    AuthorizationCodeSpent,
    /// A pushed authorization request (RFC 9126) waiting for its use: the
    /// recipient is the `request_uri`'s id, the binding the request's
    /// parameters as JSON.
    PushedAuthorization,
    /// A sign-in through an upstream provider under way (issue 19): the
    /// recipient is the keyed fingerprint of its `state`, the binding the
    /// flow (provider, `nonce`, PKCE verifier, where it returns) as JSON.
    UpstreamState,
    /// A one-time code an API client exchanges for its tokens after an
    /// upstream sign-in: the recipient is the code's keyed fingerprint, the
    /// binding the account and the client's PKCE challenge as JSON.
    UpstreamExchange,
    /// An upstream identity waiting to be linked once the person signs in
    /// to the account with its address: the recipient is the link token's
    /// keyed fingerprint, the binding the account and identity as JSON.
    UpstreamLink,
    /// A change of the account's e-mail address or phone number waiting
    /// for the code sent to the new one (issue 20): the recipient is
    /// `<email|phone>:<account public id>` (one change of each kind under
    /// way per account), the binding the new address or number.
    ContactChange,
    /// The link that reverts a change of address or number for 7 days
    /// (issue 20): the recipient is the link token's keyed fingerprint, the
    /// binding the [`ContactRevert`](crate::model::ContactRevert) as text.
    ContactRevert,
    /// A one-time code that signs in without a password (issue 20,
    /// `PASSWORDLESS_LOGIN`): the recipient is the canonical e-mail address
    /// or E.164 number it was sent to (or asked for), the binding the
    /// account's public id (`None` when no account may sign in with it,
    /// so that the answers do not tell).
    SignInCode,
}

/// A short numeric code bound to one recipient and one purpose, stored as a fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationCode {
    /// Purpose.
    pub purpose: CodePurpose,
    /// The normalised email or phone the code was sent to.
    pub recipient: String,
    /// Fingerprint of the digits.
    pub fingerprint: TokenFingerprint,
    /// Number of digits.
    pub digits: u8,
    /// When the code stops working.
    pub expires_at: DateTime<Utc>,
    /// Comparisons made so far (counted before each comparison).
    pub attempts: u32,
    /// Comparisons a code allows in all (its last one included).
    pub max_attempts: u32,
    /// What the code is bound to, checked by the use case when it is used:
    /// for e-mail verification codes the account's public id, for
    /// verification links `"<public id> <address>"`, for password-reset codes
    /// a keyed fingerprint of the password hash the code may replace (so any
    /// password change voids it). `None` for codes bound to nothing else.
    pub binding: Option<String>,
}

/// What a [`crate::ports::CodeStore`] answers when asked for one more
/// comparison against a stored code (issue 12, item 1): the attempt is counted
/// *before* the guess is compared, in one atomic step of the store, so that no
/// code is ever compared more than `max_attempts` times, however many guesses
/// arrive at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptGrant {
    /// No live code for (purpose, recipient): never issued, used or expired.
    NoCode,
    /// The code has had its `max_attempts` comparisons; it must not be compared again.
    Exhausted,
    /// One comparison granted; `attempts` already counts it.
    Granted(VerificationCode),
}

/// Compares two byte strings in time that depends only on their lengths.
#[must_use]
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_compares_whole_strings() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
