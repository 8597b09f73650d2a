//! The admin console's applications (issue 18): the OpenID Provider's
//! clients listed, registered (a confidential client's secret shown once),
//! given a new secret, disabled, enabled and deleted, through the use cases
//! of `/api/admin/clients` (`client:manage`, `REAUTH_MAX_AGE`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template as _;
use tessera_domain::error::AuthError;
use tessera_domain::model::{ClientDraft, ClientKind, OAuthClient, Permission};
use tessera_domain::ports::Ports;
use tessera_domain::usecase::{Actor, BrowserCaller, RegisteredClient};

use super::account::{caller_or_sign_in, form_caller};
use super::admin::administrator;
use super::{
    FormBody, Pages, PagesState, State, chrome, here, html, message_page, nav, read_form,
    refusal_page, see_other, views,
};

/// Where the console sends a browser whose sign-in is too old for a change.
const REAUTHENTICATE: &str = "/ui/sign-in?reauthenticate=1&return_to=%2Fui%2Fadmin%2Fclients";

fn row(c: &OAuthClient) -> views::ClientRow {
    views::ClientRow {
        id: c.id.to_string(),
        name: c.name.clone(),
        kind: c.kind.as_str(),
        confidential: c.kind == ClientKind::Confidential,
        first_party: c.first_party,
        disabled: c.disabled,
        redirect_uris: c.redirect_uris.clone(),
    }
}

/// `GET /ui/admin/clients`.
pub(super) async fn clients_page<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
) -> HttpResponse {
    let caller = match caller_or_sign_in(&state, &pages, &req, &here(&req)).await {
        Ok(caller) => caller,
        Err(answer) => return answer,
    };
    let (caller, _) =
        match administrator(&state, &pages, &req, caller, Permission::CLIENT_MANAGE).await {
            Ok(both) => both,
            Err(answer) => return answer,
        };
    list(&state, &pages, &req, &caller, StatusCode::OK, None).await
}

async fn list<P: Ports>(
    state: &State<P>,
    pages: &PagesState,
    req: &HttpRequest,
    caller: &BrowserCaller,
    status: StatusCode,
    error: Option<String>,
) -> HttpResponse {
    let clients = match state.auth.list_clients().await {
        Ok(c) => c,
        Err(e) => return refusal_page(pages, chrome(pages, req, None), &e),
    };
    let nav = nav(state, caller).await;
    let view = chrome(pages, req, Some(nav));
    let title = view.t.clients.to_owned();
    html(
        pages,
        status,
        views::AdminClients {
            chrome: view,
            title,
            notice: None,
            error,
            csrf: state.auth.csrf_token(caller.session.id).expose().to_owned(),
            clients: clients.iter().map(row).collect(),
        }
        .render(),
    )
}

/// A posted console form, its caller and actor (`client:manage`, CSRF
/// checked), or the answer.
pub(super) async fn posted<P: Ports>(
    state: &State<P>,
    pages: &PagesState,
    req: &HttpRequest,
    body: FormBody,
) -> Result<(super::Form, BrowserCaller, Actor), HttpResponse> {
    let Some(form) = read_form(body) else {
        return Err(super::form_unreadable(pages, chrome(pages, req, None)));
    };
    let caller = form_caller(state, pages, req, &form).await?;
    let (caller, actor) =
        administrator(state, pages, req, caller, Permission::CLIENT_MANAGE).await?;
    Ok((form, caller, actor))
}

/// The page that shows a client's id and secret, once.
async fn secret_page<P: Ports>(
    state: &State<P>,
    pages: &PagesState,
    req: &HttpRequest,
    caller: &BrowserCaller,
    shown: &RegisteredClient,
) -> HttpResponse {
    let nav = nav(state, caller).await;
    let view = chrome(pages, req, Some(nav));
    let t = view.t;
    let client = &shown.client;
    let mut lines = vec![format!("{}: {}", t.client_id, client.id)];
    if let Some(secret) = &shown.secret {
        lines.push(format!("{}: {}", t.client_secret, secret.expose()));
        lines.push(t.secret_once.to_owned());
    }
    message_page(
        pages,
        view,
        StatusCode::OK,
        &client.name,
        lines,
        Some(("/ui/admin/clients".to_owned(), t.clients.to_owned())),
    )
}

