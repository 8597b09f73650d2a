//! `/api/auth/mfa/*` (issue 17): the second-factor step of a login, and an
//! account's own factors (TOTP enrolment, removal, recovery codes). The
//! response bodies are typed here, beside their handlers.

#![allow(non_snake_case)]

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use tessera_domain::model::{FactorKind, FactorOverview};
use tessera_domain::ports::Ports;
use tessera_domain::usecase::{LoginTerms, RecoveryCodes, SecondFactorChallenge};
use tessera_domain::validation::ValidationErrors;
use utoipa::ToSchema;

use super::dto;
use super::errors::ModernError;
use crate::http::messages as m;
use crate::http::{AppState, client_info, read_json, text_field};
use crate::openapi::TOKEN_REFUSED;

type State<P> = web::Data<AppState<P>>;

/// 403 `mfa_required`: the password was right and a second factor must
/// follow (`POST /api/auth/mfa/verify`); or 403 `mfa_enrolment_required`:
/// the account's role needs a second factor it lacks (`MFA_REQUIRED_ROLES`),
/// to enrol with `mfa_token` first (`POST /api/auth/mfa/enrol/totp` or
/// `/mfa/enrol/passkey/options`), then `POST /api/auth/mfa/verify`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MfaRequired {
    pub error: String,
    pub message: String,
    pub msg: String,
    /// `mfa_required`, or `mfa_enrolment_required`.
    pub code: String,
    /// Always `true`.
    pub mfa_required: bool,
    /// A factor must be enrolled first (`MFA_REQUIRED_ROLES`); `factors`
    /// then lists the kinds that may be (`totp`, `passkey`).
    pub mfa_enrolment_required: bool,
    /// The challenge to answer, `<id>.<secret>`; single use.
    pub mfa_token: String,
    /// The kinds the account may answer with: `totp`, `recovery_code`.
    pub factors: Vec<String>,
    /// Seconds until the challenge lapses (default 300).
    pub expires_in: i64,
}

impl MfaRequired {
    /// The answer to a login that waits for `challenge`.
    #[must_use]
    pub fn new(challenge: &SecondFactorChallenge) -> Self {
        let (text, code) = if challenge.enrolment {
            (m::MFA_ENROLMENT_REQUIRED.get(), "mfa_enrolment_required")
        } else {
            (m::MFA_REQUIRED.get(), "mfa_required")
        };
        let text = text.to_owned();
        Self {
            error: text.clone(),
            message: text.clone(),
            msg: text,
            code: code.into(),
            mfa_required: true,
            mfa_enrolment_required: challenge.enrolment,
            mfa_token: challenge.token.expose().to_owned(),
            factors: kind_names(&challenge.factors),
            expires_in: challenge.expires_in_secs(chrono::Utc::now()),
        }
    }

    /// The 403 response.
    #[must_use]
    pub fn response(challenge: &SecondFactorChallenge) -> HttpResponse {
        HttpResponse::build(StatusCode::FORBIDDEN).json(Self::new(challenge))
    }
}

/// The wire names of factor kinds (`totp`, `recovery_code`), as every
/// dialect lists them.
pub(crate) fn kind_names(kinds: &[FactorKind]) -> Vec<String> {
    kinds.iter().map(|k| k.as_str().to_owned()).collect()
}

/// `POST /api/auth/mfa/verify`.
#[derive(Serialize, ToSchema)]
pub struct MfaVerifyRequest {
    /// From the login's 403 `mfa_required`.
    #[schema(min_length = 1, pattern = r"\S")]
    pub mfa_token: String,
    /// A TOTP code (6 digits) or a recovery code (`1234-5678-9012`); not
    /// with a `credential`.
    #[schema(min_length = 1, pattern = r"\S")]
    pub code: Option<String>,
    /// `totp`, `passkey` or `recovery_code`; when absent (or `null`), a
    /// `credential` is a passkey's, 6 digits are a TOTP code and anything
    /// else a recovery code.
    #[schema(nullable, pattern = "^(totp|passkey|recovery_code)$")]
    pub factor: Option<String>,
    /// For `passkey`: the `PublicKeyCredential` that
    /// `navigator.credentials.get()` gave (options from
    /// `POST /api/auth/mfa/passkey/options`), as its `toJSON()` writes it.
    #[schema(value_type = Option<Object>)]
    pub credential: Option<serde_json::Value>,
}

/// A code that confirms a factor change.
#[derive(Serialize, ToSchema)]
pub struct CodeRequest {
    /// A current TOTP code (for removal, a recovery code also serves).
    #[schema(min_length = 1, pattern = r"\S")]
    pub code: String,
}

/// `DELETE /api/auth/mfa/totp`.
#[derive(Serialize, ToSchema)]
pub struct RemoveTotpRequest {
    /// A current TOTP code or an unused recovery code; not needed to remove
    /// an unconfirmed enrolment.
    #[schema(min_length = 1, pattern = r"\S")]
    pub code: Option<String>,
}

