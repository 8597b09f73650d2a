//! Tessera's relying party of upstream identity providers (issue 19): the
//! [`UpstreamRelyingParty`] port over real protocol libraries.
//!
//! - **OpenID Connect** through `openidconnect` (ramosbugs): discovery
//!   (OpenID Connect Discovery 1.0 §4), the authorization request with
//!   `state`, `nonce` and PKCE `S256` (RFC 7636), the code's redemption, and
//!   the ID token's checks (OpenID Connect Core §3.1.3.7: signature against
//!   the provider's JWKS, `iss`, `aud`, `azp`, `exp`, `nonce`). A discovery
//!   document (with its JWKS) is reused for [`DISCOVERY_TTL_SECS`]; an ID
//!   token whose signature fails against a reused one is checked once more
//!   against a fresh one (the provider may have rotated its keys).
//! - **OAuth 2.0** through `oauth2`: the same request and redemption, then
//!   the user-info document read with the access token and mapped by the
//!   provider's [`ClaimMapping`]; GitHub's e-mail list when configured.
//!
//! HTTP is `reqwest` with rustls: no redirects are followed (a provider's
//! endpoints answer directly; a redirect could point anywhere), connections
//! time out after [`CONNECT_TIMEOUT_SECS`] and whole requests after
//! [`REQUEST_TIMEOUT_SECS`], and no answer is read beyond
//! [`MAX_RESPONSE_BYTES`]. Every call of the protocol libraries goes through
//! that one client ([`UpstreamClient::call`]).
//!
//! Discovery is read here rather than by `discover_async`, which insists
//! the document's `issuer` equals the configured one: Microsoft Entra ID's
//! documents name `https://login.microsoftonline.com/{tenantid}/v2.0` (or
//! the tenant's id where a domain was configured), so for those
//! (`UpstreamProtocol::OpenIdConnect::tenant_issuer`) the ID token's `iss`
//! is checked against the document's issuer with the token's own `tid`.

use std::sync::Arc;
use std::time::Duration;

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AuthType, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse as _, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse as _,
};
use tessera_domain::model::{
    ClaimMapping, OAuth2Endpoints, TokenEndpointAuth, UpstreamIdentity, UpstreamProtocol,
    UpstreamProvider,
};
use tessera_domain::ports::{
    UpstreamError, UpstreamRedemption, UpstreamRelyingParty, UpstreamRequest,
};

/// Seconds a discovery document (and its JWKS) is reused.
pub const DISCOVERY_TTL_SECS: u64 = 600;
/// Seconds to wait for a connection to a provider.
pub const CONNECT_TIMEOUT_SECS: u64 = 5;
/// Seconds a whole request to a provider may take.
pub const REQUEST_TIMEOUT_SECS: u64 = 15;
/// The most of a provider's answer that is read, in bytes (discovery, JWKS,
/// tokens, user info): a longer answer is refused as unavailable.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// A failed call to a provider: no answer, or one too long.
#[derive(Debug)]
pub struct HttpError(String);

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HttpError {}

/// The relying party: one HTTP client and the discovery cache.
#[derive(Clone)]
pub struct UpstreamClient {
    http: reqwest::Client,
    discovered: moka::sync::Cache<String, Arc<CoreProviderMetadata>>,
}

impl std::fmt::Debug for UpstreamClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamClient").finish_non_exhaustive()
    }
}

