//! `/api/admin/clients`: the OpenID Provider's clients (issue 18), for
//! holders of `client:manage` whose sign-in is recent (`REAUTH_MAX_AGE`).

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use tessera_domain::error::AuthError;
use tessera_domain::model::{ClientDraft, ClientKind, GrantType, OAuthClient, Scope};
use tessera_domain::ports::Ports;
use tessera_domain::usecase::{Actor, RegisteredClient};
use utoipa::ToSchema;

use super::errors::AdminError;
use crate::http::AppState;
use crate::http::modern::dto::{Error, Message};
use crate::http::route::Route;
use crate::openapi::TOKEN_REFUSED;

type State<P> = web::Data<AppState<P>>;

crate::declare_routes! {
    "/api/admin";
    Get "/clients" => list::<P> [permission CLIENT_MANAGE];
    Post "/clients" => create::<P> [permission CLIENT_MANAGE];
    Get "/clients/{id}" => show::<P> [permission CLIENT_MANAGE];
    Delete "/clients/{id}" => delete::<P> [permission CLIENT_MANAGE];
    Post "/clients/{id}/secret" => rotate_secret::<P> [permission CLIENT_MANAGE];
    Post "/clients/{id}/disable" => disable::<P> [permission CLIENT_MANAGE];
    Post "/clients/{id}/enable" => enable::<P> [permission CLIENT_MANAGE];
}

/// A registered client.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClientJson {
    pub client_id: String,
    pub name: String,
    /// `public` or `confidential`.
    pub kind: &'static str,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub scopes: Vec<&'static str>,
    pub grant_types: Vec<&'static str>,
    pub first_party: bool,
    pub disabled: bool,
    /// Public keys for `private_key_jwt` (a JWK Set), when registered.
    pub jwks: Option<serde_json::Value>,
    /// RFC 3339.
    pub created_at: String,
}

impl From<&OAuthClient> for ClientJson {
    fn from(c: &OAuthClient) -> Self {
        Self {
            client_id: c.id.to_string(),
            name: c.name.clone(),
            kind: c.kind.as_str(),
            redirect_uris: c.redirect_uris.clone(),
            post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
            scopes: c.scopes.iter().map(|s| s.as_str()).collect(),
            grant_types: c.grant_types.iter().map(|g| g.as_str()).collect(),
            first_party: c.first_party,
            disabled: c.disabled,
            jwks: c.jwks.as_deref().and_then(|j| serde_json::from_str(j).ok()),
            created_at: c.created_at.to_rfc3339(),
        }
    }
}

/// `GET /api/admin/clients`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClientList {
    pub clients: Vec<ClientJson>,
}

/// A client with its secret, shown once (a confidential client's
/// registration, a rotation).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClientWithSecret {
    pub client: ClientJson,
    /// `null` for a public client.
    pub client_secret: Option<String>,
}

/// The client types of RFC 6749 §2.1.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KindName {
    /// No secret; PKCE required.
    Public,
    /// A secret, shown once.
    Confidential,
}

impl From<&RegisteredClient> for ClientWithSecret {
    fn from(r: &RegisteredClient) -> Self {
        Self {
            client: ClientJson::from(&r.client),
            client_secret: r.secret.as_ref().map(|s| s.expose().to_owned()),
        }
    }
}

/// `POST /api/admin/clients`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientRequest {
    /// 1–100 characters, no control characters.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    pub kind: KindName,
    /// 1–20 absolute URIs (exact match): `https`, `http` on a loopback
    /// host, or a private-use scheme with a dot; no fragment.
    #[schema(min_items = 1, max_items = 20)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Default: every scope.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Default: `authorization_code`, `refresh_token`.
    #[serde(default)]
    pub grant_types: Vec<String>,
    #[serde(default)]
    pub first_party: bool,
    /// Public keys for `private_key_jwt` (a JWK Set; confidential clients).
    #[serde(default)]
    pub jwks: Option<serde_json::Value>,
}

/// The caller, once their token is accepted and they hold `client:manage`.
pub(super) async fn caller<P: Ports>(
    state: &State<P>,
    req: &HttpRequest,
) -> Result<Actor, AdminError> {
    let (auth, user) = crate::http::authenticate_user(state, req).await?;
    let permission = Route::of(req)
        .and_then(|r| r.permission)
        .ok_or_else(|| AuthError::Internal(format!("{}: no permission declared", req.path())))?;
    let user = state.auth.require_permission(user, permission).await?;
    Ok(Actor {
        user: Some(user),
        client: auth.client,
        authentication: Some(auth.claims.authentication),
    })
}

/// 400 `invalid_client_metadata` (RFC 7591 §3.2.2's name) with the reason.
fn refused_metadata(reason: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(Error::new("invalid_client_metadata", reason, reason))
}

/// `GET /api/admin/clients`.
#[utoipa::path(get, path = "/api/admin/clients", tag = super::TAG,
    summary = "List the OpenID Provider's clients",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every client.", body = ClientList),
        (status = 401, description = TOKEN_REFUSED, body = Error),
        (status = 403, description = "Missing permission.", body = Error),
    ),
)]
async fn list<P: Ports>(state: State<P>, req: HttpRequest) -> Result<HttpResponse, AdminError> {
    caller(&state, &req).await?;
    let clients = state.auth.list_clients().await?;
    Ok(HttpResponse::Ok().json(ClientList {
        clients: clients.iter().map(ClientJson::from).collect(),
    }))
}

