//! Signing in through an upstream identity provider (issue 19), on the
//! login steps of issue 14: [`AuthService::begin_upstream_sign_in`] sends
//! the browser to the provider with `state` (bound to the browser by the
//! caller's cookie), `nonce` and PKCE; [`AuthService::take_upstream_flow`]
//! and [`AuthService::finish_upstream_sign_in`] check what comes back,
//! find or create the account and go on as a verified credential does
//! (`next_step`: a second factor when the account has one).
//!
//! **Finding the account.** An identity already linked names its account.
//! Otherwise a *verified* upstream address that is an account's address
//! links only once the person proves that account by signing in to it
//! ([`UpstreamLanding::LinkRequired`]), unless the provider is trusted for
//! linking and the account's own address is verified too; an unverified
//! upstream address never links. Otherwise an account is created when the
//! provider allows it and vouches for the address (an unvouched one would
//! let whoever owns the mailbox claim the account later, the identity still
//! linked).
//!
//! **Where it lands.** The hosted pages get the login step; an API client
//! (SPA, mobile) gets a one-time code at its `return_to`, exchanged with its
//! PKCE verifier for the usual token pair ([`AuthService::exchange_upstream_code`]).

use chrono::Duration;
use serde::{Deserialize, Serialize};

use super::login::{LoginStep, LoginTerms, VerifiedCredentials};
use super::provider::{pkce_shaped, s256};
use super::{AuthService, BrowserStep};
use crate::clock::IdSource as _;
use crate::error::AuthError;
use crate::model::{
    AuditEvent, AuditKind, Authentication, ClientInfo, CodePurpose, LinkedIdentity, PasswordHash,
    UniqueField, UpstreamId, UpstreamIdentity, UpstreamProvider, User, UserId, VerificationCode,
};
use crate::model::{EventType, PendingEvent};
use crate::ports::{
    CodeStore as _, IdentityLinks as _, Ports, RefreshTokenCodec as _, UpstreamError,
    UpstreamRedemption, UpstreamRelyingParty as _, UpstreamRequest, UserDirectory as _,
    UserRepository as _,
};
use crate::secret::Secret;
use crate::values::{Email, Login};

/// How long a browser may take at the provider, in seconds.
pub const UPSTREAM_STATE_TTL_SECS: i64 = 600;
/// How long an API client's one-time code waits for its exchange, in seconds.
pub const UPSTREAM_EXCHANGE_TTL_SECS: i64 = 60;
/// How long an identity waits for the person to sign in to the account it
/// would link to, in seconds.
pub const UPSTREAM_LINK_TTL_SECS: i64 = 600;

/// Why an upstream sign-in, link or exchange did not succeed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FederationError {
    /// No enabled provider has this id.
    #[error("unknown provider")]
    UnknownProvider,
    /// The `state` is missing, unknown, expired, used, of another
    /// provider, or not the one this browser started with.
    #[error("the sign-in's state is invalid or expired")]
    StateInvalid,
    /// The provider (or the person there) refused: its `error` parameter.
    #[error("the provider refused: {0}")]
    Denied(String),
    /// The provider could not be used.
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    /// No account matched and this provider does not create accounts.
    #[error("this provider does not create accounts")]
    SignUpClosed,
    /// No account matched and the provider gave no usable e-mail address.
    #[error("the provider gave no e-mail address")]
    EmailMissing,
    /// No account matched, the provider did not verify the address, and
    /// accounts must have verified addresses (`REQUIRE_VERIFIED_EMAIL`).
    #[error("the provider did not verify the e-mail address")]
    EmailUnverified,
    /// An account has the address, and the provider did not verify it: it
    /// never links (the account's owner can link it from the account page).
    #[error("an account already uses this e-mail address")]
    AccountExists,
    /// The identity is linked to another account.
    #[error("the identity is linked to another account")]
    IdentityTaken,
    /// Unlinking would leave the account no way to sign in.
    #[error("the last way to sign in cannot be removed")]
    LastSignInMethod,
    /// The identity is not linked to the account.
    #[error("identity not linked")]
    IdentityNotFound,
    /// An API client's `code_challenge` is not 43–128 characters of the
    /// PKCE alphabet, or its method is not `S256` (RFC 7636 §4.2).
    #[error("code_challenge must be an S256 challenge")]
    ChallengeInvalid,
    /// A one-time code or link token is unknown, expired, used, or its
    /// PKCE verifier or account does not match.
    #[error("the code is invalid or expired")]
    CodeInvalid,
    /// A console provider's settings are refused: why.
    #[error("invalid provider: {0}")]
    ProviderInvalid(String),
    /// The provider comes from the configuration and cannot be changed here.
    #[error("the provider is the configuration's")]
    ProviderReadOnly,
    /// The login steps refused (account disabled, re-authentication
    /// required, store unavailable, …).
    #[error(transparent)]
    Auth(#[from] AuthError),
}