impl UpstreamClient {
    /// A relying party with its own HTTP client (rustls with aws-lc-rs,
    /// the web PKI's roots, no redirects, the timeouts above).
    ///
    /// # Errors
    /// When the HTTP client cannot be built (no TLS roots).
    pub fn new() -> Result<Self, String> {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(CONNECT_TIMEOUT_SECS))
            .timeout(Duration::from_secs(REQUEST_TIMEOUT_SECS))
            .user_agent(concat!("Tessera/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            http,
            discovered: moka::sync::Cache::builder()
                .max_capacity(256)
                .time_to_live(Duration::from_secs(DISCOVERY_TTL_SECS))
                .build(),
        })
    }

    /// One HTTP exchange for the protocol libraries, its answer read up to
    /// [`MAX_RESPONSE_BYTES`].
    ///
    /// # Errors
    /// [`HttpError`] when there is no answer, or it is longer.
    pub async fn call(
        &self,
        request: openidconnect::HttpRequest,
    ) -> Result<openidconnect::HttpResponse, HttpError> {
        limited_call(self.http.clone(), request).await
    }

    /// [`Self::call`] as the protocol libraries take it: a function whose
    /// futures own what they use.
    fn http_client(
        &self,
    ) -> impl Fn(openidconnect::HttpRequest) -> HttpFuture + Send + Sync + use<> {
        let client = self.http.clone();
        move |request| Box::pin(limited_call(client.clone(), request))
    }

    /// The discovery document of `issuer` with its JWKS, reused unless
    /// `fresh`. Its `issuer` must be the configured one, except for a
    /// tenant issuer (see the crate's documentation).
    async fn discover(
        &self,
        issuer: &str,
        tenant_issuer: bool,
        fresh: bool,
    ) -> Result<Arc<CoreProviderMetadata>, UpstreamError> {
        if !fresh && let Some(m) = self.discovered.get(issuer) {
            return Ok(m);
        }
        IssuerUrl::new(issuer.to_owned())
            .map_err(|e| UpstreamError::Invalid(format!("issuer: {e}")))?;
        // OpenID Connect Discovery 1.0 §4.1: the issuer, `/.well-known/…` appended.
        let separator = if issuer.ends_with('/') { "" } else { "/" };
        let url = format!("{issuer}{separator}.well-known/openid-configuration");
        let http = self.http_client();
        let request = http::Request::get(url.as_str())
            .header(http::header::ACCEPT, "application/json")
            .body(Vec::new())
            .map_err(|e| UpstreamError::Invalid(format!("discovery: {e}")))?;
        let answer = http(request)
            .await
            .map_err(|e| UpstreamError::Unavailable(format!("discovery: {e}")))?;
        if !answer.status().is_success() {
            return Err(UpstreamError::Unavailable(format!(
                "discovery: {url} answered {}",
                answer.status()
            )));
        }
        let metadata: CoreProviderMetadata = serde_json::from_slice(answer.body())
            .map_err(|e| UpstreamError::Invalid(format!("discovery: {e}")))?;
        if !tenant_issuer && metadata.issuer().as_str() != issuer {
            return Err(UpstreamError::Invalid(format!(
                "discovery: the document's issuer {:?} is not {issuer:?}",
                metadata.issuer().as_str()
            )));
        }
        let jwks = openidconnect::core::CoreJsonWebKeySet::fetch_async(metadata.jwks_uri(), &http)
            .await
            .map_err(|e| discovery_error(&e))?;
        let metadata = Arc::new(metadata.set_jwks(jwks));
        self.discovered.insert(issuer.to_owned(), metadata.clone());
        Ok(metadata)
    }

    fn oidc_client(
        provider: &UpstreamProvider,
        metadata: &CoreProviderMetadata,
        redirect_uri: &str,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        UpstreamError,
    > {
        Ok(CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(provider.client_id.clone()),
            Some(ClientSecret::new(
                provider.client_secret.expose().to_owned(),
            )),
        )
        .set_auth_type(auth_type(provider.token_auth))
        .set_redirect_uri(
            RedirectUrl::new(redirect_uri.to_owned())
                .map_err(|e| UpstreamError::Invalid(format!("redirect_uri: {e}")))?,
        ))
    }

    async fn redeem_oidc(
        &self,
        provider: &UpstreamProvider,
        issuer: &str,
        tenant_issuer: bool,
        redemption: &UpstreamRedemption,
    ) -> Result<UpstreamIdentity, UpstreamError> {
        let metadata = self.discover(issuer, tenant_issuer, false).await?;
        let client = Self::oidc_client(provider, &metadata, &redemption.redirect_uri)?;
        let http = self.http_client();
        let tokens = client
            .exchange_code(AuthorizationCode::new(redemption.code.clone()))
            .map_err(|e| UpstreamError::Invalid(format!("token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(redemption.code_verifier.clone()))
            .request_async(&http)
            .await
            .map_err(|e| token_error(&e))?;
        let id_token = tokens
            .id_token()
            .ok_or_else(|| UpstreamError::Invalid("no ID token".into()))?;
        let nonce = Nonce::new(redemption.nonce.clone());
        let check = |client: &CoreClient<_, _, _, _, _, _>| {
            let verifier = client
                .id_token_verifier()
                .require_issuer_match(!tenant_issuer);
            id_token
                .claims(&verifier, &nonce)
                .cloned()
                .map_err(|e| e.to_string())
        };
        let (claims, metadata) = match check(&client) {
            Ok(c) => (c, metadata),
            Err(_) => {
                // The keys may have rotated since discovery: once more
                // with a fresh document.
                let fresh = self.discover(issuer, tenant_issuer, true).await?;
                let client = Self::oidc_client(provider, &fresh, &redemption.redirect_uri)?;
                let claims =
                    check(&client).map_err(|e| UpstreamError::Invalid(format!("ID token: {e}")))?;
                (claims, fresh)
            }
        };
        if tenant_issuer {
            check_tenant_issuer(&id_token.to_string(), metadata.issuer().as_str())?;
        }
        let mut identity = UpstreamIdentity {
            subject: claims.subject().as_str().to_owned(),
            email: claims.email().map(|e| e.as_str().to_owned()),
            email_verified: claims.email_verified().unwrap_or(false),
            name: claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str().to_owned()),
            username: claims.preferred_username().map(|u| u.as_str().to_owned()),
        };
        if identity.email.is_none()
            && metadata.userinfo_endpoint().is_some()
            && let Ok(request) = client.user_info(
                tokens.access_token().clone(),
                Some(claims.subject().clone()),
            )
        {
            let info: CoreUserInfoClaims = request
                .request_async(&http)
                .await
                .map_err(|e| UpstreamError::Unavailable(format!("userinfo: {e}")))?;
            identity.email = info.email().map(|e| e.as_str().to_owned());
            identity.email_verified = info.email_verified().unwrap_or(false);
        }
        Ok(identity)
    }

    async fn redeem_oauth2(
        &self,
        provider: &UpstreamProvider,
        endpoints: &OAuth2Endpoints,
        redemption: &UpstreamRedemption,
    ) -> Result<UpstreamIdentity, UpstreamError> {
        let bad = |field: &str, e: &dyn std::fmt::Display| {
            UpstreamError::Invalid(format!("{field}: {e}"))
        };
        let client =
            oauth2::basic::BasicClient::new(oauth2::ClientId::new(provider.client_id.clone()))
                .set_client_secret(oauth2::ClientSecret::new(
                    provider.client_secret.expose().to_owned(),
                ))
                .set_auth_type(oauth2_auth_type(provider.token_auth))
                .set_token_uri(
                    oauth2::TokenUrl::new(endpoints.token_url.clone())
                        .map_err(|e| bad("token_url", &e))?,
                )
                .set_redirect_uri(
                    oauth2::RedirectUrl::new(redemption.redirect_uri.clone())
                        .map_err(|e| bad("redirect_uri", &e))?,
                );
        let http = self.http_client();
        let tokens = client
            .exchange_code(oauth2::AuthorizationCode::new(redemption.code.clone()))
            .set_pkce_verifier(oauth2::PkceCodeVerifier::new(
                redemption.code_verifier.clone(),
            ))
            .request_async(&http)
            .await
            .map_err(|e| token_error(&e))?;
        let access = tokens.access_token().secret();
        let info = self.read_json(&endpoints.userinfo_url, access).await?;
        let mut identity = map_claims(&info, &endpoints.claims)?;
        if let Some(url) = &endpoints.emails_url {
            let list = self.read_json(url, access).await?;
            if let Some((email, verified)) = primary_email(&list) {
                identity.email = Some(email);
                identity.email_verified = verified;
            }
        }
        Ok(identity)
    }

    /// `GET url` with `access` as a bearer token, as JSON.
    async fn read_json(&self, url: &str, access: &str) -> Result<serde_json::Value, UpstreamError> {
        let request = http::Request::get(url)
            .header(http::header::AUTHORIZATION, format!("Bearer {access}"))
            .header(http::header::ACCEPT, "application/json")
            .body(Vec::new())
            .map_err(|e| UpstreamError::Invalid(format!("{url}: {e}")))?;
        let response = self
            .call(request)
            .await
            .map_err(|e| UpstreamError::Unavailable(format!("{url}: {e}")))?;
        let status = response.status();
        if status.is_server_error() {
            return Err(UpstreamError::Unavailable(format!("{url}: {status}")));
        }
        if !status.is_success() {
            return Err(UpstreamError::Refused(format!("{url}: {status}")));
        }
        serde_json::from_slice(response.body())
            .map_err(|e| UpstreamError::Invalid(format!("{url}: {e}")))
    }
}

impl UpstreamRelyingParty for UpstreamClient {
    async fn authorization_url(
        &self,
        provider: &UpstreamProvider,
        request: &UpstreamRequest,
    ) -> Result<String, UpstreamError> {
        let state = request.state.clone();
        let url = match &provider.protocol {
            UpstreamProtocol::OpenIdConnect {
                issuer,
                tenant_issuer,
            } => {
                let metadata = self.discover(issuer, *tenant_issuer, false).await?;
                let client = Self::oidc_client(provider, &metadata, &request.redirect_uri)?;
                let nonce = request.nonce.clone();
                let mut auth = client.authorize_url(
                    CoreAuthenticationFlow::AuthorizationCode,
                    move || CsrfToken::new(state),
                    move || Nonce::new(nonce),
                );
                for scope in &provider.scopes {
                    if scope != "openid" {
                        auth = auth.add_scope(Scope::new(scope.clone()));
                    }
                }
                auth.add_extra_param("code_challenge", request.code_challenge.clone())
                    .add_extra_param("code_challenge_method", "S256")
                    .url()
                    .0
            }
            UpstreamProtocol::OAuth2(endpoints) => {
                let bad = |e: &dyn std::fmt::Display| {
                    UpstreamError::Invalid(format!("authorization_url: {e}"))
                };
                let client = oauth2::basic::BasicClient::new(oauth2::ClientId::new(
                    provider.client_id.clone(),
                ))
                .set_auth_uri(
                    oauth2::AuthUrl::new(endpoints.authorization_url.clone())
                        .map_err(|e| bad(&e))?,
                )
                .set_redirect_uri(
                    oauth2::RedirectUrl::new(request.redirect_uri.clone()).map_err(|e| bad(&e))?,
                );
                let mut auth = client.authorize_url(move || oauth2::CsrfToken::new(state));
                for scope in &provider.scopes {
                    auth = auth.add_scope(oauth2::Scope::new(scope.clone()));
                }
                auth.add_extra_param("code_challenge", request.code_challenge.clone())
                    .add_extra_param("code_challenge_method", "S256")
                    .url()
                    .0
            }
        };
        Ok(url.to_string())
    }

    async fn redeem(
        &self,
        provider: &UpstreamProvider,
        redemption: &UpstreamRedemption,
    ) -> Result<UpstreamIdentity, UpstreamError> {
        let identity = match &provider.protocol {
            UpstreamProtocol::OpenIdConnect {
                issuer,
                tenant_issuer,
            } => {
                self.redeem_oidc(provider, issuer, *tenant_issuer, redemption)
                    .await?
            }
            UpstreamProtocol::OAuth2(endpoints) => {
                self.redeem_oauth2(provider, endpoints, redemption).await?
            }
        };
        if identity.subject.is_empty() || identity.subject.len() > 255 {
            return Err(UpstreamError::Invalid(
                "the subject is empty or longer than 255 bytes".into(),
            ));
        }
        Ok(identity)
    }
}

/// What [`UpstreamClient::http_client`]'s function answers.
type HttpFuture =
    std::pin::Pin<Box<dyn Future<Output = Result<openidconnect::HttpResponse, HttpError>> + Send>>;

/// One HTTP exchange with `client`, its answer read up to [`MAX_RESPONSE_BYTES`].
async fn limited_call(
    client: reqwest::Client,
    request: openidconnect::HttpRequest,
) -> Result<openidconnect::HttpResponse, HttpError> {
    let request = reqwest::Request::try_from(request).map_err(|e| HttpError(e.to_string()))?;
    let mut response = client
        .execute(request)
        .await
        .map_err(|e| HttpError(e.to_string()))?;
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| HttpError(e.to_string()))?
    {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(HttpError(format!(
                "the answer is longer than {MAX_RESPONSE_BYTES} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    let mut answer = http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        answer = answer.header(name, value);
    }
    answer.body(body).map_err(|e| HttpError(e.to_string()))
}

const fn auth_type(auth: TokenEndpointAuth) -> AuthType {
    match auth {
        TokenEndpointAuth::ClientSecretBasic => AuthType::BasicAuth,
        TokenEndpointAuth::ClientSecretPost => AuthType::RequestBody,
    }
}

const fn oauth2_auth_type(auth: TokenEndpointAuth) -> oauth2::AuthType {
    match auth {
        TokenEndpointAuth::ClientSecretBasic => oauth2::AuthType::BasicAuth,
        TokenEndpointAuth::ClientSecretPost => oauth2::AuthType::RequestBody,
    }
}

fn discovery_error<E: std::error::Error>(e: &E) -> UpstreamError {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    if text.contains("Failed to parse") || text.contains("Validation error") {
        UpstreamError::Invalid(format!("discovery: {text}"))
    } else {
        UpstreamError::Unavailable(format!("discovery: {text}"))
    }
}

/// A token endpoint's failure: an OAuth error answer is a refusal (but
/// `temporarily_unavailable` and `server_error` say the provider is down);
/// no answer, or an unreadable one, is unavailability.
fn token_error<RE, T>(e: &oauth2::RequestTokenError<RE, T>) -> UpstreamError
where
    RE: std::error::Error + 'static,
    T: oauth2::ErrorResponse + 'static,
{
    match e {
        oauth2::RequestTokenError::ServerResponse(r) => {
            let text = r.to_string();
            if text.starts_with("temporarily_unavailable") || text.starts_with("server_error") {
                UpstreamError::Unavailable(format!("token endpoint: {text}"))
            } else {
                UpstreamError::Refused(format!("token endpoint: {text}"))
            }
        }
        oauth2::RequestTokenError::Request(r) => {
            UpstreamError::Unavailable(format!("token endpoint: {r}"))
        }
        oauth2::RequestTokenError::Parse(p, body) => {
            // GitHub answers a refused code with 200 and `{"error": …}`.
            match serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_owned))
            {
                Some(error) => UpstreamError::Refused(format!("token endpoint: {error}")),
                None => {
                    UpstreamError::Unavailable(format!("token endpoint answered unreadably: {p}"))
                }
            }
        }
        oauth2::RequestTokenError::Other(o) => {
            UpstreamError::Unavailable(format!("token endpoint: {o}"))
        }
    }
}

/// Microsoft Entra ID's issuers: the ID token's `iss` must be the discovery
/// document's `issuer`, its `{tenantid}` (multi-tenant documents) replaced
/// by the token's own `tid` (the signature, audience, expiry and nonce were
/// checked already).
fn check_tenant_issuer(id_token: &str, document_issuer: &str) -> Result<(), UpstreamError> {
    use base64::Engine as _;
    let bad = |why: &str| UpstreamError::Invalid(format!("ID token: {why}"));
    let payload = id_token.split('.').nth(1).ok_or_else(|| bad("malformed"))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| bad("malformed"))?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| bad("malformed"))?;
    let tid = claims["tid"].as_str().ok_or_else(|| bad("no tid"))?;
    let expected = document_issuer.replace("{tenantid}", tid);
    let ok = !tid.is_empty()
        && tid.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
        && claims["iss"].as_str() == Some(expected.as_str());
    if ok {
        Ok(())
    } else {
        Err(bad("iss is not its tenant's issuer"))
    }
}

