//! Signing in through upstream identity providers in a browser (issue 19):
//! `GET /api/auth/oauth/{provider}/start` and `…/callback`, and the account
//! page's connected identities (`/ui/account/identities/*`).
//!
//! The `state` of a sign-in is bound to the browser by a cookie
//! (`__Host-tessera-upstream`, `SameSite=Lax` so the provider's redirect
//! back carries it): a callback whose `state` is not the cookie's is
//! refused, so nobody can finish a sign-in they did not start in this
//! browser (login CSRF, RFC 6749 §10.12).

use actix_web::{HttpRequest, HttpResponse, web};
use tessera_domain::error::AuthError;
use tessera_domain::ports::Ports;
use tessera_domain::usecase::{
    FederationError, LinkProof, UPSTREAM_STATE_TTL_SECS, UpstreamAnswer, UpstreamLanding,
    UpstreamReturn,
};

use super::views::Chrome;
use super::{
    FormBody, Pages, PagesState, State, allowed_return_to, chrome, cookie, cookie_name, here,
    message_page, query_of, read_form, refusal_page, see_other,
};
use crate::http::client_info;

/// The cookie that binds a sign-in's `state` to the browser.
pub const STATE_COOKIE: &str = "__Host-tessera-upstream";
/// [`STATE_COOKIE`] where the pages' cookies go without `Secure`.
pub const DEV_STATE_COOKIE: &str = "tessera-upstream";
/// The cookie that keeps a pending link's token in the browser whose
/// sign-in matched an account by address: the account page confirms only
/// the link of its own browser, so a link sent to someone else does nothing.
pub const LINK_COOKIE: &str = "__Host-tessera-upstream-link";
/// [`LINK_COOKIE`] where the pages' cookies go without `Secure`.
pub const DEV_LINK_COOKIE: &str = "tessera-upstream-link";

/// The pending link token this browser holds, if any.
pub(super) fn pending_link_token(pages: &PagesState, req: &HttpRequest) -> Option<String> {
    req.cookie(cookie_name(pages, req, LINK_COOKIE, DEV_LINK_COOKIE))
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}

/// Where an API client's browser goes back to with an error (RFC 6749
/// §4.1.2.1's `error` and `error_description`).
fn client_error(pages: &PagesState, return_to: &str, e: &FederationError) -> HttpResponse {
    crate::http::dialect::log_federation(e);
    see_other(
        pages,
        &crate::http::with_query(
            return_to,
            &[
                ("error", crate::http::federation_code(e)),
                ("error_description", &crate::http::federation_text(e)),
            ],
        ),
    )
}

/// The page of a failed sign-in, link or confirmation.
pub(super) fn failure_page(pages: &PagesState, view: Chrome, e: &FederationError) -> HttpResponse {
    if let FederationError::Auth(auth) = e {
        return refusal_page(pages, view, auth);
    }
    crate::http::dialect::log_federation(e);
    let t = view.t;
    let status = crate::http::federation_status(e);
    let text = match e {
        FederationError::StateInvalid => t.upstream_state_invalid.to_owned(),
        other => crate::http::federation_text(other),
    };
    message_page(
        pages,
        view,
        status,
        t.upstream_failed,
        vec![text],
        Some(("/ui/sign-in".to_owned(), t.sign_in.to_owned())),
    )
}

/// `GET /api/auth/oauth/{provider}/start[?return_to=…][&code_challenge=…&code_challenge_method=S256]`:
/// sends the browser to the provider. With a PKCE `code_challenge` it is an
/// API client's sign-in, whose `return_to` must be in `RETURN_TO_ALLOWED`
/// and gets a one-time `code` (or `error`); without, the hosted pages'
/// (`return_to` a page, default `/ui/account`).
pub(super) async fn start<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    provider: web::Path<String>,
) -> HttpResponse {
    let query = query_of(&req);
    let view = chrome(&pages, &req, None);
    let return_to = query.get("return_to").filter(|r| !r.is_empty());
    let returns = if let Some(challenge) = query.get("code_challenge") {
        let Some(return_to) = return_to.and_then(|r| allowed_return_to(&pages.settings, r)) else {
            return super::auth::return_to_refused(&pages, view);
        };
        if query
            .get("code_challenge_method")
            .is_some_and(|m| m != "S256")
        {
            return client_error(&pages, &return_to, &FederationError::ChallengeInvalid);
        }
        UpstreamReturn::Client {
            return_to,
            code_challenge: challenge.clone(),
        }
    } else {
        let target = match return_to {
            None => "/ui/account".to_owned(),
            Some(r) => match allowed_return_to(&pages.settings, r) {
                Some(t) => t,
                None => return super::auth::return_to_refused(&pages, view),
            },
        };
        UpstreamReturn::Pages { return_to: target }
    };
    begin(&state, &pages, &req, &provider, returns).await
}

