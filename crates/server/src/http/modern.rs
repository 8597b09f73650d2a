//! `/api/auth/*`: the modern dialect, a superset of seeds 000, 003 and 004.
//!
//! Success bodies carry every key any of the three seeds' clients read
//! (`message` and `msg`; `access_token` and `auth.token`; …). Error bodies are
//! `{error, message, msg, code}`: `error` and `message` are human-readable
//! (seeds 000/004), `msg` is Flask-JWT-Extended's wording for token problems
//! (clients of 000/003 match on it to trigger a refresh), and `code` is a
//! stable machine-readable identifier. Validation errors add `details`
//! (`{field: [reasons]}`, seed 004) and `errors` (a flat list, seed 003).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use tessera_domain::error::{AuthError, TokenProblem};
use tessera_domain::model::ClientInfo;
use tessera_domain::model::User;
use tessera_domain::model::{IssuedAccess, TokenPair};
use tessera_domain::ports::{Ports, RefreshTokenCodec as _};
use tessera_domain::usecase::{RegistrationForm, ResetForm};
use tessera_domain::validation::ValidationErrors;

use super::messages as m;
use super::{AppState, BodyError, client_info, read_json, text_field};
use crate::config::Bucket;

type State<P> = web::Data<AppState<P>>;

/// Mounts `/api/auth/*` (inside the `/api/auth` scope).
pub fn routes<P: Ports>(cfg: &mut web::ServiceConfig) {
    cfg.route("/register", web::post().to(register::<P>))
        .route("/login", web::post().to(login::<P>))
        .route("/profile", web::get().to(profile::<P>))
        .route("/me", web::get().to(me::<P>))
        .route("/refresh", web::post().to(refresh::<P>))
        .route("/logout", web::post().to(logout::<P>))
        .route("/logout-all", web::post().to(logout_all::<P>))
        .route("/sessions", web::get().to(sessions::<P>))
        .route("/sessions/{id}", web::delete().to(delete_session::<P>))
        .route("/change-password", web::post().to(change_password::<P>))
        .route("/verify-email", web::post().to(verify_email::<P>))
        .route(
            "/verify-email",
            web::get().to(super::pages::verify_email_page::<P>),
        )
        .route(
            "/verify-email/confirm",
            web::post().to(super::pages::verify_email_confirm::<P>),
        )
        .route(
            "/verify-email/reject",
            web::post().to(super::pages::verify_email_reject::<P>),
        )
        .route(
            "/resend-verification",
            web::post().to(resend_verification::<P>),
        )
        .route(
            "/request-reset-code",
            web::post().to(request_reset_code::<P>),
        )
        .route("/reset-password", web::post().to(reset_password::<P>));
}

/// Why a request failed, in this dialect.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A use case refused.
    #[error(transparent)]
    Auth(AuthError),
    /// The body could not be read.
    #[error("request body: {0:?}")]
    Body(BodyError),
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        Self::Auth(e)
    }
}

impl From<BodyError> for ApiError {
    fn from(e: BodyError) -> Self {
        Self::Body(e)
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(e: ValidationErrors) -> Self {
        Self::Auth(AuthError::Validation(e))
    }
}

/// `{error, message, msg, code}` with one text in all three.
pub fn simple(status: StatusCode, code: &str, text: &str) -> HttpResponse {
    error_body(status, code, text, text)
}

/// `{error, message, msg, code}` with `status`.
pub fn error_body(status: StatusCode, code: &str, error: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status)
        .json(json!({"error": error, "message": message, "msg": message, "code": code}))
}

/// Flask-JWT-Extended's `msg` for each token problem (PyJWT's wording where
/// it passes an exception's text on): what clients of seeds 000 and 003
/// match on (issue 13, item 8; peer-facts "General"). `code`, `error` and
/// `message` keep Tessera's own values; the status stays 401 (seeds 000/004)
/// where Flask-JWT-Extended answers some of these with 422.
fn flask_wording(problem: TokenProblem) -> &'static str {
    match problem {
        TokenProblem::Missing => "Missing Authorization Header",
        TokenProblem::WrongScheme => {
            "Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'"
        }
        TokenProblem::Malformed => "Not enough segments",
        TokenProblem::BadSignature => "Signature verification failed",
        TokenProblem::RefreshTokenPresented => "Only non-refresh tokens are allowed",
        TokenProblem::Invalid => "Invalid token",
        TokenProblem::Expired => "Token has expired",
        TokenProblem::NotYetValid => "The token is not yet valid (nbf)",
        TokenProblem::Revoked => "Token has been revoked",
    }
}

