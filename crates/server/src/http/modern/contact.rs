//! Issue 20: changing the account's e-mail address or phone number
//! (`/api/auth/me/email`, `/api/auth/me/phone`, their `/confirm`, and the
//! revert link's `/api/auth/contact/revert`) and sign-in by a one-time code
//! (`/api/auth/login/code`, `/api/auth/login/code/verify`).

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use tessera_domain::model::ContactKind;
use tessera_domain::ports::Ports;
use tessera_domain::usecase::{ContactChangeIssued, LoginStep, LoginTerms};
use utoipa::ToSchema;

use super::dto;
use super::errors::ModernError;
use super::factors;
use crate::http::messages as m;
use crate::http::{AppState, client_info, read_text_fields};
use crate::openapi::TOKEN_REFUSED;

type State<P> = web::Data<AppState<P>>;

/// `POST /api/auth/me/email`.
#[derive(ToSchema)]
#[allow(dead_code)] // the schema of a body read field by field
pub struct EmailChangeRequest {
    /// The new address.
    #[schema(min_length = 1)]
    pub email: String,
}

/// `POST /api/auth/me/phone`.
#[derive(ToSchema)]
#[allow(dead_code)] // the schema of a body read field by field
pub struct PhoneChangeRequest {
    /// The new number, with its country code or read in `PHONE_DEFAULT_REGION`.
    #[schema(min_length = 1)]
    pub phone: String,
}

/// A code that confirms: `POST /api/auth/me/email/confirm`, `/me/phone/confirm`.
#[derive(ToSchema)]
#[allow(dead_code)] // the schema of a body read field by field
pub struct CodeRequest {
    /// The 6-digit code that was sent.
    #[schema(min_length = 1)]
    pub code: String,
}

/// `POST /api/auth/contact/revert`.
#[derive(ToSchema)]
#[allow(dead_code)] // the schema of a body read field by field
pub struct RevertRequest {
    /// The `token` of the link mailed to the previous address (64 hex digits).
    #[schema(min_length = 1)]
    pub token: String,
}

/// `POST /api/auth/login/code`.
#[derive(ToSchema)]
#[allow(dead_code)] // the schema of a body read field by field
pub struct SignInCodeRequest {
    /// Username, e-mail address or phone number; a phone number gets the code
    /// by text message, anything else at the account's address.
    #[schema(min_length = 1)]
    pub identifier: String,
}

/// `POST /api/auth/login/code/verify`.
#[derive(ToSchema)]
#[allow(dead_code)] // the schema of a body read field by field
pub struct SignInCodeVerifyRequest {
    /// As sent to `/api/auth/login/code`.
    #[schema(min_length = 1)]
    pub identifier: String,
    /// The 6-digit code that was sent.
    #[schema(min_length = 1)]
    pub code: String,
}

/// A code is on its way to the new address or number.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContactChangeSent {
    pub message: String,
    pub msg: String,
    /// The new address or number, in canonical form (lower-case domain, E.164).
    pub sent_to: String,
    /// Seconds until the code expires.
    pub expires_in: i64,
    /// Only in development (`TESSERA_ENV=development`), never in production.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debug_code: Option<String>,
}

impl ContactChangeSent {
    fn new(issued: ContactChangeIssued, kind: ContactKind) -> Self {
        let text = match kind {
            ContactKind::Email => m::CONTACT_CHANGE_CODE_SENT.get(),
            ContactKind::Phone => m::CONTACT_CHANGE_CODE_TEXTED.get(),
        }
        .to_owned();
        Self {
            message: text.clone(),
            msg: text,
            sent_to: issued.sent_to,
            expires_in: issued.expires_in_secs,
            debug_code: issued.debug_code,
        }
    }
}

/// The answer to a sign-in code request, the same whether or not an account
/// may sign in with the identifier. Never a `debug_code`, even in
/// development: it would sign anyone in.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SignInCodeSent {
    pub message: String,
    pub msg: String,
    /// Seconds until the code expires.
    pub expires_in: i64,
}

