//! The e-mail verification link's page (issue 12, item 3).
//!
//! A GET never changes anything, so a mail scanner that opens the link
//! confirms nothing. The page names the account the link confirms; it
//! confirms only with that account's password (whoever confirms proves both
//! the address and the credential), and offers "This wasn't me", which
//! removes the pending account so the address is free again. Seed 002's
//! `GET /api/v1/auth/verify/<token>` shows the same page to browsers.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use tessera_domain::error::AuthError;
use tessera_domain::ports::Ports;

use crate::http::dto::{LinkForm, json_response};
use crate::http::messages as m;
use crate::http::{AppState, client_info};
use crate::openapi::LIVE_LINK_RULE;
use utoipa::PartialSchema as _;

type State<P> = web::Data<AppState<P>>;
type FormBody = Result<web::Form<std::collections::HashMap<String, String>>, actix_web::Error>;

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// An HTML page: never cached, never framed, no script.
fn page(status: StatusCode, title: &str, body: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(("Content-Type", "text/html; charset=utf-8"))
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header((
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        ))
        .body(format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
             <title>{t}</title></head><body style=\"font-family:sans-serif;max-width:32em;margin:3em auto\"><h1>{t}</h1>{body}</body></html>",
            t = html_escape(title)
        ))
}

fn message<P: Ports>(state: &State<P>, status: StatusCode, text: &str) -> HttpResponse {
    page(
        status,
        &state.auth.settings().mail.product_name,
        &format!("<p>{}</p>", html_escape(text)),
    )
}

/// The answer to a refusal that is not about the form.
pub(crate) fn refusal<P: Ports>(state: &State<P>, e: AuthError) -> HttpResponse {
    crate::http::dialect::log_cause(&e);
    match e {
        AuthError::Unavailable(_) => {
            message(state, StatusCode::SERVICE_UNAVAILABLE, m::UNAVAILABLE.get())
        }
        AuthError::Busy => message(state, StatusCode::SERVICE_UNAVAILABLE, m::BUSY.get()),
        AuthError::TooManyRequests {
            retry_after_secs,
            limit,
        } => {
            let mut r = message(state, StatusCode::TOO_MANY_REQUESTS, m::TOO_MANY.get());
            crate::http::rate_limit_headers(&mut r, retry_after_secs, limit);
            r
        }
        _ => message(state, StatusCode::BAD_REQUEST, m::CODE_EXPIRED.get()),
    }
}

/// The page of a live link: the account it confirms, a password form and
/// "This wasn't me". `notice` (escaped) comes first when given.
async fn link_page<P: Ports>(
    state: &State<P>,
    token: &str,
    status: StatusCode,
    notice: Option<&str>,
) -> HttpResponse {
    let preview = match state.auth.preview_verification_link(token).await {
        Ok(p) => p,
        Err(e) => return refusal(state, e),
    };
    if preview.already_verified {
        return message(state, StatusCode::OK, m::VERIFY_PAGE_ALREADY.get());
    }
    let product = &state.auth.settings().mail.product_name;
    let token = html_escape(token);
    let notice = notice.map_or_else(String::new, |n| {
        format!("<p role=\"alert\"><strong>{}</strong></p>", html_escape(n))
    });
    page(
        status,
        &format!("{product} · {}", m::VERIFY_PAGE_TITLE.get()),
        &format!(
            "{notice}<p>{account}</p><ul><li><strong>{email}</strong></li><li>{username}</li>\
             <li>{registered_label}: {registered}</li></ul>\
             <form method=\"post\" action=\"/api/auth/verify-email/confirm\">\
             <input type=\"hidden\" name=\"token\" value=\"{token}\">\
             <p><label>{password_text}<br><input type=\"password\" name=\"password\" autocomplete=\"current-password\" \
             aria-label=\"{password_label}\" required></label></p>\
             <button type=\"submit\" style=\"font-size:1.2em;padding:.5em 1.5em\">{confirm}</button></form>\
             <hr>{not_me}",
            account = m::VERIFY_PAGE_ACCOUNT.get(),
            email = html_escape(preview.email.as_str()),
            username = html_escape(&preview.username),
            registered_label = m::VERIFY_PAGE_REGISTERED.get(),
            registered = preview.registered_at.format("%Y-%m-%d %H:%M UTC"),
            password_text = m::VERIFY_PAGE_PASSWORD.get(),
            password_label = m::VERIFY_PAGE_PASSWORD_LABEL.get(),
            confirm = m::VERIFY_PAGE_BUTTON.get(),
            not_me = if preview.pending {
                format!(
                    "<p>{}</p><form method=\"post\" action=\"/api/auth/verify-email/reject\">\
                     <input type=\"hidden\" name=\"token\" value=\"{token}\"><button type=\"submit\">{}</button></form>",
                    m::VERIFY_PAGE_NOT_ME.get(),
                    m::VERIFY_PAGE_NOT_ME_BUTTON.get()
                )
            } else {
                format!("<p>{}</p>", m::VERIFY_PAGE_CLAIM.get())
            },
        ),
    )
}

