//! The dialects: the [`Dialect`] trait each one implements (how it answers
//! a refusal, a body it cannot read, an unknown path and a wrong method),
//! the [`DialectError`] handlers return, and which dialect a path belongs to
//! ([`DialectKind`]).
//!
//! A handler returns `Result<_, DialectError<D>>` and uses `?`: a use case's
//! [`AuthError`] and a [`BodyError`] convert into it, and actix renders it
//! through `D`'s mapping. The cause of a 5xx is logged here, once
//! ([`DialectError::error_response`]); the body stays opaque.

use std::marker::PhantomData;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use tessera_domain::error::AuthError;
use tessera_domain::validation::ValidationErrors;

use super::{BodyError, legacy, modern, pages, v1};

/// How one dialect answers what goes wrong. Each answer is built without
/// side effects (logging is [`DialectError`]'s).
pub trait Dialect: 'static {
    /// The answer to a refusal of a use case.
    fn refusal(e: &AuthError) -> HttpResponse;

    /// The answer to a request body that could not be read.
    fn body_refusal(e: BodyError) -> HttpResponse;

    /// 404 for `method` (as received: `HEAD` stays `HEAD`) on `path`, which
    /// names no route.
    fn not_found(path: &str, method: &str) -> HttpResponse;

    /// 405 for `method` on `path`, a route that takes other methods (the
    /// caller adds `Allow`).
    fn method_not_allowed(path: &str, method: &str) -> HttpResponse;
}

/// Why a handler of dialect `D` failed: a use case's refusal or an
/// unreadable body. Rendered by `D` (actix's [`ResponseError`]).
pub struct DialectError<D> {
    cause: Cause,
    dialect: PhantomData<fn() -> D>,
}

/// What a [`DialectError`] holds.
#[derive(Debug)]
enum Cause {
    Auth(AuthError),
    Body(BodyError),
}

impl<D: Dialect> DialectError<D> {
    /// The answer, without side effects.
    #[must_use]
    pub fn render(&self) -> HttpResponse {
        match &self.cause {
            Cause::Auth(e) => D::refusal(e),
            Cause::Body(e) => D::body_refusal(*e),
        }
    }

    /// The refusal of a use case, if that is what this is.
    #[must_use]
    pub fn auth(&self) -> Option<&AuthError> {
        match &self.cause {
            Cause::Auth(e) => Some(e),
            Cause::Body(_) => None,
        }
    }

    /// The same cause, rendered by another dialect.
    #[must_use]
    pub fn into_dialect<E>(self) -> DialectError<E> {
        DialectError {
            cause: self.cause,
            dialect: PhantomData,
        }
    }
}

impl<D> From<AuthError> for DialectError<D> {
    fn from(e: AuthError) -> Self {
        Self {
            cause: Cause::Auth(e),
            dialect: PhantomData,
        }
    }
}

impl<D> From<BodyError> for DialectError<D> {
    fn from(e: BodyError) -> Self {
        Self {
            cause: Cause::Body(e),
            dialect: PhantomData,
        }
    }
}

impl<D> From<ValidationErrors> for DialectError<D> {
    fn from(e: ValidationErrors) -> Self {
        AuthError::Validation(e).into()
    }
}

impl<D> std::fmt::Debug for DialectError<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.cause.fmt(f)
    }
}

impl<D> std::fmt::Display for DialectError<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.cause {
            Cause::Auth(e) => e.fmt(f),
            Cause::Body(e) => write!(f, "request body: {e:?}"),
        }
    }
}

impl<D: Dialect> ResponseError for DialectError<D> {
    fn status_code(&self) -> StatusCode {
        self.render().status()
    }

    fn error_response(&self) -> HttpResponse {
        let response = self.render();
        if let Cause::Auth(e) = &self.cause {
            if is_server_fault(e) {
                log_cause(e);
            } else if response.status() == StatusCode::INTERNAL_SERVER_ERROR {
                // A refusal the dialect has no answer for (its mapping's
                // last arm): the client sees an opaque 500, the log says why.
                tracing::error!(cause = %e, "refusal without a mapping, answered as internal");
            }
        }
        response
    }
}

