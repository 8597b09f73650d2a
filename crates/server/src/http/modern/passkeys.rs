//! `/api/auth/passkeys*`, `/api/auth/passkey/*` and
//! `/api/auth/mfa/passkey/options` (issue 17): an account's passkeys, a
//! passkey as a login's second factor, and a sign-in with a passkey alone.
//! Every ceremony is two calls: `…/options` answers what
//! `navigator.credentials.create()` or `.get()` takes (the JSON that
//! `PublicKeyCredential.parseCreationOptionsFromJSON()` /
//! `parseRequestOptionsFromJSON()` read), the second call carries the
//! credential's `toJSON()`.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use serde_json::{Map, Value};
use tessera_domain::error::AuthError;
use tessera_domain::model::Passkey;
use tessera_domain::ports::{CeremonyOptions, Ports};
use tessera_domain::usecase::{LoginTerms, PasskeyCeremony};
use tessera_domain::validation::{FieldIssue, ValidationErrors};
use utoipa::ToSchema;

use super::dto;
use super::errors::ModernError;
use super::factors::RecoveryCodeList;
use crate::http::messages as m;
use crate::http::{AppState, client_info, read_json, text_field};
use crate::openapi::TOKEN_REFUSED;

type State<P> = web::Data<AppState<P>>;

/// A passkey of the caller's.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PasskeyView {
    /// Its id (for rename and delete).
    pub id: String,
    /// The name the account gave it.
    pub name: String,
    /// `swk` when it may be synced between devices (WebAuthn flag `BE`),
    /// `hwk` when it is bound to one device: what its sign-ins add to `amr`.
    pub amr: String,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub created_at: String,
    /// `YYYY-MM-DDTHH:MM:SSZ`; `null` before its first sign-in.
    pub last_used_at: Option<String>,
}

/// `t` as `YYYY-MM-DDTHH:MM:SSZ`, the shape of every time in `/api/auth` and `/api/admin` bodies.
pub(crate) fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl From<&Passkey> for PasskeyView {
    fn from(p: &Passkey) -> Self {
        Self {
            id: p.id.to_string(),
            name: p.name.clone(),
            amr: if p.backup_eligible { "swk" } else { "hwk" }.into(),
            created_at: rfc3339(p.created_at),
            last_used_at: p.last_used_at.map(rfc3339),
        }
    }
}

/// `GET /api/auth/passkeys`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PasskeyList {
    /// Oldest first.
    pub passkeys: Vec<PasskeyView>,
}

/// A ceremony begun: its token and what the browser runs.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CeremonyResponse {
    /// Send it back with the credential; single use.
    pub ceremony_token: String,
    /// Seconds the ceremony lives (300 by default).
    pub expires_in: i64,
    /// `{"publicKey": {…}}`, base64url for binary members.
    #[schema(value_type = Object)]
    pub options: Value,
}

/// The options of a second-factor passkey assertion.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssertionOptions {
    /// `{"publicKey": {…}}` allowing the account's passkeys.
    #[schema(value_type = Object)]
    pub options: Value,
}

/// `POST /api/auth/passkeys`: the passkey registered.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PasskeyRegistered {
    pub message: String,
    pub msg: String,
    pub passkey: PasskeyView,
    /// Ten single-use codes, shown once, when this is the account's first
    /// factor; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_codes: Option<Vec<String>>,
}

/// `POST /api/auth/passkeys`.
#[derive(Serialize, ToSchema)]
pub struct RegisterPasskeyRequest {
    /// From `POST /api/auth/passkeys/options`.
    #[schema(min_length = 1, pattern = r"\S")]
    pub ceremony_token: String,
    /// The `PublicKeyCredential` that `navigator.credentials.create()`
    /// gave, as its `toJSON()` writes it.
    #[schema(value_type = Object)]
    pub credential: Value,
    /// At most 64 characters; `Passkey` when absent.
    #[schema(nullable, max_length = 64)]
    pub name: Option<String>,
}

/// `POST /api/auth/passkeys/{id}/rename`.
#[derive(Serialize, ToSchema)]
pub struct RenamePasskeyRequest {
    /// 1 to 64 characters.
    #[schema(min_length = 1, max_length = 64, pattern = r"\S")]
    pub name: String,
}

/// `POST /api/auth/mfa/passkey/options`.
#[derive(Serialize, ToSchema)]
pub struct MfaTokenRequest {
    /// From the login's 403 `mfa_required`.
    #[schema(min_length = 1, pattern = r"\S")]
    pub mfa_token: String,
}

