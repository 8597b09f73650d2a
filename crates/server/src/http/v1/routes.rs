//! Seed 002's handlers and their mount.

use actix_web::http::StatusCode;
use actix_web::{HttpMessage as _, HttpRequest, HttpResponse, web};
use tessera_domain::error::AuthError;
use tessera_domain::ports::Ports;
use tessera_domain::settings::LinkKind;
use tessera_domain::usecase::{LoginStep, RegistrationForm, VerifyLinkOutcome};

use super::dto;
use super::errors::{V1Failure, coded};
use crate::http::dialect::is_server_fault;
use crate::http::dto::AnyOf;
use crate::http::messages as m;
use crate::http::{AppState, client_info, locale, read_json, read_text_fields, text_fields};
use crate::openapi::{LIVE_LINK_RULE, REGISTER_RULES};

type State<P> = web::Data<AppState<P>>;

crate::declare_routes! {
    "/api/v1/auth";
    Post "/register" => register::<P> [limit Register];
    Get "/verify/{token}" => verify::<P> [limit VerifyCode];
    Post "/login" => login::<P> [limit Login];
    Post "/login/mfa" => login_mfa::<P> [limit Login];
    Get "/profile" => profile::<P> [];
}

/// `POST /api/v1/auth/register` `{username, email, password}` → 201.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = super::TAG,
    summary = "Register; mails a verification link (seed 002)",
    description = REGISTER_RULES, request_body = dto::V1RegisterRequest,
    responses(
        (status = 201, description = "Created.", body = dto::V1Registered),
        (status = 400, description = "Validation failed (code 4) or user exists (code 1).", body = dto::V1Error),
    ),
)]
async fn register<P: Ports>(
    state: State<P>,
    payload: web::Payload,
) -> Result<HttpResponse, V1Failure> {
    let [username, email, password] = read_text_fields(
        payload,
        state.max_body_bytes,
        [("username", false), ("email", false), ("password", false)],
    )
    .await?;
    let form = RegistrationForm {
        username,
        email,
        password,
        phone: None,
        role: None,
    };
    let user = state
        .auth
        .register(&form, locale(), LinkKind::Direct)
        .await?;
    Ok(HttpResponse::Created().json(dto::V1Registered {
        code: 0,
        message: m::V1_CREATED.get().to_owned(),
        data: (&user).into(),
    }))
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
    req.extensions().get::<crate::http::WasHead>().is_none()
        && accept.contains("application/json")
        && !accept.contains("text/html")
}

/// `GET /api/v1/auth/verify/<token>`: seed 002's link. By default every GET
/// shows the link's page, which confirms only with the account's password
/// (issue 12, item 3: a GET — a mail scanner's, or curl's — must not hand the
/// address to the registrant's password). With `V1_VERIFY_ON_GET` a client
/// that asks for JSON (`Accept: application/json`, no HEAD) gets the
/// contract: the address is confirmed on GET (code 0).
#[utoipa::path(get, path = "/api/v1/auth/verify/{token}", tag = super::TAG,
    summary = "Verify by the mailed link (JSON clients); browsers (`Accept: text/html`) get the link's page, which confirms only with the account's password",
    description = LIVE_LINK_RULE,
    params(("token" = String, Path)),
    responses(
        (status = 200, description = "Verified (code 0; every session opened before ends) or already verified (code 3); or the page.", content((dto::V1Verified = "application/json"), (String = "text/html"))),
        (status = 400, description = "Invalid or expired token (code 1); or the page.", content((dto::V1Error = "application/json"), (String = "text/html"))),
        (status = 404, description = "User not found (code 2).", body = dto::V1Error),
        (status = 503, description = "A dependency is down; or the page.", content((dto::V1Error = "application/json"), (String = "text/html"))),
    ),
)]
async fn verify<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    token: web::Path<String>,
) -> Result<HttpResponse, V1Failure> {
    if !state.v1_verify_on_get || !asks_for_json(&req) {
        return Ok(crate::http::modern::pages::verify_link_page(&state, &token).await);
    }
    let client = client_info(&req, &state.trusted_proxies);
    Ok(match state.auth.verify_email_link(&token, &client).await {
        Ok(VerifyLinkOutcome::Verified(_)) => {
            HttpResponse::Ok().json(dto::V1Verified::new(0, m::V1_VERIFIED.get()))
        }
        Ok(VerifyLinkOutcome::AlreadyVerified) => {
            HttpResponse::Ok().json(dto::V1Verified::new(3, m::V1_ALREADY_VERIFIED.get()))
        }
        Err(AuthError::UserNotFound) => {
            coded(StatusCode::NOT_FOUND, 2, m::V1_LINK_USER_NOT_FOUND.get())
        }
        Err(e) if is_server_fault(&e) => return Err(e.into()),
        Err(_) => coded(StatusCode::BAD_REQUEST, 1, m::V1_LINK_BAD.get()),
    })
}

