//! `/oauth/authorize` (issue 18): the OpenID Provider's authorization
//! endpoint is a page. It checks the request, sends a browser that is not
//! signed in (or must sign in again) to `/ui/sign-in` and back, shows the
//! consent page, and sends the browser to the client's redirect URI with a
//! code or an error (RFC 6749 §4.1.2; never to an unregistered URI).

use std::collections::HashMap;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template as _;
use tessera_domain::AuthError;
use tessera_domain::ports::Ports;
use tessera_domain::usecase::{
    AuthorizationRefusal, AuthorizationStep, BrowserCaller, CheckedAuthorization, LogoutRequest,
    LogoutStep,
};

use super::{FormBody, Pages, PagesState, State, chrome, html, message_page, read_form, see_other};
use super::{refusal_page, signed_in, views};

/// The parameter this server adds to the request it sends back after a
/// forced sign-in: the Unix time it asked at and a MAC of it (the sign-in
/// counts when the session authenticated at or after that time).
const SIGNED_IN_AFTER: &str = "tessera_signed_in_after";

/// The time a `SIGNED_IN_AFTER` value carries, when its MAC is this
/// server's (a request cannot claim a sign-in it did not ask for).
fn signed_in_after<P: Ports>(state: &State<P>, value: &str) -> Option<i64> {
    let (at, mac) = value.split_once('.')?;
    let at: i64 = at.parse().ok()?;
    state
        .auth
        .form_token_matches(&format!("{SIGNED_IN_AFTER}:{at}"), mac)
        .then_some(at)
}

/// The request's parameters without ours and the answer fields, in a
/// stable order (for the way back after signing in, and the consent form).
fn carried(params: &HashMap<String, String>) -> Vec<(String, String)> {
    let mut kept: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "csrf" | "consent" | "confirm" | SIGNED_IN_AFTER))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    kept.sort();
    kept
}

/// `GET /oauth/authorize?…`.
pub(super) async fn authorize<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
) -> HttpResponse {
    // RFC 6749 §3.1: a parameter sent twice makes the request ambiguous
    // (which redirect_uri, which state?): refused before anything else.
    let mut seen = std::collections::HashSet::new();
    if let Some(name) = url::form_urlencoded::parse(req.query_string().as_bytes())
        .map(|(k, _)| k.into_owned())
        .find(|k| !seen.insert(k.clone()))
    {
        return refused(
            &pages,
            &req,
            &AuthorizationRefusal::Unredirectable(format!("{name} is repeated")),
            "",
        );
    }
    let params = super::query_of(&req);
    answer(&state, &pages, &req, &params, None).await
}

/// `POST /oauth/authorize`: the same request as a form (OpenID Connect
/// Core §3.1.2.1), or the consent page's answer (`consent=allow|deny`,
/// with the session's `csrf`).
pub(super) async fn authorize_form<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    body: FormBody,
) -> HttpResponse {
    let Some(form) = read_form(body) else {
        return super::form_unreadable(&pages, chrome(&pages, &req, None));
    };
    let params = form.0;
    let consent = params.get("consent").cloned();
    answer(&state, &pages, &req, &params, consent.as_deref()).await
}

async fn answer<P: Ports>(
    state: &State<P>,
    pages: &PagesState,
    req: &HttpRequest,
    params: &HashMap<String, String>,
    consent: Option<&str>,
) -> HttpResponse {
    let issuer = state.auth.provider_settings().issuer.clone();
    let checked = match state
        .auth
        .check_authorization_request(&crate::http::oidc::authorization_request(params))
        .await
    {
        Ok(c) => c,
        Err(refusal) => return refused(pages, req, &refusal, &issuer),
    };
    let caller = match signed_in(state, pages, req).await {
        Ok(caller) => Some(caller),
        Err(AuthError::Token(_) | AuthError::AccountDisabled | AuthError::UserNotFound) => None,
        Err(e) => return refusal_page(pages, chrome(pages, req, None), &e),
    };
    let fresh = match (&caller, params.get(SIGNED_IN_AFTER)) {
        (Some(c), Some(after)) => signed_in_after(state, after)
            .is_some_and(|t| c.session.authentication.at.timestamp() >= t),
        _ => false,
    };
    let consented = match (consent, &caller) {
        (Some(_), None) => return to_sign_in(state, pages, params, false),
        (Some(answer), Some(c)) => {
            if !state
                .auth
                .csrf_token_matches(c.session.id, params.get("csrf").map_or("", String::as_str))
            {
                return super::csrf_refused(pages, chrome(pages, req, None));
            }
            if answer != "allow" {
                return redirect(pages, &state.auth.consent_denied(&checked));
            }
            true
        }
        (None, _) => false,
    };
    match state
        .auth
        .authorize(&checked, caller.as_ref(), fresh, consented)
        .await
    {
        Ok(AuthorizationStep::Redirect(url)) => redirect(pages, &url),
        Ok(AuthorizationStep::SignIn { fresh }) => to_sign_in(state, pages, params, fresh),
        Ok(AuthorizationStep::Consent) => match &caller {
            Some(c) => consent_page(state, pages, req, params, &checked, c).await,
            None => to_sign_in(state, pages, params, false),
        },
        Err(e) => refusal_page(pages, chrome(pages, req, None), &e),
    }
}

