//! Seed 001's dialect: `/Auth/*`, `/Admin/Login`, `/CheckJWTToken` (and
//! `/health`, shared).
//!
//! Every answer is HTTP 200 with `{Code, Msg}`; clients read `Code`:
//! 200 success, 202 login by a super admin, 401 authentication failed,
//! 500 administrator authentication failed (`/Admin/Login` only),
//! 501 login failed, 502 user exists, 503 user does not exist, 510 storage
//! unavailable, 520 wrong code, 521 code expired, 530 missing or malformed
//! fields; 429 (HTTP 429 too, with `Retry-After`) when asked too often. Every
//! `/Auth/Login` answer that is not a success also has `"Token": null,
//! "UserID": null`. An unknown `/Auth/*` or `/Admin/*` path is HTTP 404
//! `{Code: 404, Msg: "接口不存在"}`.
//!
//! Tokens issued here name the account by its address in `sub` and carry
//! `permissions`, `is_superuser` and `is_admin`, as dream's other Flask
//! routes read them (issue 13, item 12; `TokenIdentity::Email`).
//!
//! `Password` may be the password or its SM3 digest (64 hex digits, as the
//! README describes); see `docs/api.md` for the rule.

use actix_web::body::{BoxBody, MessageBody as _};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};
use tessera_domain::AuthService;
use tessera_domain::error::AuthError;
use tessera_domain::model::TokenIdentity;
use tessera_domain::ports::Ports;
use tessera_domain::usecase::{LoginTerms, ResetForm, SignUp};
use tessera_domain::validation::ValidationErrors;

use crate::config::Bucket;

use super::messages as m;
use super::{AppState, BodyError, client_info, locale, read_json, text_field};

type State<P> = web::Data<AppState<P>>;

/// Mounts the `/Auth/*` routes, `/Admin/Login` and `/CheckJWTToken`.
pub fn routes<P: Ports>(cfg: &mut web::ServiceConfig) {
    cfg.route("/CheckJWTToken", web::get().to(check_token::<P>))
        .service(
            web::scope("/Admin")
                .route("/Login", web::post().to(admin_login::<P>))
                .default_service(web::to(super::not_found)),
        )
        .service(
            web::scope("/Auth")
                .route("/Login", web::post().to(login::<P>))
                .route("/Sign", web::post().to(sign::<P>))
                .route("/Verify", web::post().to(verify::<P>))
                .route("/ResetPassword", web::post().to(reset_password::<P>))
                .route("/UpdatePassword", web::post().to(update_password::<P>))
                .default_service(web::to(super::not_found)),
        );
}

/// `{Code, Msg}` with HTTP 200.
fn answer(code: u16, msg: &str) -> HttpResponse {
    HttpResponse::Ok().json(json!({"Code": code, "Msg": msg}))
}

/// The dialect's answer to a refusal.
fn refusal(e: &AuthError) -> HttpResponse {
    match e {
        // The first specific reason alone, which dream's front end shows
        // (issue 13, item 9).
        AuthError::Validation(v) => answer(
            530,
            &m::first_reason(v).unwrap_or_else(|| m::L_INCOMPLETE.get().to_owned()),
        ),
        AuthError::Conflict(_) => answer(502, m::L_EXISTS.get()),
        AuthError::InvalidCredentials => answer(501, m::L_LOGIN_FAILED.get()),
        AuthError::AccountDisabled => answer(401, m::L_DISABLED.get()),
        AuthError::EmailNotVerified => answer(401, m::L_NOT_VERIFIED.get()),
        AuthError::Token(_) | AuthError::UserNotFound => answer(401, m::L_AUTH_FAILED.get()),
        AuthError::AccountNotFound | AuthError::ContactMismatch => answer(503, m::L_NO_USER.get()),
        AuthError::CodeWrong { .. } => answer(520, m::L_CODE_WRONG.get()),
        AuthError::CodeExpired | AuthError::CodeExhausted | AuthError::CodeInvalid => {
            answer(521, m::L_CODE_EXPIRED.get())
        }
        AuthError::TooManyRequests {
            retry_after_secs,
            limit,
        } => {
            let mut r = HttpResponse::build(StatusCode::TOO_MANY_REQUESTS).json(json!({
                "Code": 429, "Msg": m::TOO_MANY.get(), "RetryAfter": retry_after_secs,
            }));
            super::rate_limit_headers(&mut r, *retry_after_secs, *limit);
            r
        }
        AuthError::Busy => HttpResponse::Ok()
            .insert_header(("Retry-After", "1"))
            .json(json!({"Code": 510, "Msg": m::BUSY.get()})),
        AuthError::Unavailable(cause) => {
            tracing::error!(%cause, "dependency unavailable");
            answer(510, m::L_DB.get())
        }
        AuthError::Internal(cause) => {
            tracing::error!(%cause, "internal error");
            answer(510, m::INTERNAL.get())
        }
        AuthError::Forbidden(_) | AuthError::Outranked | AuthError::SelfLockout => {
            answer(401, m::L_AUTH_FAILED.get())
        }
        AuthError::RefreshReused
        | AuthError::WrongPassword
        | AuthError::SamePassword
        | AuthError::SessionNotFound => answer(401, m::L_AUTH_FAILED.get()),
    }
}