/// `POST /api/auth/passkey/login`.
#[derive(Serialize, ToSchema)]
pub struct PasskeyLoginRequest {
    /// From `POST /api/auth/passkey/options`.
    #[schema(min_length = 1, pattern = r"\S")]
    pub ceremony_token: String,
    /// The `PublicKeyCredential` that `navigator.credentials.get()` gave,
    /// as its `toJSON()` writes it.
    #[schema(value_type = Object)]
    pub credential: Value,
}

/// The options text as JSON (the adapter writes JSON; a failure here is ours).
fn options_json(options: &CeremonyOptions) -> Result<Value, ModernError> {
    serde_json::from_str(&options.0)
        .map_err(|e| ModernError::from(AuthError::Internal(format!("ceremony options: {e}"))))
}

fn ceremony_response(ceremony: &PasskeyCeremony) -> Result<HttpResponse, ModernError> {
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(CeremonyResponse {
            ceremony_token: ceremony.token.expose().to_owned(),
            expires_in: ceremony.expires_in_secs(chrono::Utc::now()),
            options: options_json(&ceremony.options)?,
        }))
}

/// The `credential` member of `body`, an object, as JSON text; its issue
/// recorded in `errors` when it is missing or not an object.
pub(crate) fn credential_field(
    body: &Map<String, Value>,
    errors: &mut ValidationErrors,
) -> Option<String> {
    match body.get("credential") {
        None | Some(Value::Null) => {
            errors.add("credential", FieldIssue::Required);
            None
        }
        Some(v @ Value::Object(_)) => Some(v.to_string()),
        Some(_) => {
            errors.add("credential", FieldIssue::NotAString);
            None
        }
    }
}

/// A required, non-blank text field.
fn required_text(
    body: &Map<String, Value>,
    name: &str,
    errors: &mut ValidationErrors,
) -> Option<String> {
    let value = text_field(body, name, false, errors);
    let blank = match body.get(name) {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(_) => false,
    };
    if blank {
        errors.add(name, FieldIssue::Required);
    }
    value
}

fn passkey_id(raw: &str) -> Result<uuid::Uuid, ModernError> {
    uuid::Uuid::parse_str(raw).map_err(|_| ModernError::from(AuthError::FactorNotEnrolled))
}

#[utoipa::path(get, path = "/api/auth/passkeys", tag = super::TAG,
    summary = "The caller's passkeys",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Passkeys, oldest first.", body = PasskeyList),
        (status = 401, description = TOKEN_REFUSED, body = dto::Error),
    ),
)]
pub async fn list<P: Ports>(
    state: State<P>,
    req: HttpRequest,
) -> Result<HttpResponse, ModernError> {
    let auth = crate::http::authenticate(&state, &req).await?;
    let passkeys = state.auth.passkeys(&auth).await?;
    Ok(HttpResponse::Ok().json(PasskeyList {
        passkeys: passkeys.iter().map(PasskeyView::from).collect(),
    }))
}

#[utoipa::path(post, path = "/api/auth/passkeys/options", tag = super::TAG,
    summary = "Begin registering a passkey",
    description = "Options for `navigator.credentials.create()`: user verification required, a \
        discoverable credential preferred, the account's passkeys excluded. Needs a sign-in within \
        `REAUTH_MAX_AGE`. At most 20 passkeys per account.",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The ceremony.", body = CeremonyResponse),
        (status = 401, description = TOKEN_REFUSED, body = dto::Error),
        (status = 403, description = "`reauthentication_required`.", body = dto::Error),
        (status = 409, description = "`passkey_limit`: 20 passkeys already.", body = dto::Error),
    ),
)]
pub async fn registration_options<P: Ports>(
    state: State<P>,
    req: HttpRequest,
) -> Result<HttpResponse, ModernError> {
    let auth = crate::http::authenticate(&state, &req).await?;
    let ceremony = state.auth.begin_passkey_registration(&auth).await?;
    ceremony_response(&ceremony)
}

