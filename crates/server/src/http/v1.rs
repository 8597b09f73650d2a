//! Seed 002's dialect: `/api/v1/auth/*` with `{code, message, data}` bodies.
//!
//! Users are shown with their UUID as `id`. Errors are `{error}` (token and
//! login problems, as the README shows them) or `{code, message}` (register
//! and verify); every error body carries `error` and `message`, and `code`
//! where the README gives one (validation failures use code 4).

use actix_web::http::StatusCode;
use actix_web::{HttpMessage as _, HttpRequest, HttpResponse, web};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use tessera_domain::error::{AuthError, TokenProblem};
use tessera_domain::model::User;
use tessera_domain::ports::Ports;
use tessera_domain::settings::LinkStyle;
use tessera_domain::usecase::{RegistrationForm, VerifyLinkOutcome};
use tessera_domain::validation::{FieldIssue, ValidationErrors};

use crate::config::Bucket;

use super::messages as m;
use super::{AppState, BodyError, client_info, locale, read_json, text_field};

type State<P> = web::Data<AppState<P>>;

/// Mounts `/api/v1/auth/*` (inside that scope).
pub fn routes<P: Ports>(cfg: &mut web::ServiceConfig) {
    cfg.route("/register", web::post().to(register::<P>))
        .route("/verify/{token}", web::get().to(verify::<P>))
        .route("/login", web::post().to(login::<P>))
        .route("/profile", web::get().to(profile::<P>));
}

/// RFC 3339 with `+00:00`, as Python's `isoformat()` writes it.
fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, false)
}

fn coded(status: StatusCode, code: u8, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({"code": code, "message": message, "error": message}))
}

fn plain_error(status: StatusCode, error: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({"error": error, "message": error}))
}

fn validation(v: &ValidationErrors) -> HttpResponse {
    let details: serde_json::Map<String, Value> = v
        .fields()
        .iter()
        .map(|(f, issues)| {
            (
                f.clone(),
                json!(issues.iter().map(FieldIssue::code).collect::<Vec<_>>()),
            )
        })
        .collect();
    // `message` and `error` name the first specific reason (issue 13,
    // items 9 and the password policy); `details` keeps every field's codes.
    let reason = m::first_reason(v).unwrap_or_else(|| m::V1_INVALID.get().to_owned());
    let mut body = json!({
        "code": 4, "message": reason, "error": reason, "details": details,
    });
    if let Some(feedback) = m::password_feedback(v) {
        body["password_feedback"] = feedback;
    }
    HttpResponse::BadRequest().json(body)
}

