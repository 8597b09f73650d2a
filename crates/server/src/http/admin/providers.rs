//! `/api/admin/providers`: the upstream identity providers people may sign
//! in with (issue 19), for holders of `client:manage` whose sign-in is
//! recent (`REAUTH_MAX_AGE`). The configuration's providers are listed
//! (`source: "configuration"`) and cannot be changed here; the console's
//! are kept in the store. A provider's fields are its settings'
//! (docs/federation.md): the same presets fill in what is left out.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use tessera_domain::model::{ProviderSource, UpstreamId, UpstreamProtocol, UpstreamProvider};
use tessera_domain::ports::Ports;
use tessera_domain::usecase::FederationError;
use utoipa::ToSchema;

use super::clients::caller;
use super::errors::AdminError;
use crate::http::AppState;
use crate::http::modern::dto::{Error, Message};
use crate::http::modern::federation::refused;
use crate::openapi::TOKEN_REFUSED;

type State<P> = web::Data<AppState<P>>;

crate::declare_routes! {
    "/api/admin";
    Get "/providers" => list::<P> [permission CLIENT_MANAGE];
    Post "/providers/{id}" => save::<P> [permission CLIENT_MANAGE];
    Delete "/providers/{id}" => delete::<P> [permission CLIENT_MANAGE];
}

/// A provider as the console shows it (never its secret).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UpstreamProviderJson {
    pub id: String,
    pub name: String,
    /// `github`, `google`, `entra`, or `null`.
    pub preset: Option<String>,
    /// `oidc` or `oauth2`.
    pub protocol: &'static str,
    /// OpenID Connect: the issuer.
    pub issuer: Option<String>,
    /// OAuth 2.0: the endpoints.
    pub authorization_url: Option<String>,
    pub token_url: Option<String>,
    pub userinfo_url: Option<String>,
    pub client_id: String,
    /// `client_secret_basic` or `client_secret_post`.
    pub token_auth: &'static str,
    pub scopes: Vec<String>,
    pub allow_sign_up: bool,
    pub link_by_email: bool,
    pub enabled: bool,
    /// `configuration` (read-only here) or `console`.
    pub source: &'static str,
    /// Where the provider must send people back (register it there).
    pub redirect_uri: String,
}

impl UpstreamProviderJson {
    fn new(p: &UpstreamProvider, redirect_uri: String) -> Self {
        let (protocol, issuer, endpoints) = match &p.protocol {
            UpstreamProtocol::OpenIdConnect { issuer, .. } => ("oidc", Some(issuer.clone()), None),
            UpstreamProtocol::OAuth2(e) => ("oauth2", None, Some(e)),
        };
        Self {
            id: p.id.to_string(),
            name: p.display_name.clone(),
            preset: p.preset.clone(),
            protocol,
            issuer,
            authorization_url: endpoints.map(|e| e.authorization_url.clone()),
            token_url: endpoints.map(|e| e.token_url.clone()),
            userinfo_url: endpoints.map(|e| e.userinfo_url.clone()),
            client_id: p.client_id.clone(),
            token_auth: p.token_auth.as_str(),
            scopes: p.scopes.clone(),
            allow_sign_up: p.allow_sign_up,
            link_by_email: p.link_by_email,
            enabled: p.enabled,
            source: match p.source {
                ProviderSource::Configuration => "configuration",
                ProviderSource::Console => "console",
            },
            redirect_uri,
        }
    }
}

/// `GET /api/admin/providers`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UpstreamProviderList {
    pub providers: Vec<UpstreamProviderJson>,
}

/// Where an OAuth 2.0 provider's user-info document keeps each field.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimMappingRequest {
    pub subject: Option<String>,
    pub email: Option<String>,
    pub email_verified: Option<String>,
    pub name: Option<String>,
    pub username: Option<String>,
}

/// `POST /api/admin/providers/{id}`: the settings of docs/federation.md.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpstreamProviderRequest {
    /// The name on the sign-in button.
    pub name: Option<String>,
    /// `github`, `google`, `entra`, `oidc` or `oauth2` (default: `oidc`
    /// with an issuer, else `oauth2`; the id when it names a preset).
    pub preset: Option<String>,
    pub issuer: Option<String>,
    /// Microsoft Entra ID: the tenant (default `common`).
    pub tenant: Option<String>,
    pub authorization_url: Option<String>,
    pub token_url: Option<String>,
    pub userinfo_url: Option<String>,
    pub emails_url: Option<String>,
    #[serde(default)]
    pub claims: ClaimMappingRequest,
    pub client_id: String,
    pub client_secret: String,
    pub token_auth: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub allow_sign_up: Option<bool>,
    pub link_by_email: Option<bool>,
    pub enabled: Option<bool>,
}

