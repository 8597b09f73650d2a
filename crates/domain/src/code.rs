//! Verification codes (email verification, password reset, registration), used by the mail flows.

use chrono::{DateTime, Utc};

use crate::token::TokenFingerprint;

/// What a code may be used for; a code of one purpose never serves another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodePurpose {
    /// Confirm an email address.
    VerifyEmail,
    /// Reset a forgotten password.
    ResetPassword,
    /// Create an account (seed 001's `/Auth/Sign` then `/Auth/Verify`).
    Register,
    /// The secret of an email-verification link (kept beside the code).
    VerifyEmailLink,
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
    /// Wrong guesses so far.
    pub attempts: u32,
    /// Wrong guesses that kill the code.
    pub max_attempts: u32,
}

/// The outcome of checking a guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// Right code, in time: consume it.
    Accepted,
    /// Wrong code; the count of wrong guesses went up.
    Wrong {
        /// Guesses left before the code dies.
        remaining: u32,
    },
    /// Past its expiry.
    Expired,
    /// Too many wrong guesses already.
    Exhausted,
}

impl VerificationCode {
    /// Checks a guess, given its fingerprint, and counts a wrong one.
    pub fn check(&mut self, guess: &TokenFingerprint, now: DateTime<Utc>) -> CodeCheck {
        if now >= self.expires_at {
            return CodeCheck::Expired;
        }
        if self.attempts >= self.max_attempts {
            return CodeCheck::Exhausted;
        }
        if constant_time_eq(guess.0.as_bytes(), self.fingerprint.0.as_bytes()) {
            return CodeCheck::Accepted;
        }
        self.attempts += 1;
        if self.attempts >= self.max_attempts {
            CodeCheck::Exhausted
        } else {
            CodeCheck::Wrong {
                remaining: self.max_attempts - self.attempts,
            }
        }
    }
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
    use chrono::Duration;

    fn code(now: DateTime<Utc>) -> VerificationCode {
        VerificationCode {
            purpose: CodePurpose::ResetPassword,
            recipient: "a@b.com".into(),
            fingerprint: TokenFingerprint("right".into()),
            digits: 6,
            expires_at: now + Duration::seconds(600),
            attempts: 0,
            max_attempts: 5,
        }
    }

    #[test]
    fn accepts_the_right_code_in_time() {
        let now = Utc::now();
        assert_eq!(
            code(now).check(&TokenFingerprint("right".into()), now),
            CodeCheck::Accepted
        );
    }

    #[test]
    fn expires() {
        let now = Utc::now();
        let later = now + Duration::seconds(600);
        assert_eq!(
            code(now).check(&TokenFingerprint("right".into()), later),
            CodeCheck::Expired
        );
    }

    #[test]
    fn fifth_wrong_guess_kills_the_code() {
        let now = Utc::now();
        let mut c = code(now);
        let wrong = TokenFingerprint("wrong".into());
        for remaining in (1..5).rev() {
            assert_eq!(c.check(&wrong, now), CodeCheck::Wrong { remaining });
        }
        assert_eq!(c.check(&wrong, now), CodeCheck::Exhausted);
        assert_eq!(
            c.check(&TokenFingerprint("right".into()), now),
            CodeCheck::Exhausted
        );
    }
}