/// A body error as Code 530 (413 and 408 keep their HTTP status: the body was not read).
pub(crate) fn body_refusal(e: BodyError) -> HttpResponse {
    match e {
        BodyError::TooLarge => HttpResponse::PayloadTooLarge()
            .json(json!({"Code": 413, "Msg": m::BODY_TOO_LARGE.get()})),
        BodyError::TimedOut => {
            HttpResponse::RequestTimeout().json(json!({"Code": 408, "Msg": m::BODY_TIMEOUT.get()}))
        }
        BodyError::NotJson | BodyError::NotObject => answer(530, m::L_NOT_OBJECT.get()),
        BodyError::Read => answer(530, m::L_BODY_READ.get()),
    }
}

/// The path of seed 001's login.
const LOGIN_PATH: &str = "/Auth/Login";

/// `refused` with `"Token": null, "UserID": null` added to its body, as the
/// peer answers every `/Auth/Login` that is not a success, 530 included
/// (peer-facts "Measured side by side"; issue 13, item 4). Status and
/// headers (`Retry-After`, `RateLimit-*`) are kept; a body that is not a
/// JSON object is left as it is.
pub(crate) fn with_null_login_fields(refused: HttpResponse) -> HttpResponse {
    let (head, body) = refused.into_parts();
    let bytes = match body.try_into_bytes() {
        Ok(bytes) => bytes,
        Err(body) => return head.set_body(body),
    };
    match serde_json::from_slice::<Map<String, Value>>(&bytes) {
        Ok(mut object) => {
            object.insert("Token".to_owned(), Value::Null);
            object.insert("UserID".to_owned(), Value::Null);
            head.set_body(BoxBody::new(Value::Object(object).to_string()))
        }
        Err(_) => head.set_body(BoxBody::new(bytes)),
    }
}

/// [`body_refusal`] for a request to `path`: with the null `Token` and
/// `UserID` of a failed login at `/Auth/Login`.
pub(crate) fn body_refusal_for_path(path: &str, e: BodyError) -> HttpResponse {
    if path == LOGIN_PATH {
        with_null_login_fields(body_refusal(e))
    } else {
        body_refusal(e)
    }
}

/// Reads the body and the named text fields; a wrongly typed field is a 530.
async fn fields<const N: usize>(
    state: &State<impl Ports>,
    payload: web::Payload,
    names: [&str; N],
) -> Result<[Option<String>; N], HttpResponse> {
    let body: Map<String, Value> = read_json(payload, state.max_body_bytes)
        .await
        .map_err(body_refusal)?;
    let mut errors = ValidationErrors::new();
    let values = names.map(|n| text_field(&body, n, n == "VerifyCode", &mut errors));
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(refusal(&AuthError::Validation(errors)))
    }
}

fn ok_or_refusal(r: Result<HttpResponse, AuthError>) -> HttpResponse {
    r.unwrap_or_else(|e| refusal(&e))
}

