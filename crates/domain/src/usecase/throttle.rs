//! Growing delays after failed logins (see [`crate::settings::LoginThrottle`]).
//!
//! **One check at a time.** A password check for an account from one address
//! is admitted only while no other check for that pair is in flight (an
//! atomic `hit` of the shared limiter, released when the check ends, or after
//! [`CHECK_IN_FLIGHT_SECS`] if the process dies). So each failure is recorded
//! before the next guess is admitted, and guesses sent at once cannot all slip
//! past a delay that none of them has set yet: the growing delays hold under
//! concurrency as they do in sequence (logins and re-proofs of a password
//! each hold their own mark, see [`CheckKind`]). A concurrent second check answers
//! [`AuthError::TooManyRequests`] with a one-second `Retry-After`, unhashed.

use super::AuthService;
use crate::error::AuthError;
use crate::ports::{Ports, RateLimiter as _, RateWindow};
use crate::values::Login;

/// The longest a password check can hold its (account, address) pair when
/// its end is never recorded (the process stopped mid-check): 10 s, above
/// any hash wait the hasher's queue allows.
pub const CHECK_IN_FLIGHT_SECS: u64 = 10;

/// Why a password is checked. Each kind has its own in-flight mark, so a
/// signed-in person re-proving their password (a password change, the
/// verification link's page) is never turned away by their own logins in
/// flight; failures of both kinds count in the same throttle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CheckKind {
    /// A login.
    Login,
    /// A re-proof of the password by someone already identified.
    Reproof,
}

impl CheckKind {
    fn mark(self) -> &'static str {
        match self {
            Self::Login => "bf-busy",
            Self::Reproof => "bf-busy-reproof",
        }
    }
}

/// How an admitted password check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CheckOutcome {
    /// The password was right: the pair's failure count starts again.
    Succeeded,
    /// The password was wrong (or the account unknown): it counts.
    Failed,
    /// The check could not be made (a store or the hasher failed): nothing counts.
    Abandoned,
}

/// A password check the throttle admitted (see the module documentation);
/// [`AuthService::end_password_check`] releases it.
pub(super) struct Admitted {
    /// (account at address, its free failures), then (address, its free failures).
    keys: [(String, u32); 2],
    /// The in-flight mark it holds.
    mark: String,
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
    /// a delay runs for the pair or the address, and while another check of
    /// the pair is in flight. Every admitted check must end with
    /// [`Self::end_password_check`].
    ///
    /// # Errors
    /// [`AuthError::TooManyRequests`] (with the delay left), or
    /// [`AuthError::Unavailable`] when the limiter is down.
    pub(super) async fn admit_password_check(
        &self,
        kind: CheckKind,
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
        let mark = format!("{}:{account}", kind.mark());
        let alone = self
            .ports
            .limiter
            .hit(
                &mark,
                RateWindow {
                    limit: 1,
                    window_secs: CHECK_IN_FLIGHT_SECS,
                },
            )
            .await?;
        if !alone.allowed {
            return Err(AuthError::TooManyRequests {
                retry_after_secs: 1,
                limit: *free,
            });
        }
        Ok(Admitted { keys, mark })
    }

    /// Ends an admitted check: a failure counts (past the free failures a
    /// delay starts, 1 s, then doubling up to `max_delay_secs`); a success
    /// clears the pair's count. Then the pair may be checked again.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`] when the limiter is down.
    pub(super) async fn end_password_check(
        &self,
        admitted: Admitted,
        outcome: CheckOutcome,
    ) -> Result<(), AuthError> {
        let outcome = match outcome {
            CheckOutcome::Succeeded => self
                .ports
                .limiter
                .clear(&format!("bf-fail:{}", admitted.keys[0].0))
                .await
                .map_err(AuthError::from),
            CheckOutcome::Failed => self.record_failure(&admitted.keys).await,
            CheckOutcome::Abandoned => Ok(()),
        };
        self.ports.limiter.clear(&admitted.mark).await?;
        outcome
    }

    async fn record_failure(&self, keys: &[(String, u32)]) -> Result<(), AuthError> {
        let t = self.settings.login_throttle;
        for (key, free) in keys {
            let d = self
                .ports
                .limiter
                .hit(
                    &format!("bf-fail:{key}"),
                    RateWindow {
                        limit: *free,
                        window_secs: t.window_secs,
                    },
                )
                .await?;
            if !d.allowed {
                let step = d.count.saturating_sub(free.saturating_add(1)).min(30);
                let delay = (1_u64 << step).min(t.max_delay_secs.max(1));
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
            }
        }
        Ok(())
    }
}
