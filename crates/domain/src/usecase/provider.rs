//! Tessera as an OpenID Provider (issue 18): the authorization-code flow
//! with PKCE (RFC 6749 §4.1, RFC 7636, OpenID Connect Core 1.0 §3.1), the
//! refresh of a client's session (RFC 6749 §6, with the rotation and reuse
//! detection of every session) and the UserInfo endpoint (OpenID Connect
//! Core §5.3). The clients' registry is `client_registry.rs`, their
//! authentication `client_authentication.rs`.
//!
//! A redeemed authorization code opens an ordinary session (it shows in the
//! account's session list and ends with it), carrying the authentication of
//! the browser session that approved the request (`amr`, `acr`,
//! `auth_time`), and a grant that ties it to the client and its scopes.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use serde_json::{Map, Value, json};
use sha2::Digest as _;

use super::passkey::split_token;
use super::{AuthService, BrowserCaller, LoginTerms};
use crate::clock::IdSource as _;
use crate::error::{AuthError, StoreError, TokenProblem};
use crate::model::{
    AuditEvent, AuditKind, AuthorizationGrant, ClientKind, CodePurpose, GrantType, IssuedAccess,
    OAuthClient, OAuthGrant, RefreshToken, Scope, SessionId, User, VerificationCode,
    constant_time_eq,
};
use crate::ports::{
    ClientRegistry as _, CodeStore as _, FactorStore as _, IdTokenSigner as _, Ports,
    RefreshTokenCodec as _, SessionStore as _,
};

/// An error of the OAuth 2.0 protocol, named as RFC 6749 §4.1.2.1 and §5.2,
/// RFC 6750 §3.1 and OpenID Connect Core §3.1.2.6 name it ([`Self::code`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    /// `invalid_request`: a parameter is missing, repeated or malformed.
    #[error("invalid_request: {0}")]
    InvalidRequest(String),
    /// `invalid_client`: unknown or disabled client, or failed client
    /// authentication (HTTP 401).
    #[error("invalid_client")]
    InvalidClient,
    /// `invalid_grant`: the code or refresh token is invalid, expired,
    /// used, or issued to another client or redirect URI, or the PKCE
    /// verifier does not match.
    #[error("invalid_grant: {0}")]
    InvalidGrant(String),
    /// `unauthorized_client`: the client may not use this grant type or
    /// response type.
    #[error("unauthorized_client: {0}")]
    UnauthorizedClient(String),
    /// `unsupported_grant_type`.
    #[error("unsupported_grant_type")]
    UnsupportedGrantType,
    /// `unsupported_response_type`: only `code` is supported.
    #[error("unsupported_response_type")]
    UnsupportedResponseType,
    /// `invalid_scope`: a scope Tessera does not know or the client may not have.
    #[error("invalid_scope: {0}")]
    InvalidScope(String),
    /// `access_denied`: the person refused the consent.
    #[error("access_denied")]
    AccessDenied,
    /// `login_required`: `prompt=none` and no (recent enough) sign-in.
    #[error("login_required")]
    LoginRequired,
    /// `consent_required`: `prompt=none` and no remembered consent.
    #[error("consent_required")]
    ConsentRequired,
    /// `request_not_supported` (OpenID Connect Core §3.1.2.6): a `request`
    /// object was sent; Tessera takes plain parameters or a pushed request.
    #[error("request_not_supported")]
    RequestNotSupported,
    /// `invalid_token` (RFC 6750 §3.1): the access token is missing,
    /// invalid, expired, revoked, or was not issued to a client.
    #[error("invalid_token: {0}")]
    InvalidToken(String),
    /// `temporarily_unavailable`: a store failed (HTTP 503).
    #[error("temporarily_unavailable")]
    TemporarilyUnavailable,
    /// `server_error`: an unexpected failure (logged by the caller).
    #[error("server_error: {0}")]
    ServerError(String),
}

impl OAuthError {
    /// The error code of the RFC.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant(_) => "invalid_grant",
            Self::UnauthorizedClient(_) => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope(_) => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::RequestNotSupported => "request_not_supported",
            Self::InvalidToken(_) => "invalid_token",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::ServerError(_) => "server_error",
        }
    }

    /// The `error_description`, when there is one worth sending (never
    /// the cause of a server error).
    #[must_use]
    pub fn description(&self) -> Option<&str> {
        match self {
            Self::InvalidRequest(d)
            | Self::InvalidGrant(d)
            | Self::UnauthorizedClient(d)
            | Self::InvalidScope(d)
            | Self::InvalidToken(d) => Some(d),
            _ => None,
        }
    }
}