impl UpstreamProviderRequest {
    /// The setting `key` (a `UPSTREAM_<ID>_<KEY>` suffix).
    fn setting(&self, key: &str) -> Option<String> {
        let flag = |b: Option<bool>| b.map(|b| b.to_string());
        match key {
            "NAME" => self.name.clone(),
            "PRESET" => self.preset.clone(),
            "ISSUER" => self.issuer.clone(),
            "TENANT" => self.tenant.clone(),
            "AUTHORIZATION_URL" => self.authorization_url.clone(),
            "TOKEN_URL" => self.token_url.clone(),
            "USERINFO_URL" => self.userinfo_url.clone(),
            "EMAILS_URL" => self.emails_url.clone(),
            "CLAIM_SUBJECT" => self.claims.subject.clone(),
            "CLAIM_EMAIL" => self.claims.email.clone(),
            "CLAIM_EMAIL_VERIFIED" => self.claims.email_verified.clone(),
            "CLAIM_NAME" => self.claims.name.clone(),
            "CLAIM_USERNAME" => self.claims.username.clone(),
            "CLIENT_ID" => Some(self.client_id.clone()),
            "CLIENT_SECRET" => Some(self.client_secret.clone()),
            "TOKEN_AUTH" => self.token_auth.clone(),
            "SCOPES" => self.scopes.as_ref().map(|s| s.join(",")),
            "ALLOW_SIGN_UP" => flag(self.allow_sign_up),
            "LINK_BY_EMAIL" => flag(self.link_by_email),
            "ENABLED" => flag(self.enabled),
            _ => None,
        }
    }
}

#[utoipa::path(get, path = "/api/admin/providers", tag = super::TAG,
    summary = "List the upstream identity providers",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The configuration's, then the console's.", body = UpstreamProviderList),
        (status = 401, description = TOKEN_REFUSED, body = Error),
        (status = 403, description = "Missing permission, or a sign-in older than REAUTH_MAX_AGE.", body = Error),
    ),
)]
async fn list<P: Ports>(state: State<P>, req: HttpRequest) -> Result<HttpResponse, AdminError> {
    let actor = caller(&state, &req).await?;
    let providers = state.auth.list_upstream_providers(&actor).await?;
    Ok(HttpResponse::Ok().json(UpstreamProviderList {
        providers: providers
            .iter()
            .map(|p| UpstreamProviderJson::new(p, state.auth.upstream_callback(&p.id)))
            .collect(),
    }))
}

#[utoipa::path(post, path = "/api/admin/providers/{id}", tag = super::TAG,
    summary = "Add or replace a console provider",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "1–32 of a-z, 0-9, _; starting with a letter.")),
    request_body = UpstreamProviderRequest,
    responses(
        (status = 200, description = "Saved.", body = UpstreamProviderJson),
        (status = 400, description = "`provider_invalid`: a refused setting, named.", body = Error),
        (status = 401, description = TOKEN_REFUSED, body = Error),
        (status = 403, description = "Missing permission, or a sign-in older than REAUTH_MAX_AGE.", body = Error),
        (status = 409, description = "`provider_read_only`: the configuration's.", body = Error),
    ),
)]
async fn save<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    let actor = caller(&state, &req).await?;
    let body = crate::http::read_json(payload, state.max_body_bytes).await?;
    let invalid = |why: String| refused(FederationError::ProviderInvalid(why));
    let request: UpstreamProviderRequest =
        match serde_json::from_value(serde_json::Value::Object(body)) {
            Ok(r) => r,
            Err(e) => return invalid(e.to_string()),
        };
    let Some(id) = UpstreamId::parse(&id) else {
        return invalid("id: 1 to 32 characters of a-z, 0-9 and _, starting with a letter".into());
    };
    let provider = match crate::config::upstream::provider_from(
        id,
        &|k| request.setting(k),
        ProviderSource::Console,
    ) {
        Ok(p) => p,
        Err((key, why)) => return invalid(crate::config::upstream::refusal(&key, &why)),
    };
    if let Err(e) = state
        .auth
        .save_upstream_provider(&actor, provider.clone())
        .await
    {
        return refused(e);
    }
    Ok(HttpResponse::Ok().json(UpstreamProviderJson::new(
        &provider,
        state.auth.upstream_callback(&provider.id),
    )))
}

#[utoipa::path(delete, path = "/api/admin/providers/{id}", tag = super::TAG,
    summary = "Remove a console provider and the identities linked through it",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "Removed.", body = Message),
        (status = 401, description = TOKEN_REFUSED, body = Error),
        (status = 403, description = "Missing permission, or a sign-in older than REAUTH_MAX_AGE.", body = Error),
        (status = 404, description = "`unknown_provider`.", body = Error),
        (status = 409, description = "`provider_read_only`: the configuration's.", body = Error),
    ),
)]
async fn delete<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let actor = caller(&state, &req).await?;
    match state.auth.delete_upstream_provider(&actor, &id).await {
        Ok(()) => Ok(HttpResponse::Ok().json(Message::new("Removed."))),
        Err(e) => refused(e),
    }
}