/// `POST /Auth/Login` `{Email, Password}` → `{Code, Msg, Token, UserID}`;
/// every answer that is not a success carries `Token` and `UserID` as `null`.
async fn login<P: Ports>(state: State<P>, req: HttpRequest, payload: web::Payload) -> HttpResponse {
    if let Err(e) = super::limit_ip(&state, &req, Bucket::Login).await {
        return with_null_login_fields(refusal(&e));
    }
    let (email, attempts) = match credentials(&state, payload).await {
        Ok(c) => c,
        Err(r) => return with_null_login_fields(r),
    };
    let ttl = state.auth.settings().legacy_access_ttl;
    match state
        .auth
        .login_with(
            &email,
            &attempts,
            client_info(&req, &state.trusted_proxies),
            LoginTerms {
                access_ttl: Some(ttl),
                identity: TokenIdentity::Email,
                admin_mode: false,
            },
        )
        .await
    {
        Ok(out) => {
            let (code, msg) = if out.user.is_super_admin() {
                (202, m::L_ADMIN_LOGGED_IN.get())
            } else {
                (200, m::LOGGED_IN.get())
            };
            HttpResponse::Ok().json(json!({
                "Code": code, "Msg": msg,
                "Token": out.tokens.access.token.expose(),
                "UserID": out.user.id.0,
                "RefreshToken": out.tokens.refresh.expose(),
                "ExpiresIn": out.tokens.access.expires_in,
            }))
        }
        Err(e) => with_null_login_fields(refusal(&e)),
    }
}

/// `POST /Auth/Sign` `{Name, Email, Password}`: creates the account (address
/// unverified) and mails a sign-up code; Code 200 (`Msg` says whether a code
/// was mailed), 502 when the address is taken.
async fn sign<P: Ports>(state: State<P>, req: HttpRequest, payload: web::Payload) -> HttpResponse {
    if let Err(e) = super::limit_ip(&state, &req, Bucket::SendCode).await {
        return refusal(&e);
    }
    let [name, email, password] = match fields(&state, payload, ["Name", "Email", "Password"]).await
    {
        Ok(f) => f,
        Err(r) => return r,
    };
    let form = SignUp {
        name: name.as_deref(),
        email: email.as_deref(),
        password: password.as_deref(),
    };
    ok_or_refusal(state.auth.sign_up(&form, locale()).await.map(|done| {
        if done.code_mailed {
            answer(200, m::L_CODE_SENT.get())
        } else {
            answer(200, m::L_SIGNED_UP.get())
        }
    }))
}

/// `POST /Auth/Verify` `{Name, Email, Password, VerifyCode}`: confirms the
/// address for whoever proved it (creating the account if there is none);
/// 502 when the address's account is verified already.
async fn verify<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    if let Err(e) = super::limit_ip(&state, &req, Bucket::VerifyCode).await {
        return refusal(&e);
    }
    let [name, email, password, code] =
        match fields(&state, payload, ["Name", "Email", "Password", "VerifyCode"]).await {
            Ok(f) => f,
            Err(r) => return r,
        };
    let form = SignUp {
        name: name.as_deref(),
        email: email.as_deref(),
        password: password.as_deref(),
    };
    ok_or_refusal(
        state
            .auth
            .confirm_sign_up(
                &form,
                code.as_deref(),
                locale(),
                &client_info(&req, &state.trusted_proxies),
            )
            .await
            .map(|user| {
                HttpResponse::Ok().json(json!({
                    "Code": 200, "Msg": m::L_SIGNED_UP.get(),
                    "UserID": user.id.0, "Name": user.username.as_str(),
                }))
            }),
    )
}

/// `POST /Auth/ResetPassword` `{Email}`: mails a reset code.
async fn reset_password<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    if let Err(e) = super::limit_ip(&state, &req, Bucket::SendCode).await {
        return refusal(&e);
    }
    let [email] = match fields(&state, payload, ["Email"]).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let form = ResetForm {
        identifier: email.as_deref(),
        channel: Some("email"),
        contact: email.as_deref(),
        client: None,
    };
    ok_or_refusal(
        state
            .auth
            .request_reset_code(form, locale())
            .await
            .map(|_| answer(200, m::L_CODE_SENT.get()))
            .map_err(|e| match e {
                // The use case names seed 003's fields; this route read `Email`.
                AuthError::Validation(v) => AuthError::Validation(renamed(&v, "Email")),
                other => other,
            }),
    )
}

/// `v` with every refused field reported as `field`, the one field a route
/// read (so that `Msg` names what the client sent).
fn renamed(v: &ValidationErrors, field: &str) -> ValidationErrors {
    let mut out = ValidationErrors::new();
    for issue in v.fields().values().flatten() {
        out.add(field, issue.clone());
    }
    out
}