impl From<StoreError> for OAuthError {
    fn from(_: StoreError) -> Self {
        Self::TemporarilyUnavailable
    }
}

impl From<AuthError> for OAuthError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Unavailable(_) => Self::TemporarilyUnavailable,
            AuthError::Token(p) => Self::InvalidGrant(p.to_string()),
            AuthError::RefreshReused => {
                Self::InvalidGrant("the refresh token was used before: the session ended".into())
            }
            AuthError::AccountDisabled => Self::InvalidGrant("the account is disabled".into()),
            AuthError::InvalidCredentials | AuthError::UserNotFound => {
                Self::InvalidGrant("the account signed in again or is gone".into())
            }
            other => Self::ServerError(other.to_string()),
        }
    }
}

/// An authorization request's parameters as the browser sent them (RFC
/// 6749 §4.1.1, RFC 7636 §4.3, OpenID Connect Core §3.1.2.1), or as a
/// client pushed them (RFC 9126).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuthorizationRequest {
    /// `response_type`: `code` only.
    pub response_type: Option<String>,
    /// `client_id`.
    pub client_id: Option<String>,
    /// `redirect_uri`: optional when the client registered exactly one.
    pub redirect_uri: Option<String>,
    /// `scope`, space-delimited.
    pub scope: Option<String>,
    /// `state`, echoed.
    pub state: Option<String>,
    /// `nonce`, echoed in the ID token (at most 512 characters).
    pub nonce: Option<String>,
    /// `code_challenge` (43–128 characters of the verifier alphabet).
    pub code_challenge: Option<String>,
    /// `code_challenge_method`: `S256` only (`plain` is refused).
    pub code_challenge_method: Option<String>,
    /// `prompt`: space-delimited `none`, `login`, `consent`.
    pub prompt: Option<String>,
    /// `max_age`, seconds.
    pub max_age: Option<String>,
    /// `login_hint`, offered to the sign-in page.
    pub login_hint: Option<String>,
    /// `acr_values`: `aal2` asks for a second factor.
    pub acr_values: Option<String>,
    /// `request_uri` (RFC 9126 §4): a pushed request's
    /// `urn:ietf:params:oauth:request_uri:<id>`; the request is then the
    /// pushed one, and the other parameters but `client_id` are ignored.
    #[serde(skip)]
    pub request_uri: Option<String>,
    /// `response_mode`: `query` only (the default of the code flow).
    pub response_mode: Option<String>,
    /// `request` (OpenID Connect Core §6): refused, `request_not_supported`.
    #[serde(skip)]
    pub request: Option<String>,
}

/// A request that passed every check: the client, where to answer and
/// what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedAuthorization {
    /// The client.
    pub client: OAuthClient,
    /// The redirect URI to answer at (a registered one).
    pub redirect_uri: String,
    /// `state`, echoed.
    pub state: Option<String>,
    /// The requested scopes (`openid` among them or not).
    pub scopes: Vec<Scope>,
    /// `nonce`.
    pub nonce: Option<String>,
    /// The PKCE challenge (`S256`).
    pub code_challenge: Option<String>,
    /// `prompt=none`: never show a page.
    pub prompt_none: bool,
    /// `prompt=login`: sign in again.
    pub prompt_login: bool,
    /// `prompt=consent`: ask again.
    pub prompt_consent: bool,
    /// `max_age`, seconds.
    pub max_age_secs: Option<i64>,
    /// `acr_values` asked for `aal2`.
    pub wants_aal2: bool,
    /// `login_hint`.
    pub login_hint: Option<String>,
    /// The id of the pushed request this came from (RFC 9126), spent when
    /// its code is issued.
    pub pushed_request: Option<String>,
}

/// Why an authorization request cannot go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizationRefusal {
    /// The client or redirect URI cannot be trusted (unknown or disabled
    /// client, unregistered redirect URI): the person sees a page and is
    /// never sent anywhere (RFC 6749 §4.1.2.1).
    Unredirectable(String),
    /// Sent back to the client's redirect URI ([`Self::redirect_url`]).
    Redirect {
        /// The registered redirect URI.
        redirect_uri: String,
        /// `state`, echoed.
        state: Option<String>,
        /// The error.
        error: OAuthError,
    },
}

/// What the browser does next with a checked request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizationStep {
    /// Sign in first (`fresh`: sign in again although a session exists,
    /// for `prompt=login`, `max_age` or `acr_values`).
    SignIn {
        /// Whether a signed-in person must sign in again.
        fresh: bool,
    },
    /// Show the consent page for the client and scopes.
    Consent,
    /// Send the browser to this URL (a code, or an error) at the client.
    Redirect(String),
}

