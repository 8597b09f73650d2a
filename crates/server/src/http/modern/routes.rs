//! The modern dialect's handlers and their mount.

use actix_web::{HttpRequest, HttpResponse, web};
use tessera_domain::error::{AuthError, TokenProblem};
use tessera_domain::model::ClientInfo;
use tessera_domain::model::User;
use tessera_domain::ports::Ports;
use tessera_domain::settings::LinkKind;
use tessera_domain::usecase::{LoginStep, RegistrationForm, ResetForm};
use tessera_domain::validation::ValidationErrors;
use tessera_domain::values::PasswordInput;

use super::dto;
use super::errors::ModernError;
use super::factors;
use super::federation;
use super::pages;
use super::passkeys;
use crate::http::dto::{AnyOf, Paging};
use crate::http::messages as m;
use crate::http::{AppState, client_info, read_json, read_text_fields, text_field, text_fields};
use crate::openapi::{REGISTER_RULES, TOKEN_REFUSED};

type State<P> = web::Data<AppState<P>>;

crate::declare_routes! {
    "/api/auth";
    Post "/register" => register::<P> [limit Register];
    Post "/login" => login::<P> [limit Login];
    Get "/profile" => profile::<P> [];
    Get "/me" => me::<P> [];
    Get "/me/export" => super::export::export::<P> [];
    Delete "/me" => super::deletion::delete_account::<P> [];
    Post "/me/email" => super::contact::request_email_change::<P> [limit SendCode];
    Post "/me/email/confirm" => super::contact::confirm_email_change::<P> [limit VerifyCode];
    Post "/me/phone" => super::contact::request_phone_change::<P> [limit SendCode];
    Post "/me/phone/confirm" => super::contact::confirm_phone_change::<P> [limit VerifyCode];
    Post "/contact/revert" => super::contact::revert_contact_change::<P> [limit VerifyCode];
    Post "/login/code" => super::contact::request_sign_in_code::<P> [limit SendCode];
    Post "/login/code/verify" => super::contact::verify_sign_in_code::<P> [limit VerifyCode];
    Post "/refresh" => refresh::<P> [limit Refresh];
    Post "/logout" => logout::<P> [];
    Post "/logout-all" => logout_all::<P> [];
    Get "/sessions" => sessions::<P> [];
    Delete "/sessions/{id}" => delete_session::<P> [];
    Post "/change-password" => change_password::<P> [limit Login];
    Post "/verify-email" => verify_email::<P> [limit VerifyCode];
    Get "/verify-email" => pages::verify_email_page::<P> [shape Page];
    Post "/verify-email/confirm" => pages::verify_email_confirm::<P> [limit VerifyCode shape Page];
    Post "/verify-email/reject" => pages::verify_email_reject::<P> [limit VerifyCode shape Page];
    Post "/resend-verification" => resend_verification::<P> [limit SendCode];
    Post "/request-reset-code" => request_reset_code::<P> [limit SendCode];
    Post "/reset-password" => reset_password::<P> [limit VerifyCode];
    Post "/mfa/verify" => factors::verify::<P> [limit Login];
    Get "/mfa" => factors::overview::<P> [];
    Post "/mfa/totp" => factors::begin_totp::<P> [limit VerifyCode];
    Delete "/mfa/totp" => factors::remove_totp::<P> [limit VerifyCode];
    Post "/mfa/totp/confirm" => factors::confirm_totp::<P> [limit VerifyCode];
    Post "/mfa/recovery-codes" => factors::regenerate_recovery_codes::<P> [limit VerifyCode];
    Post "/mfa/passkey/options" => passkeys::second_factor_options::<P> [limit Ceremony];
    Post "/mfa/enrol/totp" => factors::begin_required_totp::<P> [limit VerifyCode];
    Post "/mfa/enrol/passkey/options" => passkeys::required_enrolment_options::<P> [limit Ceremony];
    Get "/passkeys" => passkeys::list::<P> [];
    Post "/passkeys/options" => passkeys::registration_options::<P> [limit Ceremony];
    Post "/passkeys" => passkeys::register::<P> [limit VerifyCode];
    Post "/passkeys/{id}/rename" => passkeys::rename::<P> [];
    Delete "/passkeys/{id}" => passkeys::remove::<P> [];
    Post "/passkey/options" => passkeys::sign_in_options::<P> [limit Ceremony];
    Post "/passkey/login" => passkeys::sign_in::<P> [limit Login];
    Get "/oauth/providers" => federation::providers::<P> [];
    Post "/oauth/exchange" => federation::exchange::<P> [limit Login];
    Get "/identities" => federation::identities::<P> [];
    Post "/identities/link" => federation::link::<P> [limit Login];
    Delete "/identities/{provider}/{subject}" => federation::unlink::<P> [];
}