fn token_error(problem: TokenProblem) -> HttpResponse {
    let (code, error) = match problem {
        TokenProblem::Missing | TokenProblem::WrongScheme => {
            ("token_missing", m::TOKEN_MISSING.get())
        }
        TokenProblem::Malformed
        | TokenProblem::BadSignature
        | TokenProblem::RefreshTokenPresented
        | TokenProblem::Invalid => ("token_invalid", m::TOKEN_INVALID.get()),
        TokenProblem::Expired => ("token_expired", m::TOKEN_EXPIRED.get()),
        TokenProblem::NotYetValid => ("token_not_yet_valid", m::TOKEN_NOT_YET_VALID.get()),
        TokenProblem::Revoked => ("token_revoked", m::TOKEN_REVOKED.get()),
    };
    let flask = flask_wording(problem);
    HttpResponse::Unauthorized()
        .insert_header((
            "WWW-Authenticate",
            format!("Bearer error=\"invalid_token\", error_description=\"{flask}\""),
        ))
        .json(json!({"error": error, "message": error, "msg": flask, "code": code}))
}

fn validation_error(e: &ValidationErrors) -> HttpResponse {
    let mut details = Map::new();
    let mut flat = Vec::new();
    for (field, issues) in e.fields() {
        let texts: Vec<String> = issues.iter().map(|i| m::field_issue(field, i)).collect();
        flat.extend(texts.iter().cloned());
        details.insert(field.clone(), json!(texts));
    }
    let codes: Map<String, Value> = e
        .fields()
        .iter()
        .map(|(f, issues)| {
            (
                f.clone(),
                json!(issues.iter().map(|i| i.code()).collect::<Vec<_>>()),
            )
        })
        .collect();
    // `msg` is what seed 003's front end shows: the first reason, as in
    // `message` (issue 13, item 9).
    let reason = flat
        .first()
        .cloned()
        .unwrap_or_else(|| m::VALIDATION_DETAIL.get().to_owned());
    let mut body = json!({
        "error": m::VALIDATION.get(),
        "message": reason,
        "msg": reason,
        "code": "validation_failed",
        "details": details,
        "errors": flat,
        "fields": codes,
    });
    if let Some(feedback) = m::password_feedback(e) {
        body["password_feedback"] = feedback;
    }
    HttpResponse::BadRequest().json(body)
}

impl actix_web::ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.render().status()
    }

    fn error_response(&self) -> HttpResponse {
        // The cause of a 5xx goes to the log; the body stays opaque.
        match self {
            Self::Auth(AuthError::Unavailable(cause)) => {
                tracing::error!(%cause, "dependency unavailable")
            }
            Self::Auth(AuthError::Internal(cause)) => tracing::error!(%cause, "internal error"),
            _ => {}
        }
        self.render()
    }
}

impl ApiError {
    /// The response, without side effects.
    pub(crate) fn render(&self) -> HttpResponse {
        match self {
            Self::Body(BodyError::TimedOut) => simple(
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                m::BODY_TIMEOUT.get(),
            ),
            Self::Body(BodyError::TooLarge) => simple(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                m::BODY_TOO_LARGE.get(),
            ),
            Self::Body(BodyError::NotJson | BodyError::NotObject) => simple(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                m::INVALID_JSON.get(),
            ),
            Self::Body(BodyError::Read) => simple(
                StatusCode::BAD_REQUEST,
                "body_unreadable",
                m::BODY_READ.get(),
            ),
            Self::Auth(e) => auth_error(e),
        }
    }
}