/// What the token endpoint answers (RFC 6749 §5.1, OpenID Connect Core §3.1.3.3).
#[derive(Debug, Clone)]
pub struct ProviderTokens {
    /// The access token.
    pub access: IssuedAccess,
    /// A refresh token, when `offline_access` was granted and the client
    /// may refresh.
    pub refresh: Option<RefreshToken>,
    /// The ID token, when `openid` was granted.
    pub id_token: Option<String>,
    /// The granted scopes.
    pub scopes: Vec<Scope>,
}

/// The longest `nonce` and `state` read, in bytes.
const MAX_ECHO_BYTES: usize = 512;

/// `url` with `pairs` added to its query (RFC 6749 §4.1.2: the redirect
/// URI's own query is kept).
pub(super) fn with_query(url: &str, pairs: &[(&str, &str)]) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            {
                let mut q = u.query_pairs_mut();
                for (k, v) in pairs {
                    q.append_pair(k, v);
                }
            }
            u.to_string()
        }
        Err(_) => url.to_owned(),
    }
}

impl AuthorizationRefusal {
    /// The URL that carries the error back to the client (with `state` and
    /// `iss`, RFC 9207); `None` for an [`Self::Unredirectable`] refusal.
    #[must_use]
    pub fn redirect_url(&self, issuer: &str) -> Option<String> {
        match self {
            Self::Unredirectable(_) => None,
            Self::Redirect {
                redirect_uri,
                state,
                error,
            } => {
                let mut pairs = vec![("error", error.code())];
                if let Some(d) = error.description() {
                    pairs.push(("error_description", d));
                }
                if let Some(s) = state {
                    pairs.push(("state", s));
                }
                pairs.push(("iss", issuer));
                Some(with_query(redirect_uri, &pairs))
            }
        }
    }
}

