//! Seed 002's dialect: `/api/v1/auth/*` with `{code, message, data}` bodies.
//!
//! Users are shown with their UUID as `id`. Errors are `{error}` (token and
//! login problems, as the README shows them) or `{code, message}` (register
//! and verify); every error body carries `error` and `message`, and `code`
//! where the README gives one (validation failures use code 4).

pub mod dto;
mod errors;
mod routes;

pub use errors::{V1, V1Failure};
pub use routes::{Documented, ROUTES, routes};

/// The tag of this dialect's operations in the OpenAPI document.
pub const TAG: &str = "/api/v1/auth";
