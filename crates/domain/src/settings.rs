//! The knobs of the use cases: token lifetimes, policies, codes, throttling.

use chrono::{DateTime, Duration, Utc};

use crate::mail::MailSettings;
use crate::model::{DEFAULT_REGISTRABLE_ROLES, DEFAULT_ROLE};
use crate::usecase::DEFAULT_MAX_SESSIONS_PER_USER;
use crate::values::{PasswordPolicy, PhoneRegion, RoleName, UsernamePolicy};

/// How a verification link confirms the address it was mailed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkKind {
    /// The link opens a page that confirms only with the account's password,
    /// and offers "this wasn't me" (a mail scanner's GET confirms nothing).
    Page,
    /// Opening the link (a GET) confirms the address.
    Direct,
}

/// Where one kind of verification link points, and the tag that binds each
/// link issued to its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkTemplate {
    /// Stored with every link issued, so that a link in flight is read as
    /// the kind it was issued as: keep it stable across releases.
    pub tag: String,
    /// The link, relative to [`MailSettings::public_base_url`], with
    /// `{token}` where the link token (64 hex digits) goes.
    pub path: String,
}

impl LinkTemplate {
    /// The link for `token` under `base` (a URL without a trailing `/`).
    #[must_use]
    pub fn url(&self, base: &str, token: &str) -> String {
        format!("{base}{}", self.path.replace("{token}", token))
    }
}

/// The verification links the server serves: one template per [`LinkKind`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationLinks {
    /// [`LinkKind::Page`]. Default tag `page`, path `/verify-email?token={token}`.
    pub page: LinkTemplate,
    /// [`LinkKind::Direct`]. Default tag `direct`, path `/verify/{token}`.
    pub direct: LinkTemplate,
}

impl VerificationLinks {
    /// The template of `kind`.
    #[must_use]
    pub fn template(&self, kind: LinkKind) -> &LinkTemplate {
        match kind {
            LinkKind::Page => &self.page,
            LinkKind::Direct => &self.direct,
        }
    }

    /// The kind a stored `tag` names; an unknown tag is a [`LinkKind::Page`]
    /// link (the kind that confirms nothing without the password).
    #[must_use]
    pub fn kind_of(&self, tag: &str) -> LinkKind {
        if tag == self.direct.tag && tag != self.page.tag {
            LinkKind::Direct
        } else {
            LinkKind::Page
        }
    }
}

impl Default for VerificationLinks {
    fn default() -> Self {
        Self {
            page: LinkTemplate {
                tag: "page".into(),
                path: "/verify-email?token={token}".into(),
            },
            direct: LinkTemplate {
                tag: "direct".into(),
                path: "/verify/{token}".into(),
            },
        }
    }
}

/// Default access-token lifetime ([`AuthSettings::access_ttl`]): 900 s.
pub const DEFAULT_ACCESS_TTL_SECS: i64 = 900;

/// Default absolute session lifetime ([`AuthSettings::refresh_ttl`]): 7 days, in seconds.
pub const DEFAULT_REFRESH_TTL_SECS: i64 = 7 * 24 * 3600;

/// Default idle session lifetime ([`AuthSettings::idle_ttl`]): 3 days, in seconds.
pub const DEFAULT_IDLE_TTL_SECS: i64 = 3 * 24 * 3600;

/// Default grace of a rotated-out refresh token ([`AuthSettings::reuse_interval`]): 10 s.
pub const DEFAULT_REUSE_INTERVAL_SECS: i64 = 10;

/// Default clock skew tolerated on `exp`/`nbf` ([`AuthSettings::leeway`]): 30 s.
pub const DEFAULT_LEEWAY_SECS: i64 = 30;

/// Default grace before a deletion the holder asked for
/// ([`AuthSettings::account_deletion_grace`]): 7 days, in seconds (issue 20).
pub const DEFAULT_ACCOUNT_DELETION_GRACE_SECS: i64 = 7 * 24 * 3600;

/// Default verification-code lifetime ([`CodeSettings::ttl`]): 600 s.
pub const DEFAULT_CODE_TTL_SECS: i64 = 600;

/// A longer-lived kind of access token a caller may ask for at login
/// ([`crate::usecase::LoginTerms::access_ttl`]), for clients that cannot
/// refresh. Listed in [`AuthSettings::token_profiles`] so that revocations
/// outlast every token issued ([`AuthSettings::revocation_horizon`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenProfile {
    /// The caller's name for it.
    pub name: String,
    /// Access-token lifetime.
    pub access_ttl: Duration,
}