/// `POST /api/admin/clients`: registers a client; a confidential one's
/// secret is in the answer, once.
#[utoipa::path(post, path = "/api/admin/clients", tag = super::TAG,
    summary = "Register a client",
    security(("bearer" = [])),
    request_body = ClientRequest,
    responses(
        (status = 201, description = "Registered.", body = ClientWithSecret),
        (status = 400, description = "Refused metadata (`invalid_client_metadata`) or body.", body = Error),
        (status = 401, description = TOKEN_REFUSED, body = Error),
        (status = 403, description = "Missing permission, or a sign-in older than REAUTH_MAX_AGE.", body = Error),
    ),
)]
async fn create<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    let actor = caller(&state, &req).await?;
    let body = crate::http::read_json(payload, state.max_body_bytes).await?;
    let request: ClientRequest = match serde_json::from_value(serde_json::Value::Object(body)) {
        Ok(r) => r,
        Err(e) => return Ok(refused_metadata(&e.to_string())),
    };
    let kind = match request.kind {
        KindName::Public => ClientKind::Public,
        KindName::Confidential => ClientKind::Confidential,
    };
    let mut scopes = Vec::new();
    for s in &request.scopes {
        match Scope::parse(s) {
            Some(scope) => scopes.push(scope),
            None => return Ok(refused_metadata(&format!("scopes: unknown scope {s:?}"))),
        }
    }
    let mut grant_types = Vec::new();
    for g in &request.grant_types {
        match GrantType::parse(g) {
            Some(grant) => grant_types.push(grant),
            None => return Ok(refused_metadata(&format!("grant_types: unknown {g:?}"))),
        }
    }
    let draft = ClientDraft {
        name: request.name,
        kind,
        redirect_uris: request.redirect_uris,
        post_logout_redirect_uris: request.post_logout_redirect_uris,
        scopes,
        grant_types,
        first_party: request.first_party,
        jwks: request.jwks.map(|j| j.to_string()),
    };
    match state.auth.register_client(&actor, draft).await {
        Ok(registered) => Ok(HttpResponse::Created().json(ClientWithSecret::from(&registered))),
        Err(Ok(refused)) => Ok(refused_metadata(&refused.to_string())),
        Err(Err(e)) => Err(e.into()),
    }
}

/// `GET /api/admin/clients/{id}`.
#[utoipa::path(get, path = "/api/admin/clients/{id}", tag = super::TAG,
    summary = "One client",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The client.", body = ClientJson),
        (status = 401, description = TOKEN_REFUSED, body = Error),
        (status = 403, description = "Missing permission.", body = Error),
        (status = 404, description = "No such client.", body = Error),
    ),
)]
async fn show<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    caller(&state, &req).await?;
    let client = state.auth.find_client(&id).await?;
    Ok(HttpResponse::Ok().json(ClientJson::from(&client)))
}

/// `DELETE /api/admin/clients/{id}`: its sessions end, its consents and
/// grants go.
#[utoipa::path(delete, path = "/api/admin/clients/{id}", tag = super::TAG,
    summary = "Delete a client (its sessions end)",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "Deleted.", body = Message),
        (status = 401, description = TOKEN_REFUSED, body = Error),
        (status = 403, description = "Missing permission, or a sign-in older than REAUTH_MAX_AGE.", body = Error),
        (status = 404, description = "No such client.", body = Error),
    ),
)]
async fn delete<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let actor = caller(&state, &req).await?;
    state.auth.delete_client(&actor, &id).await?;
    Ok(HttpResponse::Ok().json(Message::new("client deleted")))
}

/// `POST /api/admin/clients/{id}/secret`: a new secret (the old one stops
/// working at once), shown once.
#[utoipa::path(post, path = "/api/admin/clients/{id}/secret", tag = super::TAG,
    summary = "Replace a confidential client's secret",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The new secret.", body = ClientWithSecret),
        (status = 401, description = TOKEN_REFUSED, body = Error),
        (status = 403, description = "Missing permission, or a sign-in older than REAUTH_MAX_AGE.", body = Error),
        (status = 404, description = "No such confidential client.", body = Error),
    ),
)]
async fn rotate_secret<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let actor = caller(&state, &req).await?;
    let rotated = state.auth.rotate_client_secret(&actor, &id).await?;
    Ok(HttpResponse::Ok().json(ClientWithSecret::from(&rotated)))
}

async fn set_disabled<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    id: &str,
    disabled: bool,
) -> Result<HttpResponse, AdminError> {
    let actor = caller(&state, &req).await?;
    let client = state.auth.set_client_disabled(&actor, id, disabled).await?;
    Ok(HttpResponse::Ok().json(ClientJson::from(&client)))
}

/// `POST /api/admin/clients/{id}/disable`: refused everywhere, its
/// sessions end.
#[utoipa::path(post, path = "/api/admin/clients/{id}/disable", tag = super::TAG,
    summary = "Disable a client (its sessions end)",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "Disabled.", body = ClientJson),
        (status = 401, description = TOKEN_REFUSED, body = Error),
        (status = 403, description = "Missing permission, or a sign-in older than REAUTH_MAX_AGE.", body = Error),
        (status = 404, description = "No such client.", body = Error),
    ),
)]
async fn disable<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    set_disabled(state, req, &id, true).await
}

/// `POST /api/admin/clients/{id}/enable`.
#[utoipa::path(post, path = "/api/admin/clients/{id}/enable", tag = super::TAG,
    summary = "Enable a client",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "Enabled.", body = ClientJson),
        (status = 401, description = TOKEN_REFUSED, body = Error),
        (status = 403, description = "Missing permission, or a sign-in older than REAUTH_MAX_AGE.", body = Error),
        (status = 404, description = "No such client.", body = Error),
    ),
)]
async fn enable<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    set_disabled(state, req, &id, false).await
}
