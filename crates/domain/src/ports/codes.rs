//! Verification codes and rate-limit counters.

use std::future::Future;

use crate::error::StoreError;
use crate::model::{AttemptGrant, CodePurpose, VerificationCode};

/// Where verification codes wait to be used. At most one code exists per
/// (purpose, recipient); entries vanish at their expiry.
pub trait CodeStore: Send + Sync + 'static {
    /// Stores `code`, replacing any code of the same purpose and recipient.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn put(&self, code: &VerificationCode) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The live code for (purpose, recipient), if any.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn get(
        &self,
        purpose: CodePurpose,
        recipient: &str,
    ) -> impl Future<Output = Result<Option<VerificationCode>, StoreError>> + Send;

    /// Grants one comparison against the live code of (purpose, recipient),
    /// counting it first, in one atomic step: when fewer than `max_attempts`
    /// comparisons were granted, `attempts` goes up by one and the code is
    /// returned ([`AttemptGrant::Granted`]); otherwise nothing changes
    /// ([`AttemptGrant::Exhausted`]). Of any number of concurrent callers, at
    /// most `max_attempts - attempts` are granted (issue 12, item 1).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn claim_attempt(
        &self,
        purpose: CodePurpose,
        recipient: &str,
    ) -> impl Future<Output = Result<AttemptGrant, StoreError>> + Send;

    /// Removes the code and returns it: of concurrent callers, exactly one gets
    /// `Some` (single use).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn take(
        &self,
        purpose: CodePurpose,
        recipient: &str,
    ) -> impl Future<Output = Result<Option<VerificationCode>, StoreError>> + Send;
}

/// A fixed window of a rate limit: at most `limit` hits per `window_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateWindow {
    /// Hits allowed in one window.
    pub limit: u32,
    /// The window's length in seconds.
    pub window_secs: u64,
}

impl RateWindow {
    /// The answer to a hit that made `count` hits in a window ending in
    /// `reset_after_secs` (what every [`RateLimiter`] returns from `hit`).
    #[must_use]
    pub fn decision(self, count: u32, reset_after_secs: u64) -> RateDecision {
        RateDecision {
            allowed: count <= self.limit,
            count,
            limit: self.limit,
            remaining: self.limit.saturating_sub(count),
            reset_after_secs,
        }
    }
}

/// The answer of a rate limiter to one hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    /// Whether this hit is within the limit.
    pub allowed: bool,
    /// Hits counted in the current window, this one included.
    pub count: u32,
    /// The limit of the window.
    pub limit: u32,
    /// Hits left in the current window.
    pub remaining: u32,
    /// Seconds until the window resets.
    pub reset_after_secs: u64,
}

/// Fixed-window counters, shared by every instance when the store is shared.
pub trait RateLimiter: Send + Sync + 'static {
    /// Counts a hit on `key` and says whether it is within the `window`'s
    /// limit ([`RateWindow::decision`]); the first hit opens the window.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn hit(
        &self,
        key: &str,
        window: RateWindow,
    ) -> impl Future<Output = Result<RateDecision, StoreError>> + Send;

    /// Seconds until the open window of `key` ends (rounded up), without
    /// counting a hit; `None` when no window is open.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn open_for(&self, key: &str) -> impl Future<Output = Result<Option<u64>, StoreError>> + Send;

    /// Forgets the window of `key` (idempotent).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn clear(&self, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}