fn auth_error(e: &AuthError) -> HttpResponse {
    match e {
        AuthError::Validation(v) => validation_error(v),
        AuthError::Conflict(field) => {
            let text = m::taken(field.as_str());
            HttpResponse::Conflict().json(json!({
                "error": text, "message": text, "msg": text,
                "code": format!("{}_taken", field.as_str()), "field": field.as_str(),
            }))
        }
        AuthError::InvalidCredentials => simple(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            m::INVALID_CREDENTIALS.get(),
        ),
        AuthError::AccountDisabled => simple(
            StatusCode::FORBIDDEN,
            "account_disabled",
            m::ACCOUNT_DISABLED.get(),
        ),
        AuthError::Token(p) => token_error(*p),
        AuthError::RefreshReused => simple(
            StatusCode::UNAUTHORIZED,
            "refresh_token_reused",
            m::REFRESH_REUSED.get(),
        ),
        AuthError::WrongPassword => simple(
            StatusCode::BAD_REQUEST,
            "wrong_password",
            m::WRONG_PASSWORD.get(),
        ),
        AuthError::SamePassword => simple(
            StatusCode::BAD_REQUEST,
            "same_password",
            m::SAME_PASSWORD.get(),
        ),
        AuthError::Forbidden(permission) => HttpResponse::Forbidden().json(json!({
            "error": m::FORBIDDEN.get(), "message": m::FORBIDDEN.get(), "msg": m::FORBIDDEN.get(),
            "code": "forbidden", "permission": permission,
        })),
        AuthError::Outranked => HttpResponse::Forbidden().json(json!({
            "error": m::OUTRANKED.get(), "message": m::OUTRANKED.get(), "msg": m::OUTRANKED.get(),
            "code": "forbidden", "reason": "outranked",
        })),
        AuthError::SessionNotFound => simple(
            StatusCode::NOT_FOUND,
            "session_not_found",
            m::SESSION_NOT_FOUND.get(),
        ),
        AuthError::SelfLockout => simple(
            StatusCode::BAD_REQUEST,
            "self_lockout",
            m::SELF_LOCKOUT.get(),
        ),
        AuthError::UserNotFound => simple(
            StatusCode::UNAUTHORIZED,
            "user_not_found",
            m::USER_NOT_FOUND.get(),
        ),
        AuthError::CodeExpired => simple(
            StatusCode::BAD_REQUEST,
            "code_expired",
            m::CODE_EXPIRED.get(),
        ),
        AuthError::CodeWrong { remaining } => {
            let text = m::code_wrong(*remaining);
            HttpResponse::BadRequest().json(json!({
                "error": text, "message": text, "msg": text, "code": "code_wrong", "remaining_attempts": remaining,
            }))
        }
        AuthError::CodeExhausted => simple(
            StatusCode::BAD_REQUEST,
            "code_exhausted",
            m::CODE_EXHAUSTED.get(),
        ),
        AuthError::CodeInvalid => simple(
            StatusCode::BAD_REQUEST,
            "code_invalid",
            m::CODE_INVALID.get(),
        ),
        AuthError::TooManyRequests {
            retry_after_secs,
            limit,
        } => {
            let mut r = HttpResponse::TooManyRequests().json(json!({
                "error": m::TOO_MANY.get(), "message": m::TOO_MANY.get(), "msg": m::TOO_MANY.get(),
                "code": "too_many_requests", "retry_after": retry_after_secs,
            }));
            super::rate_limit_headers(&mut r, *retry_after_secs, *limit);
            r
        }
        AuthError::AccountNotFound => simple(
            StatusCode::NOT_FOUND,
            "account_not_found",
            m::ACCOUNT_NOT_FOUND.get(),
        ),
        AuthError::ContactMismatch => simple(
            StatusCode::BAD_REQUEST,
            "contact_mismatch",
            m::CONTACT_MISMATCH.get(),
        ),
        AuthError::EmailNotVerified => simple(
            StatusCode::FORBIDDEN,
            "email_not_verified",
            m::EMAIL_NOT_VERIFIED.get(),
        ),
        AuthError::Busy => {
            let mut r = simple(StatusCode::SERVICE_UNAVAILABLE, "busy", m::BUSY.get());
            r.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from_static("1"),
            );
            r
        }
        AuthError::Unavailable(_) => simple(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            m::UNAVAILABLE.get(),
        ),
        AuthError::Internal(_) => simple(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            m::INTERNAL.get(),
        ),
    }
}

/// `created_at` as seed 000 shows it: `2024-01-01T00:00:00` (UTC).
fn timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// The user as 000, 003 and 004 show it (plus `uuid` and every role).
pub fn user_json(u: &User) -> Value {
    json!({
        "id": u.id.0,
        "uuid": u.public_id.to_string(),
        "username": u.username.as_str(),
        "email": u.email.as_str(),
        "phone": u.phone.as_ref().map(|p| p.as_str()),
        "role": u.role.as_str(),
        "roles": u.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "is_active": u.is_active,
        "email_verified": u.email_verified,
        "created_at": timestamp(u.created_at),
    })
}

fn auth_block(access: &IssuedAccess) -> Value {
    json!({"token": access.token.expose(), "token_type": "Bearer", "expires_in": access.expires_in})
}