/// A refused change: the sign-in is too old (sign in again), the client is
/// gone (404), or the list with the reason.
async fn refused<P: Ports>(
    state: &State<P>,
    pages: &PagesState,
    req: &HttpRequest,
    caller: &BrowserCaller,
    e: AuthError,
) -> HttpResponse {
    match e {
        AuthError::ReauthenticationRequired => see_other(pages, REAUTHENTICATE),
        AuthError::ClientNotFound => {
            <super::PagesDialect as crate::http::dialect::Dialect>::not_found(req.path(), "POST")
        }
        e @ (AuthError::Unavailable(_) | AuthError::Internal(_)) => {
            refusal_page(pages, chrome(pages, req, None), &e)
        }
        e => {
            let (status, text) = super::problem(&e);
            list(state, pages, req, caller, status, Some(text)).await
        }
    }
}

/// `POST /ui/admin/clients`: registers a client from the form.
pub(super) async fn register<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    body: FormBody,
) -> HttpResponse {
    let (form, caller, actor) = match posted(&state, &pages, &req, body).await {
        Ok(parts) => parts,
        Err(answer) => return answer,
    };
    let lines = |name: &str| -> Vec<String> {
        form.get(name)
            .unwrap_or_default()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let draft = ClientDraft {
        name: form.text("name"),
        kind: if form.get("kind") == Some("public") {
            ClientKind::Public
        } else {
            ClientKind::Confidential
        },
        redirect_uris: lines("redirect_uris"),
        post_logout_redirect_uris: lines("post_logout_redirect_uris"),
        scopes: Vec::new(),
        grant_types: Vec::new(),
        first_party: form.get("first_party") == Some("1"),
        jwks: None,
    };
    match state.auth.register_client(&actor, draft).await {
        Ok(registered) => secret_page(&state, &pages, &req, &caller, &registered).await,
        Err(Ok(bad)) => {
            list(
                &state,
                &pages,
                &req,
                &caller,
                StatusCode::BAD_REQUEST,
                Some(bad.to_string()),
            )
            .await
        }
        Err(Err(e)) => refused(&state, &pages, &req, &caller, e).await,
    }
}

/// What a posted button does to one client.
enum Change {
    Secret,
    Disable,
    Enable,
    Delete,
}

async fn change<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    id: &str,
    body: FormBody,
    change: Change,
) -> HttpResponse {
    let (_, caller, actor) = match posted(&state, &pages, &req, body).await {
        Ok(parts) => parts,
        Err(answer) => return answer,
    };
    let done = match change {
        Change::Secret => match state.auth.rotate_client_secret(&actor, id).await {
            Ok(rotated) => return secret_page(&state, &pages, &req, &caller, &rotated).await,
            Err(e) => Err(e),
        },
        Change::Disable => state
            .auth
            .set_client_disabled(&actor, id, true)
            .await
            .map(|_| ()),
        Change::Enable => state
            .auth
            .set_client_disabled(&actor, id, false)
            .await
            .map(|_| ()),
        Change::Delete => state.auth.delete_client(&actor, id).await,
    };
    match done {
        Ok(()) => see_other(&pages, "/ui/admin/clients"),
        Err(e) => refused(&state, &pages, &req, &caller, e).await,
    }
}

/// `POST /ui/admin/clients/{id}/secret`.
pub(super) async fn rotate_secret<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    id: web::Path<String>,
    body: FormBody,
) -> HttpResponse {
    change(state, pages, req, &id, body, Change::Secret).await
}

/// `POST /ui/admin/clients/{id}/disable`.
pub(super) async fn disable<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    id: web::Path<String>,
    body: FormBody,
) -> HttpResponse {
    change(state, pages, req, &id, body, Change::Disable).await
}

/// `POST /ui/admin/clients/{id}/enable`.
pub(super) async fn enable<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    id: web::Path<String>,
    body: FormBody,
) -> HttpResponse {
    change(state, pages, req, &id, body, Change::Enable).await
}

/// `POST /ui/admin/clients/{id}/delete`.
pub(super) async fn delete<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    id: web::Path<String>,
    body: FormBody,
) -> HttpResponse {
    change(state, pages, req, &id, body, Change::Delete).await
}