/// The value at `path` (dotted) in `doc`, as text: strings as they are,
/// numbers in decimal; `None` for anything else.
fn text_at(doc: &serde_json::Value, path: &str) -> Option<String> {
    let value = path.split('.').try_fold(doc, |v, key| v.get(key))?;
    match value {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The identity a user-info document gives through `mapping`.
///
/// # Errors
/// [`UpstreamError::Invalid`] when it has no subject.
pub fn map_claims(
    doc: &serde_json::Value,
    mapping: &ClaimMapping,
) -> Result<UpstreamIdentity, UpstreamError> {
    let subject = text_at(doc, &mapping.subject).ok_or_else(|| {
        UpstreamError::Invalid(format!("userinfo has no subject at {:?}", mapping.subject))
    })?;
    let read = |path: &Option<String>| path.as_deref().and_then(|p| text_at(doc, p));
    let email_verified = mapping.email_verified.as_deref().is_some_and(|p| {
        p.split('.')
            .try_fold(doc, |v, key| v.get(key))
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
    });
    Ok(UpstreamIdentity {
        subject,
        email: read(&mapping.email),
        email_verified,
        name: read(&mapping.name),
        username: read(&mapping.username),
    })
}

/// GitHub's `GET /user/emails`: the primary address and whether it is verified.
fn primary_email(list: &serde_json::Value) -> Option<(String, bool)> {
    list.as_array()?.iter().find_map(|e| {
        (e["primary"].as_bool() == Some(true))
            .then(|| {
                e["email"]
                    .as_str()
                    .map(|s| (s.to_owned(), e["verified"].as_bool() == Some(true)))
            })
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn github() -> ClaimMapping {
        ClaimMapping {
            subject: "id".into(),
            email: Some("email".into()),
            email_verified: None,
            name: Some("name".into()),
            username: Some("login".into()),
        }
    }

    #[test]
    fn a_numeric_subject_reads_as_its_decimal_text() {
        let doc =
            serde_json::json!({"id": 583231, "login": "octocat", "name": null, "email": null});
        let id = map_claims(&doc, &github()).unwrap();
        assert_eq!(id.subject, "583231");
        assert_eq!(id.username.as_deref(), Some("octocat"));
        assert_eq!(id.email, None);
        assert!(!id.email_verified, "no claim says verified");
    }

    #[test]
    fn dotted_paths_reach_nested_members_and_a_missing_subject_is_refused() {
        let mapping = ClaimMapping {
            subject: "data.openid".into(),
            email: None,
            email_verified: Some("data.verified".into()),
            name: None,
            username: None,
        };
        let doc = serde_json::json!({"data": {"openid": "o-1", "verified": true}});
        let id = map_claims(&doc, &mapping).unwrap();
        assert_eq!(id.subject, "o-1");
        assert!(id.email_verified);
        assert!(matches!(
            map_claims(&serde_json::json!({"data": {}}), &mapping),
            Err(UpstreamError::Invalid(_))
        ));
    }

    #[test]
    fn the_primary_address_comes_with_its_verification() {
        let list = serde_json::json!([
            {"email": "a@users.noreply.github.com", "primary": false, "verified": true},
            {"email": "a@example.com", "primary": true, "verified": false}
        ]);
        assert_eq!(primary_email(&list), Some(("a@example.com".into(), false)));
        assert_eq!(primary_email(&serde_json::json!({"message": "Bad"})), None);
    }

    #[test]
    fn an_entra_token_must_name_its_own_tenant() {
        use base64::Engine as _;
        let token = |claims: serde_json::Value| {
            let b = base64::engine::general_purpose::URL_SAFE_NO_PAD;
            format!("e30.{}.sig", b.encode(claims.to_string()))
        };
        let tid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
        let common = "https://login.microsoftonline.com/{tenantid}/v2.0";
        let own = format!("https://login.microsoftonline.com/{tid}/v2.0");
        let check = |claims: serde_json::Value, doc: &str| check_tenant_issuer(&token(claims), doc);
        assert!(check(serde_json::json!({"tid": tid, "iss": own}), common).is_ok());
        let other = "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0";
        assert!(check(serde_json::json!({"tid": tid, "iss": other}), common).is_err());
        assert!(check(serde_json::json!({"iss": own}), common).is_err());
        // A single tenant's document names its own issuer: only it passes.
        assert!(check(serde_json::json!({"tid": tid, "iss": own}), &own).is_ok());
        let stranger = "00000000-0000-0000-0000-000000000000";
        assert!(check(serde_json::json!({"tid": stranger, "iss": other}), &own).is_err());
    }
}