/// `GET /api/auth/verify-email?token=…` (and seed 002's link, opened in a
/// browser): the page of the mailed link. Changes nothing.
#[utoipa::path(get, path = "/api/auth/verify-email", tag = super::TAG,
    summary = "The mailed link: a page naming the account, confirming with its password, or \"This wasn't me\"",
    description = LIVE_LINK_RULE,
    params(("token" = String, Query, min_length = 1)),
    responses(
        (status = 200, description = "The page (or: already verified).", content_type = "text/html", body = String),
        (status = 400, description = "No, unknown, used or expired token.", content_type = "text/html", body = String),
        (status = 503, description = "A dependency is down.", content_type = "text/html", body = String),
    ),
)]
pub async fn verify_email_page<P: Ports>(
    state: State<P>,
    query: web::Query<std::collections::HashMap<String, String>>,
) -> HttpResponse {
    match query.get("token").filter(|t| !t.is_empty()) {
        Some(token) => link_page(&state, token, StatusCode::OK, None).await,
        None => message(&state, StatusCode::BAD_REQUEST, m::CODE_EXPIRED.get()),
    }
}

/// The page of seed 002's link for a browser (see [`verify_email_page`]).
pub async fn verify_link_page<P: Ports>(state: &State<P>, token: &str) -> HttpResponse {
    link_page(state, token, StatusCode::OK, None).await
}

/// The refusals both page forms give alike: the body's own (408, 413: the
/// modern JSON shape, answered before the handler by the body middleware)
/// and a dependency down (503: the page). Never built.
struct PageFormRefusals;

impl utoipa::IntoResponses for PageFormRefusals {
    fn responses() -> std::collections::BTreeMap<
        String,
        utoipa::openapi::RefOr<utoipa::openapi::response::Response>,
    > {
        let page = utoipa::openapi::ResponseBuilder::new()
            .description("A dependency is down (the page).")
            .content(
                "text/html",
                utoipa::openapi::ContentBuilder::new()
                    .schema(Some(String::schema()))
                    .build(),
            )
            .build();
        [
            (
                "408",
                json_response("Form not received within `REQUEST_BODY_TIMEOUT`.", "Error"),
            ),
            (
                "413",
                json_response("Declared `Content-Length` above `MAX_BODY_BYTES`.", "Error"),
            ),
            ("503", page.into()),
        ]
        .into_iter()
        .map(|(status, response)| (status.to_owned(), response))
        .collect()
    }
}

/// A form field; a body that is not a form (wrong content type, too large)
/// has none, and the page says the link is bad, as for any other bad token.
fn field(form: &FormBody, name: &str) -> Option<String> {
    form.as_ref().ok().and_then(|f| f.get(name).cloned())
}

/// `POST /api/auth/verify-email/confirm` (form `token`, `password`), sent by
/// the page: confirms the address when the password is the account's.
#[utoipa::path(post, path = "/api/auth/verify-email/confirm", tag = super::TAG,
    summary = "The page's confirm form (`token`, `password`)",
    description = LIVE_LINK_RULE,
    request_body(content = inline(Option<LinkForm>), content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Verified; every session opened before ends.", content_type = "text/html", body = String),
        (status = 400, description = "Bad or used link, or the wrong password (the page again).", content_type = "text/html", body = String),
        (status = 429, description = "Over a rate limit or the login throttle (the page).", content_type = "text/html", body = String),
        PageFormRefusals,
    ),
)]
pub async fn verify_email_confirm<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    form: FormBody,
) -> HttpResponse {
    let (token, password) = (field(&form, "token"), field(&form, "password"));
    let client = client_info(&req, &state.trusted_proxies);
    match state
        .auth
        .confirm_verification_link(token.as_deref(), password.as_deref(), &client)
        .await
    {
        Ok(user) => message(
            &state,
            StatusCode::OK,
            &format!("{} ({})", m::EMAIL_VERIFIED.get(), user.email.as_str()),
        ),
        Err(AuthError::WrongPassword | AuthError::Validation(_)) if token.is_some() => {
            let token = token.unwrap_or_default();
            link_page(
                &state,
                &token,
                StatusCode::BAD_REQUEST,
                Some(m::VERIFY_PAGE_WRONG_PASSWORD.get()),
            )
            .await
        }
        Err(e) => refusal(&state, e),
    }
}

/// `POST /api/auth/verify-email/reject` (form `token`), "This wasn't me":
/// removes the pending account the link was mailed for.
#[utoipa::path(post, path = "/api/auth/verify-email/reject", tag = super::TAG,
    summary = "The page's \"This wasn't me\" form (`token`): removes the pending account",
    description = LIVE_LINK_RULE,
    request_body(content = inline(Option<LinkForm>), content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The account is removed; the address is free.", content_type = "text/html", body = String),
        (status = 400, description = "Bad or used link, or the address is verified already.", content_type = "text/html", body = String),
        (status = 429, description = "Over a rate limit (the page).", content_type = "text/html", body = String),
        PageFormRefusals,
    ),
)]
pub async fn verify_email_reject<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    form: FormBody,
) -> HttpResponse {
    let client = client_info(&req, &state.trusted_proxies);
    match state
        .auth
        .reject_verification_link(field(&form, "token").as_deref(), &client)
        .await
    {
        Ok(_) => message(&state, StatusCode::OK, m::VERIFY_PAGE_REMOVED.get()),
        Err(e) => refusal(&state, e),
    }
}
