//! How and when the holder of a session proved who they are: the
//! authentication methods (RFC 8176 `amr` values), the assurance level they
//! reach (NIST SP 800-63B authenticator assurance levels, written as `acr`)
//! and the time of the check (OpenID Connect Core §2 `auth_time`).

use chrono::{DateTime, Utc};

/// An authentication method reference (RFC 8176 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum AuthMethod {
    /// `pwd`: a password (or a digest of it).
    Pwd,
    /// `otp`: a one-time password (TOTP, HOTP).
    Otp,
    /// `sms`: a code sent by text message.
    Sms,
    /// `hwk`: proof of possession of a hardware-secured key (a passkey on a
    /// security key).
    Hwk,
    /// `swk`: proof of possession of a software-secured key.
    Swk,
    /// `mfa`: more than one factor.
    Mfa,
    /// `fed`: an upstream identity provider's assertion (issue 19). Not an
    /// RFC 8176 value (that registry has none for federation); the name
    /// several providers use for it.
    Fed,
    /// `email`: a one-time code sent to the account's e-mail address (issue
    /// 20, `PASSWORDLESS_LOGIN`). Not an RFC 8176 value (that registry names
    /// `sms` for a texted code but nothing for a mailed one); `otp` stays the
    /// authenticator app's, so that a code followed by the app counts as two
    /// factors and one alone as one.
    Email,
}

impl AuthMethod {
    /// The RFC 8176 value: `pwd`, `otp`, `sms`, `hwk`, `swk`, `mfa`; `fed`, `email`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pwd => "pwd",
            Self::Otp => "otp",
            Self::Sms => "sms",
            Self::Hwk => "hwk",
            Self::Swk => "swk",
            Self::Mfa => "mfa",
            Self::Fed => "fed",
            Self::Email => "email",
        }
    }

    /// The method an RFC 8176 value names; `None` for values Tessera does not use.
    #[must_use]
    pub fn parse(value: &str) -> Option<Self> {
        [
            Self::Pwd,
            Self::Otp,
            Self::Sms,
            Self::Hwk,
            Self::Swk,
            Self::Mfa,
            Self::Fed,
            Self::Email,
        ]
        .into_iter()
        .find(|m| m.as_str() == value)
    }
}

/// An authenticator assurance level (NIST SP 800-63B §4), the `acr` value of
/// a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Assurance {
    /// `aal1`: one factor.
    Aal1,
    /// `aal2`: two distinct factors.
    Aal2,
}

impl Assurance {
    /// The level as a number: 1 or 2 (the `aal` claim).
    #[must_use]
    pub const fn level(self) -> u8 {
        match self {
            Self::Aal1 => 1,
            Self::Aal2 => 2,
        }
    }

    /// The `acr` value: `aal1` or `aal2`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Aal1 => "aal1",
            Self::Aal2 => "aal2",
        }
    }
}

/// How and when a session's holder authenticated: set when the credentials
/// are checked, kept by the session, and written into every access token of
/// it (login and refresh alike).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authentication {
    /// When the credentials were checked (`auth_time`, whole seconds in tokens).
    pub at: DateTime<Utc>,
    /// The methods used, in the order they were used (`amr`).
    pub methods: Vec<AuthMethod>,
}

impl Authentication {
    /// A sign-in through an upstream identity provider at `at`: `amr`
    /// `["fed"]`, assurance level 1 (what the provider checked is not
    /// Tessera's to vouch for).
    #[must_use]
    pub fn upstream(at: DateTime<Utc>) -> Self {
        Self {
            at,
            methods: vec![AuthMethod::Fed],
        }
    }

    /// A one-time code sent to the account at `at` (issue 20): `amr`
    /// `["email"]` for a mailed code, `["sms"]` for a texted one; one factor.
    #[must_use]
    pub fn sign_in_code(at: DateTime<Utc>, by_text_message: bool) -> Self {
        Self {
            at,
            methods: vec![if by_text_message {
                AuthMethod::Sms
            } else {
                AuthMethod::Email
            }],
        }
    }

    /// A password check at `at`: `amr` `["pwd"]`.
    #[must_use]
    pub fn password(at: DateTime<Utc>) -> Self {
        Self {
            at,
            methods: vec![AuthMethod::Pwd],
        }
    }

    /// The assurance the methods reach: [`Assurance::Aal2`] for `mfa` or
    /// two distinct methods, [`Assurance::Aal1`] otherwise.
    #[must_use]
    pub fn assurance(&self) -> Assurance {
        let mut distinct = self.methods.clone();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.contains(&AuthMethod::Mfa) || distinct.len() >= 2 {
            Assurance::Aal2
        } else {
            Assurance::Aal1
        }
    }

    /// The methods as stored: their RFC 8176 values joined by spaces (`pwd`,
    /// `pwd otp`).
    #[must_use]
    pub fn methods_text(&self) -> String {
        self.methods
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The methods of a stored `text` ([`Self::methods_text`]); values this
    /// version does not know are dropped.
    #[must_use]
    pub fn methods_from_text(text: &str) -> Vec<AuthMethod> {
        text.split_whitespace()
            .filter_map(AuthMethod::parse)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_is_one_factor_and_two_methods_are_two() {
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        let pwd = Authentication::password(at);
        assert_eq!(pwd.methods_text(), "pwd");
        assert_eq!(pwd.assurance(), Assurance::Aal1);
        let both = Authentication {
            at,
            methods: vec![AuthMethod::Pwd, AuthMethod::Otp],
        };
        assert_eq!(both.assurance().as_str(), "aal2");
        assert_eq!(
            Authentication::methods_from_text("pwd otp nope"),
            both.methods
        );
        let twice = Authentication {
            at,
            methods: vec![AuthMethod::Pwd, AuthMethod::Pwd],
        };
        assert_eq!(twice.assurance(), Assurance::Aal1);
    }
}