/// The user as 000, 003 and 004 show it (plus `uuid` and every role).
#[must_use]
pub fn user_json(u: &User) -> dto::User {
    u.into()
}

#[utoipa::path(post, path = "/api/auth/register", tag = super::TAG,
    summary = "Register (seeds 000, 003, 004)",
    description = REGISTER_RULES, request_body = dto::RegisterRequest,
    responses(
        (status = 201, description = "Created.", body = dto::UserMessage),
        (status = 400, description = "Validation failed (`details`, `errors`, `fields`), or not a JSON object.", body = dto::Error),
        (status = 409, description = "Username, email or phone taken (`code` `*_taken`, `field`).", body = dto::Error),
    ),
)]
async fn register<P: Ports>(
    state: State<P>,
    payload: web::Payload,
) -> Result<HttpResponse, ModernError> {
    let body = read_json(payload, state.max_body_bytes).await?;
    let ([username, email, password, phone, role], type_errors) = text_fields(
        &body,
        [
            ("username", false),
            ("email", false),
            ("password", false),
            ("phone", true),
            ("role", false),
        ],
    );
    let form = RegistrationForm {
        username,
        email,
        password,
        phone,
        role,
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
    let user = state
        .auth
        .register(&form, crate::http::locale(), LinkKind::Page)
        .await?;
    Ok(HttpResponse::Created().json(dto::UserMessage::new(m::REGISTERED.get(), &user)))
}

#[utoipa::path(post, path = "/api/auth/login", tag = super::TAG,
    summary = "Log in by username, email or phone",
    description = "Beyond the schema: the account's name must read as an email (IDNA domain), a phone \
        number (libphonenumber, `PHONE_DEFAULT_REGION`) or a username (RFC 8265); otherwise 400.",
    request_body = dto::LoginRequest,
    responses(
        (status = 200, description = "Token pair and user.", body = dto::LoginResponse),
        (status = 400, description = "Validation failed.", body = dto::Error),
        (status = 401, description = "Invalid credentials.", body = dto::Error),
        (status = 403, description = "Account disabled, or email not verified with `REQUIRE_VERIFIED_EMAIL` (`dto::Error`); \
            or `mfa_required`: the account has a second factor, answer with `POST /api/auth/mfa/verify`.", body = inline(AnyOf<dto::Error, factors::MfaRequired>)),
    ),
)]
async fn login<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ModernError> {
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
    let step = state
        .auth
        .verify_credentials(
            identifier.as_deref().unwrap_or(""),
            PasswordInput::Plain(password.as_deref().unwrap_or("")),
            client_info(&req, &state.trusted_proxies),
            tessera_domain::usecase::LoginTerms::default(),
        )
        .await?;
    let out = match step {
        LoginStep::SecondFactor(challenge) => {
            return Ok(factors::MfaRequired::response(&challenge));
        }
        step => step.done()?,
    };
    Ok(HttpResponse::Ok().json(dto::LoginResponse::new(m::LOGGED_IN.get(), &out)))
}

#[utoipa::path(get, path = "/api/auth/profile", tag = super::TAG,
    summary = "The caller, flat (seed 000)",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user.", body = dto::User),
        (status = 401, description = TOKEN_REFUSED, body = dto::Error),
    ),
)]
async fn profile<P: Ports>(state: State<P>, req: HttpRequest) -> Result<HttpResponse, ModernError> {
    let (_, user) = crate::http::authenticate_user(&state, &req).await?;
    Ok(HttpResponse::Ok().json(user_json(&user)))
}

#[utoipa::path(get, path = "/api/auth/me", tag = super::TAG,
    summary = "The caller with permissions (seeds 003, 004)",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user.", body = dto::Me),
        (status = 401, description = TOKEN_REFUSED, body = dto::Error),
    ),
)]
async fn me<P: Ports>(state: State<P>, req: HttpRequest) -> Result<HttpResponse, ModernError> {
    let (_, user) = crate::http::authenticate_user(&state, &req).await?;
    let permissions = state.auth.permissions_of(&user).await?;
    Ok(HttpResponse::Ok().json(dto::Me {
        user: user_json(&user).with_permissions(permissions),
    }))
}

