//! Passkeys (issue 17; W3C Web Authentication Level 3): public-key
//! credentials an account registers with its relying party (this server),
//! used as a second factor after the password, or alone as a first factor
//! that verifies the user (a discoverable credential, "passwordless").
//!
//! The domain keeps a passkey's public part opaque ([`StoredCredential`]):
//! only the [`RelyingParty`](crate::ports::RelyingParty) adapter reads it.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::UserId;
use crate::validation::{Field, FieldIssue, ValidationErrors};

/// A registered passkey's public key, counter and flags as the
/// [`RelyingParty`](crate::ports::RelyingParty) adapter serialised them
/// (opaque text; public data, no secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCredential(pub String);

/// A passkey of an account, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passkey {
    /// Its id in the API (`/api/auth/passkeys/{id}`).
    pub id: Uuid,
    /// Whose passkey it is.
    pub user_id: UserId,
    /// The WebAuthn credential id, base64url without padding (at most 1,366
    /// characters: ids are at most 1,023 bytes, WebAuthn §5.8.3); unique
    /// across accounts (§7.1 step 26).
    pub credential_id: String,
    /// The name the account gave it ([`PasskeyName`]).
    pub name: String,
    /// The public part, counter and flags.
    pub credential: StoredCredential,
    /// The authenticator said the credential may be synced to other devices
    /// (backup eligible, WebAuthn §6.1 flag `BE`): its sign-ins count as
    /// `swk` (RFC 8176 §2), a device-bound key's as `hwk`.
    pub backup_eligible: bool,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it last signed in.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// What [`FactorStore::add_passkey`](crate::ports::FactorStore::add_passkey) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasskeyAdded {
    /// Stored; `recovery_codes_issued` when the account held no unused
    /// recovery code, so the set given was stored with it.
    Added {
        /// Whether the given recovery codes were stored.
        recovery_codes_issued: bool,
    },
    /// The credential id is registered already (to any account).
    CredentialTaken,
    /// The account holds the most passkeys it may.
    AccountFull,
}

/// The longest passkey name, in characters.
pub const PASSKEY_NAME_MAX_CHARS: usize = 64;

/// How many passkeys one account may register.
pub const PASSKEYS_PER_ACCOUNT: usize = 20;

/// A passkey's name: 1 to [`PASSKEY_NAME_MAX_CHARS`] characters after
/// trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyName(String);

impl PasskeyName {
    /// `raw` trimmed; blank is refused ([`FieldIssue::Required`]).
    ///
    /// # Errors
    /// As [`Self::parse`], and [`Field::Name`] required when blank.
    pub fn parse_required(raw: &str) -> Result<Self, ValidationErrors> {
        if raw.trim().is_empty() {
            return Err(ValidationErrors::single(Field::Name, FieldIssue::Required));
        }
        Self::parse(Some(raw), "")
    }

    /// `raw` trimmed, or `default` when `raw` is blank.
    ///
    /// # Errors
    /// [`ValidationErrors`] on [`Field::Name`] when the name is too long or
    /// holds a control character.
    pub fn parse(raw: Option<&str>, default: &str) -> Result<Self, ValidationErrors> {
        let name = raw
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or(default);
        if name.chars().count() > PASSKEY_NAME_MAX_CHARS {
            return Err(ValidationErrors::single(
                Field::Name,
                FieldIssue::Length {
                    min: 1,
                    max: PASSKEY_NAME_MAX_CHARS,
                },
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(ValidationErrors::single(
                Field::Name,
                FieldIssue::ControlCharacters,
            ));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_bounded_and_defaulted() {
        assert_eq!(
            PasskeyName::parse(Some("  Laptop "), "Passkey").map(|n| n.0),
            Ok("Laptop".to_owned())
        );
        assert_eq!(
            PasskeyName::parse(Some("   "), "Passkey").map(|n| n.0),
            Ok("Passkey".to_owned())
        );
        assert!(PasskeyName::parse(Some(&"é".repeat(65)), "P").is_err());
        assert!(PasskeyName::parse(Some(&"é".repeat(64)), "P").is_ok());
        assert!(PasskeyName::parse(Some("a\u{7}b"), "P").is_err());
    }
}
