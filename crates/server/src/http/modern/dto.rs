//! `/api/auth`'s request and response bodies. Responses are built by the
//! handlers and described by the same types in the OpenAPI document.
//! Requests are read field by field (`text_field`, so that each wrongly
//! typed field is reported on its own); these types describe them and are
//! never built (no `Deserialize`, no `Debug`: a password cannot reach a log
//! through them).

#![allow(non_snake_case)]

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::dto::{PasswordFeedback, field};

/// A user as `/api/auth` and `/api/admin` show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct User {
    /// Integer id (seeds 000, 003, 004).
    pub id: i64,
    /// Public UUID (seed 002's id).
    pub uuid: String,
    /// As registered (NFC); unique in its RFC 8265 `UsernameCaseMapped` form.
    pub username: String,
    /// Canonical form: local part lower-case NFC, domain IDNA ASCII.
    pub email: String,
    /// E.164, e.g. `+8613800138000`.
    pub phone: Option<String>,
    /// The primary role (seed 003).
    pub role: String,
    pub roles: Vec<String>,
    pub is_active: bool,
    pub email_verified: bool,
    /// `YYYY-MM-DDTHH:MM:SS`, UTC.
    pub created_at: String,
}

/// A user with the permissions of their roles (`GET /api/auth/me`, admin show).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserWithPermissions {
    pub id: i64,
    pub uuid: String,
    pub username: String,
    pub email: String,
    pub phone: Option<String>,
    pub role: String,
    pub roles: Vec<String>,
    pub is_active: bool,
    pub email_verified: bool,
    pub created_at: String,
    pub permissions: Vec<String>,
}

/// Every `/api/auth` and `/api/admin` error. `code` is the stable machine
/// name; `error`, `message` and `msg` are texts in the request's language
/// (`msg` keeps Flask-JWT-Extended's English wording on token errors).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Error {
    pub error: String,
    pub message: String,
    pub msg: String,
    /// e.g. `validation_failed`, `invalid_credentials`, `token_expired`, `username_taken`.
    pub code: String,
    /// Validation: texts per field (seed 004).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<BTreeMap<String, Vec<String>>>,
    /// Validation: every text (seed 003).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<String>>,
    /// Validation: machine codes per field (`required`, `too_short`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<BTreeMap<String, Vec<String>>>,
    /// Conflict: the field already taken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// 429: seconds until the limit resets (also in `Retry-After`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// Wrong code: tries left.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining_attempts: Option<u32>,
    /// 403 on an admin route: the permission the caller lacks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permission: Option<String>,
    /// 403 `forbidden` on an admin route that would change an account or
    /// role ranking above the caller's highest role (or a `super_admin`
    /// account, by someone who is not one): `outranked`. Reading is allowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Validation: why a new password is too easy to guess (`fields` then
    /// holds `password_too_common` or `password_too_weak`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_feedback: Option<PasswordFeedback>,
    /// 404 and 405 at a path outside every dialect's prefix (`/health`,
    /// `/definitely-not-here`): seed 001's `Code`, the HTTP status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub Code: Option<u16>,
    /// Beside `Code`: seed 001's `Msg`, the text of `error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub Msg: Option<String>,
}

/// A text answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Message {
    pub message: String,
    pub msg: String,
}

/// The access token block (seed 000's `auth`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuthBlock {
    pub token: String,
    pub token_type: String,
    pub expires_in: i64,
}

/// `POST /api/auth/login`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LoginResponse {
    pub message: String,
    pub msg: String,
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: String,
    pub expires_in: i64,
    pub refresh_expires_in: i64,
    pub auth: AuthBlock,
    pub user: User,
    /// A login finished by enrolling its first factor (`MFA_REQUIRED_ROLES`):
    /// ten single-use recovery codes, shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_codes: Option<Vec<String>>,
}

/// `POST /api/auth/refresh`: a rotated pair for a refresh token; a new access
/// token only (no `refresh_token`) when called with an access token.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RefreshResponse {
    pub message: String,
    pub msg: String,
    pub access_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub token_type: String,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_expires_in: Option<i64>,
    pub auth: AuthBlock,
}

/// A text and the user it concerns.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserMessage {
    pub message: String,
    pub msg: String,
    pub user: User,
}

/// `GET /api/auth/me`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Me {
    pub user: UserWithPermissions,
}

/// A text and how many sessions were revoked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Revoked {
    pub message: String,
    pub msg: String,
    pub revoked: u64,
}

/// One session (a refresh-token family).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Session {
    pub id: String,
    /// Whether the calling token belongs to it.
    pub current: bool,
    /// The `User-Agent` it logged in with.
    pub device: Option<String>,
    pub ip: Option<String>,
    pub created_at: String,
    pub last_used_at: String,
    pub expires_at: String,
}

