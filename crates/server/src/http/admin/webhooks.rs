//! `/api/admin/webhooks`: the endpoints that receive account events
//! (issue 20), for holders of `client:manage` whose sign-in is recent
//! (`REAUTH_MAX_AGE`). Messages follow the Standard Webhooks specification
//! (docs/webhooks.md); their payloads are in the OpenAPI document's
//! `webhooks` section ([`crate::openapi`]).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use tessera_domain::model::{DeliveryAttempt, WebhookDelivery, WebhookEndpoint, WebhookId};
use tessera_domain::ports::Ports;
use tessera_domain::usecase::WebhookError;
use utoipa::ToSchema;

use super::clients::caller;
use super::errors::AdminError;
use crate::http::AppState;
use crate::http::modern::dto::{Error, Message};
use crate::http::modern::errors::simple;
use crate::openapi::TOKEN_REFUSED;

type State<P> = web::Data<AppState<P>>;

crate::declare_routes! {
    "/api/admin";
    Get "/webhooks" => list::<P> [permission CLIENT_MANAGE];
    Post "/webhooks" => create::<P> [permission CLIENT_MANAGE];
    Delete "/webhooks/{id}" => delete::<P> [permission CLIENT_MANAGE];
    Post "/webhooks/{id}/disable" => disable::<P> [permission CLIENT_MANAGE];
    Post "/webhooks/{id}/enable" => enable::<P> [permission CLIENT_MANAGE];
    Get "/webhooks/{id}/deliveries" => deliveries::<P> [permission CLIENT_MANAGE];
}

/// An endpoint as the console shows it (never its secret).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookJson {
    pub id: i64,
    pub url: String,
    /// The event types it receives (`user.created`, …).
    pub events: Vec<&'static str>,
    pub description: String,
    pub enabled: bool,
    /// RFC 3339.
    pub created_at: String,
}

impl From<&WebhookEndpoint> for WebhookJson {
    fn from(e: &WebhookEndpoint) -> Self {
        Self {
            id: e.id.0,
            url: e.url.clone(),
            events: e.events.iter().map(|t| t.as_str()).collect(),
            description: e.description.clone(),
            enabled: e.enabled,
            created_at: crate::http::modern::passkeys::rfc3339(e.created_at),
        }
    }
}

/// `GET /api/admin/webhooks`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookList {
    pub webhooks: Vec<WebhookJson>,
}

/// `POST /api/admin/webhooks`: the endpoint and its signing secret, shown
/// this once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookWithSecret {
    pub webhook: WebhookJson,
    /// `whsec_` and the base64 of 32 random bytes: the key of
    /// `webhook-signature` (Standard Webhooks).
    pub secret: String,
}

/// `POST /api/admin/webhooks`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookRequest {
    /// `https://…`, or `http://` to a loopback host, without credentials or
    /// fragment; at most 2,000 characters.
    #[schema(min_length = 8, max_length = 2000)]
    pub url: String,
    /// Event types (`user.created`, …), or `["*"]` for every one.
    #[schema(min_items = 1)]
    pub events: Vec<String>,
    /// A note, at most 200 characters.
    #[serde(default)]
    pub description: String,
}

/// One attempt of a delivery.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryAttemptJson {
    /// RFC 3339.
    pub at: String,
    /// The endpoint's HTTP status; `null` when none came.
    pub status: Option<u16>,
    /// Why no answer came (`could not connect`, `timed out`, …).
    pub error: Option<String>,
    pub duration_ms: u64,
}

impl From<&DeliveryAttempt> for DeliveryAttemptJson {
    fn from(a: &DeliveryAttempt) -> Self {
        Self {
            at: crate::http::modern::passkeys::rfc3339(a.at),
            status: a.status,
            error: a.error.clone(),
            duration_ms: a.duration_ms,
        }
    }
}

/// One message to the endpoint.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryJson {
    pub id: i64,
    /// `webhook-id`: the same on every attempt.
    pub message_id: String,
    /// The event type.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub user_id: i64,
    /// The role, factor kind or reason, when the type has one.
    pub detail: Option<String>,
    /// RFC 3339: when the event happened.
    pub occurred_at: String,
    /// `pending`, `delivered` or `failed` (given up).
    pub state: &'static str,
    pub attempts: u32,
    /// RFC 3339: when it is tried next, while pending.
    pub next_attempt_at: String,
    pub history: Vec<DeliveryAttemptJson>,
}

