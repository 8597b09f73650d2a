//! Growing delays after failed logins (see [`crate::settings::LoginThrottle`]).
//!
//! **Counted before the hash.** A password check is admitted only after its
//! attempt is counted against the account at the caller's address (an atomic
//! `hit` of the shared limiter), so concurrent guesses cannot all pass the
//! check before any of them is recorded: of any number sent at once, at most
//! `free_per_account_ip + 1` are hashed in a window, the rest are refused
//! with [`AuthError::TooManyRequests`] before any work. A success clears the
//! account's count; a failure keeps it and, past the free allowance, sets a
//! delay that doubles with each further failure (at most `max_delay_secs`).
//! The per-address count (`free_per_ip`, any account) is recorded after a
//! failure only, since successes must not fill it; it is bounded under
//! concurrency by the route's own rate limit.

use super::AuthService;
use crate::error::AuthError;
use crate::ports::{Ports, RateLimiter as _, RateWindow};
use crate::values::Login;

/// A password check the throttle admitted: its attempt is already counted
/// against the account at this address.
pub(super) struct Admitted {
    /// (account at address, its free failures), then (address, its free failures).
    keys: [(String, u32); 2],
    /// Attempts counted against the account at this address in the window,
    /// this one included.
    account_attempts: u32,
}

impl<P: Ports> AuthService<P> {
    /// The throttle keys of a login: (identifier, IP) with its allowance, then IP.
    fn throttle_keys(&self, identifier: &str, ip: Option<&str>) -> [(String, u32); 2] {
        let t = self.settings.login_throttle;
        let ip = ip.unwrap_or("-");
        // One counter per account however its identifier is spelt
        // (`KORA7`, `\u{212A}ora7`, `0086 138…` and `+86 138…` are one).
        let who = match Login::parse(identifier, self.settings.phone_region) {
            Ok(Login::Username(u)) => format!("u:{}", u.canonical()),
            Ok(Login::Email(e)) => format!("e:{e}"),
            Ok(Login::Phone(p)) => format!("p:{p}"),
            Err(_) => identifier.trim().to_lowercase(),
        };
        [
            (format!("acct:{ip}:{who}"), t.free_per_account_ip),
            (format!("ip:{ip}"), t.free_per_ip),
        ]
    }

    /// Admits one password check for `identifier` from `ip`: refused while
    /// a delay runs for the account at this address or for the address, and
    /// refused when this attempt is beyond `free_per_account_ip + 1` in the
    /// window (counted first, atomically; see the module documentation).
    ///
    /// # Errors
    /// [`AuthError::TooManyRequests`] (with the delay left), or
    /// [`AuthError::Unavailable`] when the limiter is down.
    pub(super) async fn admit_password_check(
        &self,
        identifier: &str,
        ip: Option<&str>,
    ) -> Result<Admitted, AuthError> {
        let keys = self.throttle_keys(identifier, ip);
        for (key, free) in &keys {
            if let Some(secs) = self
                .ports
                .limiter
                .open_for(&format!("bf-block:{key}"))
                .await?
            {
                return Err(AuthError::TooManyRequests {
                    retry_after_secs: secs.max(1),
                    limit: *free,
                });
            }
        }
        let (account, free) = &keys[0];
        let counted = self
            .ports
            .limiter
            .hit(
                &format!("bf-fail:{account}"),
                RateWindow {
                    limit: free.saturating_add(1),
                    window_secs: self.settings.login_throttle.window_secs,
                },
            )
            .await?;
        if !counted.allowed {
            let delay = self.delay(account, *free, counted.count).await?;
            return Err(AuthError::TooManyRequests {
                retry_after_secs: delay,
                limit: *free,
            });
        }
        Ok(Admitted {
            account_attempts: counted.count,
            keys,
        })
    }

    /// Records that the admitted check failed: past the account's free
    /// failures a delay starts; the address's count grows too.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`] when the limiter is down.
    pub(super) async fn record_login_failure(&self, admitted: &Admitted) -> Result<(), AuthError> {
        let [(account, account_free), (address, address_free)] = &admitted.keys;
        if admitted.account_attempts > *account_free {
            self.delay(account, *account_free, admitted.account_attempts)
                .await?;
        }
        let counted = self
            .ports
            .limiter
            .hit(
                &format!("bf-fail:{address}"),
                RateWindow {
                    limit: *address_free,
                    window_secs: self.settings.login_throttle.window_secs,
                },
            )
            .await?;
        if !counted.allowed {
            self.delay(address, *address_free, counted.count).await?;
        }
        Ok(())
    }

    /// Records that the admitted check succeeded: the account's count at
    /// this address starts again.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`] when the limiter is down.
    pub(super) async fn clear_login_failures(&self, admitted: &Admitted) -> Result<(), AuthError> {
        let (account, _) = &admitted.keys[0];
        self.ports
            .limiter
            .clear(&format!("bf-fail:{account}"))
            .await?;
        Ok(())
    }

    /// Starts the delay of `key` after its `count`-th failure in the window
    /// (`free` of them free): 1 s after the first beyond the allowance,
    /// doubling, at most `max_delay_secs`. Returns the delay in seconds.
    async fn delay(&self, key: &str, free: u32, count: u32) -> Result<u64, AuthError> {
        let step = count.saturating_sub(free.saturating_add(1)).min(30);
        let delay = (1_u64 << step).min(self.settings.login_throttle.max_delay_secs.max(1));
        self.ports
            .limiter
            .hit(
                &format!("bf-block:{key}"),
                RateWindow {
                    limit: 0,
                    window_secs: delay,
                },
            )
            .await?;
        Ok(delay)
    }
}