impl From<crate::error::StoreError> for FederationError {
    fn from(e: crate::error::StoreError) -> Self {
        Self::Auth(e.into())
    }
}

impl FederationError {
    /// The stable machine-readable name (`error` of the JSON answers and
    /// the audit trail's detail).
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownProvider => "unknown_provider",
            Self::StateInvalid => "state_invalid",
            Self::Denied(_) => "access_denied",
            Self::Upstream(UpstreamError::Unavailable(_)) => "upstream_unavailable",
            Self::Upstream(UpstreamError::Refused(_)) => "upstream_refused",
            Self::Upstream(UpstreamError::Invalid(_)) => "upstream_invalid",
            Self::SignUpClosed => "sign_up_closed",
            Self::EmailMissing => "email_missing",
            Self::EmailUnverified => "email_unverified",
            Self::AccountExists => "account_exists",
            Self::IdentityTaken => "identity_taken",
            Self::LastSignInMethod => "last_sign_in_method",
            Self::IdentityNotFound => "identity_not_found",
            Self::CodeInvalid => "code_invalid",
            Self::ChallengeInvalid => "invalid_request",
            Self::ProviderInvalid(_) => "provider_invalid",
            Self::ProviderReadOnly => "provider_read_only",
            Self::Auth(_) => "auth",
        }
    }
}

/// Where an upstream sign-in returns to, chosen when it starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UpstreamReturn {
    /// The hosted pages: a path of this server to land on once signed in.
    Pages {
        /// The path (already checked by the caller).
        return_to: String,
    },
    /// An API client: its `return_to` (allow-listed by the caller) gets a
    /// one-time `code` it exchanges with its PKCE verifier.
    Client {
        /// Where the browser goes back to.
        return_to: String,
        /// The client's PKCE `code_challenge` (`S256`).
        code_challenge: String,
    },
    /// Linking the identity to the signed-in account `user`.
    Link {
        /// The account (its integer id).
        user: i64,
        /// The page to land on.
        return_to: String,
    },
}

/// A started upstream sign-in.
#[derive(Debug, Clone)]
pub struct UpstreamStart {
    /// Where to send the browser.
    pub authorization_url: String,
    /// The `state`, for the caller's browser-bound cookie.
    pub state: Secret,
    /// Seconds the sign-in may take.
    pub expires_in_secs: i64,
}

/// What a started sign-in kept, read back at its callback
/// ([`AuthService::take_upstream_flow`]).
#[derive(Clone, Serialize, Deserialize)]
pub struct UpstreamFlow {
    provider: String,
    nonce: String,
    code_verifier: String,
    /// Where the sign-in returns to.
    pub returns: UpstreamReturn,
}

impl std::fmt::Debug for UpstreamFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamFlow")
            .field("provider", &self.provider)
            .field("returns", &self.returns)
            .finish_non_exhaustive()
    }
}

/// What the provider sent to the callback besides `state`. `Debug` hides
/// the code.
#[derive(Clone, Default)]
pub struct UpstreamAnswer {
    /// `code`, on success.
    pub code: Option<String>,
    /// `error` (RFC 6749 §4.1.2.1), on refusal.
    pub error: Option<String>,
}