/// The dialect's answer to a refusal.
fn refusal(e: &AuthError) -> HttpResponse {
    match e {
        AuthError::Validation(v) => validation(v),
        AuthError::Conflict(_) => coded(StatusCode::BAD_REQUEST, 1, m::V1_EXISTS.get()),
        AuthError::InvalidCredentials => {
            plain_error(StatusCode::UNAUTHORIZED, m::V1_BAD_CREDENTIALS.get())
        }
        AuthError::AccountDisabled => plain_error(StatusCode::FORBIDDEN, m::V1_DISABLED.get()),
        AuthError::EmailNotVerified => plain_error(StatusCode::FORBIDDEN, m::V1_NOT_VERIFIED.get()),
        // Another scheme (`Basic …`) keeps the answer it had before bare
        // tokens were read.
        AuthError::Token(TokenProblem::Missing | TokenProblem::WrongScheme) => {
            plain_error(StatusCode::UNAUTHORIZED, m::V1_MISSING_TOKEN.get())
        }
        AuthError::Token(TokenProblem::Expired) => {
            plain_error(StatusCode::UNAUTHORIZED, m::V1_TOKEN_EXPIRED.get())
        }
        AuthError::Token(_) => plain_error(StatusCode::UNAUTHORIZED, m::V1_INVALID_TOKEN.get()),
        AuthError::UserNotFound => plain_error(StatusCode::NOT_FOUND, m::V1_USER_NOT_FOUND.get()),
        AuthError::CodeExpired
        | AuthError::CodeWrong { .. }
        | AuthError::CodeExhausted
        | AuthError::CodeInvalid => coded(StatusCode::BAD_REQUEST, 1, m::V1_LINK_BAD.get()),
        AuthError::TooManyRequests {
            retry_after_secs,
            limit,
        } => {
            let mut r = HttpResponse::TooManyRequests()
                .json(json!({"error": m::V1_TOO_MANY.get(), "message": m::V1_TOO_MANY.get()}));
            super::rate_limit_headers(&mut r, *retry_after_secs, *limit);
            r
        }
        AuthError::Busy => HttpResponse::ServiceUnavailable()
            .insert_header(("Retry-After", "1"))
            .json(json!({"error": m::V1_BUSY.get(), "message": m::V1_BUSY.get()})),
        AuthError::Unavailable(cause) => {
            tracing::error!(%cause, "dependency unavailable");
            plain_error(StatusCode::SERVICE_UNAVAILABLE, m::V1_UNAVAILABLE.get())
        }
        AuthError::Internal(cause) => {
            tracing::error!(%cause, "internal error");
            plain_error(StatusCode::INTERNAL_SERVER_ERROR, m::V1_INTERNAL.get())
        }
        AuthError::Forbidden(_) | AuthError::Outranked | AuthError::SelfLockout => {
            plain_error(StatusCode::FORBIDDEN, m::V1_FORBIDDEN.get())
        }
        AuthError::RefreshReused
        | AuthError::SessionNotFound
        | AuthError::WrongPassword
        | AuthError::SamePassword
        | AuthError::AccountNotFound
        | AuthError::ContactMismatch => {
            plain_error(StatusCode::BAD_REQUEST, m::V1_BAD_REQUEST.get())
        }
    }
}

/// A body error as `{error, message}`.
pub(crate) fn body_refusal(e: BodyError) -> HttpResponse {
    match e {
        BodyError::TooLarge => plain_error(StatusCode::PAYLOAD_TOO_LARGE, m::V1_TOO_LARGE.get()),
        BodyError::TimedOut => plain_error(StatusCode::REQUEST_TIMEOUT, m::BODY_TIMEOUT.get()),
        BodyError::NotJson | BodyError::NotObject => {
            plain_error(StatusCode::BAD_REQUEST, m::V1_NOT_OBJECT.get())
        }
        BodyError::Read => plain_error(StatusCode::BAD_REQUEST, m::V1_BODY_READ.get()),
    }
}

fn user_json(u: &User) -> Value {
    json!({
        "id": u.public_id.to_string(),
        "user_id": u.id.0,
        "email": u.email.as_str(),
        "username": u.username.as_str(),
        "created_at": iso(u.created_at),
        "is_verified": u.email_verified,
    })
}

/// `POST /api/v1/auth/register` `{username, email, password}` → 201.
async fn register<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    if let Err(e) = super::limit_ip(&state, &req, Bucket::Register).await {
        return refusal(&e);
    }
    let body = match read_json(payload, state.max_body_bytes).await {
        Ok(b) => b,
        Err(e) => return body_refusal(e),
    };
    let mut errors = ValidationErrors::new();
    let form = RegistrationForm {
        username: text_field(&body, "username", false, &mut errors),
        email: text_field(&body, "email", false, &mut errors),
        password: text_field(&body, "password", false, &mut errors),
        phone: None,
        role: None,
    };
    if !errors.is_empty() {
        return validation(&errors);
    }
    match state
        .auth
        .register_with(&form, locale(), LinkStyle::V1)
        .await
    {
        Ok(user) => HttpResponse::Created().json(json!({
            "code": 0,
            "message": m::V1_CREATED.get(),
            "data": user_json(&user),
        })),
        Err(e) => refusal(&e),
    }
}

/// True when the request is a GET that asks for JSON and not for HTML (an
/// API client of seed 002; a browser, a mail scanner posing as one, curl's
/// `*/*` or a HEAD probe is not).
fn asks_for_json(req: &HttpRequest) -> bool {
    let accept = req
        .headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    req.extensions().get::<super::WasHead>().is_none()
        && accept.contains("application/json")
        && !accept.contains("text/html")
}

