//! Seed 001's one error mapping: HTTP 200 with `{Code, Msg}` (see the
//! module's documentation for the codes).

use actix_web::HttpResponse;
use actix_web::body::{BoxBody, MessageBody as _};
use actix_web::http::StatusCode;
use serde_json::{Map, Value};
use tessera_domain::error::AuthError;

use super::dto::LegacyAnswer;
use crate::http::BodyError;
use crate::http::dialect::{Dialect, DialectError};
use crate::http::messages as m;

/// `{Code, Msg}` with HTTP 200.
pub(super) fn answer(code: u16, msg: &str) -> HttpResponse {
    HttpResponse::Ok().json(LegacyAnswer::new(code, msg))
}

/// `{Code, Msg}` with `status` as the HTTP status.
fn answer_with(status: StatusCode, code: u16, msg: &str) -> HttpResponse {
    HttpResponse::build(status).json(LegacyAnswer::new(code, msg))
}

/// The wire name of a field the use cases refuse under its neutral name
/// ([`tessera_domain::validation::Field`]): dream's `Name`, `Email`,
/// `Password` and `VerifyCode`; other fields keep their names.
fn wire_name(field: &str) -> &str {
    match field {
        "name" => "Name",
        "email" => "Email",
        "password" | "new_password" => "Password",
        "code" => "VerifyCode",
        other => other,
    }
}

/// The path of seed 001's login.
pub const LOGIN_PATH: &str = "/Auth/Login";

/// `refused` with `"Token": null, "UserID": null` added to its body, as the
/// peer answers every `/Auth/Login` that is not a success, 530 included
/// (peer-facts "Measured side by side"; issue 13, item 4). Status and
/// headers (`Retry-After`, `RateLimit-*`) are kept; a body that is not a
/// JSON object is left as it is.
fn with_null_login_fields(refused: HttpResponse) -> HttpResponse {
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

/// Seed 001's dialect (`/Auth/*`, `/Admin/*`, `/CheckJWTToken`).
pub struct Legacy;

/// Why a seed 001 handler failed.
pub type LegacyError = DialectError<Legacy>;

impl Dialect for Legacy {
    /// The dialect's answer to a refusal.
    fn refusal(e: &AuthError) -> HttpResponse {
        match e {
            // The first specific reason alone, which dream's front end shows
            // (issue 13, item 9).
            AuthError::Validation(v) => answer(
                530,
                &m::first_reason(&v.clone().renamed(wire_name))
                    .unwrap_or_else(|| m::L_INCOMPLETE.get().to_owned()),
            ),
            AuthError::Conflict(_) => answer(502, m::L_EXISTS.get()),
            AuthError::InvalidCredentials | AuthError::SecondFactorRequired => {
                answer(501, m::L_LOGIN_FAILED.get())
            }
            AuthError::AccountDisabled => answer(401, m::L_DISABLED.get()),
            AuthError::EmailNotVerified => answer(401, m::L_NOT_VERIFIED.get()),
            AuthError::Token(_) | AuthError::UserNotFound => answer(401, m::L_AUTH_FAILED.get()),
            AuthError::AccountNotFound | AuthError::ContactMismatch => {
                answer(503, m::L_NO_USER.get())
            }
            AuthError::CodeWrong { .. } => answer(520, m::L_CODE_WRONG.get()),
            AuthError::CodeExpired | AuthError::CodeExhausted | AuthError::CodeInvalid => {
                answer(521, m::L_CODE_EXPIRED.get())
            }
            AuthError::ChallengeInvalid => answer(521, m::L_MFA_TOKEN_GONE.get()),
            AuthError::FactorAlreadyEnrolled
            | AuthError::FactorNotEnrolled
            | AuthError::PasskeyRefused
            | AuthError::TooManyPasskeys
            | AuthError::FactorRequired
            | AuthError::ReauthenticationRequired => answer(401, m::L_AUTH_FAILED.get()),
            AuthError::TooManyRequests {
                retry_after_secs,
                limit,
            } => {
                let mut r = HttpResponse::build(StatusCode::TOO_MANY_REQUESTS).json(LegacyAnswer {
                    RetryAfter: Some(*retry_after_secs),
                    ..LegacyAnswer::new(429, m::TOO_MANY.get())
                });
                crate::http::rate_limit_headers(&mut r, *retry_after_secs, *limit);
                r
            }
            AuthError::Busy => HttpResponse::Ok()
                .insert_header(("Retry-After", "1"))
                .json(LegacyAnswer::new(510, m::BUSY.get())),
            AuthError::Unavailable(_) => answer(510, m::L_DB.get()),
            AuthError::Internal(_) => answer(510, m::INTERNAL.get()),
            AuthError::Forbidden(_) | AuthError::Outranked | AuthError::SelfLockout => {
                answer(401, m::L_AUTH_FAILED.get())
            }
            AuthError::RefreshReused
            | AuthError::WrongPassword
            | AuthError::SamePassword
            | AuthError::SessionNotFound => answer(401, m::L_AUTH_FAILED.get()),
            // A case added to the domain after this mapping: answered (and
            // logged) as an internal error until it is mapped.
            _ => Self::refusal(&AuthError::Internal(e.to_string())),
        }
    }

    /// A body error as Code 530 (413 and 408 keep their HTTP status: the body was not read).
    fn body_refusal(e: BodyError) -> HttpResponse {
        match e {
            BodyError::TooLarge => {
                answer_with(StatusCode::PAYLOAD_TOO_LARGE, 413, m::BODY_TOO_LARGE.get())
            }
            BodyError::TimedOut => {
                answer_with(StatusCode::REQUEST_TIMEOUT, 408, m::BODY_TIMEOUT.get())
            }
            BodyError::NotJson | BodyError::NotObject => answer(530, m::L_NOT_OBJECT.get()),
            BodyError::Read => answer(530, m::L_BODY_READ.get()),
        }
    }

    fn not_found(_path: &str, _method: &str) -> HttpResponse {
        answer_with(StatusCode::NOT_FOUND, 404, m::NOT_FOUND.get())
    }

    fn method_not_allowed(_path: &str, _method: &str) -> HttpResponse {
        answer_with(
            StatusCode::METHOD_NOT_ALLOWED,
            405,
            m::METHOD_NOT_ALLOWED.get(),
        )
    }
}

/// `/Auth/Login`: seed 001's dialect, where every refusal also carries
/// `"Token": null, "UserID": null`.
pub struct LegacyLogin;

impl Dialect for LegacyLogin {
    fn refusal(e: &AuthError) -> HttpResponse {
        with_null_login_fields(Legacy::refusal(e))
    }

    fn body_refusal(e: BodyError) -> HttpResponse {
        with_null_login_fields(Legacy::body_refusal(e))
    }

    fn not_found(path: &str, method: &str) -> HttpResponse {
        Legacy::not_found(path, method)
    }

    fn method_not_allowed(path: &str, method: &str) -> HttpResponse {
        Legacy::method_not_allowed(path, method)
    }
}
