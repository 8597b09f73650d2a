//! The knobs of the use cases: token lifetimes, policies, codes, throttling.

use chrono::Duration;

use crate::mail::MailSettings;
use crate::model::{DEFAULT_REGISTRABLE_ROLES, DEFAULT_ROLE};
use crate::usecase::DEFAULT_MAX_SESSIONS_PER_USER;
use crate::values::{PasswordPolicy, PhoneRegion, RoleName, UsernamePolicy};

/// Which route the verification link of a registration mail opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkStyle {
    /// `/api/auth/verify-email?token=…`: a page with a button (a mail
    /// scanner's GET verifies nothing).
    Modern,
    /// `/api/v1/auth/verify/<token>`: seed 002's link, which verifies on GET.
    V1,
}

/// The knobs of the use cases.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// Access-token lifetime. Default 900 s.
    pub access_ttl: Duration,
    /// Access-token lifetime on seed 001's routes, whose clients cannot
    /// refresh (`LEGACY_ACCESS_TOKEN_TTL`). Default 1 day.
    pub legacy_access_ttl: Duration,
    /// Access-token lifetime on seed 002's routes (`V1_ACCESS_TOKEN_TTL`);
    /// its README promises 1 hour. Default 3600 s.
    pub v1_access_ttl: Duration,
    /// Absolute session lifetime, from login. Default 7 days.
    pub refresh_ttl: Duration,
    /// Idle session lifetime: a session whose refresh token has not been used
    /// (nor the login made) for this long refreshes no more. Default 3 days.
    pub idle_ttl: Duration,
    /// How long a rotated-out refresh token still answers with the current pair. Default 10 s.
    pub reuse_interval: Duration,
    /// Clock skew tolerated when checking `exp` and `nbf`. Default 30 s.
    pub leeway: Duration,
    /// Rules for new passwords.
    pub password_policy: PasswordPolicy,
    /// Rules for new usernames (`USERNAME_MIN_LENGTH`, default 3; issue 13, item 10).
    pub username_policy: UsernamePolicy,
    /// Roles a user may pick at registration.
    pub registrable_roles: Vec<RoleName>,
    /// Role given when registration names none.
    pub default_role: RoleName,
    /// Roles that may log in as administrator at seed 001's `/Admin/Login`
    /// (`ADMIN_LOGIN_ROLES`, default `super_admin`; issue 13, item 11).
    pub admin_login_roles: Vec<RoleName>,
    /// Branding, links and default language of mail.
    pub mail: MailSettings,
    /// Verification codes.
    pub codes: CodeSettings,
    /// Refuse logins until the email is confirmed (`REQUIRE_VERIFIED_EMAIL`, default false).
    pub require_verified_email: bool,
    /// How long an account may keep an unverified address before it is a
    /// pending registration that a new registration replaces and the expiry
    /// sweep removes (`UNVERIFIED_ACCOUNT_TTL`); `None` never (issue 12, item 3).
    pub unverified_account_ttl: Option<Duration>,
    /// Return reset codes in the response (`debug_code`, seed 003): development only.
    pub expose_debug_codes: bool,
    /// Growing delays after failed logins.
    pub login_throttle: LoginThrottle,
    /// Most live sessions per account (`MAX_SESSIONS_PER_USER`, default
    /// [`DEFAULT_MAX_SESSIONS_PER_USER`]); `None` for no limit. See
    /// [`session_limit`].
    pub max_sessions_per_user: Option<u32>,
    /// Region that reads phone numbers written without a country code
    /// (`PHONE_DEFAULT_REGION`, default `CN`).
    pub phone_region: PhoneRegion,
}

/// Growing delays after failed logins, per (identifier, client IP) and per
/// client IP. After `free` failures within `window_secs`, each further
/// failure blocks that key for 1, 2, 4, … seconds (at most `max_delay_secs`);
/// a blocked key is answered "too many requests" before any password is
/// checked. Keys include the IP, so an attacker elsewhere can slow down only
/// their own attempts, never lock someone else's account; counters end with
/// their window, and a successful login clears its (identifier, IP) pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginThrottle {
    /// Failures per (identifier, IP) before delays start (`LOGIN_FREE_FAILURES`, default 5).
    pub free_per_account_ip: u32,
    /// Failures per IP, any identifier, before delays start (`LOGIN_FREE_FAILURES_PER_IP`, default 30).
    pub free_per_ip: u32,
    /// Window of the failure counters (`LOGIN_FAILURE_WINDOW`, default 900 s).
    pub window_secs: u64,
    /// Longest delay (`LOGIN_MAX_DELAY`, default 900 s).
    pub max_delay_secs: u64,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            free_per_account_ip: 5,
            free_per_ip: 30,
            window_secs: 900,
            max_delay_secs: 900,
        }
    }
}

/// How verification codes behave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeSettings {
    /// Lifetime (`VERIFICATION_CODE_TTL`, default 600 s).
    pub ttl: Duration,
    /// Wrong guesses that kill a code (default 5).
    pub max_attempts: u32,
    /// Shortest wait between two sends to one recipient (default 60 s).
    pub resend_after_secs: u64,
    /// Most sends to one recipient per hour (default 10).
    pub per_hour: u32,
}

impl Default for CodeSettings {
    fn default() -> Self {
        Self {
            ttl: Duration::seconds(600),
            max_attempts: 5,
            resend_after_secs: 60,
            per_hour: 10,
        }
    }
}

impl AuthSettings {
    /// The longest life any access token can have: revocations must outlast it.
    #[must_use]
    pub fn longest_access_ttl(&self) -> Duration {
        self.access_ttl
            .max(self.legacy_access_ttl)
            .max(self.v1_access_ttl)
    }
}

impl Default for AuthSettings {
    fn default() -> Self {
        let role = |r: &str| RoleName::parse(r).unwrap_or_else(|_| unreachable_role());
        Self {
            access_ttl: Duration::seconds(900),
            legacy_access_ttl: Duration::days(1),
            v1_access_ttl: Duration::seconds(3600),
            refresh_ttl: Duration::days(7),
            idle_ttl: Duration::days(3),
            reuse_interval: Duration::seconds(10),
            leeway: Duration::seconds(30),
            password_policy: PasswordPolicy::default(),
            username_policy: UsernamePolicy::default(),
            registrable_roles: DEFAULT_REGISTRABLE_ROLES.iter().map(|r| role(r)).collect(),
            default_role: role(DEFAULT_ROLE),
            admin_login_roles: vec![role(RoleName::SUPER_ADMIN)],
            mail: MailSettings::default(),
            codes: CodeSettings::default(),
            require_verified_email: false,
            unverified_account_ttl: None,
            expose_debug_codes: false,
            login_throttle: LoginThrottle::default(),
            max_sessions_per_user: Some(DEFAULT_MAX_SESSIONS_PER_USER),
            phone_region: PhoneRegion::default(),
        }
    }
}

#[allow(clippy::panic)]
fn unreachable_role() -> RoleName {
    // The built-in role names are constants that satisfy RoleName::parse; a
    // test (`default_settings_parse`) proves it.
    panic!("built-in role name is invalid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_settings_parse() {
        let s = AuthSettings::default();
        assert_eq!(s.default_role.as_str(), "unauth");
        assert_eq!(s.registrable_roles.len(), 5);
    }
}