/// `303` to the client (a code or an error): outside this server, so no
/// `return_to` check applies; the URI is one the client registered.
fn redirect(pages: &PagesState, url: &str) -> HttpResponse {
    see_other(pages, url)
}

/// The refusal of a request: at the client when its redirect URI can be
/// trusted, else a page here.
fn refused(
    pages: &PagesState,
    req: &HttpRequest,
    refusal: &AuthorizationRefusal,
    issuer: &str,
) -> HttpResponse {
    if let Some(url) = refusal.redirect_url(issuer) {
        return redirect(pages, &url);
    }
    let view = chrome(pages, req, None);
    let t = view.t;
    let AuthorizationRefusal::Unredirectable(why) = refusal else {
        return redirect(pages, "/");
    };
    message_page(
        pages,
        view,
        StatusCode::BAD_REQUEST,
        t.error,
        vec![t.authorize_refused.to_owned(), why.clone()],
        None,
    )
}

/// `303` to the sign-in page, which comes back to this request (`fresh`:
/// the form is shown to a signed-in browser too, and the way back says
/// since when the sign-in counts).
fn to_sign_in<P: Ports>(
    state: &State<P>,
    pages: &PagesState,
    params: &HashMap<String, String>,
    fresh: bool,
) -> HttpResponse {
    let mut back = carried(params);
    back.retain(|(k, v)| !(fresh && k == "prompt" && v.split(' ').any(|p| p == "login")));
    if fresh {
        let at = state.auth.now_unix();
        let mac = state.auth.form_token(&format!("{SIGNED_IN_AFTER}:{at}"));
        back.push((SIGNED_IN_AFTER.to_owned(), format!("{at}.{}", mac.expose())));
    }
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(back)
        .finish();
    let return_to = format!("/oauth/authorize?{query}");
    let mut target = format!(
        "/ui/sign-in?{}return_to={}",
        if fresh { "reauthenticate=1&" } else { "" },
        url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect::<String>()
    );
    if let Some(hint) = params.get("login_hint").filter(|h| !h.is_empty()) {
        target.push_str("&login_hint=");
        target.extend(url::form_urlencoded::byte_serialize(hint.as_bytes()));
    }
    see_other(pages, &target)
}

/// The consent page; its form may be redirected to the client's redirect
/// URI, so its `form-action` allows that origin too (Chromium applies
/// `form-action` to a form's redirects).
async fn consent_page<P: Ports>(
    state: &State<P>,
    pages: &PagesState,
    req: &HttpRequest,
    params: &HashMap<String, String>,
    checked: &CheckedAuthorization,
    caller: &BrowserCaller,
) -> HttpResponse {
    let nav = super::nav(state, caller).await;
    let view = chrome(pages, req, Some(nav));
    let title = view.t.consent_title.to_owned();
    let mut response = html(
        pages,
        StatusCode::OK,
        views::Consent {
            chrome: view,
            title,
            notice: None,
            error: None,
            csrf: state.auth.csrf_token(caller.session.id).expose().to_owned(),
            params: carried(params),
            client_name: checked.client.name.clone(),
            scopes: checked
                .scopes
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
        }
        .render(),
    );
    widen_form_action(&mut response, &[checked.redirect_uri.as_str()]);
    response
}

