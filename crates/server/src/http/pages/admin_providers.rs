//! The admin console's sign-in providers (issue 19): the upstream identity
//! providers listed (the configuration's read-only), a console provider
//! added from a preset, and removed, through the use cases of
//! `/api/admin/providers` (`client:manage`, `REAUTH_MAX_AGE`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template as _;
use tessera_domain::error::AuthError;
use tessera_domain::model::{Permission, ProviderSource, UpstreamId, UpstreamProtocol};
use tessera_domain::ports::Ports;
use tessera_domain::usecase::{Actor, BrowserCaller, FederationError};

use super::account::caller_or_sign_in;
use super::admin::administrator;
use super::admin_clients::posted;
use super::{
    FormBody, Pages, PagesState, State, chrome, here, html, nav, refusal_page, see_other, views,
};

/// Where the console sends a browser whose sign-in is too old for a change.
const REAUTHENTICATE: &str = "/ui/sign-in?reauthenticate=1&return_to=%2Fui%2Fadmin%2Fproviders";

/// `GET /ui/admin/providers`.
pub(super) async fn providers_page<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
) -> HttpResponse {
    let caller = match caller_or_sign_in(&state, &pages, &req, &here(&req)).await {
        Ok(caller) => caller,
        Err(answer) => return answer,
    };
    let (caller, actor) =
        match administrator(&state, &pages, &req, caller, Permission::CLIENT_MANAGE).await {
            Ok(both) => both,
            Err(answer) => return answer,
        };
    list(&state, &pages, &req, &caller, &actor, StatusCode::OK, None).await
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
    let providers = match state.auth.list_upstream_providers(actor).await {
        Ok(p) => p,
        Err(AuthError::ReauthenticationRequired) => return see_other(pages, REAUTHENTICATE),
        Err(e) => return refusal_page(pages, chrome(pages, req, None), &e),
    };
    let nav = nav(state, caller).await;
    let view = chrome(pages, req, Some(nav));
    let title = view.t.providers.to_owned();
    let rows = providers
        .iter()
        .map(|p| views::ProviderRow {
            id: p.id.to_string(),
            name: p.display_name.clone(),
            kind: match (&p.protocol, &p.preset) {
                (_, Some(preset)) => preset.clone(),
                (UpstreamProtocol::OpenIdConnect { .. }, None) => "oidc".into(),
                (UpstreamProtocol::OAuth2(_), None) => "oauth2".into(),
            },
            console: p.source == ProviderSource::Console,
            enabled: p.enabled,
            callback: state.auth.upstream_callback(&p.id),
        })
        .collect();
    html(
        pages,
        status,
        views::AdminProviders {
            chrome: view,
            title,
            notice: None,
            error,
            csrf: state.auth.csrf_token(caller.session.id).expose().to_owned(),
            providers: rows,
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
    e: FederationError,
) -> HttpResponse {
    match e {
        FederationError::Auth(AuthError::ReauthenticationRequired) => {
            see_other(pages, REAUTHENTICATE)
        }
        FederationError::Auth(e @ (AuthError::Unavailable(_) | AuthError::Internal(_))) => {
            refusal_page(pages, chrome(pages, req, None), &e)
        }
        e => {
            let status = crate::http::federation_status(&e);
            let text = crate::http::federation_text(&e);
            list(state, pages, req, caller, actor, status, Some(text)).await
        }
    }
}

/// `POST /ui/admin/providers`: adds (or replaces) a console provider from
/// the form: its fields are the settings of docs/federation.md, in lower case.
pub(super) async fn save<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    body: FormBody,
) -> HttpResponse {
    let (form, caller, actor) = match posted(&state, &pages, &req, body).await {
        Ok(parts) => parts,
        Err(answer) => return answer,
    };
    let invalid = |why: String| FederationError::ProviderInvalid(why);
    let Some(id) = UpstreamId::parse(form.get("id").unwrap_or_default()) else {
        let e = invalid("id: 1 to 32 characters of a-z, 0-9 and _, starting with a letter".into());
        return refused(&state, &pages, &req, &caller, &actor, e).await;
    };
    let setting = |key: &str| match key {
        // A checkbox that is not ticked is not sent.
        "ALLOW_SIGN_UP" | "LINK_BY_EMAIL" => {
            Some((form.get(&key.to_ascii_lowercase()) == Some("1")).to_string())
        }
        _ => form.get(&key.to_ascii_lowercase()).map(str::to_owned),
    };
    let provider =
        match crate::config::upstream::provider_from(id, &setting, ProviderSource::Console) {
            Ok(p) => p,
            Err((key, why)) => {
                let e = invalid(crate::config::upstream::refusal(&key, &why));
                return refused(&state, &pages, &req, &caller, &actor, e).await;
            }
        };
    match state.auth.save_upstream_provider(&actor, provider).await {
        Ok(()) => see_other(&pages, "/ui/admin/providers"),
        Err(e) => refused(&state, &pages, &req, &caller, &actor, e).await,
    }
}

/// `POST /ui/admin/providers/{id}/delete`.
pub(super) async fn delete<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    id: web::Path<String>,
    body: FormBody,
) -> HttpResponse {
    let (_, caller, actor) = match posted(&state, &pages, &req, body).await {
        Ok(parts) => parts,
        Err(answer) => return answer,
    };
    match state.auth.delete_upstream_provider(&actor, &id).await {
        Ok(()) => see_other(&pages, "/ui/admin/providers"),
        Err(e) => refused(&state, &pages, &req, &caller, &actor, e).await,
    }
}