fn pair_json(message: &str, pair: &TokenPair, refresh_expires_in: i64) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("message".into(), json!(message));
    body.insert("msg".into(), json!(message));
    body.insert("access_token".into(), json!(pair.access.token.expose()));
    body.insert("refresh_token".into(), json!(pair.refresh.expose()));
    body.insert("token_type".into(), json!("Bearer"));
    body.insert("expires_in".into(), json!(pair.access.expires_in));
    body.insert("refresh_expires_in".into(), json!(refresh_expires_in));
    body.insert("auth".into(), auth_block(&pair.access));
    body
}

async fn register<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    super::limit_ip(&state, &req, Bucket::Register).await?;
    let body = read_json(payload, state.max_body_bytes).await?;
    let mut type_errors = ValidationErrors::new();
    let form = RegistrationForm {
        username: text_field(&body, "username", false, &mut type_errors),
        email: text_field(&body, "email", false, &mut type_errors),
        password: text_field(&body, "password", false, &mut type_errors),
        phone: text_field(&body, "phone", true, &mut type_errors),
        role: text_field(&body, "role", false, &mut type_errors),
    };
    if !type_errors.is_empty() {
        let mut all = state
            .auth
            .parse_registration(&form)
            .err()
            .unwrap_or_default();
        all.absorb(type_errors);
        return Err(all.into());
    }
    let user = state.auth.register(&form, super::locale()).await?;
    Ok(HttpResponse::Created().json(json!({
        "message": m::REGISTERED.get(),
        "msg": m::REGISTERED.get(),
        "user": user_json(&user),
    })))
}

async fn login<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    super::limit_ip(&state, &req, Bucket::Login).await?;
    let body = read_json(payload, state.max_body_bytes).await?;
    let mut type_errors = ValidationErrors::new();
    let identifier = ["identifier", "username", "email", "phone"]
        .iter()
        .find_map(|k| {
            text_field(&body, k, *k == "phone", &mut type_errors).filter(|v| !v.trim().is_empty())
        });
    let password = text_field(&body, "password", false, &mut type_errors);
    if !type_errors.is_empty() {
        return Err(type_errors.into());
    }
    let out = state
        .auth
        .login(
            identifier.as_deref().unwrap_or(""),
            password.as_deref().unwrap_or(""),
            client_info(&req, &state.trusted_proxies),
        )
        .await?;
    let refresh_expires_in = (out.session.expires_at - out.session.created_at).num_seconds();
    let mut body = pair_json(m::LOGGED_IN.get(), &out.tokens, refresh_expires_in);
    body.insert("user".into(), user_json(&out.user));
    Ok(HttpResponse::Ok().json(body))
}

async fn profile<P: Ports>(state: State<P>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let (_, user) = super::authenticate_user(&state, &req).await?;
    Ok(HttpResponse::Ok().json(user_json(&user)))
}

async fn me<P: Ports>(state: State<P>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let (_, user) = super::authenticate_user(&state, &req).await?;
    let mut u = user_json(&user);
    if let Value::Object(map) = &mut u {
        map.insert(
            "permissions".into(),
            json!(state.auth.permissions_of(&user).await?),
        );
    }
    Ok(HttpResponse::Ok().json(json!({"user": u})))
}

/// `POST /api/auth/refresh`. A refresh token (as Bearer, seed 000, or as
/// `refresh_token` in the body) is rotated; a still-valid access token (seed
/// 004) gets a new access token for the same session.
async fn refresh<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    super::limit_ip(&state, &req, Bucket::Refresh).await?;
    let token = match super::presented_token(&req).map_err(AuthError::Token)? {
        Some(t) => t,
        None => {
            let body = read_json(payload, state.max_body_bytes).await?;
            let mut type_errors = ValidationErrors::new();
            let t = text_field(&body, "refresh_token", false, &mut type_errors);
            if !type_errors.is_empty() {
                return Err(type_errors.into());
            }
            t.unwrap_or_default()
        }
    };
    if token.is_empty() {
        return Err(AuthError::Token(TokenProblem::Missing).into());
    }
    if state.auth.ports().codec.parse(&token).is_some() {
        let (_, pair) = state
            .auth
            .refresh_from(&token, client_info(&req, &state.trusted_proxies))
            .await?;
        let ttl = state.auth.settings().refresh_ttl.num_seconds();
        return Ok(HttpResponse::Ok().json(pair_json(m::REFRESHED.get(), &pair, ttl)));
    }
    let auth = state
        .auth
        .authenticate_from(Some(&token), client_info(&req, &state.trusted_proxies))
        .await?;
    let (_, access) = state.auth.refresh_access(&auth).await?;
    Ok(HttpResponse::Ok().json(json!({
        "message": m::REFRESHED.get(),
        "msg": m::REFRESHED.get(),
        "access_token": access.token.expose(),
        "token_type": "Bearer",
        "expires_in": access.expires_in,
        "auth": auth_block(&access),
    })))
}