/// `POST /api/auth/refresh`. A refresh token (as Bearer, seed 000, or as
/// `refresh_token` in the body) is rotated; a still-valid access token (seed
/// 004) gets a new access token for the same session.
#[utoipa::path(post, path = "/api/auth/refresh", tag = super::TAG,
    summary = "Rotate a refresh token (body or bearer)",
    description = "The body is read only when no `Authorization` header is sent: with `Authorization: \
        Bearer` (a refresh token, seed 000; or an access token, seed 004) the body is ignored.",
    request_body = Option<dto::RefreshRequest>,
    responses(
        (status = 200, description = "New tokens.", body = dto::RefreshResponse),
        (status = 400, description = "Validation failed.", body = dto::Error),
        (status = 401, description = "Missing, invalid, expired or reused token (reuse revokes the session).", body = dto::Error),
    ),
)]
async fn refresh<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ModernError> {
    let token = match crate::http::presented_token(&req).map_err(AuthError::Token)? {
        Some(t) => t,
        None => {
            let [t] =
                read_text_fields(payload, state.max_body_bytes, [("refresh_token", false)]).await?;
            t.unwrap_or_default()
        }
    };
    if token.is_empty() {
        return Err(AuthError::Token(TokenProblem::Missing).into());
    }
    if state.auth.is_refresh_token(&token) {
        let (_, pair) = state
            .auth
            .refresh(&token, client_info(&req, &state.trusted_proxies))
            .await?;
        let ttl = state.auth.settings().refresh_ttl.num_seconds();
        return Ok(HttpResponse::Ok().json(dto::RefreshResponse::rotated(
            m::REFRESHED.get(),
            &pair,
            ttl,
        )));
    }
    let auth = state
        .auth
        .authenticate(Some(&token), client_info(&req, &state.trusted_proxies))
        .await?;
    let (_, access) = state.auth.refresh_access(&auth).await?;
    Ok(HttpResponse::Ok().json(dto::RefreshResponse::access_only(
        m::REFRESHED.get(),
        &access,
    )))
}

#[utoipa::path(post, path = "/api/auth/logout", tag = super::TAG,
    summary = "End this session",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Logged out.", body = dto::Message),
        (status = 401, description = TOKEN_REFUSED, body = dto::Error),
    ),
)]
async fn logout<P: Ports>(state: State<P>, req: HttpRequest) -> Result<HttpResponse, ModernError> {
    let auth = crate::http::authenticate(&state, &req).await?;
    state.auth.logout(&auth).await?;
    Ok(HttpResponse::Ok().json(dto::Message::new(m::LOGGED_OUT.get())))
}

/// `POST /api/auth/logout-all`: ends every session of the caller, this one included.
#[utoipa::path(post, path = "/api/auth/logout-all", tag = super::TAG,
    summary = "End every session of the caller",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Logged out everywhere.", body = dto::Revoked),
        (status = 401, description = TOKEN_REFUSED, body = dto::Error),
    ),
)]
async fn logout_all<P: Ports>(
    state: State<P>,
    req: HttpRequest,
) -> Result<HttpResponse, ModernError> {
    let auth = crate::http::authenticate(&state, &req).await?;
    let revoked = state.auth.logout_all(&auth).await?;
    Ok(HttpResponse::Ok().json(dto::Revoked::new(m::LOGGED_OUT_ALL.get(), revoked)))
}

/// `GET /api/auth/sessions?page=1&per_page=50`: one page of the caller's
/// live sessions (device, IP, times), oldest first, paged like
/// `/api/admin/users`: `per_page` defaults to 50 (the default
/// `MAX_SESSIONS_PER_USER`, so one page shows them all) and is capped at 100;
/// a `page` or `per_page` that is not a whole number from 1 is a 400.
#[utoipa::path(get, path = "/api/auth/sessions", tag = super::TAG,
    summary = "The caller's live sessions, paged (`page`, `per_page` default 50, at most 100)",
    security(("bearer" = [])),
    params(Paging),
    responses(
        (status = 200, description = "A page of sessions.", body = dto::Sessions),
        (status = 400, description = "Bad paging parameter.", body = dto::Error),
        (status = 401, description = TOKEN_REFUSED, body = dto::Error),
    ),
)]
async fn sessions<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    query: web::Query<std::collections::HashMap<String, String>>,
) -> Result<HttpResponse, ModernError> {
    use tessera_domain::usecase::{MAX_PAGE_SIZE, session_limit::DEFAULT_SESSIONS_PER_PAGE};
    let auth = crate::http::authenticate(&state, &req).await?;
    let (page, per_page) = Paging::read(&query, u64::from(DEFAULT_SESSIONS_PER_PAGE))?;
    let result = state
        .auth
        .list_sessions_page(
            &auth,
            page,
            u32::try_from(per_page).unwrap_or(MAX_PAGE_SIZE),
        )
        .await?;
    let current = auth.session_id();
    let sessions = result
        .sessions
        .iter()
        .map(|s| dto::Session {
            id: s.id.0.to_string(),
            current: s.id == current,
            device: s.client.user_agent.clone(),
            ip: s.client.ip.clone(),
            created_at: dto::timestamp(s.created_at),
            last_used_at: dto::timestamp(s.last_used_at),
            expires_at: dto::timestamp(s.expires_at),
        })
        .collect();
    Ok(HttpResponse::Ok().json(dto::Sessions {
        sessions,
        total: result.total,
        page,
        per_page,
        pages: result.total.div_ceil(per_page),
    }))
}