/// Starts the flow and answers with the redirect and the state cookie.
async fn begin<P: Ports>(
    state: &State<P>,
    pages: &PagesState,
    req: &HttpRequest,
    provider: &str,
    returns: UpstreamReturn,
) -> HttpResponse {
    let client_return = match &returns {
        UpstreamReturn::Client { return_to, .. } => Some(return_to.clone()),
        _ => None,
    };
    let client = client_info(req, &state.trusted_proxies);
    match state
        .auth
        .begin_upstream_sign_in(provider, returns, &client)
        .await
    {
        Ok(started) => redirect_with_state(pages, req, &started),
        Err(e) => match client_return {
            Some(r) => client_error(pages, &r, &e),
            None => failure_page(pages, chrome(pages, req, None), &e),
        },
    }
}

fn redirect_with_state(
    pages: &PagesState,
    req: &HttpRequest,
    started: &tessera_domain::usecase::UpstreamStart,
) -> HttpResponse {
    // A plain redirect: the provider's page is another origin, and no
    // form of ours is being submitted (form-action does not apply).
    let mut r = HttpResponse::Found();
    r.insert_header((
        actix_web::http::header::LOCATION,
        started.authorization_url.as_str(),
    ))
    .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
    .insert_header((actix_web::http::header::REFERRER_POLICY, "no-referrer"));
    let mut r = r.finish();
    let name = cookie_name(pages, req, STATE_COOKIE, DEV_STATE_COOKIE);
    let mut c = cookie(pages, req, name, started.state.expose().to_owned());
    c.set_max_age(actix_web::cookie::time::Duration::seconds(
        UPSTREAM_STATE_TTL_SECS,
    ));
    let _ = r.add_cookie(&c);
    r
}

/// `GET /api/auth/oauth/{provider}/callback?state=…&code=…` (or `error=…`):
/// checks the `state` against the browser's cookie, redeems the code and
/// lands as the sign-in asked (see [`UpstreamLanding`]).
pub(super) async fn callback<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    provider: web::Path<String>,
) -> HttpResponse {
    let query = query_of(&req);
    let name = cookie_name(&pages, &req, STATE_COOKIE, DEV_STATE_COOKIE);
    let browser_state = req.cookie(name).map(|c| c.value().to_owned());
    let client = client_info(&req, &state.trusted_proxies);
    let mut r = match state
        .auth
        .take_upstream_flow(
            &provider,
            query.get("state").map_or("", String::as_str),
            browser_state.as_deref(),
            &client,
        )
        .await
    {
        Err(e) => failure_page(&pages, chrome(&pages, &req, None), &e),
        Ok(flow) => {
            let returns = flow.returns.clone();
            let answer = UpstreamAnswer {
                code: query.get("code").cloned(),
                error: query.get("error").cloned(),
            };
            let landing = state
                .auth
                .finish_upstream_sign_in(flow, answer, client)
                .await;
            land(&state, &pages, &req, returns, landing).await
        }
    };
    if browser_state.is_some() {
        let _ = r.add_removal_cookie(&cookie(&pages, &req, name, String::new()));
    }
    r
}