#[utoipa::path(post, path = "/api/auth/passkeys", tag = super::TAG,
    summary = "Finish registering a passkey",
    description = "Checks the credential (origin in `WEBAUTHN_ORIGINS`, RP id `WEBAUTHN_RP_ID`, the \
        ceremony's challenge, user verification) and stores it. The account is mailed a notice; \
        when it is the account's first factor, its other sessions end, logins ask for a second \
        factor from now on, and ten recovery codes are answered once.",
    security(("bearer" = [])),
    request_body = RegisterPasskeyRequest,
    responses(
        (status = 201, description = "Registered.", body = PasskeyRegistered),
        (status = 400, description = "`validation_failed`, or `passkey_refused`: the ceremony is unknown, expired or used, or the credential failed a check.", body = dto::Error),
        (status = 401, description = TOKEN_REFUSED, body = dto::Error),
        (status = 403, description = "`reauthentication_required`.", body = dto::Error),
        (status = 409, description = "`factor_exists` (registered already) or `passkey_limit`.", body = dto::Error),
    ),
)]
pub async fn register<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ModernError> {
    let auth = crate::http::authenticate(&state, &req).await?;
    let body = read_json(payload, state.max_body_bytes).await?;
    let mut errors = ValidationErrors::new();
    let token = required_text(&body, "ceremony_token", &mut errors);
    let credential = credential_field(&body, &mut errors);
    let name = text_field(&body, "name", false, &mut errors);
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let (passkey, codes) = state
        .auth
        .finish_passkey_registration(
            &auth,
            token.as_deref().unwrap_or(""),
            credential.as_deref().unwrap_or(""),
            name.as_deref(),
            crate::http::locale(),
        )
        .await?;
    let codes = RecoveryCodeList::new(m::PASSKEY_ADDED.get(), codes);
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(PasskeyRegistered {
            message: codes.message,
            msg: codes.msg,
            passkey: PasskeyView::from(&passkey),
            recovery_codes: codes.recovery_codes,
        }))
}

#[utoipa::path(post, path = "/api/auth/passkeys/{id}/rename", tag = super::TAG,
    summary = "Rename a passkey",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The passkey's id.")),
    request_body = RenamePasskeyRequest,
    responses(
        (status = 200, description = "Renamed.", body = dto::Message),
        (status = 400, description = "`validation_failed`: blank, over 64 characters, or control characters.", body = dto::Error),
        (status = 401, description = TOKEN_REFUSED, body = dto::Error),
        (status = 404, description = "`factor_not_enrolled`: no such passkey of the caller's.", body = dto::Error),
    ),
)]
pub async fn rename<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ModernError> {
    let auth = crate::http::authenticate(&state, &req).await?;
    let body = read_json(payload, state.max_body_bytes).await?;
    let mut errors = ValidationErrors::new();
    let name = required_text(&body, "name", &mut errors);
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let id = passkey_id(&id)?;
    state
        .auth
        .rename_passkey(&auth, id, name.as_deref().unwrap_or(""))
        .await?;
    Ok(HttpResponse::Ok().json(dto::Message::new(m::PASSKEY_RENAMED.get())))
}

#[utoipa::path(delete, path = "/api/auth/passkeys/{id}", tag = super::TAG,
    summary = "Remove a passkey",
    description = "Needs a sign-in within `REAUTH_MAX_AGE`. The account is mailed a notice; with its \
        last factor, the recovery codes go too.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The passkey's id.")),
    responses(
        (status = 200, description = "Removed.", body = dto::Message),
        (status = 401, description = TOKEN_REFUSED, body = dto::Error),
        (status = 403, description = "`reauthentication_required`.", body = dto::Error),
        (status = 404, description = "`factor_not_enrolled`: no such passkey of the caller's.", body = dto::Error),
        (status = 409, description = "`factor_required`: the last factor of an account of `MFA_REQUIRED_ROLES`; add another first.", body = dto::Error),
    ),
)]
pub async fn remove<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ModernError> {
    let auth = crate::http::authenticate(&state, &req).await?;
    let id = passkey_id(&id)?;
    state
        .auth
        .remove_passkey(&auth, id, crate::http::locale())
        .await?;
    Ok(HttpResponse::Ok().json(dto::Message::new(m::PASSKEY_REMOVED.get())))
}

#[utoipa::path(post, path = "/api/auth/mfa/passkey/options", tag = super::TAG,
    summary = "Begin a passkey assertion for a login's second factor",
    description = "Options for `navigator.credentials.get()` allowing the account's passkeys; then \
        `POST /api/auth/mfa/verify` with `factor` `passkey` and the `credential`.",
    request_body = MfaTokenRequest,
    responses(
        (status = 200, description = "The options.", body = AssertionOptions),
        (status = 400, description = "`validation_failed`: no `mfa_token`.", body = dto::Error),
        (status = 401, description = "`mfa_token_invalid`.", body = dto::Error),
        (status = 404, description = "`factor_not_enrolled`: the account has no passkey.", body = dto::Error),
    ),
)]
pub async fn second_factor_options<P: Ports>(
    state: State<P>,
    payload: web::Payload,
) -> Result<HttpResponse, ModernError> {
    let token = mfa_token_field(&state, payload).await?;
    let options = state.auth.begin_second_factor_passkey(&token).await?;
    options_answer(&options)
}