/// `DELETE /api/auth/sessions/{id}`: ends one of the caller's sessions.
#[utoipa::path(delete, path = "/api/auth/sessions/{id}", tag = super::TAG,
    summary = "End one of the caller's sessions",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "Ended.", body = dto::Message),
        (status = 401, description = TOKEN_REFUSED, body = dto::Error),
        (status = 404, description = "No such session of the caller.", body = dto::Error),
    ),
)]
async fn delete_session<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ModernError> {
    let auth = crate::http::authenticate(&state, &req).await?;
    let id =
        uuid::Uuid::parse_str(&id).map_err(|_| ModernError::from(AuthError::SessionNotFound))?;
    state
        .auth
        .revoke_own_session(&auth, tessera_domain::model::SessionId(id))
        .await?;
    Ok(HttpResponse::Ok().json(dto::Message::new(m::SESSION_ENDED.get())))
}

#[utoipa::path(post, path = "/api/auth/change-password", tag = super::TAG,
    summary = "Change password (ends every other session)",
    security(("bearer" = [])),
    description = "Beyond the schema: `old_password` must be the account's current password, and \
        `new_password` must differ from it and reach `PASSWORD_MIN_SCORE` (zxcvbn; \
        `password_too_common`, `password_too_weak`); otherwise 400.",
    request_body = dto::ChangePasswordRequest,
    responses(
        (status = 200, description = "Changed.", body = dto::Message),
        (status = 400, description = "Validation failed, wrong old password, or same password.", body = dto::Error),
        (status = 401, description = TOKEN_REFUSED, body = dto::Error),
    ),
)]
async fn change_password<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ModernError> {
    let auth = crate::http::authenticate(&state, &req).await?;
    let [old, new] = read_text_fields(
        payload,
        state.max_body_bytes,
        [("old_password", false), ("new_password", false)],
    )
    .await?;
    state
        .auth
        .change_password(&auth, old.as_deref(), new.as_deref(), crate::http::locale())
        .await?;
    Ok(HttpResponse::Ok().json(dto::Message::new(m::PASSWORD_CHANGED.get())))
}

/// `POST /api/auth/verify-email` with `{email, code, password}` or `{token,
/// password}`: a code or link confirms only with the account's password
/// (issue 12, item 3).
#[utoipa::path(post, path = "/api/auth/verify-email", tag = super::TAG,
    summary = "Verify the email with the mailed code, or with the link token and the account's password",
    description = "Beyond the schema: `code` must be the one mailed to `email` (or `token` a live link \
        and `password` its account's password); otherwise 400.",
    request_body = dto::VerifyEmailRequest,
    responses(
        (status = 200, description = "Verified; every session opened before ends.", body = dto::UserMessage),
        (status = 400, description = "Validation failed; `code_invalid` (a wrong, expired, used-up or never-issued code: one answer); \
            `code_expired` (bad link token); `wrong_password` (link with another password).", body = dto::Error),
        (status = 429, description = "Over a rate limit or the login throttle.", body = dto::Error),
    ),
)]
async fn verify_email<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ModernError> {
    let [token, password, email, code] = read_text_fields(
        payload,
        state.max_body_bytes,
        [
            ("token", false),
            ("password", false),
            ("email", false),
            ("code", true),
        ],
    )
    .await?;
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
    Ok(HttpResponse::Ok().json(dto::UserMessage::new(m::EMAIL_VERIFIED.get(), &user)))
}