/// `GET /api/auth/sessions?page=&per_page=`: one page of the caller's live
/// sessions, oldest first (`per_page` default 50, at most 100).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Sessions {
    pub sessions: Vec<Session>,
    /// Live sessions in all.
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
    pub pages: u64,
}

/// `POST /api/auth/request-reset-code`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResetCodeSent {
    pub message: String,
    pub msg: String,
    pub expires_in: i64,
    /// Only in development (`TESSERA_ENV=development`), never in production.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debug_code: Option<String>,
}

/// `POST /api/auth/register`. Beyond this schema (stated in the operation's
/// description): `username` has at least `USERNAME_MIN_LENGTH` characters
/// (default 3) of letters, digits, `_`, `-`, `.`, and passes RFC 8265
/// `UsernameCaseMapped`; `password` reaches `PASSWORD_MIN_SCORE` (zxcvbn);
/// `role` is one of `REGISTRATION_ROLES`; `username`, `email` and `phone`
/// are not taken (409).
#[derive(ToSchema)]
pub struct RegisterRequest {
    #[schema(schema_with = field::username)]
    pub username: String,
    #[schema(schema_with = field::email)]
    pub email: String,
    #[schema(schema_with = field::new_password)]
    pub password: String,
    /// Any common writing (`13800138000`, `+86 138 0013 8000`, `0086…`); without a
    /// country code it is read in `PHONE_DEFAULT_REGION`. Stored in E.164.
    #[schema(pattern = r"^\s*\+?[0-9 ().-]*[0-9][0-9 ().-]*\s*$")]
    pub phone: Option<String>,
    /// One of `REGISTRATION_ROLES` (seed 003).
    #[schema(min_length = 1, max_length = 32, pattern = r"^\s*[A-Za-z0-9_]+\s*$")]
    pub role: Option<String>,
}

/// One of `identifier`, `username`, `email`, `phone` names the account (an
/// `identifier` with `@` is an email, one of digits a phone number, anything
/// else a username).
#[derive(ToSchema)]
pub struct LoginRequest {
    #[schema(max_length = 254)]
    pub identifier: Option<String>,
    #[schema(max_length = 50)]
    pub username: Option<String>,
    #[schema(max_length = 254)]
    pub email: Option<String>,
    pub phone: Option<String>,
    #[schema(schema_with = field::password_attempt)]
    pub password: String,
}

/// Or send the refresh token as `Authorization: Bearer`.
#[derive(ToSchema)]
pub struct RefreshRequest {
    /// Empty reads as absent (then the bearer token is used).
    pub refresh_token: Option<String>,
}

/// `new_password` follows the password policy (see [`RegisterRequest`]);
/// `old_password` must be the current one (400 otherwise).
#[derive(ToSchema)]
pub struct ChangePasswordRequest {
    #[schema(schema_with = field::password_attempt)]
    pub old_password: String,
    #[schema(schema_with = field::new_password)]
    pub new_password: String,
}

/// `email` and `code`, or `token` (from the link) with the account's
/// `password`: a link confirms only with the password of the account it was
/// mailed for.
#[derive(ToSchema)]
pub struct VerifyEmailRequest {
    #[schema(min_length = 1)]
    pub token: Option<String>,
    #[schema(schema_with = field::optional_password_attempt)]
    pub password: Option<String>,
    #[schema(schema_with = field::optional_email)]
    pub email: Option<String>,
    #[schema(min_length = 1)]
    pub code: Option<String>,
}

#[derive(ToSchema)]
pub struct EmailRequest {
    #[schema(schema_with = field::email)]
    pub email: String,
}

/// Seed 003: `channel` is `email` or `phone`, `contact` the address or number on the account.
#[derive(ToSchema)]
pub struct ResetCodeRequest {
    #[schema(min_length = 1)]
    pub identifier: String,
    #[schema(inline)]
    pub channel: Channel,
    #[schema(min_length = 1)]
    pub contact: String,
}

/// Where a reset code goes (seed 003).
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Email,
    Phone,
}

#[derive(ToSchema)]
pub struct ResetPasswordRequest {
    #[schema(min_length = 1)]
    pub identifier: String,
    #[schema(inline)]
    pub channel: Channel,
    #[schema(min_length = 1)]
    pub contact: String,
    #[schema(min_length = 1)]
    pub code: String,
    #[schema(schema_with = field::new_password)]
    pub new_password: String,
}

/// `created_at` as seed 000 shows it: `2024-01-01T00:00:00` (UTC).
#[must_use]
pub fn timestamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