/// `GET /api/auth/mfa`: the caller's factors.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Factors {
    /// Whether a login needs a second factor.
    pub mfa_enabled: bool,
    /// The kinds a login's second-factor step accepts.
    pub factors: Vec<String>,
    pub totp: TotpState,
    /// Passkeys registered (`GET /api/auth/passkeys` lists the caller's).
    pub passkeys: u32,
    /// Unused recovery codes.
    pub recovery_codes_left: u32,
}

/// The caller's TOTP factor.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TotpState {
    /// Confirmed: logins ask for its codes.
    pub enabled: bool,
    /// An enrolment waits for its first code.
    pub pending: bool,
    /// When it was confirmed, `YYYY-MM-DDTHH:MM:SSZ`.
    pub confirmed_at: Option<String>,
}

impl From<FactorOverview> for Factors {
    fn from(o: FactorOverview) -> Self {
        Self {
            mfa_enabled: o.has_second_factor(),
            factors: kind_names(&o.kinds()),
            totp: TotpState {
                enabled: o.totp_confirmed_at.is_some(),
                pending: o.totp_pending,
                confirmed_at: o
                    .totp_confirmed_at
                    .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
            },
            passkeys: o.passkeys,
            recovery_codes_left: o.recovery_codes_left,
        }
    }
}

/// `POST /api/auth/mfa/totp`: what the authenticator app needs.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TotpEnrolment {
    pub message: String,
    pub msg: String,
    /// The shared secret, base32 (RFC 4648, no padding), to type in.
    pub secret: String,
    /// `otpauth://totp/<issuer>:<email>?secret=…&issuer=…` (SHA-1, 6 digits, 30 s).
    pub otpauth_uri: String,
    /// The URI as a QR code, an SVG document.
    pub qr_svg: String,
}

/// New recovery codes, shown once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecoveryCodeList {
    pub message: String,
    pub msg: String,
    /// Ten single-use codes, `1234-5678-9012`; absent when the account
    /// already held codes (confirming a new TOTP factor keeps them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_codes: Option<Vec<String>>,
}

impl RecoveryCodeList {
    pub(crate) fn new(text: &str, codes: Option<RecoveryCodes>) -> Self {
        Self {
            message: text.to_owned(),
            msg: text.to_owned(),
            recovery_codes: codes.map(|c| c.0.iter().map(|s| s.expose().to_owned()).collect()),
        }
    }
}

/// `uri` as a QR code in an SVG document (`qrcode`), 240 px at least.
fn qr_svg(uri: &str) -> String {
    qrcode::QrCode::new(uri.as_bytes())
        .map(|code| {
            code.render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(240, 240)
                .build()
        })
        .unwrap_or_default()
}

/// `uri` as a QR code in an `<svg>` element for an HTML page (the XML
/// declaration dropped).
#[must_use]
pub fn qr_svg_element(uri: &str) -> String {
    let svg = qr_svg(uri);
    svg.find("<svg")
        .map_or_else(String::new, |at| svg[at..].to_owned())
}

/// Reads `{code}`, a string; `""` when absent. A `code` that is present
/// but `null` or blank is refused (`required`), even where none is needed,
/// and one of another type (`not_a_string`), as the schema says.
async fn code_field<P: Ports>(
    state: &State<P>,
    payload: web::Payload,
) -> Result<String, ModernError> {
    let body = read_json(payload, state.max_body_bytes).await?;
    let mut errors = ValidationErrors::new();
    let code = text_field(&body, "code", false, &mut errors);
    if errors.is_empty()
        && body.contains_key("code")
        && code.as_deref().is_none_or(|c| c.trim().is_empty())
    {
        errors.add("code", tessera_domain::validation::FieldIssue::Required);
    }
    if !errors.is_empty() {
        return Err(errors.into());
    }
    Ok(code.unwrap_or_default())
}