/// `POST /api/auth/resend-verification` `{email}`: the same answer whether or
/// not the address belongs to an unverified account.
#[utoipa::path(post, path = "/api/auth/resend-verification", tag = super::TAG,
    summary = "Mail a new code (same answer for unknown addresses)",
    description = "Beyond the schema: `email` must be a deliverable address (IDNA domain, no invisible \
        characters); otherwise 400.",
    request_body = dto::EmailRequest,
    responses(
        (status = 200, description = "Sent if registered and unverified.", body = dto::Message),
        (status = 400, description = "Validation failed.", body = dto::Error),
    ),
)]
async fn resend_verification<P: Ports>(
    state: State<P>,
    payload: web::Payload,
) -> Result<HttpResponse, ModernError> {
    let [email] = read_text_fields(payload, state.max_body_bytes, [("email", false)]).await?;
    state
        .auth
        .resend_verification(email.as_deref(), crate::http::locale())
        .await?;
    Ok(HttpResponse::Ok().json(dto::Message::new(m::VERIFICATION_SENT.get())))
}

/// The `identifier`, `channel` and `contact` fields both reset routes take
/// (`identifier` and `contact` may be numbers).
const RESET_FIELDS: [(&str, bool); 3] =
    [("identifier", true), ("channel", false), ("contact", true)];

/// The reset form of `[identifier, channel, contact]` from `client`.
fn reset_form<'a>(fields: &'a [Option<String>; 3], client: &'a ClientInfo) -> ResetForm<'a> {
    let [identifier, channel, contact] = fields;
    ResetForm {
        identifier: identifier.as_deref(),
        channel: channel.as_deref(),
        contact: contact.as_deref(),
        client: Some(client),
    }
}

/// `POST /api/auth/request-reset-code` `{identifier, channel, contact}` (seed 003):
/// `{message, expires_in}`, plus `debug_code` in development.
#[utoipa::path(post, path = "/api/auth/request-reset-code", tag = super::TAG,
    summary = "Mail or text a reset code (seed 003)",
    description = "Beyond the schema: `contact` must be the account's own address (`channel` `email`) \
        or number (`channel` `phone`); otherwise 400.",
    request_body = dto::ResetCodeRequest,
    responses(
        (status = 200, description = "Sent.", body = dto::ResetCodeSent),
        (status = 400, description = "Validation failed, or contact does not match.", body = dto::Error),
        (status = 404, description = "No such account.", body = dto::Error),
    ),
)]
async fn request_reset_code<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ModernError> {
    let fields = read_text_fields(payload, state.max_body_bytes, RESET_FIELDS).await?;
    let issued = state
        .auth
        .request_reset_code(
            reset_form(&fields, &client_info(&req, &state.trusted_proxies)),
            crate::http::locale(),
        )
        .await?;
    Ok(HttpResponse::Ok().json(dto::ResetCodeSent {
        message: m::RESET_CODE_SENT.get().to_owned(),
        msg: m::RESET_CODE_SENT.get().to_owned(),
        expires_in: issued.expires_in,
        debug_code: issued.debug_code,
    }))
}

/// `POST /api/auth/reset-password` `{identifier, channel, contact, code, new_password}` (seed 003).
#[utoipa::path(post, path = "/api/auth/reset-password", tag = super::TAG,
    summary = "Set a new password with the code (ends every session)",
    description = "Beyond the schema: `contact` must be the account's own, `code` the one sent to it, \
        and `new_password` must reach `PASSWORD_MIN_SCORE` (zxcvbn); otherwise 400.",
    request_body = dto::ResetPasswordRequest,
    responses(
        (status = 200, description = "Reset.", body = dto::Message),
        (status = 400, description = "Validation failed; code wrong, expired or exhausted; contact mismatch.", body = dto::Error),
        (status = 404, description = "No such account.", body = dto::Error),
    ),
)]
async fn reset_password<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ModernError> {
    let [identifier, channel, contact, code, new_password] = read_text_fields(
        payload,
        state.max_body_bytes,
        [
            RESET_FIELDS[0],
            RESET_FIELDS[1],
            RESET_FIELDS[2],
            ("code", true),
            ("new_password", false),
        ],
    )
    .await?;
    state
        .auth
        .reset_password(
            reset_form(
                &[identifier, channel, contact],
                &client_info(&req, &state.trusted_proxies),
            ),
            code.as_deref(),
            new_password.as_deref().map(PasswordInput::Plain),
            crate::http::locale(),
        )
        .await?;
    Ok(HttpResponse::Ok().json(dto::Message::new(m::PASSWORD_RESET.get())))
}