/// Adds the origins of `uris` to the page's `form-action` (its form may be
/// redirected there).
fn widen_form_action(response: &mut HttpResponse, uris: &[&str]) {
    let origins: Vec<String> = uris
        .iter()
        .filter_map(|u| url::Url::parse(u).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .map(|u| u.origin().ascii_serialization())
        .collect();
    if origins.is_empty() {
        return;
    }
    let Some(csp) = response
        .headers()
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
    else {
        return;
    };
    let widened = csp.replacen(
        "form-action 'self'",
        &format!("form-action 'self' {}", origins.join(" ")),
        1,
    );
    if let Ok(value) = header::HeaderValue::from_str(&widened) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// A sign-in page (or its answer) on the way back to an authorization
/// request: its form ends, after `/oauth/authorize`, at the client's
/// redirect URI, so `form-action` allows the registered client's redirect
/// origins (Chromium applies `form-action` to a form's whole redirect chain).
pub(super) async fn allow_client_redirect<P: Ports>(
    state: &State<P>,
    return_to: Option<&str>,
    mut response: HttpResponse,
) -> HttpResponse {
    let Some(query) = return_to.and_then(|r| r.strip_prefix("/oauth/authorize?")) else {
        return response;
    };
    let Some(client_id) = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "client_id")
        .map(|(_, v)| v.into_owned())
    else {
        return response;
    };
    if let Ok(client) = state.auth.find_client(&client_id).await
        && !client.disabled
    {
        let uris: Vec<&str> = client.redirect_uris.iter().map(String::as_str).collect();
        widen_form_action(&mut response, &uris);
    }
    response
}

/// `GET /oauth/logout?id_token_hint=…&post_logout_redirect_uri=…&state=…`
/// (OpenID Connect RP-Initiated Logout 1.0, the `end_session_endpoint`).
pub(super) async fn logout<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
) -> HttpResponse {
    let params = super::query_of(&req);
    logout_answer(&state, &pages, &req, &params).await
}

/// `POST /oauth/logout`: the same as a form, or the confirmation page's
/// answer (`confirm=1` with the session's `csrf`).
pub(super) async fn logout_form<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    body: FormBody,
) -> HttpResponse {
    let Some(form) = read_form(body) else {
        return super::form_unreadable(&pages, chrome(&pages, &req, None));
    };
    logout_answer(&state, &pages, &req, &form.0).await
}

async fn logout_answer<P: Ports>(
    state: &State<P>,
    pages: &PagesState,
    req: &HttpRequest,
    params: &HashMap<String, String>,
) -> HttpResponse {
    let get = |k: &str| params.get(k).filter(|v| !v.is_empty()).cloned();
    let request = LogoutRequest {
        id_token_hint: get("id_token_hint"),
        client_id: get("client_id"),
        post_logout_redirect_uri: get("post_logout_redirect_uri"),
        state: get("state"),
    };
    let checked = match state.auth.check_logout_request(&request).await {
        Ok(c) => c,
        Err(why) => {
            let view = chrome(pages, req, None);
            let t = view.t;
            return message_page(
                pages,
                view,
                StatusCode::BAD_REQUEST,
                t.error,
                vec![t.logout_refused.to_owned(), why],
                None,
            );
        }
    };
    let caller = match signed_in(state, pages, req).await {
        Ok(caller) => Some(caller),
        Err(AuthError::Token(_) | AuthError::AccountDisabled | AuthError::UserNotFound) => None,
        Err(e) => return refusal_page(pages, chrome(pages, req, None), &e),
    };
    let confirmed = match (&caller, params.get("confirm")) {
        (Some(c), Some(v)) if v == "1" => {
            if !state
                .auth
                .csrf_token_matches(c.session.id, params.get("csrf").map_or("", String::as_str))
            {
                return super::csrf_refused(pages, chrome(pages, req, None));
            }
            true
        }
        _ => false,
    };
    match state
        .auth
        .end_session(&checked, caller.as_ref(), confirmed)
        .await
    {
        Ok(LogoutStep::Done(target)) => {
            let mut r = see_other(pages, target.as_deref().unwrap_or("/ui/signed-out"));
            if caller.is_some() {
                let name = super::cookie_name(
                    pages,
                    req,
                    super::SESSION_COOKIE,
                    super::DEV_SESSION_COOKIE,
                );
                let _ = r.add_removal_cookie(&super::cookie(pages, req, name, String::new()));
            }
            r
        }
        Ok(LogoutStep::Confirm) => {
            let Some(c) = &caller else {
                return see_other(pages, "/ui/signed-out");
            };
            let nav = super::nav(state, c).await;
            let view = chrome(pages, req, Some(nav));
            let title = view.t.sign_out.to_owned();
            let mut response = html(
                pages,
                StatusCode::OK,
                views::Logout {
                    chrome: view,
                    title,
                    notice: None,
                    error: None,
                    csrf: state.auth.csrf_token(c.session.id).expose().to_owned(),
                    params: carried(params),
                    client_name: checked.client.as_ref().map(|c| c.name.clone()),
                }
                .render(),
            );
            if let Some(target) = &checked.redirect {
                widen_form_action(&mut response, &[target.as_str()]);
            }
            response
        }
        Err(e) => refusal_page(pages, chrome(pages, req, None), &e),
    }
}