/// The knobs of the use cases.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// Access-token lifetime. Default 900 s.
    pub access_ttl: Duration,
    /// Other access-token lifetimes callers may ask for at login. Default none.
    pub token_profiles: Vec<TokenProfile>,
    /// Where verification links point.
    pub verification_links: VerificationLinks,
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
    /// Roles that may log in as administrator ([`crate::usecase::LoginTerms::admin_mode`])
    /// (`ADMIN_LOGIN_ROLES`, default `super_admin`; issue 13, item 11).
    pub admin_login_roles: Vec<RoleName>,
    /// Roles whose holders must have a second factor (`MFA_REQUIRED_ROLES`,
    /// default none; issue 17): a password sign-in of such an account
    /// without one opens no session, it answers an enrolment step
    /// ([`crate::usecase::SecondFactorChallenge::enrolment`]) that only a
    /// first factor enrolled there finishes.
    pub mfa_required_roles: Vec<RoleName>,
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
    /// How long after its holder asks for it an account is deleted
    /// (`ACCOUNT_DELETION_GRACE`, default [`DEFAULT_ACCOUNT_DELETION_GRACE_SECS`]);
    /// signing in before then cancels it; zero deletes at once (issue 20).
    pub account_deletion_grace: Duration,
    /// Sign-in by a one-time code mailed or texted to the account
    /// (`PASSWORDLESS_LOGIN`, default false; issue 20).
    pub passwordless_login: bool,
    /// How long the link that reverts a change of address or number works
    /// (issue 20: 7 days).
    pub contact_revert_ttl: Duration,
    /// Return reset codes in the response (`debug_code`): development only.
    pub expose_debug_codes: bool,
    /// Growing delays after failed logins.
    pub login_throttle: LoginThrottle,
    /// Most live sessions per account (`MAX_SESSIONS_PER_USER`, default
    /// [`DEFAULT_MAX_SESSIONS_PER_USER`]); `None` for no limit. See
    /// [`session_limit`](crate::usecase::session_limit).
    pub max_sessions_per_user: Option<u32>,
    /// Region that reads phone numbers written without a country code
    /// (`PHONE_DEFAULT_REGION`, default `CN`).
    pub phone_region: PhoneRegion,
    /// The second-factor step of logins.
    pub second_factor: SecondFactorSettings,
    /// Tessera as an OpenID Provider (issue 18).
    pub provider: ProviderSettings,
    /// Signing in through upstream identity providers (issue 19).
    pub upstream: UpstreamSettings,
    /// Webhooks (issue 20).
    pub webhooks: WebhookSettings,
}

/// Webhooks (issue 20).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WebhookSettings {
    /// When a failed delivery is tried again, and when it is given up.
    pub retry: crate::model::RetryPolicy,
    /// What a token issuance does when the access-token hook fails
    /// (`ACCESS_TOKEN_HOOK_FAIL_OPEN`, default false): `true` signs the
    /// token without custom claims, `false` refuses the sign-in or refresh
    /// (503), so that a claim an application relies on is never silently
    /// missing.
    pub token_hook_fail_open: bool,
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
            ttl: Duration::seconds(DEFAULT_CODE_TTL_SECS),
            max_attempts: 5,
            resend_after_secs: 60,
            per_hour: 10,
        }
    }
}

impl AuthSettings {
    /// The longest life any access token can have
    /// ([`Self::access_ttl`] or one of [`Self::token_profiles`]).
    #[must_use]
    pub fn longest_access_ttl(&self) -> Duration {
        self.token_profiles
            .iter()
            .map(|p| p.access_ttl)
            .fold(self.access_ttl, Duration::max)
    }

    /// The access-token lifetime of the profile `name`; `None` when there is
    /// no such profile.
    #[must_use]
    pub fn token_profile(&self, name: &str) -> Option<Duration> {
        self.token_profiles
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.access_ttl)
    }

    /// Until when a revocation made at `now` must last: past the end of
    /// every access token that may have been issued before it (the longest
    /// lifetime, plus the clock leeway the checks allow).
    #[must_use]
    pub fn revocation_horizon(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + self.longest_access_ttl() + self.leeway
    }
}

impl Default for AuthSettings {
    fn default() -> Self {
        let role = |r: &str| RoleName::parse(r).unwrap_or_else(|_| unreachable_role());
        Self {
            access_ttl: Duration::seconds(DEFAULT_ACCESS_TTL_SECS),
            token_profiles: Vec::new(),
            verification_links: VerificationLinks::default(),
            refresh_ttl: Duration::seconds(DEFAULT_REFRESH_TTL_SECS),
            idle_ttl: Duration::seconds(DEFAULT_IDLE_TTL_SECS),
            reuse_interval: Duration::seconds(DEFAULT_REUSE_INTERVAL_SECS),
            leeway: Duration::seconds(DEFAULT_LEEWAY_SECS),
            password_policy: PasswordPolicy::default(),
            username_policy: UsernamePolicy::default(),
            registrable_roles: DEFAULT_REGISTRABLE_ROLES.iter().map(|r| role(r)).collect(),
            default_role: role(DEFAULT_ROLE),
            admin_login_roles: vec![role(RoleName::SUPER_ADMIN)],
            mfa_required_roles: Vec::new(),
            mail: MailSettings::default(),
            codes: CodeSettings::default(),
            require_verified_email: false,
            unverified_account_ttl: None,
            account_deletion_grace: Duration::seconds(DEFAULT_ACCOUNT_DELETION_GRACE_SECS),
            passwordless_login: false,
            contact_revert_ttl: Duration::days(7),
            expose_debug_codes: false,
            login_throttle: LoginThrottle::default(),
            max_sessions_per_user: Some(DEFAULT_MAX_SESSIONS_PER_USER),
            phone_region: PhoneRegion::default(),
            second_factor: SecondFactorSettings::default(),
            provider: ProviderSettings::default(),
            upstream: UpstreamSettings::default(),
            webhooks: WebhookSettings::default(),
        }
    }
}