/// `POST /api/v1/auth/login` `{email, password}` → `{code: 0, message, token}`;
/// wrong, missing, empty or wrongly typed fields → 401 `{error}`.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = super::TAG,
    summary = "Log in by email",
    request_body = dto::V1Credentials,
    responses(
        (status = 200, description = "Access token and user.", body = dto::V1Login),
        (status = 400, description = "The body is not a JSON object.", body = dto::V1Error),
        (status = 401, description = "Invalid credentials: wrong, missing, empty or wrongly typed fields alike (`dto::V1Error`); \
            or code 5: the account has a second factor, finish at `POST /api/v1/auth/login/mfa`.", body = inline(AnyOf<dto::V1Error, dto::V1MfaRequired>)),
        (status = 403, description = "Account disabled or email not verified.", body = dto::V1Error),
    ),
)]
async fn login<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, V1Failure> {
    let body = read_json(payload, state.max_body_bytes).await?;
    // Seed 002 documents only 401 for login, and its server answers a
    // missing, empty or wrongly typed field like a wrong password (issue 13,
    // item 6). A body that is no JSON object stays a 400 (above).
    let ([email, password], errors) = text_fields(&body, [("email", false), ("password", false)]);
    let email = email.filter(|e| !e.trim().is_empty());
    let password = password.filter(|p| tessera_domain::values::PasswordAttempt::parse(p).is_ok());
    let (true, Some(email), Some(password)) = (errors.is_empty(), email, password) else {
        return Err(AuthError::InvalidCredentials.into());
    };
    let ttl = state
        .auth
        .settings()
        .token_profile(crate::wiring::V1_TOKENS);
    let step = state
        .auth
        .verify_credentials(
            &email,
            tessera_domain::values::PasswordInput::Plain(&password),
            client_info(&req, &state.trusted_proxies),
            tessera_domain::usecase::LoginTerms {
                access_ttl: ttl,
                ..Default::default()
            },
        )
        .await?;
    let out = match step {
        LoginStep::SecondFactor(challenge) => {
            let (code, text) = if challenge.enrolment {
                (8, m::V1_MFA_ENROLMENT_REQUIRED.get().to_owned())
            } else {
                (5, m::V1_MFA_REQUIRED.get().to_owned())
            };
            return Ok(HttpResponse::Unauthorized().json(dto::V1MfaRequired {
                code,
                error: text.clone(),
                message: text,
                mfa_token: challenge.token.expose().to_owned(),
                factors: crate::http::modern::factors::kind_names(&challenge.factors),
                expires_in: challenge.expires_in_secs(chrono::Utc::now()),
            }));
        }
        step => step.done()?,
    };
    Ok(logged_in(&out))
}

/// `{code: 0, message, token, expires_in, data}` for `out`.
fn logged_in(out: &tessera_domain::usecase::LoginOutcome) -> HttpResponse {
    HttpResponse::Ok().json(dto::V1Login {
        code: 0,
        message: m::V1_LOGGED_IN.get().to_owned(),
        token: out.tokens.access.token.expose().to_owned(),
        expires_in: out.tokens.access.expires_in,
        data: dto::V1UserData {
            user: (&out.user).into(),
        },
        recovery_codes: out
            .recovery_codes
            .as_ref()
            .map(|codes| codes.0.iter().map(|s| s.expose().to_owned()).collect()),
    })
}

/// `POST /api/v1/auth/login/mfa` `{mfa_token, code}` → as a login's 200;
/// a wrong code → 400 code 6 with `remaining_attempts`; a challenge that is
/// unknown, expired, used or had its 5 codes → 401 code 7.
#[utoipa::path(post, path = "/api/v1/auth/login/mfa", tag = super::TAG,
    summary = "Finish a code 5 login with a TOTP code or a recovery code",
    request_body = dto::V1MfaRequest,
    responses(
        (status = 200, description = "Access token and user.", body = dto::V1Login),
        (status = 400, description = "Code 6: wrong code; code 4: a field missing.", body = inline(AnyOf<dto::V1MfaRefused, dto::V1Error>)),
        (status = 401, description = "Code 7: the challenge is gone; log in again.", body = dto::V1MfaRefused),
        (status = 403, description = "`{error, message}`: the account was disabled while the login waited.", body = dto::V1Error),
        (status = 429, description = "Too many factor checks for the account.", body = dto::V1Error),
    ),
)]
async fn login_mfa<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, V1Failure> {
    let [token, code] = read_text_fields(
        payload,
        state.max_body_bytes,
        [("mfa_token", false), ("code", true)],
    )
    .await?;
    let ttl = state
        .auth
        .settings()
        .token_profile(crate::wiring::V1_TOKENS);
    let refused = |status: StatusCode, code: u8, text: &str, remaining: Option<u32>| {
        HttpResponse::build(status).json(dto::V1MfaRefused {
            code,
            error: text.to_owned(),
            message: text.to_owned(),
            remaining_attempts: remaining,
        })
    };
    let out = state
        .auth
        .verify_second_factor(
            token.as_deref().unwrap_or(""),
            None,
            code.as_deref().unwrap_or(""),
            client_info(&req, &state.trusted_proxies),
            tessera_domain::usecase::LoginTerms {
                access_ttl: ttl,
                ..Default::default()
            },
            locale(),
        )
        .await;
    Ok(match out {
        Ok(out) => logged_in(&out),
        Err(AuthError::CodeWrong { remaining }) => refused(
            StatusCode::BAD_REQUEST,
            6,
            m::V1_MFA_CODE_WRONG.get(),
            Some(remaining),
        ),
        Err(AuthError::ChallengeInvalid | AuthError::CodeExhausted) => refused(
            StatusCode::UNAUTHORIZED,
            7,
            m::V1_MFA_TOKEN_INVALID.get(),
            None,
        ),
        Err(e) => return Err(e.into()),
    })
}

/// `GET /api/v1/auth/profile` → `{username, email, created_at}` (plus `id`).
#[utoipa::path(get, path = "/api/v1/auth/profile", tag = super::TAG,
    summary = "The caller (`Authorization: Bearer <token>`, or the bare token as seed 002's clients send it)",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user.", body = dto::V1User),
        (status = 401, description = "Missing, expired or invalid token.", body = dto::V1Error),
        (status = 404, description = "User not found.", body = dto::V1Error),
    ),
)]
async fn profile<P: Ports>(state: State<P>, req: HttpRequest) -> Result<HttpResponse, V1Failure> {
    let (_, user) = crate::http::authenticate_user(&state, &req).await?;
    Ok(HttpResponse::Ok().json(dto::V1User::from(&user)))
}
