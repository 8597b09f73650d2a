//! The admin console's webhooks (issue 20): endpoints listed, subscribed
//! (the signing secret shown once), paused, resumed and removed, and each
//! endpoint's deliveries with every attempt's status, through the use cases
//! of `/api/admin/webhooks` (`client:manage`, `REAUTH_MAX_AGE`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template as _;
use tessera_domain::error::AuthError;
use tessera_domain::model::{DeliveryState, EventType, Permission, WebhookId};
use tessera_domain::ports::Ports;
use tessera_domain::usecase::{Actor, BrowserCaller, WebhookError};

use super::account::caller_or_sign_in;
use super::admin::administrator;
use super::admin_clients::posted;
use super::{
    Pages, PagesState, State, chrome, here, html, message_page, nav, refusal_page, see_other, views,
};

/// Where the console sends a browser whose sign-in is too old for a change.
const REAUTHENTICATE: &str = "/ui/sign-in?reauthenticate=1&return_to=%2Fui%2Fadmin%2Fwebhooks";

/// The form field of event type `t`'s checkbox.
fn event_field(t: EventType) -> String {
    format!("ev_{t}")
}

async fn signed_in_administrator<P: Ports>(
    state: &State<P>,
    pages: &PagesState,
    req: &HttpRequest,
) -> Result<(BrowserCaller, Actor), HttpResponse> {
    let caller = caller_or_sign_in(state, pages, req, &here(req)).await?;
    administrator(state, pages, req, caller, Permission::CLIENT_MANAGE).await
}

/// `GET /ui/admin/webhooks`.
pub(super) async fn webhooks_page<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
) -> HttpResponse {
    match signed_in_administrator(&state, &pages, &req).await {
        Ok((caller, actor)) => {
            list(&state, &pages, &req, &caller, &actor, StatusCode::OK, None).await
        }
        Err(answer) => answer,
    }
}

async fn list<P: Ports>(
    state: &State<P>,
    pages: &PagesState,
    req: &HttpRequest,
    caller: &BrowserCaller,
    actor: &Actor,
    status: StatusCode,
    error: Option<String>,
) -> HttpResponse {
    let endpoints = match state.auth.list_webhooks(actor).await {
        Ok(e) => e,
        Err(AuthError::ReauthenticationRequired) => return see_other(pages, REAUTHENTICATE),
        Err(e) => return refusal_page(pages, chrome(pages, req, None), &e),
    };
    let nav = nav(state, caller).await;
    let view = chrome(pages, req, Some(nav));
    let title = view.t.webhooks.to_owned();
    html(
        pages,
        status,
        views::AdminWebhooks {
            chrome: view,
            title,
            notice: None,
            error,
            csrf: state.auth.csrf_token(caller.session.id).expose().to_owned(),
            webhooks: endpoints
                .iter()
                .map(|e| views::WebhookRow {
                    id: e.id.0,
                    url: e.url.clone(),
                    events: e
                        .events
                        .iter()
                        .map(|t| t.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    description: e.description.clone(),
                    enabled: e.enabled,
                })
                .collect(),
            event_types: EventType::ALL
                .iter()
                .map(|t| (t.as_str(), event_field(*t)))
                .collect(),
        }
        .render(),
    )
}

async fn refused<P: Ports>(
    state: &State<P>,
    pages: &PagesState,
    req: &HttpRequest,
    caller: &BrowserCaller,
    actor: &Actor,
    e: WebhookError,
) -> HttpResponse {
    match e {
        WebhookError::Auth(AuthError::ReauthenticationRequired) => see_other(pages, REAUTHENTICATE),
        WebhookError::Auth(e) => refusal_page(pages, chrome(pages, req, None), &e),
        WebhookError::UnknownEndpoint => {
            <super::PagesDialect as crate::http::dialect::Dialect>::not_found(req.path(), "POST")
        }
        e => {
            let text = e.to_string();
            list(
                state,
                pages,
                req,
                caller,
                actor,
                StatusCode::BAD_REQUEST,
                Some(text),
            )
            .await
        }
    }
}

/// `POST /ui/admin/webhooks`: subscribes the form's URL to the ticked event
/// types (`ev_<type>` fields) and shows the signing secret once.
pub(super) async fn create<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    body: super::FormBody,
) -> HttpResponse {
    let (form, caller, actor) = match posted(&state, &pages, &req, body).await {
        Ok(parts) => parts,
        Err(answer) => return answer,
    };
    let events: Vec<&str> = EventType::ALL
        .iter()
        .filter(|t| form.get(&event_field(**t)) == Some("1"))
        .map(|t| t.as_str())
        .collect();
    let created = state
        .auth
        .create_webhook(
            &actor,
            &form.text("url"),
            &events,
            &form.text("description"),
        )
        .await;
    match created {
        Ok(endpoint) => {
            let nav = nav(&state, &caller).await;
            let view = chrome(&pages, &req, Some(nav));
            let t = view.t;
            message_page(
                &pages,
                view,
                StatusCode::OK,
                &endpoint.url,
                vec![
                    format!("{}: {}", t.webhook_secret, endpoint.secret.expose()),
                    t.webhook_secret_once.to_owned(),
                ],
                Some(("/ui/admin/webhooks".to_owned(), t.webhooks.to_owned())),
            )
        }
        Err(e) => refused(&state, &pages, &req, &caller, &actor, e).await,
    }
}

