//! The authentication use cases, written once against the ports: one file
//! per family of use cases, each a set of `impl<P: Ports> AuthService<P>`
//! blocks.
//!
//! | file | use cases |
//! |------|-----------|
//! | `registration` | register, parse a registration |
//! | `login` | log in with an identifier and a password |
//! | `throttle` | growing delays after failed logins |
//! | `session` | open, list, end and revoke sessions |
//! | `access` | issue and accept access tokens |
//! | `refresh` | rotate refresh tokens, refresh access tokens |
//! | `password` | change one's password |
//! | `reset` | reset a forgotten password with a code |
//! | `verification` | verify an e-mail address by code or link |
//! | `sign_up` | sign up by e-mail code |
//! | `admin` | the administrators' use cases |
//! | `browser_session` | the hosted pages' sign-in, browser credential and form tokens |
//! | `session_limit` | bounded sessions per account, paged lists |
//! | `factor` | enrol, confirm and remove second factors; recovery codes |
//! | `second_factor` | the second-factor step of a login |
//! | `upstream_sign_in` | sign in through upstream identity providers; the exchange |
//! | `linked_identities` | an account's upstream identities: link, confirm, unlink |
//! | `upstream_providers` | the console's upstream providers |

use chrono::{DateTime, Utc};

use crate::clock::Clock as _;
use crate::error::AuthError;
use crate::model::ClientInfo;
use crate::model::RoleCatalogue;
use crate::model::User;
use crate::model::{AuditEvent, AuditKind};
use crate::ports::{
    AccessTokenSigner as _, Adapters, AuditLog as _, Ports, RateDecision, RateLimiter as _,
    RefreshTokenCodec as _, UserRepository as _,
};
use crate::settings::AuthSettings;
use crate::values::Login;

mod access;
mod account_deletion;
mod account_export;
mod admin;
mod browser_session;
mod client_authentication;
mod client_credentials;
mod client_registry;
mod code;
mod code_sign_in;
mod contact_change;
mod end_session;
mod factor;
mod linked_identities;
mod login;
mod passkey;
mod password;
mod provider;
mod pushed_authorization;
mod refresh;
mod registration;
mod required_enrolment;
mod reset;
mod second_factor;
mod session;
pub mod session_limit;
mod sign_up;
mod throttle;
mod token_revocation;
mod upstream_providers;
mod upstream_sign_in;
mod verification;
mod verification_link;
mod webhooks;

pub use access::Authenticated;
pub use account_deletion::{AccountDeletion, DELETION_SWEEP_BATCH};
pub use account_export::{AccountExport, EXPORT_AUDIT_LIMIT, ExportedConsent};
pub use admin::{Actor, MAX_PAGE_SIZE};
pub use browser_session::{
    BROWSER_TOUCH_INTERVAL_SECS, BrowserCaller, BrowserCredential, BrowserSignIn, BrowserStep,
    CsrfToken,
};
pub use client_credentials::{CLIENT_TOKEN_USE, ClientAccess};
pub use client_registry::RegisteredClient;
pub use code_sign_in::SignInCodeIssued;
pub use contact_change::{ContactChangeIssued, ContactRevertPreview};
pub use end_session::{CheckedLogout, LogoutRequest, LogoutStep};
pub use factor::{RecoveryCodes, TotpEnrolment};
pub use linked_identities::LinkProof;
pub use login::{LoginOutcome, LoginStep, LoginTerms, SecondFactorChallenge, VerifiedCredentials};
pub use passkey::{DEFAULT_PASSKEY_NAME, PasskeyCeremony};
pub use provider::{
    AuthorizationRefusal, AuthorizationRequest, AuthorizationStep, CheckedAuthorization,
    OAuthError, ProviderTokens,
};
pub use pushed_authorization::{PUSHED_REQUEST_TTL_SECS, PushedRequest, REQUEST_URI_PREFIX};
pub use registration::{Registration, RegistrationForm};
pub use reset::{ResetForm, ResetIssued};
pub use session_limit::{DEFAULT_MAX_SESSIONS_PER_USER, SessionPage};
pub use sign_up::{SignUp, SignedUp};
pub use upstream_sign_in::{
    FederationError, UPSTREAM_EXCHANGE_TTL_SECS, UPSTREAM_LINK_TTL_SECS, UPSTREAM_STATE_TTL_SECS,
    UpstreamAnswer, UpstreamFlow, UpstreamLanding, UpstreamReturn, UpstreamStart,
};
pub use verification_link::{LinkPreview, VerifyLinkOutcome};
pub use webhooks::{
    DELIVERIES_SHOWN, DELIVERY_LEASE_SECS, DISPATCH_BATCH, WebhookError, announced_event,
    parse_event_types,
};

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

use crate::validation::required;

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

    /// The public keys access tokens verify with, as JWK objects (the `keys`
    /// of a JWKS document; empty for a shared secret).
    #[must_use]
    pub fn public_keys(&self) -> Vec<serde_json::Value> {
        self.ports.signer.public_keys()
    }

    /// True when `token` is one of our refresh tokens (its MAC checks out),
    /// for endpoints that accept either kind of token.
    #[must_use]
    pub fn is_refresh_token(&self, token: &str) -> bool {
        self.ports.codec.parse(token).is_some()
    }

    /// Counts one request against the fixed window of `key`: at most `limit`
    /// per `window_secs` seconds.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`] when the counters cannot be reached.
    pub async fn count_request(
        &self,
        key: &str,
        limit: u32,
        window_secs: u64,
    ) -> Result<RateDecision, AuthError> {
        let window = crate::ports::RateWindow { limit, window_secs };
        Ok(self.ports.limiter.hit(key, window).await?)
    }

    /// The account `login` names, if any (active or not).
    ///
    /// # Errors
    /// [`AuthError::Unavailable`].
    pub async fn find_user_by_login(&self, login: &Login) -> Result<Option<User>, AuthError> {
        Ok(self.ports.users.find_by_login(login).await?)
    }

    fn now(&self) -> DateTime<Utc> {
        self.ports.clock.now()
    }

    /// Records an audit event; a failing audit store does not fail the use
    /// case (the adapter logs the event first).
    pub(crate) async fn audit(&self, event: AuditEvent) {
        let _ = self.ports.audit.record(&event).await;
        self.announce(&event).await;
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
}
