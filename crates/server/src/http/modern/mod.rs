//! `/api/auth/*`: the modern dialect, a superset of seeds 000, 003 and 004.
//!
//! Success bodies carry every key any of the three seeds' clients read
//! (`message` and `msg`; `access_token` and `auth.token`; …). Error bodies are
//! `{error, message, msg, code}`: `error` and `message` are human-readable
//! (seeds 000/004), `msg` is Flask-JWT-Extended's wording for token problems
//! (clients of 000/003 match on it to trigger a refresh), and `code` is a
//! stable machine-readable identifier. Validation errors add `details`
//! (`{field: [reasons]}`, seed 004) and `errors` (a flat list, seed 003).

pub(crate) mod contact;
pub(crate) mod deletion;
pub mod dto;
pub(crate) mod errors;
pub(crate) mod export;
pub(crate) mod factors;
pub(crate) mod federation;
pub(crate) mod pages;
pub(crate) mod passkeys;
mod routes;

pub use errors::{Modern, ModernError, error_body, refusal_code, refusal_text, simple};
pub use routes::{Documented, ROUTES, routes, user_json};

/// The tag of this dialect's operations in the OpenAPI document.
pub const TAG: &str = "/api/auth";