#[utoipa::path(post, path = "/api/auth/mfa/verify", tag = super::TAG,
    summary = "Finish a login with a second factor (issue 17)",
    description = "Answers a login's 403 `mfa_required` with a TOTP code, a passkey's `credential` \
        (options from `POST /api/auth/mfa/passkey/options`) or a recovery code. \
        Each challenge takes 5 answers at most and lives 300 s; each account 10 factor checks per 15 minutes. \
        The tokens carry `amr` (`pwd otp mfa`; `pwd swk mfa` or `pwd hwk mfa` for a passkey; `pwd mfa` \
        for a recovery code) and `aal` 2.",
    request_body = MfaVerifyRequest,
    responses(
        (status = 200, description = "Token pair and user, as a login.", body = dto::LoginResponse),
        (status = 400, description = "Code missing (`validation_failed`), wrong (`code_wrong`, `remaining_attempts`) or the challenge's last (`code_exhausted`).", body = dto::Error),
        (status = 401, description = "`mfa_token_invalid`: unknown, expired, used, or the password changed: log in again.", body = dto::Error),
        (status = 403, description = "`account_disabled`: the account was disabled while the login waited.", body = dto::Error),
        (status = 429, description = "Too many factor checks for the account.", body = dto::Error),
    ),
)]
pub async fn verify<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ModernError> {
    let body = read_json(payload, state.max_body_bytes).await?;
    let mut errors = ValidationErrors::new();
    let token = text_field(&body, "mfa_token", false, &mut errors);
    let factor = text_field(&body, "factor", false, &mut errors);
    // A passkey answers with its `credential` (an object), a code with `code`.
    let passkey = factor.as_deref() == Some("passkey")
        || body.get("credential").is_some_and(|c| !c.is_null());
    let code = if passkey {
        super::passkeys::credential_field(&body, &mut errors)
    } else {
        text_field(&body, "code", true, &mut errors)
    };
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let kind = match factor.as_deref() {
        None if passkey => Some(FactorKind::Passkey),
        None => None,
        Some(name) => Some(FactorKind::parse(name).ok_or_else(|| {
            let mut e = ValidationErrors::new();
            e.add(
                "factor",
                tessera_domain::validation::FieldIssue::NotOneOf {
                    allowed: vec!["totp".into(), "passkey".into(), "recovery_code".into()],
                },
            );
            ModernError::from(e)
        })?),
    };
    let out = state
        .auth
        .verify_second_factor(
            token.as_deref().unwrap_or(""),
            kind,
            code.as_deref().unwrap_or(""),
            client_info(&req, &state.trusted_proxies),
            LoginTerms::default(),
            crate::http::locale(),
        )
        .await?;
    Ok(HttpResponse::Ok().json(dto::LoginResponse::new(m::LOGGED_IN.get(), &out)))
}

#[utoipa::path(get, path = "/api/auth/mfa", tag = super::TAG,
    summary = "The caller's second factors",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Factors.", body = Factors),
        (status = 401, description = TOKEN_REFUSED, body = dto::Error),
    ),
)]
pub async fn overview<P: Ports>(
    state: State<P>,
    req: HttpRequest,
) -> Result<HttpResponse, ModernError> {
    let auth = crate::http::authenticate(&state, &req).await?;
    let overview = state.auth.factor_overview(&auth).await?;
    Ok(HttpResponse::Ok().json(Factors::from(overview)))
}

#[utoipa::path(post, path = "/api/auth/mfa/totp", tag = super::TAG,
    summary = "Begin a TOTP enrolment: secret, otpauth URI and QR code",
    description = "The factor counts once `POST /api/auth/mfa/totp/confirm` confirms it with a first code. \
        A new call replaces an unconfirmed enrolment.",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What the authenticator app needs.", body = TotpEnrolment),
        (status = 401, description = TOKEN_REFUSED, body = dto::Error),
        (status = 403, description = "`reauthentication_required`: the session's sign-in is older than `REAUTH_MAX_AGE` (900 s); sign in again.", body = dto::Error),
        (status = 409, description = "`factor_exists`: a confirmed TOTP factor exists; remove it first.", body = dto::Error),
    ),
)]
pub async fn begin_totp<P: Ports>(
    state: State<P>,
    req: HttpRequest,
) -> Result<HttpResponse, ModernError> {
    let auth = crate::http::authenticate(&state, &req).await?;
    let enrolment = state.auth.begin_totp_enrolment(&auth).await?;
    Ok(totp_enrolment_response(&enrolment))
}

#[utoipa::path(post, path = "/api/auth/mfa/enrol/totp", tag = super::TAG,
    summary = "Begin the TOTP enrolment a login waits for (`MFA_REQUIRED_ROLES`)",
    description = "For a login answered 403 `mfa_enrolment_required` (seed 001: Code 204; `/api/v1`: \
        code 8): secret, otpauth URI and QR code. The app's first code, sent with the same \
        `mfa_token` to `POST /api/auth/mfa/verify` (or `/Auth/LoginMfa`, `/Admin/LoginMfa`, \
        `/api/v1/auth/login/mfa`), confirms the factor and finishes the login, with the account's \
        first `recovery_codes`. A new call replaces the secret.",
    request_body = super::passkeys::MfaTokenRequest,
    responses(
        (status = 200, description = "What the authenticator app needs.", body = TotpEnrolment),
        (status = 400, description = "`validation_failed`: no `mfa_token`.", body = dto::Error),
        (status = 401, description = "`mfa_token_invalid`: unknown, expired or used, or not an enrolment's.", body = dto::Error),
        (status = 403, description = "`account_disabled`.", body = dto::Error),
    ),
)]
pub async fn begin_required_totp<P: Ports>(
    state: State<P>,
    payload: web::Payload,
) -> Result<HttpResponse, ModernError> {
    let token = super::passkeys::mfa_token_field(&state, payload).await?;
    let enrolment = state.auth.begin_required_totp_enrolment(&token).await?;
    Ok(totp_enrolment_response(&enrolment))
}