impl From<&WebhookDelivery> for DeliveryJson {
    fn from(d: &WebhookDelivery) -> Self {
        Self {
            id: d.id,
            message_id: d.message_id.clone(),
            kind: d.event.kind.as_str(),
            user_id: d.event.user.0,
            detail: d.event.detail.clone(),
            occurred_at: crate::http::modern::passkeys::rfc3339(d.event.at),
            state: d.state.as_str(),
            attempts: d.attempts,
            next_attempt_at: crate::http::modern::passkeys::rfc3339(d.next_attempt_at),
            history: d.history.iter().map(DeliveryAttemptJson::from).collect(),
        }
    }
}

/// `GET /api/admin/webhooks/{id}/deliveries`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryList {
    pub deliveries: Vec<DeliveryJson>,
}

/// A webhook message's body (Standard Webhooks' recommended payload).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookMessage {
    /// The event type (`user.created`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// RFC 3339 with milliseconds: when the event happened.
    pub timestamp: String,
    pub data: WebhookMessageData,
}

/// What a webhook message is about.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookMessageData {
    /// The account's integer id (as every dialect shows it).
    pub user_id: i64,
    /// `role.granted`, `role.revoked`: the role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// `factor.enrolled`, `factor.removed`: `totp`, `passkey` or `recovery_code`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub factor: Option<String>,
    /// `user.sign_in_failed`: why (`wrong_password`, `disabled`, …);
    /// `session.revoked`: what ended it (`sessions_revoked`,
    /// `session_ended`, `session_evicted`, `refresh_reused`,
    /// `authorization_code_reused`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `user.email_changed`: `changed` (the holder confirmed a new address)
    /// or `reverted` (the link mailed to the previous address undid it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<String>,
}

/// The access-token hook's call (issue 20): `ACCESS_TOKEN_HOOK_URL` gets
/// it before each access token is signed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenHookCall {
    /// `access_token.issuing`.
    #[serde(rename = "type")]
    pub kind: String,
    /// RFC 3339 with milliseconds: when the call was made.
    pub timestamp: String,
    pub data: TokenHookCallData,
}

/// The token about to be signed and its account.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenHookCallData {
    /// The account's integer id (`uid`).
    pub user_id: i64,
    pub user_uuid: String,
    pub username: String,
    pub email: String,
    pub email_verified: bool,
    /// Every role, the primary one first.
    pub roles: Vec<String>,
    /// The session (`sid`).
    pub session_id: String,
    /// The OpenID Provider's client the token is for; `null` for the
    /// first-party API and pages.
    pub client_id: Option<String>,
    /// RFC 8176 methods of the session's sign-in.
    pub amr: Vec<String>,
    /// Authenticator assurance level, 1 or 2.
    pub aal: u8,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub issued_at: String,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub expires_at: String,
}

/// The hook's answer: `200` with the claims to add.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenHookAnswer {
    /// Claims to add (at most 4,096 bytes as JSON). Members named like a
    /// claim Tessera writes (`sub`, `role`, `exp`, … docs/webhooks.md) are
    /// dropped.
    #[schema(value_type = Object)]
    pub claims: serde_json::Map<String, serde_json::Value>,
}

/// A refusal in `/api/auth`'s shape: 400 for a refused field, 404 for an
/// unknown endpoint; the caller's own refusals (403, 503) as usual.
pub(crate) fn refused(e: WebhookError) -> Result<HttpResponse, AdminError> {
    let status = match e {
        WebhookError::Auth(a) => return Err(a.into()),
        WebhookError::UnknownEndpoint => StatusCode::NOT_FOUND,
        _ => StatusCode::BAD_REQUEST,
    };
    Ok(simple(status, e.code(), &e.to_string()))
}

fn endpoint_id(raw: &str) -> Result<WebhookId, WebhookError> {
    raw.parse()
        .map(WebhookId)
        .map_err(|_| WebhookError::UnknownEndpoint)
}

#[utoipa::path(get, path = "/api/admin/webhooks", tag = super::TAG,
    summary = "List the webhook endpoints",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every endpoint, by id.", body = WebhookList),
        (status = 401, description = TOKEN_REFUSED, body = Error),
        (status = 403, description = "Missing permission, or a sign-in older than REAUTH_MAX_AGE.", body = Error),
    ),
)]
async fn list<P: Ports>(state: State<P>, req: HttpRequest) -> Result<HttpResponse, AdminError> {
    let actor = caller(&state, &req).await?;
    let webhooks = state.auth.list_webhooks(&actor).await?;
    Ok(HttpResponse::Ok().json(WebhookList {
        webhooks: webhooks.iter().map(WebhookJson::from).collect(),
    }))
}