/// `POST /Auth/UpdatePassword` `{Email, Password, VerifyCode}`: sets the new
/// password; every session of the account is revoked.
async fn update_password<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    if let Err(e) = super::limit_ip(&state, &req, Bucket::VerifyCode).await {
        return refusal(&e);
    }
    let [email, password, code] =
        match fields(&state, payload, ["Email", "Password", "VerifyCode"]).await {
            Ok(f) => f,
            Err(r) => return r,
        };
    ok_or_refusal(
        state
            .auth
            .reset_password_legacy(
                email.as_deref(),
                code.as_deref(),
                password.as_deref(),
                locale(),
                &client_info(&req, &state.trusted_proxies),
            )
            .await
            .map(|()| answer(200, m::PASSWORD_CHANGED.get())),
    )
}

/// `GET /CheckJWTToken`: `{Code: 200, Msg, User: <email>}` or `{Code: 401, Msg}`.
async fn check_token<P: Ports>(state: State<P>, req: HttpRequest) -> HttpResponse {
    match super::authenticate_user(&state, &req).await {
        Ok((_, user)) => HttpResponse::Ok().json(json!({
            "Code": 200, "Msg": m::L_TOKEN_OK.get(),
            "User": user.email.as_str(), "UserID": user.id.0,
        })),
        Err(e @ (AuthError::Unavailable(_) | AuthError::Internal(_))) => refusal(&e),
        Err(_) => answer(401, m::L_TOKEN_BAD.get()),
    }
}

/// `{Email, Password}` of a login: the address (not blank) and the
/// password attempts of the SM3 rule; a missing or malformed field is a 530.
async fn credentials<P: Ports>(
    state: &State<P>,
    payload: web::Payload,
) -> Result<(String, Vec<tessera_domain::values::PasswordAttempt>), HttpResponse> {
    let [email, password] = fields(state, payload, ["Email", "Password"]).await?;
    let mut errors = ValidationErrors::new();
    let email = errors.check(
        "Email",
        email
            .filter(|e| !e.trim().is_empty())
            .ok_or(tessera_domain::validation::FieldIssue::Required),
    );
    let attempts = errors.check(
        "Password",
        AuthService::<P>::legacy_attempts(password.as_deref()),
    );
    match (email, attempts) {
        (Some(email), Some(attempts)) => Ok((email, attempts)),
        _ => Err(refusal(&AuthError::Validation(errors))),
    }
}

/// `POST /Admin/Login` `{Email, Password}` → `{Code: 200, Msg, Token, Email}`:
/// dream's "admin mode" switch (issue 13, item 11). Only an account holding
/// one of `ADMIN_LOGIN_ROLES` (default `super_admin`) gets a token, whose
/// claims say `is_admin: true` beside seed 001's address identity. Wrong
/// password, unknown address and an account without such a role all answer
/// one body, `{Code: 500, Msg, Token: null, Email: null}` (dream's
/// `AuthFailed`), after the same work: the login use case with its dummy
/// hash, refusing the role before any session is opened. Missing or
/// malformed fields are Code 530; the per-IP login limit and the login
/// throttle apply as at `/Auth/Login`. Like `/Auth/Login`, the answer also
/// carries `UserID`, `RefreshToken` and `ExpiresIn`.
async fn admin_login<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    if let Err(e) = super::limit_ip(&state, &req, Bucket::Login).await {
        return refusal(&e);
    }
    let (email, attempts) = match credentials(&state, payload).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let terms = LoginTerms {
        access_ttl: Some(state.auth.settings().legacy_access_ttl),
        identity: TokenIdentity::Email,
        admin_mode: true,
    };
    match state
        .auth
        .login_with(
            &email,
            &attempts,
            client_info(&req, &state.trusted_proxies),
            terms,
        )
        .await
    {
        Ok(out) => HttpResponse::Ok().json(json!({
            "Code": 200, "Msg": m::L_ADMIN_MODE_ON.get(),
            "Token": out.tokens.access.token.expose(),
            "Email": out.user.email.as_str(),
            "UserID": out.user.id.0,
            "RefreshToken": out.tokens.refresh.expose(),
            "ExpiresIn": out.tokens.access.expires_in,
        })),
        Err(AuthError::InvalidCredentials) => HttpResponse::Ok().json(json!({
            "Code": 500, "Msg": m::L_ADMIN_AUTH_FAILED.get(), "Token": null, "Email": null,
        })),
        Err(e) => refusal(&e),
    }
}