impl std::fmt::Debug for UpstreamAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamAnswer")
            .field("code", &self.code.as_ref().map(|_| "***"))
            .field("error", &self.error)
            .finish()
    }
}

/// Where a finished upstream sign-in lands.
#[derive(Debug)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)] // a sign-in is rare; boxing buys nothing
pub enum UpstreamLanding {
    /// The hosted pages: signed in, or a second factor to ask for.
    Browser {
        /// The login step.
        step: BrowserStep,
        /// Where to go once signed in.
        return_to: String,
        /// The account was created by this sign-in.
        created: bool,
    },
    /// An API client: send the browser to `return_to` with `code`.
    Exchange {
        /// The client's `return_to`.
        return_to: String,
        /// The one-time code.
        code: Secret,
    },
    /// A verified upstream address is an account's: the person must sign
    /// in to it, then confirm the link with `link_token`
    /// ([`AuthService::link_pending_identity`]).
    LinkRequired {
        /// The token to confirm with.
        link_token: Secret,
        /// The provider's name.
        provider: String,
        /// The address both share.
        email: String,
        /// Where the sign-in was to return to.
        returns: UpstreamReturn,
    },
    /// The identity was linked to the signed-in account.
    Linked {
        /// The provider's name.
        provider: String,
        /// The page to land on.
        return_to: String,
    },
}

/// An API client's one-time code as stored.
#[derive(Serialize, Deserialize)]
struct StoredExchange {
    user: i64,
    code_challenge: String,
}

/// An identity waiting for its account's sign-in.
#[derive(Serialize, Deserialize)]
pub(super) struct PendingLink {
    pub(super) user: i64,
    pub(super) provider: String,
    pub(super) identity: UpstreamIdentity,
    /// The API client's PKCE challenge; `None` for the hosted pages, whose
    /// token stays in the browser's cookie.
    pub(super) code_challenge: Option<String>,
}

/// How the account of an upstream identity was found.
enum AccountMatch {
    Existing(User),
    Created(User),
    NeedsProof(User),
}

impl<P: Ports> AuthService<P> {
    /// The enabled providers people may sign in with: the configuration's,
    /// then the console's, by id.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`].
    pub async fn upstream_providers(&self) -> Result<Vec<UpstreamProvider>, AuthError> {
        Ok(self
            .every_upstream_provider()
            .await?
            .into_iter()
            .filter(|p| p.enabled)
            .collect())
    }

    /// The configuration's and the console's providers, enabled or not.
    pub(super) async fn every_upstream_provider(&self) -> Result<Vec<UpstreamProvider>, AuthError> {
        let mut all = self.settings.upstream.providers.clone();
        for p in self.ports.identities.providers().await? {
            if !all.iter().any(|c| c.id == p.id) {
                all.push(p);
            }
        }
        Ok(all)
    }

    /// The enabled provider `id`.
    ///
    /// # Errors
    /// [`FederationError::UnknownProvider`], [`AuthError::Unavailable`].
    pub async fn upstream_provider(&self, id: &str) -> Result<UpstreamProvider, FederationError> {
        let id = UpstreamId::parse(id).ok_or(FederationError::UnknownProvider)?;
        self.upstream_providers()
            .await?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or(FederationError::UnknownProvider)
    }

    /// The callback `provider` redirects to (`redirect_uri`).
    #[must_use]
    pub fn upstream_callback(&self, provider: &UpstreamId) -> String {
        format!(
            "{}/api/auth/oauth/{provider}/callback",
            self.settings.upstream.callback_base.trim_end_matches('/')
        )
    }

    /// Starts a sign-in (or a link, [`UpstreamReturn::Link`]) through the
    /// provider `id`: a fresh `state`, `nonce` and PKCE verifier (RFC 7636
    /// §4.1) kept for [`UPSTREAM_STATE_TTL_SECS`], and the provider's
    /// authorization URL. The caller binds `state` to the browser (a cookie)
    /// and checks a [`UpstreamReturn::Client`]'s `return_to` against its
    /// allow-list.
    ///
    /// # Errors
    /// [`FederationError::UnknownProvider`], [`FederationError::CodeInvalid`]
    /// for a malformed client `code_challenge`,
    /// [`FederationError::Upstream`] when discovery fails,
    /// [`AuthError::Unavailable`].
    pub async fn begin_upstream_sign_in(
        &self,
        id: &str,
        returns: UpstreamReturn,
        client: &ClientInfo,
    ) -> Result<UpstreamStart, FederationError> {
        let started = self.start_upstream_flow(id, returns).await;
        if let Err(e) = &started {
            self.audit_upstream_failure(id, e, client).await;
        }
        started
    }

