//! Verification codes: issuing them under the per-recipient limits and
//! checking a guess against the attempts left.

use super::AuthService;
use super::verification_link::{ABSENT, STAND_IN};
use crate::clock::IdSource as _;
use crate::error::AuthError;
use crate::model::TokenFingerprint;
use crate::model::{AttemptGrant, CodePurpose, VerificationCode, constant_time_eq};
use crate::ports::{CodeStore as _, Ports, RateLimiter as _, RefreshTokenCodec as _};

impl<P: Ports> AuthService<P> {
    /// A new 6-digit code for (`purpose`, `recipient`) bound to `binding`,
    /// stored as a keyed fingerprint, once the per-recipient limits allow it
    /// ([`Self::draw_code`]).
    ///
    /// # Errors
    /// [`AuthError::TooManyRequests`], [`AuthError::Unavailable`].
    pub(super) async fn issue_code(
        &self,
        purpose: CodePurpose,
        recipient: &str,
        limit_key: &str,
        binding: Option<String>,
    ) -> Result<String, AuthError> {
        let (code, stored) = self
            .draw_code(purpose, recipient, limit_key, binding)
            .await?;
        self.ports.codes.put(&stored).await?;
        Ok(code)
    }

    /// A new 6-digit code for (`purpose`, `recipient`) bound to `binding`
    /// and what the store is to keep of it (a keyed fingerprint), not yet
    /// stored: for callers that store it only once the write it belongs to
    /// has committed. Counts against the per-recipient limits (no sooner
    /// than `resend_after_secs` after the last one, at most `per_hour` an
    /// hour; counters `<limit_key>-gap:` and `<limit_key>-hour:`).
    ///
    /// # Errors
    /// [`AuthError::TooManyRequests`], [`AuthError::Unavailable`].
    pub(super) async fn draw_code(
        &self,
        purpose: CodePurpose,
        recipient: &str,
        limit_key: &str,
        binding: Option<String>,
    ) -> Result<(String, VerificationCode), AuthError> {
        let cs = self.settings.codes;
        self.limit(
            format!("{limit_key}-gap:{recipient}"),
            1,
            cs.resend_after_secs,
        )
        .await?;
        self.limit(format!("{limit_key}-hour:{recipient}"), cs.per_hour, 3600)
            .await?;
        Ok(self.fresh_code(purpose, recipient, binding))
    }

    /// A new 6-digit code for (`purpose`, `recipient`) bound to `binding`
    /// and what the store is to keep of it, without counting any limit (the
    /// caller counted them: [`Self::draw_code`]).
    pub(super) fn fresh_code(
        &self,
        purpose: CodePurpose,
        recipient: &str,
        binding: Option<String>,
    ) -> (String, VerificationCode) {
        let cs = self.settings.codes;
        let code = self.ports.ids.secret_digits(6);
        let stored = VerificationCode {
            purpose,
            recipient: recipient.to_owned(),
            fingerprint: self.ports.codec.keyed_fingerprint(&code),
            digits: 6,
            expires_at: self.now() + cs.ttl,
            attempts: 0,
            max_attempts: cs.max_attempts,
            binding,
        };
        (code, stored)
    }

    pub(super) async fn limit(
        &self,
        key: String,
        limit: u32,
        window: u64,
    ) -> Result<(), AuthError> {
        let window = crate::ports::RateWindow {
            limit,
            window_secs: window,
        };
        let d = self.ports.limiter.hit(&key, window).await?;
        if d.allowed {
            Ok(())
        } else {
            Err(AuthError::TooManyRequests {
                retry_after_secs: d.reset_after_secs.max(1),
                limit,
            })
        }
    }

    /// Checks a guess against the live code of (purpose, recipient) and
    /// returns the code when it matches. The comparison is counted before it
    /// is made, atomically in the store ([`crate::ports::CodeStore::claim_attempt`]),
    /// so no code is compared more than `max_attempts` times under any
    /// concurrency; the code dies after its last wrong guess. The code stays
    /// stored on success: the caller takes it (single use).
    ///
    /// # Errors
    /// [`AuthError::CodeExpired`] (no live code), [`AuthError::CodeWrong`],
    /// [`AuthError::CodeExhausted`], [`AuthError::Unavailable`].
    pub(super) async fn check_code(
        &self,
        purpose: CodePurpose,
        recipient: &str,
        guess: &str,
    ) -> Result<VerificationCode, AuthError> {
        // Fingerprinted first, so a check costs the same with or without a code.
        let guess = self.ports.codec.keyed_fingerprint(guess.trim());
        let stored = match self.ports.codes.claim_attempt(purpose, recipient).await? {
            AttemptGrant::NoCode => return Err(AuthError::CodeExpired),
            // An exhausted code is dead without being removed: no store
            // grants it another attempt, and removing it could remove a
            // newer code, or the one a concurrent right guess is about to
            // take (six concurrent right guesses would all fail).
            AttemptGrant::Exhausted => return Err(AuthError::CodeExhausted),
            AttemptGrant::Granted(code) => code,
        };
        if constant_time_eq(guess.0.as_bytes(), stored.fingerprint.0.as_bytes()) {
            return Ok(stored);
        }
        if stored.attempts >= stored.max_attempts {
            return Err(AuthError::CodeExhausted);
        }
        Err(AuthError::CodeWrong {
            remaining: stored.max_attempts - stored.attempts,
        })
    }

    /// Evens out the store work of a code check (issue 12, "verify-email
    /// answers one way"): every check makes one claim that finds a code and
    /// one that finds none. A check that found no code claims the stand-in
    /// code (made on first use); one that found a code claims a key that
    /// never exists.
    pub(super) async fn even_out_code_check(&self, found_a_code: bool) -> Result<(), AuthError> {
        let key = if found_a_code { ABSENT } else { STAND_IN };
        let claim = self
            .ports
            .codes
            .claim_attempt(CodePurpose::VerifyEmail, key)
            .await?;
        if !found_a_code && !matches!(claim, AttemptGrant::Granted(_)) {
            self.ports
                .codes
                .put(&VerificationCode {
                    purpose: CodePurpose::VerifyEmail,
                    recipient: STAND_IN.to_owned(),
                    fingerprint: TokenFingerprint(String::new()),
                    digits: 6,
                    expires_at: self.now() + chrono::Duration::days(3650),
                    attempts: 0,
                    max_attempts: i32::MAX.unsigned_abs(),
                    binding: None,
                })
                .await?;
        }
        Ok(())
    }
}
