//! Seed 002's request and response bodies.
//! Request types are schemas only (no `Deserialize`, no `Debug`: never
//! built, so a password cannot reach a log through them); the handlers read
//! the fields one by one (docs/adr/0008).

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::http::dto::{PasswordFeedback, field};

/// A user as seed 002 shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct V1User {
    /// UUID.
    pub id: String,
    /// The integer id the other dialects use.
    pub user_id: i64,
    pub email: String,
    pub username: String,
    /// RFC 3339 (`+00:00`).
    pub created_at: String,
    pub is_verified: bool,
}

/// Seed 002's errors: `{error}` or `{code, message}`; both keys are always sent.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct V1Error {
    pub error: String,
    pub message: String,
    /// 1: exists / bad link, 2: user not found, 4: validation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<u8>,
    /// Validation: machine codes per field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<BTreeMap<String, Vec<String>>>,
    /// Validation: why a new password is too easy to guess.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_feedback: Option<PasswordFeedback>,
}

/// `POST /api/v1/auth/register` (201).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct V1Registered {
    pub code: u8,
    pub message: String,
    pub data: V1User,
}

/// `GET /api/v1/auth/verify/{token}`: code 0 verified, 3 already verified.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct V1Verified {
    pub code: u8,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct V1UserData {
    pub user: V1User,
}

/// `POST /api/v1/auth/login`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct V1Login {
    pub code: u8,
    pub message: String,
    pub token: String,
    pub expires_in: i64,
    pub data: V1UserData,
    /// A login finished by enrolling its first factor (code 8's
    /// `mfa_token`): ten single-use recovery codes, shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_codes: Option<Vec<String>>,
}

/// `POST /api/v1/auth/login` for an account with a second factor: 401
/// code 5; finish at `POST /api/v1/auth/login/mfa`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct V1MfaRequired {
    /// 5; 8 when a factor must be enrolled first (`MFA_REQUIRED_ROLES`:
    /// `factors` are then the kinds that may be, `totp`, `passkey`).
    pub code: u8,
    pub error: String,
    pub message: String,
    /// The challenge, `<id>.<secret>`; single use.
    pub mfa_token: String,
    /// The kinds it accepts: `totp`, `recovery_code`.
    pub factors: Vec<String>,
    /// Seconds until it lapses.
    pub expires_in: i64,
}

/// `POST /api/v1/auth/login/mfa`.
#[derive(ToSchema)]
pub struct V1MfaRequest {
    #[schema(min_length = 1, pattern = r"\S")]
    pub mfa_token: String,
    /// A TOTP code (6 digits) or a recovery code.
    #[schema(min_length = 1, pattern = r"\S")]
    pub code: String,
}

/// `POST /api/v1/auth/login/mfa` refused: 400 code 6 (wrong code, with
/// `remaining_attempts`) or 401 code 7 (the challenge is gone: log in again).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct V1MfaRefused {
    pub code: u8,
    pub error: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining_attempts: Option<u32>,
}

/// `POST /api/v1/auth/login`.
#[derive(ToSchema)]
pub struct V1Credentials {
    #[schema(schema_with = field::email)]
    pub email: String,
    #[schema(schema_with = field::password_attempt)]
    pub password: String,
}

/// `POST /api/v1/auth/register`: the rules of `/api/auth/register` (see
/// [`crate::http::modern::dto::RegisterRequest`]).
#[derive(ToSchema)]
pub struct V1RegisterRequest {
    #[schema(schema_with = field::username)]
    pub username: String,
    #[schema(schema_with = field::email)]
    pub email: String,
    #[schema(schema_with = field::new_password)]
    pub password: String,
}

impl From<&tessera_domain::model::User> for V1User {
    fn from(u: &tessera_domain::model::User) -> Self {
        Self {
            id: u.public_id.to_string(),
            user_id: u.id.0,
            email: u.email.as_str().to_owned(),
            username: u.username.as_str().to_owned(),
            // RFC 3339 with `+00:00`, as Python's `isoformat()` writes it.
            created_at: u
                .created_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
            is_verified: u.email_verified,
        }
    }
}

impl V1Verified {
    /// `{code, message}`.
    #[must_use]
    pub fn new(code: u8, message: &str) -> Self {
        Self {
            code,
            message: message.to_owned(),
        }
    }
}

impl V1Error {
    /// `{error, message}` with one text; every other key absent.
    #[must_use]
    pub fn new(text: &str) -> Self {
        Self {
            error: text.to_owned(),
            message: text.to_owned(),
            code: None,
            details: None,
            password_feedback: None,
        }
    }
}