    /// Audits a refused start or callback of provider `id` (as sent).
    async fn audit_upstream_failure(&self, id: &str, e: &FederationError, client: &ClientInfo) {
        let id = UpstreamId::parse(id).map_or_else(|| "?".to_owned(), |i| i.to_string());
        self.audit(AuditEvent {
            detail: Some(format!("{id} {}", e.code())),
            ..self.event(AuditKind::UpstreamSignInFailed, client)
        })
        .await;
    }

    async fn start_upstream_flow(
        &self,
        id: &str,
        returns: UpstreamReturn,
    ) -> Result<UpstreamStart, FederationError> {
        let provider = self.upstream_provider(id).await?;
        if let UpstreamReturn::Client { code_challenge, .. } = &returns
            && !pkce_shaped(code_challenge)
        {
            return Err(FederationError::ChallengeInvalid);
        }
        let state = self.ports.ids.secret_token();
        let flow = UpstreamFlow {
            provider: provider.id.to_string(),
            nonce: self.ports.ids.secret_token(),
            code_verifier: self.ports.ids.secret_token(),
            returns,
        };
        let request = UpstreamRequest {
            redirect_uri: self.upstream_callback(&provider.id),
            state: state.clone(),
            nonce: flow.nonce.clone(),
            code_challenge: s256(&flow.code_verifier),
        };
        let authorization_url = self
            .ports
            .upstream
            .authorization_url(&provider, &request)
            .await?;
        self.keep_upstream_secret(
            CodePurpose::UpstreamState,
            &state,
            &flow,
            UPSTREAM_STATE_TTL_SECS,
        )
        .await?;
        Ok(UpstreamStart {
            authorization_url,
            state: Secret::new(state),
            expires_in_secs: UPSTREAM_STATE_TTL_SECS,
        })
    }

    /// Stores `value` as JSON under the keyed fingerprint of `secret`.
    async fn keep_upstream_secret<T: Serialize>(
        &self,
        purpose: CodePurpose,
        secret: &str,
        value: &T,
        ttl_secs: i64,
    ) -> Result<(), AuthError> {
        let binding =
            serde_json::to_string(value).map_err(|e| AuthError::Internal(e.to_string()))?;
        let key = self.ports.codec.keyed_fingerprint(secret);
        self.ports
            .codes
            .put(&VerificationCode {
                purpose,
                recipient: key.0.clone(),
                fingerprint: key,
                digits: 0,
                expires_at: self.now() + Duration::seconds(ttl_secs),
                attempts: 0,
                max_attempts: 1,
                binding: Some(binding),
            })
            .await?;
        Ok(())
    }

    /// Reads (and with `spend`, removes) what [`Self::keep_upstream_secret`]
    /// kept under `secret`; `None` when unknown, expired or unreadable.
    pub(super) async fn read_upstream_secret<T: serde::de::DeserializeOwned>(
        &self,
        purpose: CodePurpose,
        secret: &str,
        spend: bool,
    ) -> Result<Option<T>, AuthError> {
        if secret.is_empty() || secret.len() > 256 {
            return Ok(None);
        }
        let key = self.ports.codec.keyed_fingerprint(secret).0;
        let stored = if spend {
            self.ports.codes.take(purpose, &key).await?
        } else {
            self.ports.codes.get(purpose, &key).await?
        };
        Ok(stored
            .filter(|c| c.expires_at > self.now())
            .and_then(|c| c.binding)
            .and_then(|b| serde_json::from_str(&b).ok()))
    }

