//! The authentication use cases, written once against the ports.

use chrono::{DateTime, Duration, Utc};

use crate::audit::{AuditEvent, AuditKind};
use crate::clock::{Clock, IdSource};
use crate::error::{AuthError, TokenProblem};
use crate::mail::{Locale, MailKind, MailSettings, compose};
use crate::newtypes::{
    Email, Login, Password, PasswordAttempt, PasswordPolicy, Phone, PhoneRegion, RoleName,
    Username, UsernamePolicy,
};
use crate::permissions::{DEFAULT_REGISTRABLE_ROLES, DEFAULT_ROLE, RoleCatalogue};
use crate::ports::{
    AccessTokenSigner, Adapters, AuditLog as _, CodeStore as _, PasswordHasher, Ports,
    RateLimiter as _, RefreshTokenCodec, SessionStore, TokenDenylist, UserRepository,
};
use crate::session::{ClientInfo, Session, SessionId};
use crate::token::{
    AccessClaims, GrantClaims, IssuedAccess, RevocationKey, TokenIdentity, TokenPair, TokenSubject,
};
use crate::user::{NewUser, User, UserId};
use crate::validation::{FieldIssue, ValidationErrors};

mod admin;
pub mod session_limit;
mod signup;
mod verification;

pub use admin::{Actor, MAX_PAGE_SIZE};
pub use session_limit::{DEFAULT_MAX_SESSIONS_PER_USER, SessionPage};
pub use signup::{SignUp, SignedUp};
pub use verification::{LinkPreview, VerifyLinkOutcome};

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

/// Registration input as it arrived, before any checks.
#[derive(Debug, Clone, Default)]
pub struct RegistrationForm {
    /// `username`
    pub username: Option<String>,
    /// `email`
    pub email: Option<String>,
    /// `password`
    pub password: Option<String>,
    /// `phone`
    pub phone: Option<String>,
    /// `role`
    pub role: Option<String>,
}

/// Registration input once every field has been checked.
#[derive(Debug, Clone)]
pub struct Registration {
    /// Username.
    pub username: Username,
    /// Email.
    pub email: Email,
    /// Password.
    pub password: Password,
    /// Phone.
    pub phone: Option<Phone>,
    /// Role.
    pub role: RoleName,
}

/// What an authenticated request carries once its access token has been accepted.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The verified claims.
    pub claims: AccessClaims,
    /// Where the request came from (for the audit trail).
    pub client: ClientInfo,
}

impl Authenticated {
    /// The user.
    #[must_use]
    pub fn user_id(&self) -> UserId {
        self.claims.user_id
    }

    /// The session.
    #[must_use]
    pub fn session_id(&self) -> SessionId {
        self.claims.session_id
    }
}

/// A successful login.
#[derive(Debug, Clone)]
pub struct LoginOutcome {
    /// Who logged in.
    pub user: User,
    /// The new session.
    pub session: Session,
    /// Its tokens.
    pub tokens: TokenPair,
}

/// What a login asks for besides the credentials: the shape of its tokens
/// and whether only administrators may have them (issue 13, items 11, 12).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoginTerms {
    /// Access-token lifetime; `None` for [`AuthSettings::access_ttl`]
    /// (dialects whose clients cannot refresh ask for longer).
    pub access_ttl: Option<Duration>,
    /// How the tokens name the account in `sub` (seed 001's routes read the
    /// address, seed 003's the id).
    pub identity: TokenIdentity,
    /// An administrator login (seed 001's `/Admin/Login`): only an account
    /// holding one of [`AuthSettings::admin_login_roles`] succeeds. Any
    /// other account is refused as a wrong password is (same error, same
    /// work, counted by the login throttle) before a session is opened. The
    /// tokens say so in [`GrantClaims::admin_mode`] (written with the
    /// [`TokenIdentity::Email`] identity).
    pub admin_mode: bool,
}

/// How the access tokens of a session present their account.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Presentation {
    subject: TokenSubject,
    grants: Option<GrantClaims>,
}

impl Presentation {
    /// `sub` = the account id, no seed claims: every token issued outside a
    /// login (refreshes) and every login of `/api/auth` and `/api/v1/auth`.
    const fn account_id() -> Self {
        Self {
            subject: TokenSubject::AccountId,
            grants: None,
        }
    }
}

/// The authentication use cases over the adapters of `P`.
pub struct AuthService<P: Ports> {
    ports: Adapters<P>,
    settings: AuthSettings,
    /// The role catalogue and when it was read (re-read after [`CATALOGUE_TTL_SECS`]).
    catalogue: std::sync::RwLock<Option<(DateTime<Utc>, std::sync::Arc<RoleCatalogue>)>>,
}

/// How long the role catalogue read from the store is reused.
pub const CATALOGUE_TTL_SECS: i64 = 30;

impl<P: Ports> std::fmt::Debug for AuthService<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Adapters may hold keys and connections: show only the settings.
        f.debug_struct("AuthService")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