/// Whether `s` is 43–128 characters of the PKCE alphabet (RFC 7636 §4.1).
pub(super) fn pkce_shaped(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// `BASE64URL(SHA256(verifier))` (RFC 7636 §4.2, `S256`).
pub(super) fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

impl<P: Ports> AuthService<P> {
    /// Checks an authorization request (RFC 6749 §4.1.1, §3.1.2.3; RFC
    /// 7636 §4.4.1; OpenID Connect Core §3.1.2.2).
    ///
    /// # Errors
    /// [`AuthorizationRefusal::Unredirectable`] for a missing, unknown or
    /// disabled client or a redirect URI it did not register (exact string
    /// match); otherwise [`AuthorizationRefusal::Redirect`] with
    /// `unsupported_response_type`, `invalid_scope`, or `invalid_request`
    /// (missing PKCE for a public client, `plain`, a malformed challenge,
    /// `prompt=none` with another value, a bad `max_age`).
    pub async fn check_authorization_request(
        &self,
        req: &AuthorizationRequest,
    ) -> Result<CheckedAuthorization, AuthorizationRefusal> {
        let Some(uri) = &req.request_uri else {
            return self.check_request_parameters(req).await;
        };
        let (id, pushed) = self.pushed_request(uri, req.client_id.as_deref()).await?;
        let mut checked = self.check_request_parameters(&pushed).await?;
        checked.pushed_request = Some(id);
        Ok(checked)
    }

    /// The checks of [`Self::check_authorization_request`] on the
    /// parameters themselves.
    pub(super) async fn check_request_parameters(
        &self,
        req: &AuthorizationRequest,
    ) -> Result<CheckedAuthorization, AuthorizationRefusal> {
        let unredirectable = |why: &str| AuthorizationRefusal::Unredirectable(why.to_owned());
        let client_id = req
            .client_id
            .as_deref()
            .ok_or_else(|| unredirectable("client_id is missing"))?;
        let client = match self.find_client(client_id).await {
            Ok(c) if !c.disabled => c,
            Ok(_) | Err(AuthError::ClientNotFound) => {
                return Err(unredirectable("unknown or disabled client"));
            }
            Err(_) => return Err(unredirectable("the service is unavailable")),
        };
        let redirect_uri = match req.redirect_uri.as_deref() {
            Some(uri) if client.redirects_to(uri) => uri.to_owned(),
            Some(_) => return Err(unredirectable("redirect_uri is not registered")),
            None if client.redirect_uris.len() == 1 => client.redirect_uris[0].clone(),
            None => return Err(unredirectable("redirect_uri is missing")),
        };
        let state = req.state.clone();
        let refuse = |error: OAuthError| AuthorizationRefusal::Redirect {
            redirect_uri: redirect_uri.clone(),
            state: state.clone(),
            error,
        };
        let invalid = |d: &str| refuse(OAuthError::InvalidRequest(d.to_owned()));
        if state.as_ref().is_some_and(|s| s.len() > MAX_ECHO_BYTES) {
            return Err(AuthorizationRefusal::Redirect {
                redirect_uri: redirect_uri.clone(),
                state: None,
                error: OAuthError::InvalidRequest("state is too long".into()),
            });
        }
        match req.response_type.as_deref() {
            Some("code") => {}
            None => return Err(invalid("response_type is missing")),
            Some(_) => return Err(refuse(OAuthError::UnsupportedResponseType)),
        }
        if req.request.is_some() {
            return Err(refuse(OAuthError::RequestNotSupported));
        }
        if req.response_mode.as_deref().is_some_and(|m| m != "query") {
            return Err(invalid("response_mode: query only"));
        }
        if !client.allows_grant(GrantType::AuthorizationCode) {
            return Err(refuse(OAuthError::UnauthorizedClient(
                "the client may not use the authorization code grant".into(),
            )));
        }
        let scopes = Scope::parse_list(req.scope.as_deref().unwrap_or(""))
            .map_err(|name| refuse(OAuthError::InvalidScope(format!("unknown scope {name}"))))?;
        if let Some(s) = scopes.iter().find(|s| !client.scopes.contains(s)) {
            return Err(refuse(OAuthError::InvalidScope(format!(
                "the client may not ask for {}",
                s.as_str()
            ))));
        }
        if scopes.is_empty() {
            return Err(refuse(OAuthError::InvalidScope("scope is missing".into())));
        }
        let code_challenge = match (
            req.code_challenge.as_deref(),
            req.code_challenge_method.as_deref(),
        ) {
            (None, None) if client.kind == ClientKind::Public => {
                return Err(invalid(
                    "a public client must use PKCE (code_challenge, S256)",
                ));
            }
            (None, None) => None,
            (Some(c), Some("S256")) if pkce_shaped(c) => Some(c.to_owned()),
            (Some(_), Some("S256")) => return Err(invalid("code_challenge is malformed")),
            (Some(_), None) | (Some(_), Some("plain")) => {
                return Err(invalid("code_challenge_method must be S256"));
            }
            _ => {
                return Err(invalid(
                    "code_challenge_method without a supported challenge",
                ));
            }
        };
        if req.nonce.as_ref().is_some_and(|n| n.len() > MAX_ECHO_BYTES) {
            return Err(invalid("nonce is too long"));
        }
        let prompts: Vec<&str> = req
            .prompt
            .as_deref()
            .unwrap_or("")
            .split(' ')
            .filter(|p| !p.is_empty())
            .collect();
        if let Some(p) = prompts
            .iter()
            .find(|p| !["none", "login", "consent", "select_account"].contains(p))
        {
            return Err(invalid(&format!("unknown prompt value {p}")));
        }
        let prompt_none = prompts.contains(&"none");
        if prompt_none && prompts.len() > 1 {
            return Err(invalid("prompt=none goes alone"));
        }
        let max_age_secs = match req.max_age.as_deref() {
            None => None,
            Some(v) => Some(
                v.parse::<i64>()
                    .ok()
                    .filter(|v| *v >= 0)
                    .ok_or_else(|| invalid("max_age must be a number of seconds"))?,
            ),
        };
        let wants_aal2 = req
            .acr_values
            .as_deref()
            .is_some_and(|v| v.split(' ').any(|a| a == "aal2"));
        Ok(CheckedAuthorization {
            client,
            redirect_uri,
            state,
            scopes,
            nonce: req.nonce.clone(),
            code_challenge,
            prompt_none,
            prompt_login: prompts.contains(&"login"),
            prompt_consent: prompts.contains(&"consent"),
            max_age_secs,
            wants_aal2,
            login_hint: req.login_hint.clone(),
            pushed_request: None,
        })
    }

    /// What happens next with a checked request, for the signed-in
    /// `caller` (`None`: nobody). `fresh_sign_in` says the caller signed in
    /// for this request (so `prompt=login` and `max_age` are met);
    /// `consented` says they approved the consent page just now (it is
    /// remembered). With nothing left to ask, an authorization code is
    /// issued (valid [`ProviderSettings::code_ttl`](crate::settings::ProviderSettings::code_ttl), single use).
    ///
    /// # Errors
    /// [`AuthError::Unavailable`].
    pub async fn authorize(
        &self,
        checked: &CheckedAuthorization,
        caller: Option<&BrowserCaller>,
        fresh_sign_in: bool,
        consented: bool,
    ) -> Result<AuthorizationStep, AuthError> {
        let refuse = |error| {
            Ok(AuthorizationStep::Redirect(
                self.refusal_url(checked, error),
            ))
        };
        let Some(caller) = caller else {
            if checked.prompt_none {
                return refuse(OAuthError::LoginRequired);
            }
            return Ok(AuthorizationStep::SignIn { fresh: false });
        };
        let now = self.now();
        let auth = &caller.session.authentication;
        let too_old = checked
            .max_age_secs
            .is_some_and(|max| now - auth.at > Duration::seconds(max));
        let below_aal2 = checked.wants_aal2
            && auth.assurance() < crate::model::Assurance::Aal2
            && self
                .ports
                .factors
                .overview(caller.user.id)
                .await?
                .has_second_factor();
        if !fresh_sign_in && (checked.prompt_login || too_old || below_aal2) {
            if checked.prompt_none {
                return refuse(OAuthError::LoginRequired);
            }
            return Ok(AuthorizationStep::SignIn { fresh: true });
        }
        if consented {
            let mut scopes = self
                .ports
                .clients
                .consented_scopes(caller.user.id, &checked.client.id)
                .await?;
            scopes.extend(&checked.scopes);
            scopes.sort_unstable();
            scopes.dedup();
            self.ports
                .clients
                .remember_consent(caller.user.id, &checked.client.id, &scopes)
                .await?;
        } else if !checked.client.first_party {
            let given = self
                .ports
                .clients
                .consented_scopes(caller.user.id, &checked.client.id)
                .await?;
            let covered = checked.scopes.iter().all(|s| given.contains(s));
            if checked.prompt_consent || !covered {
                if checked.prompt_none {
                    return refuse(OAuthError::ConsentRequired);
                }
                return Ok(AuthorizationStep::Consent);
            }
        }
        if let Some(id) = &checked.pushed_request
            && !self.spend_pushed_request(id).await?
        {
            return refuse(OAuthError::InvalidRequest(
                "the pushed authorization request was used already".into(),
            ));
        }
        let code = self.issue_authorization_code(checked, caller).await?;
        let mut pairs = vec![("code", code.as_str())];
        if let Some(state) = &checked.state {
            pairs.push(("state", state));
        }
        pairs.push(("iss", &self.settings.provider.issuer));
        Ok(AuthorizationStep::Redirect(with_query(
            &checked.redirect_uri,
            &pairs,
        )))
    }

    /// The browser refused the consent page: `access_denied` at the client.
    #[must_use]
    pub fn consent_denied(&self, checked: &CheckedAuthorization) -> String {
        self.refusal_url(checked, OAuthError::AccessDenied)
    }

    /// Where `error` goes back to the client of `checked` (its redirect
    /// URI, with `state` and `iss`).
    fn refusal_url(&self, checked: &CheckedAuthorization, error: OAuthError) -> String {
        AuthorizationRefusal::Redirect {
            redirect_uri: checked.redirect_uri.clone(),
            state: checked.state.clone(),
            error,
        }
        .redirect_url(&self.settings.provider.issuer)
        .unwrap_or_default()
    }

    /// Stores a new authorization code for `checked` and `caller`:
    /// `<id>.<secret>`, the secret kept as a keyed fingerprint.
    async fn issue_authorization_code(
        &self,
        checked: &CheckedAuthorization,
        caller: &BrowserCaller,
    ) -> Result<String, AuthError> {
        let id = self.ports.ids.new_uuid();
        let secret = self.ports.ids.secret_token();
        let grant = AuthorizationGrant {
            user_id: caller.user.id.0,
            browser_session: caller.session.id.0,
            client_id: checked.client.id.to_string(),
            redirect_uri: checked.redirect_uri.clone(),
            scope: Scope::join(&checked.scopes),
            nonce: checked.nonce.clone(),
            code_challenge: checked.code_challenge.clone(),
        };
        let binding =
            serde_json::to_string(&grant).map_err(|e| AuthError::Internal(e.to_string()))?;
        self.ports
            .codes
            .put(&VerificationCode {
                purpose: CodePurpose::AuthorizationCode,
                recipient: id.to_string(),
                fingerprint: self.ports.codec.keyed_fingerprint(&secret),
                digits: 0,
                expires_at: self.now() + self.settings.provider.code_ttl,
                attempts: 0,
                max_attempts: 1,
                binding: Some(binding),
            })
            .await?;
        Ok(format!("{id}.{secret}"))
    }

    /// Redeems an authorization code for `client` (RFC 6749 §4.1.3, RFC
    /// 7636 §4.6): the code must be live, unused, issued to this client
    /// for `redirect_uri`, and `code_verifier` must match its challenge.
    /// Opens a session for the client with the browser session's
    /// authentication. A code presented a second time ends the session its
    /// first use opened (RFC 6749 §4.1.2).
    ///
    /// # Errors
    /// [`OAuthError::UnauthorizedClient`], [`OAuthError::InvalidGrant`],
    /// [`OAuthError::InvalidRequest`] (no code),
    /// [`OAuthError::TemporarilyUnavailable`], [`OAuthError::ServerError`].
    pub async fn redeem_authorization_code(
        &self,
        client: &OAuthClient,
        code: Option<&str>,
        redirect_uri: Option<&str>,
        code_verifier: Option<&str>,
        from: crate::model::ClientInfo,
    ) -> Result<ProviderTokens, OAuthError> {
        if !client.allows_grant(GrantType::AuthorizationCode) {
            return Err(OAuthError::UnauthorizedClient(
                "the client may not use the authorization code grant".into(),
            ));
        }
        let code = code.ok_or_else(|| OAuthError::InvalidRequest("code is missing".into()))?;
        let bad = || OAuthError::InvalidGrant("the code is invalid, expired or used".into());
        let (id, secret) = split_token(code).ok_or_else(bad)?;
        let Some(stored) = self
            .ports
            .codes
            .take(CodePurpose::AuthorizationCode, id)
            .await?
        else {
            self.end_session_of_reused_code(id, client, &from).await?;
            return Err(bad());
        };
        let presented = self.ports.codec.keyed_fingerprint(secret);
        let now = self.now();
        if !constant_time_eq(presented.0.as_bytes(), stored.fingerprint.0.as_bytes())
            || stored.expires_at <= now
        {
            return Err(bad());
        }
        let grant: AuthorizationGrant = stored
            .binding
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok())
            .ok_or_else(bad)?;
        if grant.client_id != client.id.as_str() {
            return Err(OAuthError::InvalidGrant(
                "the code was issued to another client".into(),
            ));
        }
        if redirect_uri.is_some_and(|r| r != grant.redirect_uri)
            || (redirect_uri.is_none() && client.redirect_uris.len() > 1)
        {
            return Err(OAuthError::InvalidGrant(
                "redirect_uri does not match".into(),
            ));
        }
        match (&grant.code_challenge, code_verifier) {
            (Some(challenge), Some(verifier))
                if pkce_shaped(verifier)
                    && constant_time_eq(s256(verifier).as_bytes(), challenge.as_bytes()) => {}
            (None, None) => {}
            (Some(_), None) => {
                return Err(OAuthError::InvalidGrant("code_verifier is missing".into()));
            }
            _ => {
                return Err(OAuthError::InvalidGrant(
                    "code_verifier does not match".into(),
                ));
            }
        }
        // The browser session must still be live and its account active.
        let browser = self
            .ports
            .sessions
            .get(SessionId(grant.browser_session))
            .await?
            .ok_or_else(bad)?;
        self.check_live(&browser, now)?;
        let user = self.session_user(&browser).await?;
        let scopes = Scope::parse_list(&grant.scope).unwrap_or_default();
        let (session, tokens) = self
            .open_session_issued_to(
                &user,
                from.clone(),
                LoginTerms::default(),
                browser.authentication.clone(),
                Some(client.id.clone()),
            )
            .await?;
        self.ports
            .codes
            .put(&VerificationCode {
                purpose: CodePurpose::AuthorizationCodeSpent,
                recipient: id.to_owned(),
                fingerprint: stored.fingerprint.clone(),
                digits: 0,
                expires_at: stored.expires_at,
                attempts: 0,
                max_attempts: 1,
                binding: Some(session.id.to_string()),
            })
            .await?;
        self.ports
            .clients
            .record_grant(&OAuthGrant {
                session_id: session.id,
                client_id: client.id.clone(),
                user_id: user.id,
                scopes: scopes.clone(),
                created_at: now,
            })
            .await?;
        self.audit(AuditEvent {
            actor: Some(user.id),
            subject: Some(user.id),
            identifier: Some(user.username.as_str().to_owned()),
            detail: Some(format!("client {} session {}", client.id, session.id)),
            ..self.event(AuditKind::LoginSucceeded, &from)
        })
        .await;
        self.provider_tokens(client, &user, tokens, &scopes, grant.nonce.as_deref())
    }

    /// A code taken before: ends the session its first use opened.
    async fn end_session_of_reused_code(
        &self,
        id: &str,
        client: &OAuthClient,
        from: &crate::model::ClientInfo,
    ) -> Result<(), OAuthError> {
        let Some(spent) = self
            .ports
            .codes
            .get(CodePurpose::AuthorizationCodeSpent, id)
            .await?
        else {
            return Ok(());
        };
        let Some(session) = spent
            .binding
            .as_deref()
            .and_then(|b| uuid::Uuid::parse_str(b).ok())
            .map(SessionId)
        else {
            return Ok(());
        };
        self.revoke_sessions(&[session], self.now()).await?;
        self.audit(AuditEvent {
            detail: Some(format!("client {} session {session}", client.id)),
            ..self.event(AuditKind::AuthorizationCodeReused, from)
        })
        .await;
        Ok(())
    }

    /// Refreshes a client's session (RFC 6749 §6): the refresh token must
    /// belong to a session opened for this client; it rotates, and a reused
    /// one ends the session, as at `/api/auth/refresh`.
    ///
    /// # Errors
    /// [`OAuthError::UnauthorizedClient`], [`OAuthError::InvalidGrant`],
    /// [`OAuthError::InvalidRequest`] (no token),
    /// [`OAuthError::TemporarilyUnavailable`].
    pub async fn refresh_client_session(
        &self,
        client: &OAuthClient,
        refresh_token: Option<&str>,
        from: crate::model::ClientInfo,
    ) -> Result<ProviderTokens, OAuthError> {
        if !client.allows_grant(GrantType::RefreshToken) {
            return Err(OAuthError::UnauthorizedClient(
                "the client may not use the refresh token grant".into(),
            ));
        }
        let token = refresh_token
            .ok_or_else(|| OAuthError::InvalidRequest("refresh_token is missing".into()))?;
        let bad = || OAuthError::InvalidGrant("the refresh token is invalid".into());
        let parts = self.ports.codec.parse(token).ok_or_else(bad)?;
        let grant = self
            .ports
            .clients
            .grant(parts.session_id)
            .await?
            .filter(|g| g.client_id == client.id)
            .ok_or_else(bad)?;
        let (user, tokens) = self
            .refresh_issued_to(token, from, Some(&client.id))
            .await?;
        self.provider_tokens(client, &user, tokens, &grant.scopes, None)
    }

    /// The token response: the access token, the refresh token when
    /// `offline_access` was granted, the ID token when `openid` was (its
    /// `sid`, `amr`, `acr` and `auth_time` those of the access token's
    /// session).
    fn provider_tokens(
        &self,
        client: &OAuthClient,
        user: &User,
        tokens: crate::model::TokenPair,
        scopes: &[Scope],
        nonce: Option<&str>,
    ) -> Result<ProviderTokens, OAuthError> {
        let id_token = if scopes.contains(&Scope::OpenId) {
            let mut claims = self.identity_claims(user, scopes);
            let now = self.now();
            let session = &tokens.access.claims;
            let auth = &session.authentication;
            claims.insert("iss".into(), json!(self.settings.provider.issuer));
            claims.insert("aud".into(), json!(client.id.as_str()));
            claims.insert("azp".into(), json!(client.id.as_str()));
            claims.insert("iat".into(), json!(now.timestamp()));
            claims.insert(
                "exp".into(),
                json!((now + self.settings.access_ttl).timestamp()),
            );
            claims.insert("auth_time".into(), json!(auth.at.timestamp()));
            claims.insert("sid".into(), json!(session.session_id.to_string()));
            claims.insert(
                "amr".into(),
                json!(
                    auth.methods_text()
                        .split(' ')
                        .filter(|m| !m.is_empty())
                        .collect::<Vec<_>>()
                ),
            );
            claims.insert("acr".into(), json!(auth.assurance().as_str()));
            if let Some(n) = nonce {
                claims.insert("nonce".into(), json!(n));
            }
            Some(
                self.ports
                    .signer
                    .sign_id_token(&Value::Object(claims))
                    .map_err(|e| OAuthError::ServerError(e.to_string()))?,
            )
        } else {
            None
        };
        let refresh = (scopes.contains(&Scope::OfflineAccess)
            && client.allows_grant(GrantType::RefreshToken))
        .then_some(tokens.refresh);
        Ok(ProviderTokens {
            access: tokens.access,
            refresh,
            id_token,
            scopes: scopes.to_vec(),
        })
    }

    /// The claims about `user` that `scopes` release (OpenID Connect Core
    /// §5.4): always `sub` (the account's public id, stable); `profile`:
    /// `preferred_username`, `name`, `updated_at`; `email`: `email`,
    /// `email_verified`; `phone`: `phone_number`; `roles`: `roles`.
    fn identity_claims(&self, user: &User, scopes: &[Scope]) -> Map<String, Value> {
        let mut claims = Map::new();
        claims.insert("sub".into(), json!(user.public_id.to_string()));
        if scopes.contains(&Scope::Profile) {
            claims.insert("preferred_username".into(), json!(user.username.as_str()));
            claims.insert("name".into(), json!(user.username.as_str()));
            claims.insert("updated_at".into(), json!(user.updated_at.timestamp()));
        }
        if scopes.contains(&Scope::Email) {
            claims.insert("email".into(), json!(user.email.as_str()));
            claims.insert("email_verified".into(), json!(user.email_verified));
        }
        if scopes.contains(&Scope::Phone)
            && let Some(phone) = &user.phone
        {
            claims.insert("phone_number".into(), json!(phone.as_str()));
        }
        if scopes.contains(&Scope::Roles) {
            claims.insert(
                "roles".into(),
                json!(user.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>()),
            );
        }
        claims
    }

    /// The UserInfo response (OpenID Connect Core §5.3) for an access token
    /// issued to a client: the claims its granted scopes release.
    ///
    /// # Errors
    /// [`OAuthError::InvalidToken`] for a missing, invalid, expired or
    /// revoked token, one of a disabled account or client, or one not
    /// issued to a client with the `openid` scope;
    /// [`OAuthError::TemporarilyUnavailable`].
    pub async fn userinfo(
        &self,
        bearer: Option<&str>,
        from: crate::model::ClientInfo,
    ) -> Result<Value, OAuthError> {
        let (auth, user) = self
            .authenticate_user_for(bearer, from, super::access::TokenAudience::ProviderClient)
            .await
            .map_err(|e| match e {
                AuthError::Unavailable(_) => OAuthError::TemporarilyUnavailable,
                AuthError::Token(TokenProblem::Missing) => {
                    OAuthError::InvalidToken("the access token is missing".into())
                }
                other => OAuthError::InvalidToken(other.to_string()),
            })?;
        let not_ours = || OAuthError::InvalidToken("the token was not issued to a client".into());
        let grant = self
            .ports
            .clients
            .grant(auth.session_id())
            .await?
            .ok_or_else(not_ours)?;
        let client = self.ports.clients.client(&grant.client_id).await?;
        if client.is_none_or(|c| c.disabled) {
            return Err(not_ours());
        }
        if !grant.scopes.contains(&Scope::OpenId) {
            return Err(OAuthError::InvalidToken(
                "the openid scope was not granted".into(),
            ));
        }
        Ok(Value::Object(self.identity_claims(&user, &grant.scopes)))
    }

    /// The ID-token signing algorithm, for the discovery document.
    #[must_use]
    pub fn id_token_algorithm(&self) -> &'static str {
        self.ports.signer.id_token_algorithm()
    }

    /// The service's clock as Unix seconds (the authorization page marks
    /// when it asked for a sign-in with it).
    #[must_use]
    pub fn now_unix(&self) -> i64 {
        self.now().timestamp()
    }

    /// The provider's settings (the issuer, for the discovery document).
    #[must_use]
    pub fn provider_settings(&self) -> &crate::settings::ProviderSettings {
        &self.settings.provider
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_rfc_7636_appendix_b() {
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(pkce_shaped("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
        assert!(!pkce_shaped("short"));
        assert!(!pkce_shaped(&"a".repeat(129)));
        assert!(!pkce_shaped(&format!("{}+", "a".repeat(50))));
    }

    #[test]
    fn refusals_carry_state_and_issuer_and_keep_the_redirect_query() {
        let r = AuthorizationRefusal::Redirect {
            redirect_uri: "https://app.example/cb?x=1".into(),
            state: Some("s t".into()),
            error: OAuthError::InvalidScope("unknown scope admin".into()),
        };
        assert_eq!(
            r.redirect_url("https://id.example").unwrap(),
            "https://app.example/cb?x=1&error=invalid_scope&error_description=unknown+scope+admin&state=s+t&iss=https%3A%2F%2Fid.example"
        );
        assert!(
            AuthorizationRefusal::Unredirectable("x".into())
                .redirect_url("i")
                .is_none()
        );
    }
}
