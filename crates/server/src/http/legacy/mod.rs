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

pub mod dto;
mod errors;
mod routes;

pub use errors::{LOGIN_PATH, Legacy, LegacyError, LegacyLogin};
pub use routes::{Documented, ROUTES, routes};

/// The tag of seed 001's operations in the OpenAPI document.
pub const TAG: &str = "/Auth (seed 001)";