/// What a posted endpoint form does.
#[derive(Clone, Copy)]
enum Change {
    Disable,
    Enable,
    Delete,
}

async fn change<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    id: &str,
    body: super::FormBody,
    what: Change,
) -> HttpResponse {
    let (_, caller, actor) = match posted(&state, &pages, &req, body).await {
        Ok(parts) => parts,
        Err(answer) => return answer,
    };
    let Ok(id) = id.parse().map(WebhookId) else {
        return refused(
            &state,
            &pages,
            &req,
            &caller,
            &actor,
            WebhookError::UnknownEndpoint,
        )
        .await;
    };
    let done = match what {
        Change::Disable => state.auth.set_webhook_enabled(&actor, id, false).await,
        Change::Enable => state.auth.set_webhook_enabled(&actor, id, true).await,
        Change::Delete => state.auth.delete_webhook(&actor, id).await,
    };
    match done {
        Ok(()) => see_other(&pages, "/ui/admin/webhooks"),
        Err(e) => refused(&state, &pages, &req, &caller, &actor, e).await,
    }
}

/// `POST /ui/admin/webhooks/{id}/disable`.
pub(super) async fn disable<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    id: web::Path<String>,
    body: super::FormBody,
) -> HttpResponse {
    change(state, pages, req, &id, body, Change::Disable).await
}

/// `POST /ui/admin/webhooks/{id}/enable`.
pub(super) async fn enable<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    id: web::Path<String>,
    body: super::FormBody,
) -> HttpResponse {
    change(state, pages, req, &id, body, Change::Enable).await
}

/// `POST /ui/admin/webhooks/{id}/delete`.
pub(super) async fn delete<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    id: web::Path<String>,
    body: super::FormBody,
) -> HttpResponse {
    change(state, pages, req, &id, body, Change::Delete).await
}

/// `GET /ui/admin/webhooks/{id}`: the endpoint's newest deliveries, each
/// attempt's status or error.
pub(super) async fn deliveries_page<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    let (caller, actor) = match signed_in_administrator(&state, &pages, &req).await {
        Ok(both) => both,
        Err(answer) => return answer,
    };
    let found = match id.parse().map(WebhookId) {
        Ok(id) => state.auth.webhook_deliveries(&actor, id).await,
        Err(_) => Err(WebhookError::UnknownEndpoint),
    };
    let deliveries = match found {
        Ok(d) => d,
        Err(WebhookError::Auth(AuthError::ReauthenticationRequired)) => {
            return see_other(&pages, REAUTHENTICATE);
        }
        Err(WebhookError::Auth(e)) => return refusal_page(&pages, chrome(&pages, &req, None), &e),
        Err(_) => {
            return <super::PagesDialect as crate::http::dialect::Dialect>::not_found(
                req.path(),
                "GET",
            );
        }
    };
    let nav = nav(&state, &caller).await;
    let view = chrome(&pages, &req, Some(nav));
    let t = view.t;
    let title = format!("{} #{}", t.deliveries, id.as_str());
    let rows = deliveries
        .iter()
        .map(|d| views::DeliveryRow {
            message_id: d.message_id.clone(),
            kind: d.event.kind.as_str(),
            user_id: d.event.user.0,
            occurred_at: d.event.at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            state: match d.state {
                DeliveryState::Pending => t.delivery_pending,
                DeliveryState::Delivered => t.delivery_delivered,
                DeliveryState::Failed => t.delivery_failed,
            },
            next_attempt_at: (d.state == DeliveryState::Pending)
                .then(|| d.next_attempt_at.format("%H:%M:%S UTC").to_string()),
            attempts: d
                .history
                .iter()
                .map(|a| {
                    let answer = a
                        .status
                        .map_or_else(|| a.error.clone().unwrap_or_default(), |s| s.to_string());
                    format!(
                        "{} {} ({} ms)",
                        a.at.format("%H:%M:%S"),
                        answer,
                        a.duration_ms
                    )
                })
                .collect(),
        })
        .collect();
    html(
        &pages,
        StatusCode::OK,
        views::AdminWebhookDeliveries {
            chrome: view,
            title,
            notice: None,
            error: None,
            deliveries: rows,
        }
        .render(),
    )
}