async fn land<P: Ports>(
    state: &State<P>,
    pages: &PagesState,
    req: &HttpRequest,
    returns: UpstreamReturn,
    landing: Result<UpstreamLanding, FederationError>,
) -> HttpResponse {
    match (landing, returns) {
        (
            Ok(UpstreamLanding::Browser {
                step, return_to, ..
            }),
            _,
        ) => super::auth::upstream_step_answer(state, pages, req, step, return_to).await,
        (Ok(UpstreamLanding::Exchange { return_to, code }), _) => see_other(
            pages,
            &crate::http::with_query(&return_to, &[("code", code.expose())]),
        ),
        (
            Ok(UpstreamLanding::LinkRequired {
                link_token, email, ..
            }),
            UpstreamReturn::Client { return_to, .. },
        ) => see_other(
            pages,
            &crate::http::with_query(
                &return_to,
                &[
                    ("error", "link_required"),
                    ("link_token", link_token.expose()),
                    ("email", &email),
                ],
            ),
        ),
        (Ok(UpstreamLanding::LinkRequired { link_token, .. }), _) => {
            // The account page asks to confirm once the person signed in
            // to the account (it sends a browser that is not to sign in);
            // the token stays in this browser's cookie.
            let mut r = see_other(pages, "/ui/account");
            let name = cookie_name(pages, req, LINK_COOKIE, DEV_LINK_COOKIE);
            let mut c = cookie(pages, req, name, link_token.expose().to_owned());
            c.set_max_age(actix_web::cookie::time::Duration::seconds(
                tessera_domain::usecase::UPSTREAM_LINK_TTL_SECS,
            ));
            let _ = r.add_cookie(&c);
            r
        }
        (Ok(UpstreamLanding::Linked { return_to, .. }), _) => see_other(pages, &return_to),
        (Err(e), UpstreamReturn::Client { return_to, .. }) => client_error(pages, &return_to, &e),
        (Err(e), _) => failure_page(pages, chrome(pages, req, None), &e),
        (Ok(_), _) => refusal_page(
            pages,
            chrome(pages, req, None),
            &AuthError::Internal("unexpected landing".into()),
        ),
    }
}

/// `GET /ui/account/identities/{provider}/link`: connects another upstream
/// identity to the signed-in account (a recent sign-in first).
pub(super) async fn link<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    provider: web::Path<String>,
) -> HttpResponse {
    let caller = match super::account::caller_or_sign_in(&state, &pages, &req, &here(&req)).await {
        Ok(caller) => caller,
        Err(answer) => return answer,
    };
    match state
        .auth
        .begin_upstream_link(
            &caller.auth,
            &provider,
            "/ui/account?done=linked".to_owned(),
        )
        .await
    {
        Ok(started) => redirect_with_state(&pages, &req, &started),
        Err(FederationError::Auth(AuthError::ReauthenticationRequired)) => {
            reauthenticate(&pages, &here(&req))
        }
        Err(e) => failure_page(&pages, chrome(&pages, &req, None), &e),
    }
}

fn reauthenticate(pages: &PagesState, back: &str) -> HttpResponse {
    see_other(
        pages,
        &crate::http::with_query(
            "/ui/sign-in",
            &[("reauthenticate", "1"), ("return_to", back)],
        ),
    )
}

/// `POST /ui/account/identities/confirm`: links the identity an upstream
/// sign-in in this browser matched to this account by its address (the
/// token is the browser's cookie, which is then cleared).
pub(super) async fn confirm<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    body: FormBody,
) -> HttpResponse {
    let Some(form) = read_form(body) else {
        return super::form_unreadable(&pages, chrome(&pages, &req, None));
    };
    let caller = match super::account::form_caller(&state, &pages, &req, &form).await {
        Ok(caller) => caller,
        Err(answer) => return answer,
    };
    let token = pending_link_token(&pages, &req).unwrap_or_default();
    let mut r = match state
        .auth
        .link_pending_identity(&caller.auth, &token, LinkProof::BrowserCookie)
        .await
    {
        Ok(_) => see_other(&pages, "/ui/account?done=linked"),
        // The cookie stays for the confirmation after the sign-in.
        Err(FederationError::Auth(AuthError::ReauthenticationRequired)) => {
            return reauthenticate(&pages, "/ui/account");
        }
        Err(e) => failure_page(&pages, chrome(&pages, &req, None), &e),
    };
    let name = cookie_name(&pages, &req, LINK_COOKIE, DEV_LINK_COOKIE);
    let _ = r.add_removal_cookie(&cookie(&pages, &req, name, String::new()));
    r
}

/// `POST /ui/account/identities/unlink` (`provider`, `subject`).
pub(super) async fn unlink<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    body: FormBody,
) -> HttpResponse {
    let Some(form) = read_form(body) else {
        return super::form_unreadable(&pages, chrome(&pages, &req, None));
    };
    let caller = match super::account::form_caller(&state, &pages, &req, &form).await {
        Ok(caller) => caller,
        Err(answer) => return answer,
    };
    match state
        .auth
        .unlink_identity(
            &caller.auth,
            form.get("provider").unwrap_or_default(),
            form.get("subject").unwrap_or_default(),
        )
        .await
    {
        Ok(()) => see_other(&pages, "/ui/account?done=unlinked"),
        Err(FederationError::Auth(AuthError::ReauthenticationRequired)) => {
            reauthenticate(&pages, "/ui/account")
        }
        Err(e) => failure_page(&pages, chrome(&pages, &req, None), &e),
    }
}