fn required(field: Option<&str>) -> Result<&str, FieldIssue> {
    match field {
        Some(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(FieldIssue::Required),
    }
}

impl<P: Ports> AuthService<P> {
    /// A service over `ports` with `settings`.
    #[must_use]
    pub fn new(ports: Adapters<P>, settings: AuthSettings) -> Self {
        Self {
            ports,
            settings,
            catalogue: std::sync::RwLock::new(None),
        }
    }

    /// The settings.
    #[must_use]
    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }

    /// The adapters, for callers that need one directly (health checks, tests).
    #[must_use]
    pub fn ports(&self) -> &Adapters<P> {
        &self.ports
    }

    fn now(&self) -> DateTime<Utc> {
        self.ports.clock.now()
    }

    /// Checks every field of a registration at once.
    ///
    /// # Errors
    /// [`ValidationErrors`] naming every refused field.
    pub fn parse_registration(
        &self,
        form: &RegistrationForm,
    ) -> Result<Registration, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let username = errors.check(
            "username",
            required(form.username.as_deref())
                .and_then(|u| Username::parse(u, &self.settings.username_policy)),
        );
        let email = errors.check(
            "email",
            required(form.email.as_deref()).and_then(Email::parse),
        );
        let password = errors.check(
            "password",
            required(form.password.as_deref())
                .and_then(|p| Password::parse(p, &self.settings.password_policy)),
        );
        let phone = match form.phone.as_deref().map(str::trim) {
            None | Some("") => Some(None),
            Some(p) => errors.check(
                "phone",
                Phone::parse(p, self.settings.phone_region).map(Some),
            ),
        };
        let role = match form.role.as_deref().map(str::trim) {
            None | Some("") => Some(self.settings.default_role.clone()),
            Some(r) => errors.check(
                "role",
                RoleName::parse(r)
                    .ok()
                    .filter(|r| self.settings.registrable_roles.contains(r))
                    .ok_or_else(|| FieldIssue::RoleNotAllowed {
                        allowed: self
                            .settings
                            .registrable_roles
                            .iter()
                            .map(|r| r.as_str().to_owned())
                            .collect(),
                    }),
            ),
        };
        // Screened with the username and address as parsed, or as sent when
        // they were refused, so one answer names every problem.
        if let Some(p) = &password {
            let name = username.as_ref().map_or_else(
                || form.username.as_deref().unwrap_or_default(),
                Username::as_str,
            );
            let address = email
                .as_ref()
                .map_or_else(|| form.email.as_deref().unwrap_or_default(), Email::as_str);
            if let Err(issue) = p.screen(&self.settings.password_policy, name, address) {
                errors.add("password", issue);
            }
        }
        match (username, email, password, phone, role) {
            (Some(username), Some(email), Some(password), Some(phone), Some(role))
                if errors.is_empty() =>
            {
                Ok(Registration {
                    username,
                    email,
                    password,
                    phone,
                    role,
                })
            }
            _ => Err(errors),
        }
    }

    /// Creates an account.
    ///
    /// # Errors
    /// [`AuthError::Validation`], [`AuthError::Conflict`], [`AuthError::Busy`],
    /// [`AuthError::Unavailable`].
    pub async fn register(
        &self,
        form: &RegistrationForm,
        locale: Locale,
    ) -> Result<User, AuthError> {
        self.register_with(form, locale, LinkStyle::Modern).await
    }

    /// [`Self::register`], with the verification link in `style`.
    ///
    /// # Errors
    /// As [`Self::register`].
    pub async fn register_with(
        &self,
        form: &RegistrationForm,
        locale: Locale,
        style: LinkStyle,
    ) -> Result<User, AuthError> {
        let reg = self.parse_registration(form)?;
        // Checked before codes are issued, so that a registration with a taken
        // address never replaces that account's pending code (the unique
        // constraint still decides races). A pending registration of the
        // address is replaced: the owner can always claim their address
        // (issue 12, item 3).
        let now = self.now();
        let pending = self.pending_registration_of(&reg.email).await?;
        let hash = self
            .ports
            .hasher
            .hash(&PasswordAttempt::from(reg.password))
            .await?;
        if let Some(existing) = pending {
            self.remove_pending_account(&existing, "replaced", &ClientInfo::default())
                .await?;
        }
        let public_id = self.ports.ids.new_uuid();
        let issued = self.issue_verification(
            reg.username.as_str(),
            &public_id,
            &reg.email,
            locale,
            now,
            style,
        );
        self.store_codes(&issued).await?;
        let user = NewUser {
            public_id,
            username: reg.username,
            email: reg.email,
            phone: reg.phone,
            password_hash: hash,
            role: reg.role,
            email_verified: false,
            created_at: now,
        };
        // The verification mail is queued in the same transaction as the user.
        Ok(self.ports.users.create(user, Some(&issued.mail)).await?)
    }

    /// The account registered with `email` when a new registration may
    /// replace it (a pending registration, [`Self::is_pending`]), or `None`
    /// when the address is free.
    ///
    /// # Errors
    /// [`AuthError::Conflict`] when an account that is not pending holds the
    /// address; [`AuthError::Unavailable`].
    async fn pending_registration_of(&self, email: &Email) -> Result<Option<User>, AuthError> {
        match self
            .ports
            .users
            .find_by_login(&Login::Email(email.clone()))
            .await?
        {
            Some(existing) if self.is_pending(&existing, self.now()) => Ok(Some(existing)),
            Some(_) => Err(AuthError::Conflict(crate::user::UniqueField::Email)),
            None => Ok(None),
        }
    }

    /// Logs in with a username, email or phone and a password, opening a new session.
    ///
    /// Unknown users and wrong passwords give the same error after the same
    /// work (a verification against a dummy hash).
    ///
    /// # Errors
    /// [`AuthError::Validation`] when a field is missing, [`AuthError::InvalidCredentials`],
    /// [`AuthError::AccountDisabled`], [`AuthError::Busy`], [`AuthError::Unavailable`].
    pub async fn login(
        &self,
        identifier: &str,
        password: &str,
        client: ClientInfo,
    ) -> Result<LoginOutcome, AuthError> {
        let mut errors = ValidationErrors::new();
        let identifier = errors.check("username", required(Some(identifier)));
        let attempt = errors.check("password", PasswordAttempt::parse(password));
        let (Some(identifier), Some(attempt)) = (identifier, attempt) else {
            return Err(errors.into());
        };
        self.login_with(identifier, &[attempt], client, LoginTerms::default())
            .await
    }

    /// Logs in with the first of `attempts` that matches (seed 001 sends a
    /// password or its SM3 digest; both are tried). Unknown users cost the
    /// same verifications against the dummy hash. `terms` shape the tokens
    /// (lifetime, identity) and may ask for an administrator login.
    ///
    /// # Errors
    /// As [`Self::login`]; an administrator login by an account without an
    /// administrator role is [`AuthError::InvalidCredentials`].
    pub async fn login_with(
        &self,
        identifier: &str,
        attempts: &[PasswordAttempt],
        client: ClientInfo,
        terms: LoginTerms,
    ) -> Result<LoginOutcome, AuthError> {
        let throttle = self.throttle_keys(identifier, client.ip.as_deref());
        if let Err(e) = self.check_throttle(&throttle).await {
            self.audit(self.event(AuditKind::LoginThrottled, &client))
                .await;
            return Err(e);
        }
        // An identifier that cannot name any account (for example "ab") is
        // answered exactly like an unknown one.
        let user = match Login::parse(identifier, self.settings.phone_region) {
            Ok(login) => self.ports.users.find_by_login(&login).await?,
            Err(_) => None,
        };
        let Some(user) = user else {
            for attempt in attempts {
                let _ = self
                    .ports
                    .hasher
                    .verify(attempt, self.ports.hasher.dummy_hash())
                    .await?;
            }
            self.record_login_failure(&throttle).await?;
            self.audit(AuditEvent {
                detail: Some("unknown_account".into()),
                ..self.event(AuditKind::LoginFailed, &client)
            })
            .await;
            return Err(AuthError::InvalidCredentials);
        };
        let failed = |reason: &str| AuditEvent {
            subject: Some(user.id),
            identifier: Some(identifier.trim().chars().take(100).collect()),
            detail: Some(reason.to_owned()),
            ..self.event(AuditKind::LoginFailed, &client)
        };
        let Some(attempt) = self.matching_attempt(&user.password_hash, attempts).await? else {
            self.record_login_failure(&throttle).await?;
            self.audit(failed("wrong_password")).await;
            return Err(AuthError::InvalidCredentials);
        };
        // Issue 13, item 11: an account without an administrator role gets
        // the wrong-password answer, counted as a failure, and no session.
        if terms.admin_mode && !self.is_administrator(&user) {
            self.record_login_failure(&throttle).await?;
            self.audit(failed("not_an_administrator")).await;
            return Err(AuthError::InvalidCredentials);
        }
        self.clear_login_failures(&throttle).await?;
        let mut rehashed = None;
        if self.ports.hasher.needs_rehash(&user.password_hash) {
            // Imported (legacy) or outdated hashes become current argon2id at
            // the first successful login. Best effort: if it fails now, the
            // next login tries again; the login itself succeeds either way.
            if let Ok(hash) = self.ports.hasher.hash(attempt).await
                && self
                    .ports
                    .users
                    .update_password(user.id, &hash, self.now(), None)
                    .await
                    .is_ok()
            {
                rehashed = Some(hash);
            }
        }
        if !user.is_active {
            self.audit(failed("account_disabled")).await;
            return Err(AuthError::AccountDisabled);
        }
        if self.settings.require_verified_email && !user.email_verified {
            self.audit(failed("email_not_verified")).await;
            return Err(AuthError::EmailNotVerified);
        }
        let succeeded = AuditEvent {
            actor: Some(user.id),
            subject: Some(user.id),
            identifier: Some(identifier.trim().chars().take(100).collect()),
            ..self.event(AuditKind::LoginSucceeded, &client)
        };
        let superseded = failed("credentials_changed_during_login");
        let (session, tokens) = self.open_session_for(&user, client, terms).await?;
        // A password change, reset or claim, or a disabling, that ran while
        // this login was verifying the old password ended every session it
        // found, but this one may have been opened just after. The account
        // is read again: when its password or status moved on, the new
        // session ends too and the answer is the wrong-password one.
        if !self.credentials_unchanged(&user, rehashed.as_ref()).await? {
            self.revoke_sessions(&[session.id], self.now()).await?;
            self.audit(superseded).await;
            return Err(AuthError::InvalidCredentials);
        }
        self.audit(AuditEvent {
            detail: Some(format!("session {}", session.id.0)),
            ..succeeded
        })
        .await;
        Ok(LoginOutcome {
            user,
            session,
            tokens,
        })
    }

    /// The first of `attempts` that `hash` verifies (on the hasher's
    /// threads, never on the executor), if any.
    ///
    /// # Errors
    /// [`AuthError::Busy`] when the hasher is saturated, [`AuthError::Internal`].
    pub(crate) async fn matching_attempt<'a>(
        &self,
        hash: &crate::user::PasswordHash,
        attempts: &'a [PasswordAttempt],
    ) -> Result<Option<&'a PasswordAttempt>, AuthError> {
        for attempt in attempts {
            if self.ports.hasher.verify(attempt, hash).await? {
                return Ok(Some(attempt));
            }
        }
        Ok(None)
    }

    /// Whether `user`, as a login loaded it, still holds the same password
    /// (or the `rehashed` form this login stored) and is still active.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`].
    async fn credentials_unchanged(
        &self,
        user: &User,
        rehashed: Option<&crate::user::PasswordHash>,
    ) -> Result<bool, AuthError> {
        Ok(self
            .ports
            .users
            .find_by_id(user.id)
            .await?
            .is_some_and(|now| {
                now.is_active
                    && (now.password_hash == user.password_hash
                        || Some(&now.password_hash) == rehashed)
            }))
    }

    /// Records an audit event; a failing audit store does not fail the use
    /// case (the adapter logs the event first).
    pub(crate) async fn audit(&self, event: AuditEvent) {
        let _ = self.ports.audit.record(&event).await;
    }

    pub(crate) fn event(&self, kind: AuditKind, client: &ClientInfo) -> AuditEvent {
        AuditEvent {
            at: self.now(),
            kind,
            actor: None,
            subject: None,
            identifier: None,
            client: client.clone(),
            detail: None,
        }
    }

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

    async fn check_throttle(&self, keys: &[(String, u32)]) -> Result<(), AuthError> {
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

    async fn record_login_failure(&self, keys: &[(String, u32)]) -> Result<(), AuthError> {
        let t = self.settings.login_throttle;
        for (key, free) in keys {
            let d = self
                .ports
                .limiter
                .hit(&format!("bf-fail:{key}"), *free, t.window_secs)
                .await?;
            if !d.allowed {
                let step = d.count.saturating_sub(free.saturating_add(1)).min(30);
                let delay = (1_u64 << step).min(t.max_delay_secs.max(1));
                self.ports
                    .limiter
                    .hit(&format!("bf-block:{key}"), 0, delay)
                    .await?;
            }
        }
        Ok(())
    }

    async fn clear_login_failures(&self, keys: &[(String, u32)]) -> Result<(), AuthError> {
        if let Some((key, _)) = keys.first() {
            self.ports.limiter.clear(&format!("bf-fail:{key}")).await?;
        }
        Ok(())
    }

    /// Opens a session for a user whose credentials were already checked (logins
    /// through other dialects use this).
    ///
    /// # Errors
    /// [`AuthError::Unavailable`] or [`AuthError::Internal`].
    pub async fn open_session(
        &self,
        user: &User,
        client: ClientInfo,
    ) -> Result<(Session, TokenPair), AuthError> {
        self.open_session_for(user, client, LoginTerms::default())
            .await
    }

    /// [`Self::open_session`] with tokens shaped by `terms` (lifetime,
    /// identity, administrator mode). The tokens claim administrator mode
    /// only for an account holding one of
    /// [`AuthSettings::admin_login_roles`]; refusing the others is the
    /// caller's ([`Self::login_with`] does).
    ///
    /// # Errors
    /// [`AuthError::Unavailable`] or [`AuthError::Internal`].
    pub async fn open_session_for(
        &self,
        user: &User,
        client: ClientInfo,
        terms: LoginTerms,
    ) -> Result<(Session, TokenPair), AuthError> {
        let presentation = self.presentation(user, terms).await?;
        let now = self.now();
        let id = SessionId(self.ports.ids.new_uuid());
        let refresh = self.ports.codec.issue(id, 0);
        let session = Session {
            id,
            user_id: user.id,
            generation: 0,
            refresh_fingerprint: self.ports.codec.fingerprint(&refresh),
            created_at: now,
            last_used_at: now,
            rotated_at: None,
            expires_at: now + self.settings.refresh_ttl,
            revoked_at: None,
            client,
        };
        self.ports.sessions.create(&session).await?;
        self.evict_over_limit(&session).await?;
        let ttl = terms.access_ttl.unwrap_or(self.settings.access_ttl);
        let access = self.issue_access(user, &session, now, ttl, &presentation)?;
        Ok((session, TokenPair { access, refresh }))
    }

    /// True when `user` holds one of [`AuthSettings::admin_login_roles`].
    fn is_administrator(&self, user: &User) -> bool {
        self.settings
            .admin_login_roles
            .iter()
            .any(|r| user.has_role(r.as_str()))
    }

    /// How the tokens of a login present `user` (issue 13, item 12): the
    /// address and seed 001's claims for the [`TokenIdentity::Email`]
    /// identity, the id alone otherwise. The address is presented only once
    /// it is verified: the seed's Flask routes trust `sub` without asking
    /// Tessera, and an address nobody proved must not become an identity
    /// there that outlives the owner's claim (issue 12's pre-hijacking rule;
    /// until then `sub` is the account id).
    async fn presentation(
        &self,
        user: &User,
        terms: LoginTerms,
    ) -> Result<Presentation, AuthError> {
        Ok(match terms.identity {
            TokenIdentity::AccountId => Presentation::account_id(),
            TokenIdentity::Email => Presentation {
                subject: if user.email_verified {
                    TokenSubject::Email(user.email.clone())
                } else {
                    TokenSubject::AccountId
                },
                grants: Some(GrantClaims {
                    permissions: self.permissions_of(user).await?,
                    super_admin: user.is_super_admin(),
                    admin_mode: terms.admin_mode && self.is_administrator(user),
                }),
            },
        })
    }

    fn issue_access(
        &self,
        user: &User,
        session: &Session,
        now: DateTime<Utc>,
        ttl: Duration,
        presentation: &Presentation,
    ) -> Result<IssuedAccess, AuthError> {
        // JWT times are whole seconds: start from a whole second so that the
        // signed `exp` and the `expires_in` told to the client agree.
        let now = DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now);
        let session_end = DateTime::from_timestamp(session.expires_at.timestamp(), 0)
            .unwrap_or(session.expires_at);
        let expires_at = (now + ttl).min(session_end);
        let claims = AccessClaims {
            user_id: user.id,
            subject: presentation.subject.clone(),
            session_id: session.id,
            token_id: self.ports.ids.new_uuid(),
            role: user.role.clone(),
            grants: presentation.grants.clone(),
            issued_at: now,
            not_before: now,
            expires_at,
        };
        let token = crate::token::AccessToken::new(self.ports.signer.sign(&claims)?);
        Ok(IssuedAccess {
            token,
            expires_in: (expires_at - now).num_seconds().max(0),
            claims,
        })
    }

    /// Accepts or refuses an access token: signature, type, issuer, audience,
    /// times (with leeway) and the denylist. Fails closed when the denylist
    /// cannot be read.
    ///
    /// # Errors
    /// [`AuthError::Token`] with the reason, or [`AuthError::Unavailable`].
    pub async fn authenticate(&self, bearer: Option<&str>) -> Result<Authenticated, AuthError> {
        self.authenticate_from(bearer, ClientInfo::default()).await
    }

    /// [`Self::authenticate`], remembering where the request came from.
    ///
    /// # Errors
    /// As [`Self::authenticate`].
    pub async fn authenticate_from(
        &self,
        bearer: Option<&str>,
        client: ClientInfo,
    ) -> Result<Authenticated, AuthError> {
        let (claims, now) = self.check_access_token(bearer)?;
        let keys = [
            RevocationKey::Session(claims.session_id),
            RevocationKey::Token(claims.token_id),
        ];
        if self.ports.denylist.any_denied(&keys, now).await? {
            return Err(AuthError::Token(TokenProblem::Revoked));
        }
        Ok(Authenticated { claims, client })
    }

    /// The claims of a well-signed access token that is within its times
    /// (with leeway), and the time of the check; revocation is not checked.
    fn check_access_token(
        &self,
        bearer: Option<&str>,
    ) -> Result<(AccessClaims, DateTime<Utc>), AuthError> {
        let token = bearer
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::Token(TokenProblem::Missing))?;
        let claims = self.ports.signer.verify(token).map_err(|problem| {
            // A refresh token of ours is no JWT; say what it is (issue 13, item 8).
            if self.ports.codec.parse(token).is_some() {
                AuthError::Token(TokenProblem::RefreshTokenPresented)
            } else {
                AuthError::Token(problem)
            }
        })?;
        let now = self.now();
        if now >= claims.expires_at + self.settings.leeway {
            return Err(AuthError::Token(TokenProblem::Expired));
        }
        if now + self.settings.leeway < claims.not_before {
            return Err(AuthError::Token(TokenProblem::NotYetValid));
        }
        Ok((claims, now))
    }

    /// [`Self::authenticate_from`] and [`Self::current_user`] at once: after
    /// the signature and times check out, the denylist lookup and the user
    /// lookup run concurrently (one round trip instead of two when both live
    /// in one Redis), and the user is only returned when the token is not
    /// revoked.
    ///
    /// # Errors
    /// As [`Self::authenticate_from`], then as [`Self::current_user`].
    pub async fn authenticate_user_from(
        &self,
        bearer: Option<&str>,
        client: ClientInfo,
    ) -> Result<(Authenticated, User), AuthError> {
        let (claims, now) = self.check_access_token(bearer)?;
        let keys = [
            RevocationKey::Session(claims.session_id),
            RevocationKey::Token(claims.token_id),
        ];
        let (denied, user) = crate::join::join2(
            self.ports.denylist.any_denied(&keys, now),
            self.ports.users.find_by_id(claims.user_id),
        )
        .await;
        if denied? {
            return Err(AuthError::Token(TokenProblem::Revoked));
        }
        let user = user?.ok_or(AuthError::UserNotFound)?;
        if !user.is_active {
            return Err(AuthError::AccountDisabled);
        }
        Ok((Authenticated { claims, client }, user))
    }

    /// The active user behind an accepted token.
    ///
    /// # Errors
    /// [`AuthError::UserNotFound`], [`AuthError::AccountDisabled`], [`AuthError::Unavailable`].
    pub async fn current_user(&self, auth: &Authenticated) -> Result<User, AuthError> {
        let user = self
            .ports
            .users
            .find_by_id(auth.user_id())
            .await?
            .ok_or(AuthError::UserNotFound)?;
        if user.is_active {
            Ok(user)
        } else {
            Err(AuthError::AccountDisabled)
        }
    }

    /// Exchanges a refresh token for a new pair, rotating it.
    ///
    /// Within the reuse interval after a rotation, the rotated-out token answers
    /// with the current pair (clients that raced or lost a response). Later, or
    /// with any older token, the whole session is revoked.
    ///
    /// # Errors
    /// [`AuthError::Token`] (invalid, expired, revoked), [`AuthError::RefreshReused`],
    /// [`AuthError::AccountDisabled`], [`AuthError::Unavailable`].
    pub async fn refresh(&self, refresh_token: &str) -> Result<(User, TokenPair), AuthError> {
        self.refresh_from(refresh_token, ClientInfo::default())
            .await
    }

    /// [`Self::refresh`], remembering where the request came from.
    ///
    /// # Errors
    /// As [`Self::refresh`].
    pub async fn refresh_from(
        &self,
        refresh_token: &str,
        client: ClientInfo,
    ) -> Result<(User, TokenPair), AuthError> {
        let invalid = AuthError::Token(TokenProblem::Invalid);
        let parts = self
            .ports
            .codec
            .parse(refresh_token)
            .ok_or(AuthError::Token(TokenProblem::Invalid))?;
        let mut session = self
            .ports
            .sessions
            .get(parts.session_id)
            .await?
            .ok_or(invalid)?;
        let now = self.now();
        self.check_live(&session, now)?;
        let user = self.session_user(&session).await?;

        if parts.generation == session.generation {
            let presented = self
                .ports
                .codec
                .fingerprint(&crate::token::RefreshToken::new(refresh_token.to_owned()));
            if presented != session.refresh_fingerprint {
                return Err(AuthError::Token(TokenProblem::Invalid));
            }
            let next = self.ports.codec.issue(session.id, session.generation + 1);
            let fingerprint = self.ports.codec.fingerprint(&next);
            if self
                .ports
                .sessions
                .rotate(session.id, session.generation, &fingerprint, now)
                .await?
            {
                let access = self.issue_access(
                    &user,
                    &session,
                    now,
                    self.settings.access_ttl,
                    &Presentation::account_id(),
                )?;
                return Ok((
                    user,
                    TokenPair {
                        access,
                        refresh: next,
                    },
                ));
            }
            // Someone else rotated it a moment ago: read where it is now.
            session = self
                .ports
                .sessions
                .get(session.id)
                .await?
                .ok_or(AuthError::Token(TokenProblem::Invalid))?;
            self.check_live(&session, now)?;
        }

        let within_grace = parts.generation + 1 == session.generation
            && session
                .rotated_at
                .is_some_and(|t| now - t <= self.settings.reuse_interval);
        if within_grace {
            let access = self.issue_access(
                &user,
                &session,
                now,
                self.settings.access_ttl,
                &Presentation::account_id(),
            )?;
            let refresh = self.ports.codec.issue(session.id, session.generation);
            return Ok((user, TokenPair { access, refresh }));
        }
        if parts.generation < session.generation {
            self.revoke_sessions(&[session.id], now).await?;
            self.audit(AuditEvent {
                subject: Some(session.user_id),
                detail: Some(format!("session {}", session.id.0)),
                ..self.event(AuditKind::RefreshReused, &client)
            })
            .await;
            return Err(AuthError::RefreshReused);
        }
        Err(AuthError::Token(TokenProblem::Invalid))
    }

    /// Issues a new access token for the session of a still-valid access token
    /// (seed 004's refresh), never beyond the session's absolute lifetime.
    ///
    /// # Errors
    /// [`AuthError::Token`] when the session is gone, [`AuthError::AccountDisabled`],
    /// [`AuthError::Unavailable`].
    pub async fn refresh_access(
        &self,
        auth: &Authenticated,
    ) -> Result<(User, IssuedAccess), AuthError> {
        let session = self
            .ports
            .sessions
            .get(auth.session_id())
            .await?
            .ok_or(AuthError::Token(TokenProblem::Revoked))?;
        let now = self.now();
        self.check_live(&session, now)?;
        let user = self.session_user(&session).await?;
        // A refresh, even without rotation, keeps the session from going idle.
        self.ports.sessions.touch(session.id, now).await?;
        let access = self.issue_access(
            &user,
            &session,
            now,
            self.settings.access_ttl,
            &Presentation::account_id(),
        )?;
        Ok((user, access))
    }

    fn check_live(&self, session: &Session, now: DateTime<Utc>) -> Result<(), AuthError> {
        if session.revoked_at.is_some() {
            Err(AuthError::Token(TokenProblem::Revoked))
        } else if now >= session.expires_at || now - session.last_used_at >= self.settings.idle_ttl
        {
            Err(AuthError::Token(TokenProblem::Expired))
        } else {
            Ok(())
        }
    }

    async fn session_user(&self, session: &Session) -> Result<User, AuthError> {
        let user = self
            .ports
            .users
            .find_by_id(session.user_id)
            .await?
            .ok_or(AuthError::Token(TokenProblem::Revoked))?;
        if user.is_active {
            Ok(user)
        } else {
            Err(AuthError::AccountDisabled)
        }
    }

    /// Denies the access tokens of `ids` and marks them revoked. Safe to retry:
    /// both steps are idempotent, and the denial comes first so that a failure
    /// between them never leaves a revoked session with live access tokens.
    async fn revoke_sessions(
        &self,
        ids: &[SessionId],
        now: DateTime<Utc>,
    ) -> Result<(), AuthError> {
        let until = now + self.settings.longest_access_ttl() + self.settings.leeway;
        for id in ids {
            self.ports
                .denylist
                .deny(RevocationKey::Session(*id), until)
                .await?;
            self.ports.sessions.revoke(*id, now).await?;
        }
        Ok(())
    }

    /// Ends the session of the token: its access and refresh tokens stop working.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`].
    pub async fn logout(&self, auth: &Authenticated) -> Result<(), AuthError> {
        self.revoke_sessions(&[auth.session_id()], self.now())
            .await?;
        self.audit(self.by_self(AuditKind::Logout, auth, None))
            .await;
        Ok(())
    }

    /// An event the authenticated user caused on their own account.
    pub(crate) fn by_self(
        &self,
        kind: AuditKind,
        auth: &Authenticated,
        detail: Option<String>,
    ) -> AuditEvent {
        AuditEvent {
            actor: Some(auth.user_id()),
            subject: Some(auth.user_id()),
            detail,
            ..self.event(kind, &auth.client)
        }
    }

    /// The caller's live sessions, oldest first.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`].
    pub async fn list_sessions(&self, auth: &Authenticated) -> Result<Vec<Session>, AuthError> {
        let now = self.now();
        let mut live = self
            .ports
            .sessions
            .list_for_user(auth.user_id(), now)
            .await?;
        live.retain(|s| now - s.last_used_at < self.settings.idle_ttl);
        Ok(live)
    }

    /// Ends one of the caller's own sessions (its tokens are refused at once).
    ///
    /// # Errors
    /// [`AuthError::SessionNotFound`] when the caller has no such live session,
    /// [`AuthError::Unavailable`].
    pub async fn revoke_own_session(
        &self,
        auth: &Authenticated,
        id: SessionId,
    ) -> Result<(), AuthError> {
        let now = self.now();
        match self.ports.sessions.get(id).await? {
            Some(s) if s.user_id == auth.user_id() && s.is_live(now) => {
                self.revoke_sessions(&[id], now).await?;
                let detail = Some(format!("session {}", id.0));
                self.audit(self.by_self(AuditKind::SessionEnded, auth, detail))
                    .await;
                Ok(())
            }
            _ => Err(AuthError::SessionNotFound),
        }
    }

    /// Ends every session of the caller, this one included; returns how many.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`].
    pub async fn logout_all(&self, auth: &Authenticated) -> Result<usize, AuthError> {
        let n = self.revoke_user_sessions(auth.user_id(), None).await?;
        let detail = Some(format!("{n} sessions"));
        self.audit(self.by_self(AuditKind::LogoutAll, auth, detail))
            .await;
        Ok(n)
    }

    /// Revokes every session of `user` except `keep`; returns how many were revoked.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`].
    pub async fn revoke_user_sessions(
        &self,
        user: UserId,
        keep: Option<SessionId>,
    ) -> Result<usize, AuthError> {
        let now = self.now();
        // Deny first (from the store's list of live sessions), then mark them:
        // a retry after a failure finds the same sessions again.
        let ids = self
            .ports
            .sessions
            .revoke_all_for_user(user, keep, now)
            .await?;
        let until = now + self.settings.longest_access_ttl() + self.settings.leeway;
        for id in &ids {
            self.ports
                .denylist
                .deny(RevocationKey::Session(*id), until)
                .await?;
        }
        Ok(ids.len())
    }

    /// Changes the password of the token's user. The asking session stays
    /// valid; every other session of the user is revoked.
    ///
    /// # Errors
    /// [`AuthError::Validation`], [`AuthError::WrongPassword`], [`AuthError::SamePassword`],
    /// [`AuthError::Busy`], [`AuthError::Unavailable`].
    pub async fn change_password(
        &self,
        auth: &Authenticated,
        old_password: Option<&str>,
        new_password: Option<&str>,
        locale: Locale,
    ) -> Result<(), AuthError> {
        let mut errors = ValidationErrors::new();
        let old = errors.check(
            "old_password",
            required(old_password).and_then(PasswordAttempt::parse),
        );
        let new = errors.check(
            "new_password",
            required(new_password).and_then(|p| Password::parse(p, &self.settings.password_policy)),
        );
        let (Some(old), Some(new)) = (old, new) else {
            return Err(errors.into());
        };
        let user = self.current_user(auth).await?;
        if !self.ports.hasher.verify(&old, &user.password_hash).await? {
            return Err(AuthError::WrongPassword);
        }
        if old.expose() == new.expose() {
            return Err(AuthError::SamePassword);
        }
        new.screen(
            &self.settings.password_policy,
            user.username.as_str(),
            user.email.as_str(),
        )
        .map_err(|issue| ValidationErrors::single("new_password", issue))?;
        let hash = self.ports.hasher.hash(&PasswordAttempt::from(new)).await?;
        // Revoke the other sessions first: if the update then fails, the
        // password is unchanged and a retry with the old password works.
        // Once more after the update: a login that verified the old
        // password while this ran opened its session either before this
        // second sweep or after the new hash was stored, which it then sees
        // (`credentials_unchanged`).
        self.revoke_user_sessions(user.id, Some(auth.session_id()))
            .await?;
        self.store_password(&user, &hash, locale).await?;
        self.revoke_user_sessions(user.id, Some(auth.session_id()))
            .await?;
        self.audit(self.by_self(AuditKind::PasswordChanged, auth, None))
            .await;
        Ok(())
    }

    /// Stores a new password hash with its notice mail, in one transaction.
    async fn store_password(
        &self,
        user: &User,
        hash: &crate::user::PasswordHash,
        locale: Locale,
    ) -> Result<(), AuthError> {
        let now = self.now();
        let kind = MailKind::PasswordChanged {
            username: user.username.as_str().to_owned(),
            at: now,
        };
        let notice = compose(&kind, &user.email, locale, &self.settings.mail);
        self.ports
            .users
            .update_password(user.id, hash, now, Some(&notice))
            .await?;
        // Every outstanding reset code of the account, on every channel, is
        // void now (OWASP Forgot Password cheat sheet; issue 12, item 2): each
        // was bound to the old hash (see `password_stamp`), and is removed too.
        let mut contacts = vec![user.email.as_str()];
        contacts.extend(user.phone.as_ref().map(crate::newtypes::Phone::as_str));
        for contact in contacts {
            self.ports
                .codes
                .take(crate::code::CodePurpose::ResetPassword, contact)
                .await?;
        }
        Ok(())
    }

    /// What a password-reset code is bound to: a keyed fingerprint of the
    /// account's password hash when the code was issued. A code whose stamp
    /// no longer matches was issued before a password change and is void.
    pub(crate) fn password_stamp(&self, user: &User) -> String {
        self.ports
            .codec
            .keyed_fingerprint(&format!("password:{}", user.password_hash.as_str()))
            .0
    }
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

