//! Throttles: the per-IP request limits (`RATE_LIMIT_*`) and the login
//! failure delays (`LOGIN_*`).

use tessera_domain::settings::LoginThrottle;

use super::ConfigError;
use super::source::Reader;

/// `limit` requests per `window_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Requests allowed in a window.
    pub limit: u32,
    /// Window length in seconds.
    pub window_secs: u64,
}

/// What a request spends; one counter per kind and client IP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// Logins in every dialect, and password changes (each a guess of the current password).
    Login,
    /// Registrations and sign-ups.
    Register,
    /// Requests that mail or text a code or link.
    SendCode,
    /// Requests that check a code or link.
    VerifyCode,
    /// Token refreshes.
    Refresh,
    /// Passkey ceremonies begun (their options): the sign-in page begins
    /// one whenever its identifier field gets the focus, so they are not
    /// counted as login attempts.
    Ceremony,
}

impl Bucket {
    /// The name in keys and variables.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Register => "register",
            Self::SendCode => "send_code",
            Self::VerifyCode => "verify_code",
            Self::Refresh => "refresh",
            Self::Ceremony => "ceremony",
        }
    }
}

/// Per-IP limits, each `N/SECONDS` or `off`: `RATE_LIMIT_LOGIN` (default
/// 30/60), `RATE_LIMIT_REGISTER` (20/3600), `RATE_LIMIT_SEND_CODE` (20/3600),
/// `RATE_LIMIT_VERIFY_CODE` (30/600), `RATE_LIMIT_REFRESH` (120/60),
/// `RATE_LIMIT_CEREMONY` (60/60).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Logins.
    pub login: Option<Limit>,
    /// Registrations.
    pub register: Option<Limit>,
    /// Code and link sending.
    pub send_code: Option<Limit>,
    /// Code and link checking (including password resets).
    pub verify_code: Option<Limit>,
    /// Refreshes.
    pub refresh: Option<Limit>,
    /// Passkey ceremonies begun.
    pub ceremony: Option<Limit>,
}

impl RateLimits {
    /// The limit of `bucket`, if any.
    #[must_use]
    pub fn get(&self, bucket: Bucket) -> Option<Limit> {
        match bucket {
            Bucket::Login => self.login,
            Bucket::Register => self.register,
            Bucket::SendCode => self.send_code,
            Bucket::VerifyCode => self.verify_code,
            Bucket::Refresh => self.refresh,
            Bucket::Ceremony => self.ceremony,
        }
    }

    /// Reads `RATE_LIMIT_*`.
    pub(crate) fn read(r: &Reader<'_>) -> Result<Self, ConfigError> {
        Ok(Self {
            login: limit(r, "RATE_LIMIT_LOGIN", 30, 60)?,
            register: limit(r, "RATE_LIMIT_REGISTER", 20, 3600)?,
            send_code: limit(r, "RATE_LIMIT_SEND_CODE", 20, 3600)?,
            verify_code: limit(r, "RATE_LIMIT_VERIFY_CODE", 30, 600)?,
            refresh: limit(r, "RATE_LIMIT_REFRESH", 120, 60)?,
            ceremony: limit(r, "RATE_LIMIT_CEREMONY", 60, 60)?,
        })
    }
}

/// `N/SECONDS` (both positive) or `off`.
fn limit(
    r: &Reader<'_>,
    name: &'static str,
    limit: u32,
    window_secs: u64,
) -> Result<Option<Limit>, ConfigError> {
    let Some(v) = r.string(name) else {
        r.default_shown(name, &format!("{limit}/{window_secs}"));
        return Ok(Some(Limit { limit, window_secs }));
    };
    if v.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let bad = || ConfigError::Invalid {
        name,
        reason: format!("{v:?}: expected N/SECONDS (for example 30/60) or off"),
    };
    let (n, secs) = v.split_once('/').ok_or_else(bad)?;
    let limit = n.trim().parse::<u32>().map_err(|_| bad())?;
    let window_secs = secs.trim().parse::<u64>().map_err(|_| bad())?;
    if limit == 0 || window_secs == 0 {
        return Err(bad());
    }
    Ok(Some(Limit { limit, window_secs }))
}

/// Reads `LOGIN_FREE_FAILURES` (5), `LOGIN_FREE_FAILURES_PER_IP` (30),
/// `LOGIN_FAILURE_WINDOW` (900 s), `LOGIN_MAX_DELAY` (900 s): the defaults
/// are the domain's [`LoginThrottle::default`].
pub(crate) fn login_throttle(r: &Reader<'_>) -> Result<LoginThrottle, ConfigError> {
    let defaults = LoginThrottle::default();
    Ok(LoginThrottle {
        free_per_account_ip: r.parse("LOGIN_FREE_FAILURES", defaults.free_per_account_ip)?,
        free_per_ip: r.parse("LOGIN_FREE_FAILURES_PER_IP", defaults.free_per_ip)?,
        window_secs: r.parse("LOGIN_FAILURE_WINDOW", defaults.window_secs)?,
        max_delay_secs: r.parse("LOGIN_MAX_DELAY", defaults.max_delay_secs)?,
    })
}
