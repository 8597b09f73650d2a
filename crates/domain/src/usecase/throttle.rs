//! Growing delays after failed logins (see [`crate::settings::LoginThrottle`]).

use super::AuthService;
use crate::error::AuthError;
use crate::ports::{Ports, RateLimiter as _, RateWindow};
use crate::values::Login;

impl<P: Ports> AuthService<P> {
    /// The throttle keys of a login: (identifier, IP) with its allowance, then IP.
    pub(super) fn throttle_keys(&self, identifier: &str, ip: Option<&str>) -> [(String, u32); 2] {
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

    pub(super) async fn check_throttle(&self, keys: &[(String, u32)]) -> Result<(), AuthError> {
        for (key, free) in keys {
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
        Ok(())
    }

    pub(super) async fn record_login_failure(
        &self,
        keys: &[(String, u32)],
    ) -> Result<(), AuthError> {
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

    pub(super) async fn clear_login_failures(
        &self,
        keys: &[(String, u32)],
    ) -> Result<(), AuthError> {
        if let Some((key, _)) = keys.first() {
            self.ports.limiter.clear(&format!("bf-fail:{key}")).await?;
        }
        Ok(())
    }
}