/// Reads `{mfa_token}`: a non-blank string (400 `validation_failed` otherwise).
pub(super) async fn mfa_token_field<P: Ports>(
    state: &State<P>,
    payload: web::Payload,
) -> Result<String, ModernError> {
    let body = read_json(payload, state.max_body_bytes).await?;
    let mut errors = ValidationErrors::new();
    let token = required_text(&body, "mfa_token", &mut errors);
    if !errors.is_empty() {
        return Err(errors.into());
    }
    Ok(token.unwrap_or_default())
}

/// `{options}` for the browser, not stored.
fn options_answer(options: &CeremonyOptions) -> Result<HttpResponse, ModernError> {
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(AssertionOptions {
            options: options_json(options)?,
        }))
}

#[utoipa::path(post, path = "/api/auth/mfa/enrol/passkey/options", tag = super::TAG,
    summary = "Begin the passkey registration a login waits for (`MFA_REQUIRED_ROLES`)",
    description = "For a login answered 403 `mfa_enrolment_required`: options for \
        `navigator.credentials.create()`; then `POST /api/auth/mfa/verify` with `factor` `passkey` \
        and the `credential`, which registers the passkey and finishes the login (with the \
        account's first `recovery_codes`). A new call replaces the ceremony.",
    request_body = MfaTokenRequest,
    responses(
        (status = 200, description = "The options.", body = AssertionOptions),
        (status = 400, description = "`validation_failed`: no `mfa_token`.", body = dto::Error),
        (status = 401, description = "`mfa_token_invalid`: unknown, expired or used, or not an enrolment's.", body = dto::Error),
        (status = 403, description = "`account_disabled`.", body = dto::Error),
    ),
)]
pub async fn required_enrolment_options<P: Ports>(
    state: State<P>,
    payload: web::Payload,
) -> Result<HttpResponse, ModernError> {
    let token = mfa_token_field(&state, payload).await?;
    let options = state.auth.begin_required_passkey_enrolment(&token).await?;
    options_answer(&options)
}

#[utoipa::path(post, path = "/api/auth/passkey/options", tag = super::TAG,
    summary = "Begin a sign-in with a passkey alone",
    description = "Options for `navigator.credentials.get()` allowing any discoverable passkey of \
        this relying party (no username asked; pages pass `mediation: \"conditional\"` for autofill).",
    responses(
        (status = 200, description = "The ceremony.", body = CeremonyResponse),
        (status = 429, description = "Too many login attempts from this address.", body = dto::Error),
    ),
)]
pub async fn sign_in_options<P: Ports>(state: State<P>) -> Result<HttpResponse, ModernError> {
    let ceremony = state.auth.begin_passkey_sign_in().await?;
    ceremony_response(&ceremony)
}

#[utoipa::path(post, path = "/api/auth/passkey/login", tag = super::TAG,
    summary = "Finish a sign-in with a passkey alone",
    description = "The tokens carry `amr` `swk mfa` (a passkey that may be synced) or `hwk mfa`, and \
        `aal` 2: a passkey with user verification is two factors. The account rules of a password \
        login hold (disabled: 403; unverified address when `REQUIRE_VERIFIED_EMAIL`: 403).",
    request_body = PasskeyLoginRequest,
    responses(
        (status = 200, description = "Token pair and user, as a login.", body = dto::LoginResponse),
        (status = 400, description = "`validation_failed`, or `passkey_refused`: unknown, expired or used ceremony, unknown passkey, or a failed check.", body = dto::Error),
        (status = 403, description = "`account_disabled` or `email_not_verified`.", body = dto::Error),
        (status = 429, description = "Too many login attempts from this address.", body = dto::Error),
    ),
)]
pub async fn sign_in<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ModernError> {
    let body = read_json(payload, state.max_body_bytes).await?;
    let mut errors = ValidationErrors::new();
    let token = required_text(&body, "ceremony_token", &mut errors);
    let credential = credential_field(&body, &mut errors);
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let out = state
        .auth
        .finish_passkey_sign_in(
            token.as_deref().unwrap_or(""),
            credential.as_deref().unwrap_or(""),
            client_info(&req, &state.trusted_proxies),
            LoginTerms::default(),
        )
        .await?;
    Ok(HttpResponse::Ok().json(dto::LoginResponse::new(m::LOGGED_IN.get(), &out)))
}