#[utoipa::path(post, path = "/api/auth/me/email", tag = super::TAG,
    summary = "Change my e-mail address: send a code to the new one",
    description = "Needs a sign-in within `REAUTH_MAX_AGE` (with the second factor once the account \
        has one). Beyond the schema: `email` must read as an address (IDNA domain; stored in \
        canonical form, as at registration) and be no account's (409 `email_taken`). A 6-digit code \
        goes to the new address, at most one per minute and `per_hour` an hour per account; \
        `POST /api/auth/me/email/confirm` finishes the change.",
    security(("bearer" = [])),
    request_body = EmailChangeRequest,
    responses(
        (status = 202, description = "The code is on its way.", body = ContactChangeSent),
        (status = 400, description = "Validation failed (`details`).", body = dto::Error),
        (status = 401, description = TOKEN_REFUSED, body = dto::Error),
        (status = 403, description = "`reauthentication_required`: sign in again first.", body = dto::Error),
        (status = 409, description = "`email_taken`.", body = dto::Error),
        (status = 429, description = "Asked too often.", body = dto::Error),
    ),
)]
pub async fn request_email_change<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ModernError> {
    let auth = crate::http::authenticate(&state, &req).await?;
    let [email] = read_text_fields(payload, state.max_body_bytes, [("email", false)]).await?;
    let issued = state
        .auth
        .request_email_change(&auth, email.as_deref(), crate::http::locale())
        .await?;
    Ok(HttpResponse::Accepted().json(ContactChangeSent::new(issued, ContactKind::Email)))
}

#[utoipa::path(post, path = "/api/auth/me/phone", tag = super::TAG,
    summary = "Change my phone number: text a code to the new one",
    description = "As `POST /api/auth/me/email`, for the phone number: `phone` is read with its \
        country code or in `PHONE_DEFAULT_REGION` (libphonenumber, stored as E.164) and must be no \
        account's (409 `phone_taken`); the code goes by text message.",
    security(("bearer" = [])),
    request_body = PhoneChangeRequest,
    responses(
        (status = 202, description = "The code is on its way.", body = ContactChangeSent),
        (status = 400, description = "Validation failed (`details`).", body = dto::Error),
        (status = 401, description = TOKEN_REFUSED, body = dto::Error),
        (status = 403, description = "`reauthentication_required`: sign in again first.", body = dto::Error),
        (status = 409, description = "`phone_taken`.", body = dto::Error),
        (status = 429, description = "Asked too often.", body = dto::Error),
    ),
)]
pub async fn request_phone_change<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ModernError> {
    let auth = crate::http::authenticate(&state, &req).await?;
    let [phone] = read_text_fields(payload, state.max_body_bytes, [("phone", true)]).await?;
    let issued = state
        .auth
        .request_phone_change(&auth, phone.as_deref(), crate::http::locale())
        .await?;
    Ok(HttpResponse::Accepted().json(ContactChangeSent::new(issued, ContactKind::Phone)))
}

async fn confirm<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
    kind: ContactKind,
) -> Result<HttpResponse, ModernError> {
    let auth = crate::http::authenticate(&state, &req).await?;
    let [code] = read_text_fields(payload, state.max_body_bytes, [("code", true)]).await?;
    let user = state
        .auth
        .confirm_contact_change(&auth, kind, code.as_deref(), crate::http::locale())
        .await?;
    Ok(HttpResponse::Ok().json(dto::UserMessage::new(m::CONTACT_CHANGED.get(), &user)))
}

#[utoipa::path(post, path = "/api/auth/me/email/confirm", tag = super::TAG,
    summary = "Change my e-mail address: confirm with the code",
    description = "Beyond the schema: `code` must be the one mailed to the new address, within its \
        lifetime and attempts (400 `code_expired`, `code_wrong`, `code_exhausted`). The account \
        takes the address (verified), every dialect shows it, `user.email_changed` is sent, and the \
        previous address is mailed a link that undoes the change for 7 days and ends every session.",
    security(("bearer" = [])),
    request_body = CodeRequest,
    responses(
        (status = 200, description = "Changed: the account as it is now.", body = dto::UserMessage),
        (status = 400, description = "Validation failed, or the code is wrong, expired or used up.", body = dto::Error),
        (status = 401, description = TOKEN_REFUSED, body = dto::Error),
        (status = 409, description = "`email_taken`: another account took the address meanwhile.", body = dto::Error),
    ),
)]
pub async fn confirm_email_change<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ModernError> {
    confirm(state, req, payload, ContactKind::Email).await
}

#[utoipa::path(post, path = "/api/auth/me/phone/confirm", tag = super::TAG,
    summary = "Change my phone number: confirm with the code",
    description = "As `POST /api/auth/me/email/confirm`, with the code texted to the new number; the \
        revert link goes to the account's address (and the previous number is told by text message).",
    security(("bearer" = [])),
    request_body = CodeRequest,
    responses(
        (status = 200, description = "Changed: the account as it is now.", body = dto::UserMessage),
        (status = 400, description = "Validation failed, or the code is wrong, expired or used up.", body = dto::Error),
        (status = 401, description = TOKEN_REFUSED, body = dto::Error),
        (status = 409, description = "`phone_taken`: another account took the number meanwhile.", body = dto::Error),
    ),
)]
pub async fn confirm_phone_change<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ModernError> {
    confirm(state, req, payload, ContactKind::Phone).await
}