/// `GET /api/v1/auth/verify/<token>`: seed 002's link. By default every GET
/// shows the link's page, which confirms only with the account's password
/// (issue 12, item 3: a GET — a mail scanner's, or curl's — must not hand the
/// address to the registrant's password). With `V1_VERIFY_ON_GET` a client
/// that asks for JSON (`Accept: application/json`, no HEAD) gets the
/// contract: the address is confirmed on GET (code 0).
async fn verify<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    token: web::Path<String>,
) -> HttpResponse {
    if let Err(e) = super::limit_ip(&state, &req, Bucket::VerifyCode).await {
        return refusal(&e);
    }
    if !state.v1_verify_on_get || !asks_for_json(&req) {
        return super::pages::verify_link_page(&state, &token).await;
    }
    let client = client_info(&req, &state.trusted_proxies);
    match state.auth.verify_email_link(&token, &client).await {
        Ok(VerifyLinkOutcome::Verified(_)) => {
            HttpResponse::Ok().json(json!({"code": 0, "message": m::V1_VERIFIED.get()}))
        }
        Ok(VerifyLinkOutcome::AlreadyVerified) => {
            HttpResponse::Ok().json(json!({"code": 3, "message": m::V1_ALREADY_VERIFIED.get()}))
        }
        Err(AuthError::UserNotFound) => {
            coded(StatusCode::NOT_FOUND, 2, m::V1_LINK_USER_NOT_FOUND.get())
        }
        Err(e @ (AuthError::Unavailable(_) | AuthError::Internal(_))) => refusal(&e),
        Err(_) => coded(StatusCode::BAD_REQUEST, 1, m::V1_LINK_BAD.get()),
    }
}

/// `POST /api/v1/auth/login` `{email, password}` → `{code: 0, message, token}`;
/// wrong, missing, empty or wrongly typed fields → 401 `{error}`.
async fn login<P: Ports>(state: State<P>, req: HttpRequest, payload: web::Payload) -> HttpResponse {
    if let Err(e) = super::limit_ip(&state, &req, Bucket::Login).await {
        return refusal(&e);
    }
    let body = match read_json(payload, state.max_body_bytes).await {
        Ok(b) => b,
        Err(e) => return body_refusal(e),
    };
    // Seed 002 documents only 401 for login, and its server answers a
    // missing, empty or wrongly typed field like a wrong password (issue 13,
    // item 6). A body that is no JSON object stays a 400 (above).
    let mut errors = ValidationErrors::new();
    let email = text_field(&body, "email", false, &mut errors).filter(|e| !e.trim().is_empty());
    let attempt = text_field(&body, "password", false, &mut errors)
        .and_then(|p| tessera_domain::values::PasswordAttempt::parse(&p).ok());
    let (true, Some(email), Some(attempt)) = (errors.is_empty(), email, attempt) else {
        return refusal(&AuthError::InvalidCredentials);
    };
    let ttl = state.auth.settings().v1_access_ttl;
    match state
        .auth
        .login_with(
            &email,
            &[attempt],
            client_info(&req, &state.trusted_proxies),
            tessera_domain::usecase::LoginTerms {
                access_ttl: Some(ttl),
                ..Default::default()
            },
        )
        .await
    {
        Ok(out) => HttpResponse::Ok().json(json!({
            "code": 0,
            "message": m::V1_LOGGED_IN.get(),
            "token": out.tokens.access.token.expose(),
            "expires_in": out.tokens.access.expires_in,
            "data": {"user": user_json(&out.user)},
        })),
        Err(e) => refusal(&e),
    }
}

/// `GET /api/v1/auth/profile` → `{username, email, created_at}` (plus `id`).
async fn profile<P: Ports>(state: State<P>, req: HttpRequest) -> HttpResponse {
    match super::authenticate_user(&state, &req).await {
        Ok((_, user)) => HttpResponse::Ok().json(user_json(&user)),
        Err(e) => refusal(&e),
    }
}
