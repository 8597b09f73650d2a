//! Seed 001's request and response bodies (its field names are
//! capitalised: `Code`, `Msg`, `Email`, …).
//! Request types are schemas only (no `Deserialize`, no `Debug`: never
//! built, so a password cannot reach a log through them); the handlers read
//! the fields one by one (docs/adr/0008).
#![allow(non_snake_case)]

use serde::Serialize;
use utoipa::ToSchema;

/// Seed 001: HTTP 200 `{Code, Msg}`; clients read `Code` (see docs/api.md).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LegacyAnswer {
    pub Code: u16,
    pub Msg: String,
    /// 429 only: seconds to wait.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub RetryAfter: Option<u64>,
}

/// `POST /Auth/Login`: `Code` 200 (202 for `super_admin`) with a token;
/// every other answer (501, 401, 530, 429, 510, 413, 408) has `Token` and
/// `UserID` null, as the seed's login does (issue 13, item 4).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LegacyLogin {
    pub Code: u16,
    pub Msg: String,
    #[schema(required = true)]
    pub Token: Option<String>,
    #[schema(required = true)]
    pub UserID: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub RefreshToken: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ExpiresIn: Option<i64>,
    /// 429 only: seconds to wait.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub RetryAfter: Option<u64>,
    /// Code 203 only: the second-factor challenge, for `/Auth/LoginMfa`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub MfaToken: Option<String>,
    /// Code 203 only: the factor kinds it accepts (`totp`, `recovery_code`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub Factors: Option<Vec<String>>,
    /// Code 203 only: seconds until `MfaToken` lapses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub MfaExpiresIn: Option<i64>,
    /// A login finished by enrolling its first factor (Code 204's
    /// `MfaToken`): ten single-use recovery codes, shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub RecoveryCodes: Option<Vec<String>>,
}

/// `POST /Admin/Login`: `Code` 200 with a token whose claims say
/// `is_admin: true`, or 500 (wrong password, unknown address, or no
/// administrator role: one answer) with `Token` and `Email` null.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LegacyAdminLogin {
    pub Code: u16,
    pub Msg: String,
    pub Token: Option<String>,
    /// The account's address.
    pub Email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub UserID: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub RefreshToken: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ExpiresIn: Option<i64>,
    /// Code 203 only: the second-factor challenge, for `/Admin/LoginMfa`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub MfaToken: Option<String>,
    /// Code 203 only: the factor kinds it accepts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub Factors: Option<Vec<String>>,
    /// Code 203 only: seconds until `MfaToken` lapses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub MfaExpiresIn: Option<i64>,
    /// As [`LegacyLogin::RecoveryCodes`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub RecoveryCodes: Option<Vec<String>>,
}

/// `POST /Auth/LoginMfa` and `/Admin/LoginMfa`: a Code 203 login's
/// `MfaToken` and a TOTP code or a recovery code.
#[derive(ToSchema)]
pub struct LegacyMfaRequest {
    pub MfaToken: String,
    /// A TOTP code (6 digits) or a recovery code.
    pub Code: String,
}

/// `POST /Auth/Verify` success: the account whose address the code confirmed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LegacySignedUp {
    pub Code: u16,
    pub Msg: String,
    pub UserID: i64,
    pub Name: String,
}

/// `GET /CheckJWTToken` success.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LegacyTokenOk {
    pub Code: u16,
    pub Msg: String,
    /// The account's email.
    pub User: String,
    pub UserID: i64,
}

#[derive(ToSchema)]
pub struct LegacyLoginRequest {
    pub Email: String,
    /// The password, or its SM3 hex digest (seed 001's client hashes).
    pub Password: String,
}

#[derive(ToSchema)]
pub struct LegacySignRequest {
    pub Name: String,
    pub Email: String,
    pub Password: String,
}

#[derive(ToSchema)]
pub struct LegacyVerifyRequest {
    pub Name: String,
    pub Email: String,
    pub Password: String,
    pub VerifyCode: String,
}

#[derive(ToSchema)]
pub struct LegacyEmailRequest {
    pub Email: String,
}

#[derive(ToSchema)]
pub struct LegacyUpdatePasswordRequest {
    pub Email: String,
    pub Password: String,
    pub VerifyCode: String,
}

impl LegacyAnswer {
    /// `{Code, Msg}`.
    #[must_use]
    pub fn new(code: u16, msg: &str) -> Self {
        Self {
            Code: code,
            Msg: msg.to_owned(),
            RetryAfter: None,
        }
    }
}