    /// Spends the flow `state` names, at the callback of provider `id`:
    /// `browser_state` is what the browser's cookie holds, and must be
    /// `state` (the flow was started in this browser).
    ///
    /// # Errors
    /// [`FederationError::StateInvalid`], [`AuthError::Unavailable`].
    pub async fn take_upstream_flow(
        &self,
        id: &str,
        state: &str,
        browser_state: Option<&str>,
        client: &ClientInfo,
    ) -> Result<UpstreamFlow, FederationError> {
        let taken = self.spend_upstream_state(id, state, browser_state).await;
        if let Err(e) = &taken {
            self.audit_upstream_failure(id, e, client).await;
        }
        taken
    }

    async fn spend_upstream_state(
        &self,
        id: &str,
        state: &str,
        browser_state: Option<&str>,
    ) -> Result<UpstreamFlow, FederationError> {
        if browser_state != Some(state) {
            return Err(FederationError::StateInvalid);
        }
        let flow: UpstreamFlow = self
            .read_upstream_secret(CodePurpose::UpstreamState, state, true)
            .await?
            .ok_or(FederationError::StateInvalid)?;
        if flow.provider != id {
            return Err(FederationError::StateInvalid);
        }
        Ok(flow)
    }

    /// Finishes the sign-in `flow` with the provider's `answer`: redeems the
    /// code ([`UpstreamRelyingParty::redeem`](crate::ports::UpstreamRelyingParty::redeem)),
    /// finds or creates the account (the rules in the module's docs) and
    /// lands as the flow asked. Each outcome is audited.
    ///
    /// # Errors
    /// [`FederationError`]: the provider's refusal or failure, the linking
    /// rules' refusals, and the login steps' ([`AuthError::AccountDisabled`],
    /// [`AuthError::EmailNotVerified`], …).
    pub async fn finish_upstream_sign_in(
        &self,
        flow: UpstreamFlow,
        answer: UpstreamAnswer,
        client: ClientInfo,
    ) -> Result<UpstreamLanding, FederationError> {
        let provider = self.upstream_provider(&flow.provider).await?;
        let result = self
            .land_upstream_sign_in(&provider, flow, answer, &client)
            .await;
        if let Err(e) = &result {
            self.audit(AuditEvent {
                detail: Some(format!("{} {}", provider.id, e.code())),
                ..self.event(AuditKind::UpstreamSignInFailed, &client)
            })
            .await;
        }
        result
    }