/// Default [`SecondFactorSettings::reauth_max_age`]: 900 s, an access
/// token's default life (a token fresh from a login is recent all its life).
pub const DEFAULT_REAUTH_MAX_AGE_SECS: i64 = 900;

/// Tessera as an OpenID Provider (issue 18).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderSettings {
    /// The issuer identifier (`iss` of ID tokens, OpenID Connect Discovery
    /// §3): an `https` URL (or `http` for a local test) without a query or
    /// fragment; the discovery document is at
    /// `<issuer>/.well-known/openid-configuration`. Default
    /// `http://localhost:8080` (the server sets `OIDC_ISSUER`, which
    /// defaults to `PUBLIC_BASE_URL`).
    pub issuer: String,
    /// How long an authorization code may wait for its redemption (at most
    /// 60 s, issue 18; RFC 6749 §4.1.2 recommends at most 10 minutes).
    pub code_ttl: Duration,
}

impl Default for ProviderSettings {
    fn default() -> Self {
        Self {
            issuer: "http://localhost:8080".to_owned(),
            code_ttl: Duration::seconds(60),
        }
    }
}

/// Signing in through upstream identity providers (issue 19).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UpstreamSettings {
    /// The providers of the configuration (`UPSTREAM_PROVIDERS`); the
    /// console's are in the store. A console provider cannot take the id of
    /// one of these.
    pub providers: Vec<crate::model::UpstreamProvider>,
    /// The base of the callbacks a provider redirects to:
    /// `<callback_base>/api/auth/oauth/<id>/callback` (the server's
    /// `PUBLIC_BASE_URL`, without a trailing `/`).
    pub callback_base: String,
}

/// How the second-factor step of a login behaves (issue 17).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecondFactorSettings {
    /// How long a login waits for its second factor (`mfa_token`'s life).
    /// Default 300 s.
    pub challenge_ttl: Duration,
    /// Codes one challenge may be answered with before it dies (default 5).
    pub challenge_attempts: u32,
    /// Factor checks one account may make per [`Self::check_window_secs`],
    /// over every challenge and every enrolment change (default 10): with
    /// the challenge's own limit, at most this many guesses per window,
    /// however many passwords-correct logins an attacker starts.
    pub checks_per_window: u32,
    /// The window of [`Self::checks_per_window`], in seconds (default 900).
    pub check_window_secs: u64,
    /// How recent the caller's authentication (`auth_time`) must be, at the
    /// account's highest level (aal2 once it has a second factor), for a
    /// sensitive action: enrolling or removing a factor, changing the
    /// password (whose current password counts as a fresh `pwd` check for
    /// an account without a factor), every administrator's change
    /// (`REAUTH_MAX_AGE`, default 900 s; issue 17). A stolen, refreshed
    /// session cannot bind the account to the thief's app or take it over.
    pub reauth_max_age: Duration,
}

impl Default for SecondFactorSettings {
    fn default() -> Self {
        Self {
            challenge_ttl: Duration::seconds(300),
            challenge_attempts: 5,
            checks_per_window: 10,
            check_window_secs: 900,
            reauth_max_age: Duration::seconds(DEFAULT_REAUTH_MAX_AGE_SECS),
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
        assert_eq!(s.default_role.as_str(), "user");
        assert_eq!(s.registrable_roles, std::slice::from_ref(&s.default_role));
        assert_eq!(s.mail.default_locale, crate::mail::Locale::En);
    }

    #[test]
    fn revocations_outlast_the_longest_profile() {
        let now = DateTime::from_timestamp(1_000_000, 0).unwrap_or_default();
        let mut s = AuthSettings::default();
        assert_eq!(s.revocation_horizon(now), now + s.access_ttl + s.leeway);
        s.token_profiles.push(TokenProfile {
            name: "long".into(),
            access_ttl: Duration::days(1),
        });
        assert_eq!(s.token_profile("long"), Some(Duration::days(1)));
        assert_eq!(s.token_profile("other"), None);
        assert_eq!(
            s.revocation_horizon(now),
            now + Duration::days(1) + s.leeway
        );
    }
}