#[utoipa::path(post, path = "/api/auth/contact/revert", tag = super::TAG,
    summary = "Undo a change of address or number (the link mailed to the previous address)",
    description = "No token needed: the link's `token` is the proof. Beyond the schema: the token must \
        be one this server mailed, unused, within 7 days (400 `code_expired`). The previous address \
        or number comes back and every session of the account ends; reset the password next. \
        The page `GET /ui/account/revert?token=…` does the same in a browser.",
    request_body = RevertRequest,
    responses(
        (status = 200, description = "Undone; every session ended.", body = dto::Message),
        (status = 400, description = "Validation failed, or the link is unknown, used or expired.", body = dto::Error),
        (status = 409, description = "`email_taken` / `phone_taken`: another account holds the previous one now.", body = dto::Error),
    ),
)]
pub async fn revert_contact_change<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ModernError> {
    let [token] = read_text_fields(payload, state.max_body_bytes, [("token", false)]).await?;
    let Some(token) = token.filter(|t| !t.trim().is_empty()) else {
        return Err(tessera_domain::validation::ValidationErrors::single(
            tessera_domain::validation::Field::Token,
            tessera_domain::validation::FieldIssue::Required,
        )
        .into());
    };
    state
        .auth
        .revert_contact_change(&token, &client_info(&req, &state.trusted_proxies))
        .await?;
    let text = m::CONTACT_CHANGE_REVERTED.get().to_owned();
    Ok(HttpResponse::Ok().json(dto::Message {
        message: text.clone(),
        msg: text,
    }))
}

#[utoipa::path(post, path = "/api/auth/login/code", tag = super::TAG,
    summary = "Sign in without a password: send a one-time code",
    description = "Off unless `PASSWORDLESS_LOGIN=true` (403 `passwordless_login_disabled`). The answer \
        is the same whether or not an account may sign in with `identifier`: only an active account \
        with a verified address gets a code, at its address (or by text message when `identifier` is \
        its number). At most one code per minute and `per_hour` an hour per identifier (429). \
        Beyond the schema: `identifier` must read as a username, an address or a number (400).",
    request_body = SignInCodeRequest,
    responses(
        (status = 202, description = "Sent, if the identifier names an account that may sign in.", body = SignInCodeSent),
        (status = 400, description = "Validation failed.", body = dto::Error),
        (status = 403, description = "`passwordless_login_disabled`.", body = dto::Error),
        (status = 429, description = "Asked too often for this identifier.", body = dto::Error),
    ),
)]
pub async fn request_sign_in_code<P: Ports>(
    state: State<P>,
    payload: web::Payload,
) -> Result<HttpResponse, ModernError> {
    let [identifier] =
        read_text_fields(payload, state.max_body_bytes, [("identifier", true)]).await?;
    let issued = state
        .auth
        .request_sign_in_code(identifier.as_deref(), crate::http::locale())
        .await?;
    let text = m::SIGN_IN_CODE_SENT.get().to_owned();
    Ok(HttpResponse::Accepted().json(SignInCodeSent {
        message: text.clone(),
        msg: text,
        expires_in: issued.expires_in_secs,
    }))
}

#[utoipa::path(post, path = "/api/auth/login/code/verify", tag = super::TAG,
    summary = "Sign in without a password: the code",
    description = "Off unless `PASSWORDLESS_LOGIN=true` (403 `passwordless_login_disabled`). Answers as \
        `POST /api/auth/login`: the token pair, or 403 `mfa_required` when the account has a second \
        factor (answer with `POST /api/auth/mfa/verify`). The tokens' `amr` is `email` for a mailed \
        code, `sms` for a texted one. Beyond the schema: `code` must be the one sent for `identifier`, \
        within its lifetime and attempts (400 `code_expired`, `code_wrong`, `code_exhausted`).",
    request_body = SignInCodeVerifyRequest,
    responses(
        (status = 200, description = "Token pair and user.", body = dto::LoginResponse),
        (status = 400, description = "Validation failed, or the code is wrong, expired or used up.", body = dto::Error),
        (status = 401, description = "`invalid_credentials`: the account changed or went away since the code was sent.", body = dto::Error),
        (status = 403, description = "`passwordless_login_disabled` or `account_disabled` (`dto::Error`); \
            or `mfa_required`: answer with `POST /api/auth/mfa/verify`.", body = inline(crate::http::dto::AnyOf<dto::Error, factors::MfaRequired>)),
    ),
)]
pub async fn verify_sign_in_code<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ModernError> {
    let [identifier, code] = read_text_fields(
        payload,
        state.max_body_bytes,
        [("identifier", true), ("code", true)],
    )
    .await?;
    let step = state
        .auth
        .verify_sign_in_code(
            identifier.as_deref(),
            code.as_deref(),
            client_info(&req, &state.trusted_proxies),
            LoginTerms::default(),
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