    async fn land_upstream_sign_in(
        &self,
        provider: &UpstreamProvider,
        flow: UpstreamFlow,
        answer: UpstreamAnswer,
        client: &ClientInfo,
    ) -> Result<UpstreamLanding, FederationError> {
        if let Some(error) = answer.error {
            // Only the characters of RFC 6749's error codes: what reaches
            // the log and the audit trail cannot forge a line.
            let error: String = error
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .take(64)
                .collect();
            return Err(FederationError::Denied(error));
        }
        let code = answer
            .code
            .filter(|c| !c.is_empty() && c.len() <= 2048)
            .ok_or_else(|| FederationError::Denied("invalid_request".into()))?;
        let identity = self
            .ports
            .upstream
            .redeem(
                provider,
                &UpstreamRedemption {
                    code,
                    redirect_uri: self.upstream_callback(&provider.id),
                    code_verifier: flow.code_verifier.clone(),
                    nonce: flow.nonce.clone(),
                },
            )
            .await?;
        if let UpstreamReturn::Link { user, return_to } = flow.returns {
            self.link_identity(UserId(user), provider, &identity, client, "account")
                .await?;
            return Ok(UpstreamLanding::Linked {
                provider: provider.display_name.clone(),
                return_to,
            });
        }
        let (user, created) = match self.upstream_account(provider, &identity, client).await? {
            AccountMatch::Existing(user) => (user, false),
            AccountMatch::Created(user) => (user, true),
            AccountMatch::NeedsProof(user) => {
                let link_token = self.ports.ids.secret_token();
                let pending = PendingLink {
                    user: user.id.0,
                    provider: provider.id.to_string(),
                    identity: identity.clone(),
                    code_challenge: match &flow.returns {
                        UpstreamReturn::Client { code_challenge, .. } => {
                            Some(code_challenge.clone())
                        }
                        _ => None,
                    },
                };
                self.keep_upstream_secret(
                    CodePurpose::UpstreamLink,
                    &link_token,
                    &pending,
                    UPSTREAM_LINK_TTL_SECS,
                )
                .await?;
                self.audit(AuditEvent {
                    subject: Some(user.id),
                    detail: Some(format!("{} link_required", provider.id)),
                    ..self.event(AuditKind::UpstreamSignIn, client)
                })
                .await;
                return Ok(UpstreamLanding::LinkRequired {
                    link_token: Secret::new(link_token),
                    provider: provider.display_name.clone(),
                    email: user.email.as_str().to_owned(),
                    returns: flow.returns,
                });
            }
        };
        let _ = self
            .ports
            .identities
            .record_use(&provider.id, &identity.subject, self.now())
            .await;
        self.audit(AuditEvent {
            subject: Some(user.id),
            detail: Some(provider.id.to_string()),
            ..self.event(AuditKind::UpstreamSignIn, client)
        })
        .await;
        match flow.returns {
            UpstreamReturn::Client {
                return_to,
                code_challenge,
            } => {
                user.ensure_active()?;
                let code = self.ports.ids.secret_token();
                let exchange = StoredExchange {
                    user: user.id.0,
                    code_challenge,
                };
                self.keep_upstream_secret(
                    CodePurpose::UpstreamExchange,
                    &code,
                    &exchange,
                    UPSTREAM_EXCHANGE_TTL_SECS,
                )
                .await?;
                Ok(UpstreamLanding::Exchange {
                    return_to,
                    code: Secret::new(code),
                })
            }
            UpstreamReturn::Pages { return_to } | UpstreamReturn::Link { return_to, .. } => {
                let step = match self
                    .upstream_login_step(user, client.clone(), LoginTerms::default())
                    .await?
                {
                    LoginStep::SecondFactor(challenge) => BrowserStep::SecondFactor(challenge),
                    step => BrowserStep::SignedIn(self.browser_sign_in(step.done()?)),
                };
                Ok(UpstreamLanding::Browser {
                    step,
                    return_to,
                    created,
                })
            }
        }
    }

    /// Exchanges an API client's one-time `code` and PKCE `code_verifier`
    /// (RFC 7636 §4.6) for the login step: the token pair, or a second
    /// factor to answer, exactly as a password login answers.
    ///
    /// # Errors
    /// [`FederationError::CodeInvalid`] (unknown, expired, used, or the
    /// verifier does not match), the login steps' [`AuthError`]s.
    pub async fn exchange_upstream_code(
        &self,
        code: &str,
        code_verifier: &str,
        client: ClientInfo,
        terms: LoginTerms,
    ) -> Result<LoginStep, FederationError> {
        let exchange: StoredExchange = self
            .read_upstream_secret(CodePurpose::UpstreamExchange, code, true)
            .await?
            .ok_or(FederationError::CodeInvalid)?;
        if !pkce_shaped(code_verifier) || s256(code_verifier) != exchange.code_challenge {
            return Err(FederationError::CodeInvalid);
        }
        let user = self
            .ports
            .users
            .find_by_id(UserId(exchange.user))
            .await?
            .ok_or(FederationError::CodeInvalid)?;
        Ok(self.upstream_login_step(user, client, terms).await?)
    }

    /// The login steps after an upstream sign-in of `user`: the account
    /// must be active (and verified when `REQUIRE_VERIFIED_EMAIL`), then as
    /// any verified credential (`next_step`: second factor, enrolment
    /// required by role, session).
    async fn upstream_login_step(
        &self,
        user: User,
        client: ClientInfo,
        terms: LoginTerms,
    ) -> Result<LoginStep, AuthError> {
        user.ensure_active()?;
        if self.settings.require_verified_email && !user.email_verified {
            return Err(AuthError::EmailNotVerified);
        }
        let verified = VerifiedCredentials::upstream(user, Authentication::upstream(self.now()));
        self.next_step(verified, client, terms).await
    }