async fn logout<P: Ports>(state: State<P>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let auth = super::authenticate(&state, &req).await?;
    state.auth.logout(&auth).await?;
    Ok(
        HttpResponse::Ok()
            .json(json!({"message": m::LOGGED_OUT.get(), "msg": m::LOGGED_OUT.get()})),
    )
}

/// `POST /api/auth/logout-all`: ends every session of the caller, this one included.
async fn logout_all<P: Ports>(state: State<P>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let auth = super::authenticate(&state, &req).await?;
    let revoked = state.auth.logout_all(&auth).await?;
    Ok(HttpResponse::Ok().json(json!({
        "message": m::LOGGED_OUT_ALL.get(), "msg": m::LOGGED_OUT_ALL.get(), "revoked": revoked,
    })))
}

/// `GET /api/auth/sessions?page=1&per_page=50`: one page of the caller's
/// live sessions (device, IP, times), oldest first, paged like
/// `/api/admin/users`: `per_page` defaults to 50 (the default
/// `MAX_SESSIONS_PER_USER`, so one page shows them all) and is capped at 100;
/// a `page` or `per_page` that is not a whole number from 1 is a 400.
async fn sessions<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    query: web::Query<std::collections::HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    use tessera_domain::usecase::{MAX_PAGE_SIZE, session_limit::DEFAULT_SESSIONS_PER_PAGE};
    let auth = super::authenticate(&state, &req).await?;
    let mut errors = ValidationErrors::new();
    let page = super::admin::number(&query, "page", 1, u64::MAX, &mut errors);
    let per_page = super::admin::number(
        &query,
        "per_page",
        u64::from(DEFAULT_SESSIONS_PER_PAGE),
        u64::from(MAX_PAGE_SIZE),
        &mut errors,
    );
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let result = state
        .auth
        .list_sessions_page(
            &auth,
            page,
            u32::try_from(per_page).unwrap_or(MAX_PAGE_SIZE),
        )
        .await?;
    let current = auth.session_id();
    let sessions: Vec<Value> = result
        .sessions
        .iter()
        .map(|s| {
            json!({
                "id": s.id.0.to_string(),
                "current": s.id == current,
                "device": s.client.user_agent,
                "ip": s.client.ip,
                "created_at": timestamp(s.created_at),
                "last_used_at": timestamp(s.last_used_at),
                "expires_at": timestamp(s.expires_at),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "sessions": sessions,
        "total": result.total,
        "page": page,
        "per_page": per_page,
        "pages": result.total.div_ceil(per_page),
    })))
}

/// `DELETE /api/auth/sessions/{id}`: ends one of the caller's sessions.
async fn delete_session<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let auth = super::authenticate(&state, &req).await?;
    let id = uuid::Uuid::parse_str(&id).map_err(|_| ApiError::Auth(AuthError::SessionNotFound))?;
    state
        .auth
        .revoke_own_session(&auth, tessera_domain::model::SessionId(id))
        .await?;
    Ok(HttpResponse::Ok()
        .json(json!({"message": m::SESSION_ENDED.get(), "msg": m::SESSION_ENDED.get()})))
}

async fn change_password<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let auth = super::authenticate(&state, &req).await?;
    let body = read_json(payload, state.max_body_bytes).await?;
    let mut type_errors = ValidationErrors::new();
    let old = text_field(&body, "old_password", false, &mut type_errors);
    let new = text_field(&body, "new_password", false, &mut type_errors);
    if !type_errors.is_empty() {
        return Err(type_errors.into());
    }
    state
        .auth
        .change_password(&auth, old.as_deref(), new.as_deref(), super::locale())
        .await?;
    Ok(HttpResponse::Ok()
        .json(json!({"message": m::PASSWORD_CHANGED.get(), "msg": m::PASSWORD_CHANGED.get()})))
}