/// Password reset as seed 003 describes it: a code sent by mail or SMS to the
/// account's own contact, then the code and a new password.
mod reset {
    use super::{AuthService, Locale, MailKind, compose, required};
    use crate::audit::{AuditEvent, AuditKind};
    use crate::code::CodePurpose;
    use crate::error::AuthError;
    use crate::newtypes::{Email, Login, Password, PasswordAttempt, Phone};
    use crate::ports::{
        CodeStore, MailOutbox, PasswordHasher as _, Ports, SmsSender, UserRepository,
    };
    use crate::session::ClientInfo;
    use crate::user::{PasswordHash, User};
    use crate::validation::{FieldIssue, ValidationErrors};

    /// Where the code goes.
    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Contact {
        Email(Email),
        Phone(Phone),
    }

    impl Contact {
        fn kind(&self) -> &'static str {
            match self {
                Self::Email(_) => "email",
                Self::Phone(_) => "phone",
            }
        }

        fn key(&self) -> &str {
            match self {
                Self::Email(e) => e.as_str(),
                Self::Phone(p) => p.as_str(),
            }
        }
    }

    /// A code was issued.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ResetIssued {
        /// Seconds until the code expires (seed 003: 600).
        pub expires_in: i64,
        /// The code itself, only when `expose_debug_codes` is on (development).
        pub debug_code: Option<String>,
    }

    /// The fields of a reset request, as received.
    #[derive(Debug, Clone, Copy, Default)]
    pub struct ResetForm<'a> {
        /// `identifier`: username, email or phone.
        pub identifier: Option<&'a str>,
        /// `channel`: `email` or `phone`.
        pub channel: Option<&'a str>,
        /// `contact`: the account's email or phone.
        pub contact: Option<&'a str>,
        /// Where the request came from (for the audit trail).
        pub client: Option<&'a ClientInfo>,
    }

    impl<P: Ports> AuthService<P> {
        /// Finds the account and checks that `contact` is its own, collecting field errors.
        async fn reset_target(
            &self,
            form: ResetForm<'_>,
            errors: &mut ValidationErrors,
        ) -> Result<Option<(User, Contact)>, AuthError> {
            let identifier =
                errors.check("identifier", required(form.identifier).map(str::to_owned));
            let contact = match form.channel.map(str::trim) {
                Some("email") => errors.check(
                    "contact",
                    required(form.contact)
                        .and_then(Email::parse)
                        .map(Contact::Email),
                ),
                Some("phone") => errors.check(
                    "contact",
                    required(form.contact)
                        .and_then(|p| Phone::parse(p, self.settings.phone_region))
                        .map(Contact::Phone),
                ),
                _ => {
                    errors.add(
                        "channel",
                        FieldIssue::NotOneOf {
                            allowed: vec!["email".into(), "phone".into()],
                        },
                    );
                    None
                }
            };
            let (Some(identifier), Some(contact)) = (identifier, contact) else {
                return Ok(None);
            };
            if !errors.is_empty() {
                return Ok(None);
            }
            let user = match Login::parse(&identifier, self.settings.phone_region) {
                Ok(login) => self.ports.users.find_by_login(&login).await?,
                Err(_) => None,
            }
            .ok_or(AuthError::AccountNotFound)?;
            let matches = match &contact {
                Contact::Email(e) => &user.email == e,
                Contact::Phone(p) => user.phone.as_ref() == Some(p),
            };
            if matches {
                Ok(Some((user, contact)))
            } else {
                Err(AuthError::ContactMismatch)
            }
        }

        /// Sets a new password on the word of someone who proved a contact
        /// of the account with a code: every session ends first (safe to
        /// retry), then the hash is stored with its notice mail, then every
        /// session opened meanwhile ends too.
        async fn replace_password(
            &self,
            user: &User,
            hash: &PasswordHash,
            locale: Locale,
        ) -> Result<(), AuthError> {
            // Sessions first (so a failure leaves nothing half-done and the
            // step can be retried), the hash, then the sessions once more: a
            // login that verified the old password opens its session either
            // before the second sweep (which ends it) or after the new hash
            // is stored (and sees it: `credentials_unchanged`).
            self.revoke_user_sessions(user.id, None).await?;
            self.store_password(user, hash, locale).await?;
            self.revoke_user_sessions(user.id, None).await?;
            Ok(())
        }

        /// The owner's claim of an address (issue 12, item 3): someone who
        /// read a code mailed to `user`'s address sets the password `hash`
        /// they chose. As [`Self::replace_password`]; then the address counts
        /// as verified, and when it was not, the phone number goes too (with
        /// its reset codes): it came from whoever registered, not from the
        /// owner, and a reset by SMS would hand the account back. Used by
        /// the password reset by e-mail and by seed 001's `/Auth/Verify`
        /// (issue 13, item 1).
        ///
        /// # Errors
        /// [`AuthError::Unavailable`].
        pub(in crate::service) async fn claim_by_address(
            &self,
            user: &User,
            hash: &PasswordHash,
            locale: Locale,
        ) -> Result<(), AuthError> {
            self.replace_password(user, hash, locale).await?;
            // The phone goes before the address counts as verified: a
            // failure between the two leaves an unverified account without
            // the registrant's phone (the claim can be made again), never a
            // verified one that the registrant takes back by SMS.
            if !user.email_verified
                && let Some(phone) = &user.phone
            {
                self.ports.users.clear_phone(user.id, self.now()).await?;
                self.ports
                    .codes
                    .take(CodePurpose::ResetPassword, phone.as_str())
                    .await?;
            }
            self.ports
                .users
                .mark_email_verified(user.id, self.now())
                .await?;
            Ok(())
        }

        /// Sends a reset code to the account's email or phone.
        ///
        /// # Errors
        /// [`AuthError::Validation`], [`AuthError::AccountNotFound`] (404 in seed 003),
        /// [`AuthError::ContactMismatch`], [`AuthError::TooManyRequests`], [`AuthError::Unavailable`].
        pub async fn request_reset_code(
            &self,
            form: ResetForm<'_>,
            locale: Locale,
        ) -> Result<ResetIssued, AuthError> {
            let mut errors = ValidationErrors::new();
            let target = self.reset_target(form, &mut errors).await?;
            let Some((user, contact)) = target else {
                return Err(errors.into());
            };
            let cs = self.settings.codes;
            let code = self
                .issue_code(
                    CodePurpose::ResetPassword,
                    contact.key(),
                    "reset",
                    Some(self.password_stamp(&user)),
                )
                .await?;
            let now = self.now();
            let minutes = cs.ttl.num_minutes();
            match &contact {
                Contact::Email(email) => {
                    let kind = MailKind::ResetCode {
                        username: user.username.as_str().to_owned(),
                        code: code.clone(),
                        minutes,
                    };
                    self.ports
                        .outbox
                        .enqueue(&compose(&kind, email, locale, &self.settings.mail), now)
                        .await?;
                }
                Contact::Phone(phone) => {
                    let text = match locale {
                        Locale::ZhCn => format!(
                            "【{}】您的重置密码验证码是 {code}，{minutes} 分钟内有效。",
                            self.settings.mail.product_name
                        ),
                        Locale::En => format!(
                            "[{}] Your password reset code is {code}, valid for {minutes} minutes.",
                            self.settings.mail.product_name
                        ),
                    };
                    self.ports.sms.send(phone, &text).await?;
                }
            }
            Ok(ResetIssued {
                expires_in: cs.ttl.num_seconds(),
                debug_code: self.settings.expose_debug_codes.then_some(code),
            })
        }

        /// Sets a new password with a reset code; every session of the user is revoked.
        ///
        /// # Errors
        /// [`AuthError::Validation`], [`AuthError::AccountNotFound`], [`AuthError::ContactMismatch`],
        /// [`AuthError::CodeExpired`], [`AuthError::CodeWrong`], [`AuthError::CodeExhausted`],
        /// [`AuthError::Busy`], [`AuthError::Unavailable`].
        pub async fn reset_password(
            &self,
            form: ResetForm<'_>,
            code: Option<&str>,
            new_password: Option<&str>,
            locale: Locale,
        ) -> Result<(), AuthError> {
            let policy = &self.settings.password_policy;
            let parse = |p: Option<&str>| {
                required(p)
                    .and_then(|p| Password::parse(p, policy))
                    .map(PasswordAttempt::from)
            };
            self.reset_with(
                form,
                code,
                parse(new_password),
                "code",
                "new_password",
                locale,
            )
            .await
        }

        /// Seed 001's `/Auth/UpdatePassword`: [`Self::reset_password`] by
        /// email, where the new password may be its SM3 digest.
        ///
        /// # Errors
        /// As [`Self::reset_password`].
        pub async fn reset_password_legacy(
            &self,
            email: Option<&str>,
            code: Option<&str>,
            new_password: Option<&str>,
            locale: Locale,
            client: &ClientInfo,
        ) -> Result<(), AuthError> {
            let form = ResetForm {
                identifier: email,
                channel: Some("email"),
                contact: email,
                client: Some(client),
            };
            let password = self.parse_legacy_new_password(new_password);
            self.reset_with(form, code, password, "VerifyCode", "Password", locale)
                .await
        }

        async fn reset_with(
            &self,
            form: ResetForm<'_>,
            code: Option<&str>,
            password: Result<PasswordAttempt, FieldIssue>,
            code_field: &str,
            password_field: &str,
            locale: Locale,
        ) -> Result<(), AuthError> {
            let mut errors = ValidationErrors::new();
            let code = errors.check(code_field, required(code).map(str::to_owned));
            let password = errors.check(password_field, password);
            let target = self.reset_target(form, &mut errors).await?;
            let (Some((user, contact)), Some(code), Some(password)) = (target, code, password)
            else {
                return Err(errors.into());
            };
            // An SM3 digest (seed 001) cannot be screened: only the length
            // of the digest was checked.
            if !password.is_sm3_digest()
                && let Err(issue) = crate::newtypes::screen_password(
                    password.expose(),
                    &self.settings.password_policy,
                    user.username.as_str(),
                    user.email.as_str(),
                )
            {
                return Err(ValidationErrors::single(password_field, issue).into());
            }
            let issued = self
                .check_code(CodePurpose::ResetPassword, contact.key(), &code)
                .await?;
            self.ports
                .codes
                .take(CodePurpose::ResetPassword, contact.key())
                .await?
                .ok_or(AuthError::CodeExpired)?;
            // A code issued before any later password change is void (issue
            // 12, item 2): it was bound to the password hash it may replace.
            if issued.binding.as_deref() != Some(self.password_stamp(&user).as_str()) {
                return Err(AuthError::CodeExpired);
            }
            let hash = self.ports.hasher.hash(&password).await?;
            match &contact {
                Contact::Email(_) => self.claim_by_address(&user, &hash, locale).await?,
                Contact::Phone(_) => self.replace_password(&user, &hash, locale).await?,
            }
            let client = form.client.cloned().unwrap_or_default();
            self.audit(AuditEvent {
                subject: Some(user.id),
                detail: Some(contact.kind().to_owned()),
                ..self.event(AuditKind::PasswordReset, &client)
            })
            .await;
            Ok(())
        }
    }
}

pub use reset::{ResetForm, ResetIssued};