    /// The account of `identity` (see the module's docs).
    async fn upstream_account(
        &self,
        provider: &UpstreamProvider,
        identity: &UpstreamIdentity,
        client: &ClientInfo,
    ) -> Result<AccountMatch, FederationError> {
        if let Some(link) = self
            .ports
            .identities
            .linked(&provider.id, &identity.subject)
            .await?
        {
            match self.ports.users.find_by_id(link.user_id).await? {
                Some(user) => return Ok(AccountMatch::Existing(user)),
                // The account went, and a store without cascades kept its
                // link: drop it, and go on as for a new identity.
                None => {
                    self.ports
                        .identities
                        .unlink(link.user_id, &provider.id, &identity.subject)
                        .await?;
                }
            }
        }
        let email = identity.email.as_deref().and_then(|e| Email::parse(e).ok());
        if let Some(email) = &email
            && let Some(user) = self
                .ports
                .users
                .find_by_login(&Login::Email(email.clone()))
                .await?
        {
            if !identity.email_verified {
                return Err(FederationError::AccountExists);
            }
            if provider.link_by_email && user.email_verified {
                self.link_identity(user.id, provider, identity, client, "email")
                    .await?;
                return Ok(AccountMatch::Existing(user));
            }
            return Ok(AccountMatch::NeedsProof(user));
        }
        if !provider.allow_sign_up {
            return Err(FederationError::SignUpClosed);
        }
        let email = email.ok_or(FederationError::EmailMissing)?;
        // An account made from an address the provider does not vouch for
        // would be one whoever owns the mailbox could later claim (a reset
        // verifies it) while the provider's identity stays linked: a
        // takeover. Such a person signs up, then connects the provider.
        if !identity.email_verified {
            return Err(FederationError::EmailUnverified);
        }
        let name = identity
            .username
            .as_deref()
            .or(identity.name.as_deref())
            .unwrap_or_default();
        let user = match self
            .create_signed_up(
                name,
                email,
                PasswordHash::new(PasswordHash::NONE),
                identity.email_verified,
                None,
            )
            .await
        {
            Ok(user) => user,
            // Another sign-in took the address meanwhile.
            Err(AuthError::Conflict(UniqueField::Email)) => {
                return Err(FederationError::AccountExists);
            }
            Err(e) => return Err(e.into()),
        };
        if let Err(e) = self
            .link_identity(user.id, provider, identity, client, "sign_up")
            .await
        {
            // The identity was linked meanwhile by a concurrent sign-in:
            // the account made for it goes, and this sign-in is refused.
            let deleted = [PendingEvent::new(EventType::UserDeleted, self.now())];
            let _ = self.ports.users.delete(user.id, &deleted).await;
            return Err(e);
        }
        Ok(AccountMatch::Created(user))
    }

    /// Links `identity` of `provider` to `user` (idempotent for the same
    /// account), audited with `how` (`account`, `email`, `sign_up`, `proof`).
    ///
    /// # Errors
    /// [`FederationError::IdentityTaken`], [`AuthError::Unavailable`].
    pub(super) async fn link_identity(
        &self,
        user: UserId,
        provider: &UpstreamProvider,
        identity: &UpstreamIdentity,
        client: &ClientInfo,
        how: &str,
    ) -> Result<LinkedIdentity, FederationError> {
        let linked = LinkedIdentity {
            user_id: user,
            provider: provider.id.clone(),
            subject: identity.subject.clone(),
            email: identity.email.clone(),
            linked_at: self.now(),
            last_used_at: None,
        };
        if !self.ports.identities.link(&linked).await? {
            return match self
                .ports
                .identities
                .linked(&provider.id, &identity.subject)
                .await?
            {
                Some(existing) if existing.user_id == user => Ok(existing),
                _ => Err(FederationError::IdentityTaken),
            };
        }
        self.audit(AuditEvent {
            actor: Some(user),
            subject: Some(user),
            detail: Some(format!("{} {how}", provider.id)),
            ..self.event(AuditKind::IdentityLinked, client)
        })
        .await;
        Ok(linked)
    }
}