/// The answer of a TOTP enrolment begun: secret, URI and QR code, not stored.
fn totp_enrolment_response(enrolment: &tessera_domain::usecase::TotpEnrolment) -> HttpResponse {
    let text = m::TOTP_STARTED.get().to_owned();
    HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(TotpEnrolment {
            message: text.clone(),
            msg: text,
            secret: enrolment.secret.expose().to_owned(),
            qr_svg: qr_svg(enrolment.uri.expose()),
            otpauth_uri: enrolment.uri.expose().to_owned(),
        })
}

#[utoipa::path(post, path = "/api/auth/mfa/totp/confirm", tag = super::TAG,
    summary = "Confirm the TOTP enrolment with a first code",
    description = "From now on logins ask for a second factor; every other session of the account \
        ends and the account is mailed a notice. The first confirmation of an account also issues its \
        ten recovery codes, shown once. Needs a sign-in within `REAUTH_MAX_AGE`.",
    security(("bearer" = [])),
    request_body = CodeRequest,
    responses(
        (status = 200, description = "Enabled (with `recovery_codes` the first time).", body = RecoveryCodeList),
        (status = 400, description = "Code missing or wrong (`code_invalid`).", body = dto::Error),
        (status = 401, description = TOKEN_REFUSED, body = dto::Error),
        (status = 403, description = "`reauthentication_required`: the session's sign-in is older than `REAUTH_MAX_AGE`.", body = dto::Error),
        (status = 404, description = "`factor_not_enrolled`: no enrolment waits.", body = dto::Error),
        (status = 409, description = "`factor_exists`: the factor is confirmed already.", body = dto::Error),
        (status = 429, description = "Too many factor checks.", body = dto::Error),
    ),
)]
pub async fn confirm_totp<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ModernError> {
    let auth = crate::http::authenticate(&state, &req).await?;
    let code = code_field(&state, payload).await?;
    let codes = state
        .auth
        .confirm_totp_enrolment(&auth, &code, crate::http::locale())
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(RecoveryCodeList::new(m::TOTP_ENABLED.get(), codes)))
}

#[utoipa::path(delete, path = "/api/auth/mfa/totp", tag = super::TAG,
    summary = "Remove the TOTP factor (and the recovery codes)",
    description = "Confirmed by a current TOTP code or an unused recovery code; an unconfirmed \
        enrolment is removed without one.",
    security(("bearer" = [])),
    request_body = Option<RemoveTotpRequest>,
    responses(
        (status = 200, description = "Removed.", body = dto::Message),
        (status = 400, description = "Code missing or wrong.", body = dto::Error),
        (status = 401, description = TOKEN_REFUSED, body = dto::Error),
        (status = 404, description = "`factor_not_enrolled`.", body = dto::Error),
        (status = 409, description = "`factor_required`: the last factor of an account of `MFA_REQUIRED_ROLES`; add another first.", body = dto::Error),
        (status = 429, description = "Too many factor checks.", body = dto::Error),
    ),
)]
pub async fn remove_totp<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ModernError> {
    let auth = crate::http::authenticate(&state, &req).await?;
    let code = code_field(&state, payload).await?;
    state
        .auth
        .remove_totp(&auth, &code, crate::http::locale())
        .await?;
    Ok(HttpResponse::Ok().json(dto::Message::new(m::TOTP_REMOVED.get())))
}

#[utoipa::path(post, path = "/api/auth/mfa/recovery-codes", tag = super::TAG,
    summary = "Issue new recovery codes (the old set is void)",
    security(("bearer" = [])),
    request_body = CodeRequest,
    responses(
        (status = 200, description = "Ten new codes, shown once.", body = RecoveryCodeList),
        (status = 400, description = "Code missing or wrong.", body = dto::Error),
        (status = 401, description = TOKEN_REFUSED, body = dto::Error),
        (status = 404, description = "`factor_not_enrolled`: no confirmed factor.", body = dto::Error),
        (status = 429, description = "Too many factor checks.", body = dto::Error),
    ),
)]
pub async fn regenerate_recovery_codes<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ModernError> {
    let auth = crate::http::authenticate(&state, &req).await?;
    let code = code_field(&state, payload).await?;
    let codes = state
        .auth
        .regenerate_recovery_codes(&auth, &code, crate::http::locale())
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(RecoveryCodeList::new(
            m::RECOVERY_CODES_ISSUED.get(),
            Some(codes),
        )))
}