/// Logs the cause of a 5xx (a dependency down, an internal error): the one
/// place it is logged, for every dialect and the verification pages.
pub fn log_cause(e: &AuthError) {
    match e {
        AuthError::Unavailable(cause) => tracing::error!(%cause, "dependency unavailable"),
        AuthError::Internal(cause) => tracing::error!(%cause, "internal error"),
        _ => {}
    }
}

/// Whether `e` is the server's fault (a dependency down, an internal
/// error): every dialect answers it as such, whatever the route.
#[must_use]
pub fn is_server_fault(e: &AuthError) -> bool {
    matches!(e, AuthError::Unavailable(_) | AuthError::Internal(_))
}

/// A refusal of a use case in the shape of the dialect `path` belongs to
/// (what a route's rate limit answers before its handler runs).
#[must_use]
pub fn refusal(path: &str, e: &AuthError) -> HttpResponse {
    match DialectKind::of(path) {
        DialectKind::Legacy if path == legacy::LOGIN_PATH => legacy::LegacyLogin::refusal(e),
        DialectKind::Legacy => legacy::Legacy::refusal(e),
        DialectKind::V1 => v1::V1::refusal(e),
        DialectKind::Modern => modern::Modern::refusal(e),
        DialectKind::Pages => pages::PagesDialect::refusal(e),
    }
}

/// A body refusal in the shape of the dialect `path` belongs to (seed 001's
/// login adds its null `Token` and `UserID`).
#[must_use]
pub fn body_refusal(path: &str, e: BodyError) -> HttpResponse {
    match DialectKind::of(path) {
        DialectKind::Legacy if path == legacy::LOGIN_PATH => legacy::LegacyLogin::body_refusal(e),
        DialectKind::Legacy => legacy::Legacy::body_refusal(e),
        DialectKind::V1 => v1::V1::body_refusal(e),
        DialectKind::Modern => modern::Modern::body_refusal(e),
        DialectKind::Pages => pages::PagesDialect::body_refusal(e),
    }
}

/// The dialect a path belongs to, which decides its error shape and its
/// default language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialectKind {
    /// Seed 001: `/Auth/*`, `/Admin/*`, `/CheckJWTToken`; `{Code, Msg}`.
    Legacy,
    /// Seed 002: `/api/v1/*`; `{error, message}` / `{code, message}`.
    V1,
    /// Everything else: `{error, message, msg, code}`.
    Modern,
    /// The hosted pages, `/` and `/ui/*`: HTML pages.
    Pages,
}

impl DialectKind {
    /// Whether an `Authorization` header may hold a bare token without the
    /// `Bearer ` scheme: only seed 002's, whose server accepts it (issue 13,
    /// item 7); the others refuse it as another scheme.
    #[must_use]
    pub fn accepts_bare_token(self) -> bool {
        self == Self::V1
    }

    /// The dialect of `path`.
    #[must_use]
    pub fn of(path: &str) -> Self {
        let under = |prefix: &str| {
            path.strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        };
        if under("/Auth") || under("/Admin") || path == "/CheckJWTToken" {
            Self::Legacy
        } else if path.starts_with("/api/v1/") {
            Self::V1
        } else if pages::is_page_path(path) {
            Self::Pages
        } else {
            Self::Modern
        }
    }
}

/// The machine codes of each refused field (`required`, `too_short`, …),
/// as the modern (`fields`) and seed 002 (`details`) bodies list them.
#[must_use]
pub fn field_codes(v: &ValidationErrors) -> std::collections::BTreeMap<String, Vec<String>> {
    v.fields()
        .iter()
        .map(|(f, issues)| {
            (
                f.clone(),
                issues.iter().map(|i| i.code().to_owned()).collect(),
            )
        })
        .collect()
}

/// Logs the cause of a refused upstream sign-in once: a provider's failure
/// (what it said stays in the log, not in the answer), or a server fault.
pub fn log_federation(e: &tessera_domain::usecase::FederationError) {
    use tessera_domain::usecase::FederationError as F;
    match e {
        F::Upstream(cause) => tracing::warn!(%cause, "upstream provider failed"),
        F::Denied(error) => tracing::info!(%error, "upstream provider refused"),
        F::Auth(a) => log_cause(a),
        _ => {}
    }
}