impl From<&tessera_domain::model::User> for User {
    /// The user as 000, 003 and 004 show it (plus `uuid` and every role).
    fn from(u: &tessera_domain::model::User) -> Self {
        Self {
            id: u.id.0,
            uuid: u.public_id.to_string(),
            username: u.username.as_str().to_owned(),
            email: u.email.as_str().to_owned(),
            phone: u.phone.as_ref().map(|p| p.as_str().to_owned()),
            role: u.role.as_str().to_owned(),
            roles: u.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            is_active: u.is_active,
            email_verified: u.email_verified,
            created_at: timestamp(u.created_at),
        }
    }
}

impl User {
    /// This user with the permissions of their roles.
    #[must_use]
    pub fn with_permissions(self, permissions: Vec<String>) -> UserWithPermissions {
        UserWithPermissions {
            id: self.id,
            uuid: self.uuid,
            username: self.username,
            email: self.email,
            phone: self.phone,
            role: self.role,
            roles: self.roles,
            is_active: self.is_active,
            email_verified: self.email_verified,
            created_at: self.created_at,
            permissions,
        }
    }
}

impl Message {
    /// `text` as both `message` and `msg`.
    #[must_use]
    pub fn new(text: &str) -> Self {
        Self {
            message: text.to_owned(),
            msg: text.to_owned(),
        }
    }
}

impl UserMessage {
    /// `text` (as `message` and `msg`) about `user`.
    #[must_use]
    pub fn new(text: &str, user: &tessera_domain::model::User) -> Self {
        Self {
            message: text.to_owned(),
            msg: text.to_owned(),
            user: user.into(),
        }
    }
}

impl Revoked {
    /// `text` (as `message` and `msg`) and how many sessions ended.
    #[must_use]
    pub fn new(text: &str, revoked: usize) -> Self {
        Self {
            message: text.to_owned(),
            msg: text.to_owned(),
            revoked: u64::try_from(revoked).unwrap_or(u64::MAX),
        }
    }
}

impl From<&tessera_domain::model::IssuedAccess> for AuthBlock {
    fn from(access: &tessera_domain::model::IssuedAccess) -> Self {
        Self {
            token: access.token.expose().to_owned(),
            token_type: "Bearer".to_owned(),
            expires_in: access.expires_in,
        }
    }
}

impl LoginResponse {
    /// The answer to a login that opened `out`'s session (whose refresh
    /// token lasts as long as the session, `refresh_expires_in` seconds).
    #[must_use]
    pub fn new(text: &str, out: &tessera_domain::usecase::LoginOutcome) -> Self {
        let pair = &out.tokens;
        Self {
            message: text.to_owned(),
            msg: text.to_owned(),
            access_token: pair.access.token.expose().to_owned(),
            refresh_token: pair.refresh.expose().to_owned(),
            token_type: "Bearer".to_owned(),
            expires_in: pair.access.expires_in,
            refresh_expires_in: (out.session.expires_at - out.session.created_at).num_seconds(),
            auth: (&pair.access).into(),
            user: (&out.user).into(),
            recovery_codes: out
                .recovery_codes
                .as_ref()
                .map(|codes| codes.0.iter().map(|s| s.expose().to_owned()).collect()),
        }
    }
}

impl RefreshResponse {
    /// A rotated pair whose refresh token lasts `refresh_expires_in` seconds.
    #[must_use]
    pub fn rotated(
        text: &str,
        pair: &tessera_domain::model::TokenPair,
        refresh_expires_in: i64,
    ) -> Self {
        Self {
            refresh_token: Some(pair.refresh.expose().to_owned()),
            refresh_expires_in: Some(refresh_expires_in),
            ..Self::access_only(text, &pair.access)
        }
    }

    /// A new access token for the same session (refresh by access token).
    #[must_use]
    pub fn access_only(text: &str, access: &tessera_domain::model::IssuedAccess) -> Self {
        Self {
            message: text.to_owned(),
            msg: text.to_owned(),
            access_token: access.token.expose().to_owned(),
            refresh_token: None,
            token_type: "Bearer".to_owned(),
            expires_in: access.expires_in,
            refresh_expires_in: None,
            auth: access.into(),
        }
    }
}

impl Error {
    /// `{error, message, msg, code}`, `msg` being `message`; every other
    /// key absent.
    #[must_use]
    pub fn new(code: &str, error: &str, message: &str) -> Self {
        Self {
            error: error.to_owned(),
            message: message.to_owned(),
            msg: message.to_owned(),
            code: code.to_owned(),
            details: None,
            errors: None,
            fields: None,
            field: None,
            retry_after: None,
            remaining_attempts: None,
            permission: None,
            reason: None,
            password_feedback: None,
            Code: None,
            Msg: None,
        }
    }
}