#[utoipa::path(post, path = "/api/admin/webhooks", tag = super::TAG,
    summary = "Subscribe an endpoint to account events",
    security(("bearer" = [])),
    request_body = WebhookRequest,
    responses(
        (status = 201, description = "Subscribed; the secret is shown this once.", body = WebhookWithSecret),
        (status = 400, description = "`webhook_url_invalid`, `webhook_url_not_https`, `webhook_events_invalid`, `webhook_description_too_long`, `webhook_description_invalid` (control or text-direction characters), or a body that is not the request's shape.", body = Error),
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
    let request: WebhookRequest = match serde_json::from_value(serde_json::Value::Object(body)) {
        Ok(r) => r,
        Err(e) => {
            let text = e.to_string();
            return Ok(simple(StatusCode::BAD_REQUEST, "invalid_request", &text));
        }
    };
    let events: Vec<&str> = request.events.iter().map(String::as_str).collect();
    match state
        .auth
        .create_webhook(&actor, &request.url, &events, &request.description)
        .await
    {
        Ok(endpoint) => Ok(HttpResponse::Created().json(WebhookWithSecret {
            webhook: WebhookJson::from(&endpoint),
            secret: endpoint.secret.expose().to_owned(),
        })),
        Err(e) => refused(e),
    }
}

#[utoipa::path(delete, path = "/api/admin/webhooks/{id}", tag = super::TAG,
    summary = "Remove an endpoint and its deliveries",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "Removed.", body = Message),
        (status = 401, description = TOKEN_REFUSED, body = Error),
        (status = 403, description = "Missing permission, or a sign-in older than REAUTH_MAX_AGE.", body = Error),
        (status = 404, description = "`webhook_not_found`.", body = Error),
    ),
)]
async fn delete<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let actor = caller(&state, &req).await?;
    let done = match endpoint_id(&id) {
        Ok(id) => state.auth.delete_webhook(&actor, id).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(()) => Ok(HttpResponse::Ok().json(Message::new("Removed."))),
        Err(e) => refused(e),
    }
}

async fn set_enabled<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    id: &str,
    enabled: bool,
) -> Result<HttpResponse, AdminError> {
    let actor = caller(&state, &req).await?;
    let done = match endpoint_id(id) {
        Ok(id) => state.auth.set_webhook_enabled(&actor, id, enabled).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(()) => Ok(HttpResponse::Ok().json(Message::new(if enabled {
            "Enabled."
        } else {
            "Disabled."
        }))),
        Err(e) => refused(e),
    }
}

#[utoipa::path(post, path = "/api/admin/webhooks/{id}/disable", tag = super::TAG,
    summary = "Stop sending messages to an endpoint",
    description = "Events that happen while it is disabled are not queued for it; messages already queued are still tried.",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "Disabled.", body = Message),
        (status = 401, description = TOKEN_REFUSED, body = Error),
        (status = 403, description = "Missing permission, or a sign-in older than REAUTH_MAX_AGE.", body = Error),
        (status = 404, description = "`webhook_not_found`.", body = Error),
    ),
)]
async fn disable<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    set_enabled(state, req, &id, false).await
}

#[utoipa::path(post, path = "/api/admin/webhooks/{id}/enable", tag = super::TAG,
    summary = "Send messages to an endpoint again",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "Enabled.", body = Message),
        (status = 401, description = TOKEN_REFUSED, body = Error),
        (status = 403, description = "Missing permission, or a sign-in older than REAUTH_MAX_AGE.", body = Error),
        (status = 404, description = "`webhook_not_found`.", body = Error),
    ),
)]
async fn enable<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    set_enabled(state, req, &id, true).await
}

#[utoipa::path(get, path = "/api/admin/webhooks/{id}/deliveries", tag = super::TAG,
    summary = "An endpoint's newest deliveries and each attempt",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "Up to 100, newest first.", body = DeliveryList),
        (status = 401, description = TOKEN_REFUSED, body = Error),
        (status = 403, description = "Missing permission, or a sign-in older than REAUTH_MAX_AGE.", body = Error),
        (status = 404, description = "`webhook_not_found`.", body = Error),
    ),
)]
async fn deliveries<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let actor = caller(&state, &req).await?;
    let found = match endpoint_id(&id) {
        Ok(id) => state.auth.webhook_deliveries(&actor, id).await,
        Err(e) => Err(e),
    };
    match found {
        Ok(list) => Ok(HttpResponse::Ok().json(DeliveryList {
            deliveries: list.iter().map(DeliveryJson::from).collect(),
        })),
        Err(e) => refused(e),
    }
}
