//! Second factors (issue 17): a time-based one-time password (TOTP,
//! RFC 6238), passkeys ([`Passkey`](super::Passkey)), and the recovery codes
//! that stand in for them.
//!
//! An account *has a second factor* when it holds a confirmed TOTP factor
//! or a passkey. Recovery codes are its spare keys: they are issued when the
//! first factor is confirmed, answer a second-factor step only while a factor
//! exists, and go with the last factor.

use chrono::{DateTime, Utc};

use super::UserId;
use crate::secret::redacted_string;

/// A kind of second factor, as the API names it (`factors` in a login's
/// second-factor step).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum FactorKind {
    /// `totp`: a code from an authenticator app (RFC 6238).
    Totp,
    /// `passkey`: a WebAuthn assertion of one of the account's passkeys.
    Passkey,
    /// `recovery_code`: one of the account's single-use recovery codes.
    RecoveryCode,
}

impl FactorKind {
    /// The wire name: `totp`, `passkey` or `recovery_code`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::Passkey => "passkey",
            Self::RecoveryCode => "recovery_code",
        }
    }

    /// The kind a wire name ([`Self::as_str`]) names.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Totp, Self::Passkey, Self::RecoveryCode]
            .into_iter()
            .find(|k| k.as_str() == name)
    }
}

redacted_string!(
    /// A TOTP shared secret in RFC 4648 base32 without padding (what an
    /// authenticator app is given, in the `secret` parameter of an
    /// `otpauth://` URI). Its `Debug` prints `TotpSecret(***)`.
    TotpSecret,
    "Wraps a base32 secret.",
    "The base32 secret. Call sites that use this are the places to review."
);

/// A TOTP secret sealed for storage by
/// [`OneTimePasswords::seal`](crate::ports::OneTimePasswords::seal): opaque
/// text (at most 255 characters) that only the server's key opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedSecret(pub String);

/// An account's TOTP factor as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpFactor {
    /// Whose factor it is.
    pub user_id: UserId,
    /// The shared secret, sealed.
    pub sealed_secret: SealedSecret,
    /// When the enrolment began.
    pub created_at: DateTime<Utc>,
    /// When a first code confirmed it; `None` while the enrolment waits for
    /// that code (an unconfirmed factor is not a factor: logins ignore it).
    pub confirmed_at: Option<DateTime<Utc>>,
    /// The last time step (RFC 6238 §4.2 `T`) whose code was accepted: a
    /// code of that step or an earlier one is refused (§5.2, no replay).
    pub last_used_step: Option<u64>,
}

impl TotpFactor {
    /// Whether a first code confirmed the factor.
    #[must_use]
    pub fn is_confirmed(&self) -> bool {
        self.confirmed_at.is_some()
    }
}

/// What an account holds of each factor (for the account's own view and
/// the administrators').
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FactorOverview {
    /// A confirmed TOTP factor, and when it was confirmed.
    pub totp_confirmed_at: Option<DateTime<Utc>>,
    /// Whether a TOTP enrolment waits for its first code.
    pub totp_pending: bool,
    /// Passkeys registered.
    pub passkeys: u32,
    /// Recovery codes not used yet.
    pub recovery_codes_left: u32,
}

impl FactorOverview {
    /// Whether a second factor must follow the password at login.
    #[must_use]
    pub fn has_second_factor(&self) -> bool {
        self.totp_confirmed_at.is_some() || self.passkeys > 0
    }

    /// The kinds a second-factor step accepts, in the order they are offered.
    #[must_use]
    pub fn kinds(&self) -> Vec<FactorKind> {
        let mut kinds = Vec::new();
        if self.totp_confirmed_at.is_some() {
            kinds.push(FactorKind::Totp);
        }
        if self.passkeys > 0 {
            kinds.push(FactorKind::Passkey);
        }
        if self.has_second_factor() && self.recovery_codes_left > 0 {
            kinds.push(FactorKind::RecoveryCode);
        }
        kinds
    }
}

/// How many recovery codes one issue holds.
pub const RECOVERY_CODES_PER_SET: usize = 10;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_offered_only_beside_a_factor() {
        let none = FactorOverview {
            recovery_codes_left: 3,
            totp_pending: true,
            ..FactorOverview::default()
        };
        assert!(!none.has_second_factor());
        assert!(none.kinds().is_empty());
        let totp = FactorOverview {
            totp_confirmed_at: Some(Utc::now()),
            ..none
        };
        assert_eq!(totp.kinds(), [FactorKind::Totp, FactorKind::RecoveryCode]);
        let passkey = FactorOverview {
            passkeys: 1,
            recovery_codes_left: 0,
            ..none
        };
        assert_eq!(passkey.kinds(), [FactorKind::Passkey]);
        assert_eq!(
            FactorKind::parse("recovery_code"),
            Some(FactorKind::RecoveryCode)
        );
        assert_eq!(
            format!("{:?}", TotpSecret::new("JBSWY3DP")),
            "TotpSecret(***)"
        );
    }
}
