//! Seed 002's one error mapping: `{error, message}`, or `{code, message,
//! error}` where its README gives a code (validation failures use code 4).

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use tessera_domain::error::{AuthError, TokenProblem};
use tessera_domain::validation::ValidationErrors;

use super::dto::V1Error;
use crate::http::BodyError;
use crate::http::dialect::{Dialect, DialectError, field_codes};
use crate::http::messages as m;

pub(super) fn coded(status: StatusCode, code: u8, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(V1Error {
        code: Some(code),
        ..V1Error::new(message)
    })
}

fn plain_error(status: StatusCode, error: &str) -> HttpResponse {
    HttpResponse::build(status).json(V1Error::new(error))
}

pub(super) fn validation(v: &ValidationErrors) -> HttpResponse {
    let details = field_codes(v);
    // `message` and `error` name the first specific reason (issue 13,
    // items 9 and the password policy); `details` keeps every field's codes.
    let reason = m::first_reason(v).unwrap_or_else(|| m::V1_INVALID.get().to_owned());
    HttpResponse::BadRequest().json(V1Error {
        code: Some(4),
        details: Some(details),
        password_feedback: m::password_feedback(v),
        ..V1Error::new(&reason)
    })
}

/// Seed 002's dialect (`/api/v1/auth`).
pub struct V1;

/// Why a seed 002 handler failed.
pub type V1Failure = DialectError<V1>;

impl Dialect for V1 {
    /// The dialect's answer to a refusal.
    fn refusal(e: &AuthError) -> HttpResponse {
        match e {
            AuthError::Validation(v) => validation(v),
            AuthError::Conflict(_) => coded(StatusCode::BAD_REQUEST, 1, m::V1_EXISTS.get()),
            AuthError::InvalidCredentials | AuthError::SecondFactorRequired => {
                plain_error(StatusCode::UNAUTHORIZED, m::V1_BAD_CREDENTIALS.get())
            }
            AuthError::AccountDisabled => plain_error(StatusCode::FORBIDDEN, m::V1_DISABLED.get()),
            AuthError::EmailNotVerified => {
                plain_error(StatusCode::FORBIDDEN, m::V1_NOT_VERIFIED.get())
            }
            // Another scheme (`Basic …`) keeps the answer it had before bare
            // tokens were read.
            AuthError::Token(TokenProblem::Missing | TokenProblem::WrongScheme) => {
                plain_error(StatusCode::UNAUTHORIZED, m::V1_MISSING_TOKEN.get())
            }
            AuthError::Token(TokenProblem::Expired) => {
                plain_error(StatusCode::UNAUTHORIZED, m::V1_TOKEN_EXPIRED.get())
            }
            AuthError::Token(_) => plain_error(StatusCode::UNAUTHORIZED, m::V1_INVALID_TOKEN.get()),
            AuthError::UserNotFound => {
                plain_error(StatusCode::NOT_FOUND, m::V1_USER_NOT_FOUND.get())
            }
            AuthError::CodeExpired
            | AuthError::CodeWrong { .. }
            | AuthError::CodeExhausted
            | AuthError::CodeInvalid => coded(StatusCode::BAD_REQUEST, 1, m::V1_LINK_BAD.get()),
            AuthError::TooManyRequests {
                retry_after_secs,
                limit,
            } => {
                let mut r = plain_error(StatusCode::TOO_MANY_REQUESTS, m::V1_TOO_MANY.get());
                crate::http::rate_limit_headers(&mut r, *retry_after_secs, *limit);
                r
            }
            AuthError::Busy => HttpResponse::ServiceUnavailable()
                .insert_header(("Retry-After", "1"))
                .json(V1Error::new(m::V1_BUSY.get())),
            AuthError::Unavailable(_) => {
                plain_error(StatusCode::SERVICE_UNAVAILABLE, m::V1_UNAVAILABLE.get())
            }
            AuthError::Internal(_) => {
                plain_error(StatusCode::INTERNAL_SERVER_ERROR, m::V1_INTERNAL.get())
            }
            AuthError::Forbidden(_) | AuthError::Outranked | AuthError::SelfLockout => {
                plain_error(StatusCode::FORBIDDEN, m::V1_FORBIDDEN.get())
            }
            AuthError::ChallengeInvalid => {
                coded(StatusCode::UNAUTHORIZED, 7, m::V1_MFA_TOKEN_INVALID.get())
            }
            AuthError::ReauthenticationRequired => {
                plain_error(StatusCode::FORBIDDEN, m::V1_FORBIDDEN.get())
            }
            AuthError::FactorAlreadyEnrolled
            | AuthError::FactorNotEnrolled
            | AuthError::PasskeyRefused
            | AuthError::TooManyPasskeys
            | AuthError::FactorRequired => {
                plain_error(StatusCode::BAD_REQUEST, m::V1_BAD_REQUEST.get())
            }
            AuthError::RefreshReused
            | AuthError::SessionNotFound
            | AuthError::WrongPassword
            | AuthError::SamePassword
            | AuthError::AccountNotFound
            | AuthError::ContactMismatch => {
                plain_error(StatusCode::BAD_REQUEST, m::V1_BAD_REQUEST.get())
            }
            // A case added to the domain after this mapping: answered (and
            // logged) as an internal error until it is mapped.
            _ => Self::refusal(&AuthError::Internal(e.to_string())),
        }
    }

    /// A body error as `{error, message}`.
    fn body_refusal(e: BodyError) -> HttpResponse {
        match e {
            BodyError::TooLarge => {
                plain_error(StatusCode::PAYLOAD_TOO_LARGE, m::V1_TOO_LARGE.get())
            }
            BodyError::TimedOut => plain_error(StatusCode::REQUEST_TIMEOUT, m::BODY_TIMEOUT.get()),
            BodyError::NotJson | BodyError::NotObject => {
                plain_error(StatusCode::BAD_REQUEST, m::V1_NOT_OBJECT.get())
            }
            BodyError::Read => plain_error(StatusCode::BAD_REQUEST, m::V1_BODY_READ.get()),
        }
    }

    fn not_found(_path: &str, _method: &str) -> HttpResponse {
        plain_error(StatusCode::NOT_FOUND, m::NOT_FOUND.get())
    }

    fn method_not_allowed(_path: &str, _method: &str) -> HttpResponse {
        plain_error(StatusCode::METHOD_NOT_ALLOWED, m::METHOD_NOT_ALLOWED.get())
    }
}