/// `POST /api/auth/verify-email` with `{email, code, password}` or `{token,
/// password}`: a code or link confirms only with the account's password
/// (issue 12, item 3).
async fn verify_email<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    super::limit_ip(&state, &req, Bucket::VerifyCode).await?;
    let body = read_json(payload, state.max_body_bytes).await?;
    let mut type_errors = ValidationErrors::new();
    let token = text_field(&body, "token", false, &mut type_errors);
    let password = text_field(&body, "password", false, &mut type_errors);
    let email = text_field(&body, "email", false, &mut type_errors);
    let code = text_field(&body, "code", true, &mut type_errors);
    if !type_errors.is_empty() {
        return Err(type_errors.into());
    }
    let client = client_info(&req, &state.trusted_proxies);
    let user = match token {
        Some(t) => {
            state
                .auth
                .confirm_verification_link(Some(&t), password.as_deref(), &client)
                .await?
        }
        None => {
            state
                .auth
                .verify_email_code(
                    email.as_deref(),
                    code.as_deref(),
                    password.as_deref(),
                    &client,
                )
                .await?
        }
    };
    Ok(HttpResponse::Ok().json(
        json!({"message": m::EMAIL_VERIFIED.get(), "msg": m::EMAIL_VERIFIED.get(), "user": user_json(&user)}),
    ))
}

/// `POST /api/auth/resend-verification` `{email}`: the same answer whether or
/// not the address belongs to an unverified account.
async fn resend_verification<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    super::limit_ip(&state, &req, Bucket::SendCode).await?;
    let body = read_json(payload, state.max_body_bytes).await?;
    let mut type_errors = ValidationErrors::new();
    let email = text_field(&body, "email", false, &mut type_errors);
    if !type_errors.is_empty() {
        return Err(type_errors.into());
    }
    state
        .auth
        .resend_verification(email.as_deref(), super::locale())
        .await?;
    Ok(HttpResponse::Ok()
        .json(json!({"message": m::VERIFICATION_SENT.get(), "msg": m::VERIFICATION_SENT.get()})))
}

/// The `identifier`, `channel` and `contact` fields both reset routes take.
struct ResetFields([Option<String>; 3]);

impl ResetFields {
    fn read(body: &Map<String, Value>, errors: &mut ValidationErrors) -> Self {
        Self([
            text_field(body, "identifier", true, errors),
            text_field(body, "channel", false, errors),
            text_field(body, "contact", true, errors),
        ])
    }

    fn form<'a>(&'a self, client: &'a ClientInfo) -> ResetForm<'a> {
        let [identifier, channel, contact] = &self.0;
        ResetForm {
            identifier: identifier.as_deref(),
            channel: channel.as_deref(),
            contact: contact.as_deref(),
            client: Some(client),
        }
    }
}

/// `POST /api/auth/request-reset-code` `{identifier, channel, contact}` (seed 003):
/// `{message, expires_in}`, plus `debug_code` in development.
async fn request_reset_code<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    super::limit_ip(&state, &req, Bucket::SendCode).await?;
    let body = read_json(payload, state.max_body_bytes).await?;
    let mut type_errors = ValidationErrors::new();
    let fields = ResetFields::read(&body, &mut type_errors);
    if !type_errors.is_empty() {
        return Err(type_errors.into());
    }
    let issued = state
        .auth
        .request_reset_code(
            fields.form(&client_info(&req, &state.trusted_proxies)),
            super::locale(),
        )
        .await?;
    let mut out = json!({"message": m::RESET_CODE_SENT.get(), "msg": m::RESET_CODE_SENT.get(), "expires_in": issued.expires_in});
    if let (Some(code), Value::Object(map)) = (issued.debug_code, &mut out) {
        map.insert("debug_code".into(), json!(code));
    }
    Ok(HttpResponse::Ok().json(out))
}

/// `POST /api/auth/reset-password` `{identifier, channel, contact, code, new_password}` (seed 003).
async fn reset_password<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    super::limit_ip(&state, &req, Bucket::VerifyCode).await?;
    let body = read_json(payload, state.max_body_bytes).await?;
    let mut type_errors = ValidationErrors::new();
    let fields = ResetFields::read(&body, &mut type_errors);
    let code = text_field(&body, "code", true, &mut type_errors);
    let new_password = text_field(&body, "new_password", false, &mut type_errors);
    if !type_errors.is_empty() {
        return Err(type_errors.into());
    }
    state
        .auth
        .reset_password(
            fields.form(&client_info(&req, &state.trusted_proxies)),
            code.as_deref(),
            new_password.as_deref(),
            super::locale(),
        )
        .await?;
    Ok(HttpResponse::Ok()
        .json(json!({"message": m::PASSWORD_RESET.get(), "msg": m::PASSWORD_RESET.get()})))
}
