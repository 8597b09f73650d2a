//! Seed 001's handlers and their mount.

use actix_web::{HttpRequest, HttpResponse, web};
use tessera_domain::error::AuthError;
use tessera_domain::model::TokenIdentity;
use tessera_domain::ports::Ports;
use tessera_domain::usecase::{LoginStep, LoginTerms, ResetForm, SecondFactorChallenge, SignUp};
use tessera_domain::validation::ValidationErrors;
use tessera_domain::values::PasswordInput;

use super::dto;
use super::errors::{Legacy, LegacyError, LegacyLogin, answer};
use crate::http::dialect::{DialectError, is_server_fault};
use crate::http::dto::AnyOf;
use crate::http::dto::{Alike, ResponseList};
use crate::http::messages as m;
use crate::http::{AppState, client_info, locale, read_text_fields};
use crate::openapi::LEGACY_CONTRACT;

type State<P> = web::Data<AppState<P>>;

/// The refusals a seed 001 route with a body gives before its handler runs
/// (each in the route's `{Code, Msg}` shape).
struct BeforeHandler;

impl ResponseList for BeforeHandler {
    const LIST: &'static [(u16, &'static str)] = &[
        (408, "Body not received within `REQUEST_BODY_TIMEOUT`."),
        (413, "Body too large."),
        (429, "Over a rate limit."),
    ];
}
crate::declare_routes! {
    "";
    Get "/CheckJWTToken" => check_token::<P> [];
    Post "/Admin/Login" => admin_login::<P> [limit Login];
    Post "/Auth/Login" => login::<P> [limit Login];
    Post "/Auth/LoginMfa" => login_mfa::<P> [limit Login];
    Post "/Admin/LoginMfa" => admin_login_mfa::<P> [limit Login];
    Post "/Auth/Sign" => sign::<P> [limit SendCode];
    Post "/Auth/Verify" => verify::<P> [limit VerifyCode];
    Post "/Auth/ResetPassword" => reset_password::<P> [limit SendCode];
    Post "/Auth/UpdatePassword" => update_password::<P> [limit VerifyCode];
}

/// Reads the body and the named text fields (`VerifyCode` may be a
/// number); a wrongly typed field is a 530.
async fn fields<D, const N: usize>(
    state: &State<impl Ports>,
    payload: web::Payload,
    names: [&str; N],
) -> Result<[Option<String>; N], DialectError<D>> {
    read_text_fields(
        payload,
        state.max_body_bytes,
        names.map(|n| (n, n == "VerifyCode")),
    )
    .await
}

/// `POST /Auth/Login` `{Email, Password}` → `{Code, Msg, Token, UserID}`;
/// every answer that is not a success carries `Token` and `UserID` as `null`.
#[utoipa::path(post, path = "/Auth/Login", tag = super::TAG,
    summary = "Log in (`Code` 200/202, 501, 401, 530, 510; `Token` and `UserID` null unless 200/202)",
    description = LEGACY_CONTRACT,
    request_body = dto::LegacyLoginRequest,
    responses(
        (status = 200, description = "See `Code`.", body = dto::LegacyLogin),
        Alike<dto::LegacyLogin, BeforeHandler>,
    ),
)]
async fn login<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, DialectError<LegacyLogin>> {
    let (email, password) = credentials(&state, payload).await?;
    let step = state
        .auth
        .verify_credentials(
            &email,
            PasswordInput::PlainOrSm3Digest(&password),
            client_info(&req, &state.trusted_proxies),
            legacy_terms(&state, false),
        )
        .await?;
    let out = match step {
        LoginStep::SecondFactor(challenge) => {
            let (code, msg) = if challenge.enrolment {
                (204, m::L_MFA_ENROLMENT_REQUIRED.get())
            } else {
                (203, m::L_MFA_REQUIRED.get())
            };
            return Ok(HttpResponse::Ok().json(dto::LegacyLogin {
                Code: code,
                Msg: msg.to_owned(),
                Token: None,
                UserID: None,
                RefreshToken: None,
                ExpiresIn: None,
                RetryAfter: None,
                MfaToken: Some(challenge.token.expose().to_owned()),
                Factors: Some(crate::http::modern::factors::kind_names(&challenge.factors)),
                MfaExpiresIn: Some(challenge.expires_in_secs(chrono::Utc::now())),
                RecoveryCodes: None,
            }));
        }
        step => step.done()?,
    };
    Ok(logged_in(&out))
}

/// Code 200 (202 for a `super_admin`) with the tokens of `out`.
fn logged_in(out: &tessera_domain::usecase::LoginOutcome) -> HttpResponse {
    let (code, msg) = if out.user.is_super_admin() {
        (202, m::L_ADMIN_LOGGED_IN.get())
    } else {
        (200, m::LOGGED_IN.get())
    };
    HttpResponse::Ok().json(dto::LegacyLogin {
        Code: code,
        Msg: msg.to_owned(),
        Token: Some(out.tokens.access.token.expose().to_owned()),
        UserID: Some(out.user.id.0),
        RefreshToken: Some(out.tokens.refresh.expose().to_owned()),
        ExpiresIn: Some(out.tokens.access.expires_in),
        RetryAfter: None,
        MfaToken: None,
        Factors: None,
        MfaExpiresIn: None,
        RecoveryCodes: out
            .recovery_codes
            .as_ref()
            .map(|codes| codes.0.iter().map(|s| s.expose().to_owned()).collect()),
    })
}

/// Reads `{MfaToken, Code}` (`Code` may be a number); a missing field is a 530.
async fn mfa_fields<P: Ports, D>(
    state: &State<P>,
    payload: web::Payload,
) -> Result<(String, String), DialectError<D>> {
    let [token, code] = read_text_fields(
        payload,
        state.max_body_bytes,
        [("MfaToken", false), ("Code", true)],
    )
    .await?;
    let mut errors = ValidationErrors::new();
    let token = errors.check(
        "MfaToken",
        token
            .filter(|t| !t.trim().is_empty())
            .ok_or(tessera_domain::validation::FieldIssue::Required),
    );
    let code = errors.check(
        "Code",
        code.filter(|c| !c.trim().is_empty())
            .ok_or(tessera_domain::validation::FieldIssue::Required),
    );
    match (token, code) {
        (Some(token), Some(code)) => Ok((token, code)),
        _ => Err(errors.into()),
    }
}

/// `POST /Auth/LoginMfa` `{MfaToken, Code}`: finishes a Code 203 login with
/// a TOTP code or a recovery code. Answers as `/Auth/Login` does: Code
/// 200/202 with the tokens; 520 wrong code; 521 the `MfaToken` is unknown,
/// expired, used, or had its 5 codes; 530 a field missing.
#[utoipa::path(post, path = "/Auth/LoginMfa", tag = super::TAG,
    summary = "Finish a Code 203 login with a second factor (`Code` 200/202, 520, 521, 530, 510)",
    description = LEGACY_CONTRACT,
    request_body = dto::LegacyMfaRequest,
    responses(
        (status = 200, description = "See `Code`.", body = dto::LegacyLogin),
        Alike<dto::LegacyLogin, BeforeHandler>,
    ),
)]
async fn login_mfa<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, DialectError<LegacyLogin>> {
    let (token, code) = mfa_fields(&state, payload).await?;
    let out = state
        .auth
        .verify_second_factor(
            &token,
            None,
            &code,
            client_info(&req, &state.trusted_proxies),
            legacy_terms(&state, false),
            crate::http::locale(),
        )
        .await?;
    Ok(logged_in(&out))
}

/// `POST /Admin/LoginMfa` `{MfaToken, Code}`: finishes a Code 203
/// `/Admin/Login` as `/Auth/LoginMfa` finishes a login; the answer is
/// `/Admin/Login`'s Code 200. A `MfaToken` of `/Auth/Login` is refused
/// here (521), and one of `/Admin/Login` at `/Auth/LoginMfa`.
#[utoipa::path(post, path = "/Admin/LoginMfa", tag = super::TAG,
    summary = "Finish a Code 203 administrator login with a second factor (`Code` 200, 520, 521, 530, 510)",
    description = LEGACY_CONTRACT,
    request_body = dto::LegacyMfaRequest,
    responses(
        (status = 200, description = "See `Code`.", body = inline(AnyOf<dto::LegacyAdminLogin, dto::LegacyAnswer>)),
        Alike<dto::LegacyAnswer, BeforeHandler>,
    ),
)]
async fn admin_login_mfa<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, DialectError<Legacy>> {
    let (token, code) = mfa_fields(&state, payload).await?;
    let out = state
        .auth
        .verify_second_factor(
            &token,
            None,
            &code,
            client_info(&req, &state.trusted_proxies),
            legacy_terms(&state, true),
            crate::http::locale(),
        )
        .await?;
    Ok(HttpResponse::Ok().json(admin_logged_in(&out)))
}

/// The terms of a seed 001 login (its long-lived tokens, the address as
/// `sub`), an administrator login when `admin_mode`.
fn legacy_terms<P: Ports>(state: &State<P>, admin_mode: bool) -> LoginTerms {
    LoginTerms {
        access_ttl: state
            .auth
            .settings()
            .token_profile(crate::wiring::LEGACY_TOKENS),
        identity: TokenIdentity::Email,
        admin_mode,
    }
}

/// `/Admin/Login`'s Code 200 with the tokens of `out`.
fn admin_logged_in(out: &tessera_domain::usecase::LoginOutcome) -> dto::LegacyAdminLogin {
    dto::LegacyAdminLogin {
        Code: 200,
        Msg: m::L_ADMIN_MODE_ON.get().to_owned(),
        Token: Some(out.tokens.access.token.expose().to_owned()),
        Email: Some(out.user.email.as_str().to_owned()),
        UserID: Some(out.user.id.0),
        RefreshToken: Some(out.tokens.refresh.expose().to_owned()),
        ExpiresIn: Some(out.tokens.access.expires_in),
        MfaToken: None,
        Factors: None,
        MfaExpiresIn: None,
        RecoveryCodes: out
            .recovery_codes
            .as_ref()
            .map(|codes| codes.0.iter().map(|s| s.expose().to_owned()).collect()),
    }
}

/// `POST /Auth/Sign` `{Name, Email, Password}`: creates the account (address
/// unverified) and mails a sign-up code; Code 200 (`Msg` says whether a code
/// was mailed), 502 when the address is taken.
#[utoipa::path(post, path = "/Auth/Sign", tag = super::TAG,
    summary = "Create the account (address unverified) and mail a sign-up code (`Code` 200, 502, 530, 510)",
    description = LEGACY_CONTRACT,
    request_body = dto::LegacySignRequest,
    responses(
        (status = 200, description = "See `Code`.", body = dto::LegacyAnswer),
        Alike<dto::LegacyAnswer, BeforeHandler>,
    ),
)]
async fn sign<P: Ports>(
    state: State<P>,
    payload: web::Payload,
) -> Result<HttpResponse, LegacyError> {
    let [name, email, password] = fields(&state, payload, ["Name", "Email", "Password"]).await?;
    let form = SignUp {
        name: name.as_deref(),
        email: email.as_deref(),
        password: password.as_deref().map(PasswordInput::PlainOrSm3Digest),
    };
    let done = state.auth.sign_up(&form, locale()).await?;
    Ok(if done.code_mailed {
        answer(200, m::L_CODE_SENT.get())
    } else {
        answer(200, m::L_SIGNED_UP.get())
    })
}

/// `POST /Auth/Verify` `{Name, Email, Password, VerifyCode}`: confirms the
/// address for whoever proved it (creating the account if there is none);
/// 502 when the address's account is verified already.
#[utoipa::path(post, path = "/Auth/Verify", tag = super::TAG,
    summary = "Confirm the address with the code, for whoever proved it (`Code` 200, 502 verified already, 520, 521, 530)",
    description = LEGACY_CONTRACT,
    request_body = dto::LegacyVerifyRequest,
    responses(
        (status = 200, description = "See `Code`.", body = inline(AnyOf<dto::LegacySignedUp, dto::LegacyAnswer>)),
        Alike<dto::LegacyAnswer, BeforeHandler>,
    ),
)]
async fn verify<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, LegacyError> {
    let [name, email, password, code] =
        fields(&state, payload, ["Name", "Email", "Password", "VerifyCode"]).await?;
    let form = SignUp {
        name: name.as_deref(),
        email: email.as_deref(),
        password: password.as_deref().map(PasswordInput::PlainOrSm3Digest),
    };
    let user = state
        .auth
        .confirm_sign_up(
            &form,
            code.as_deref(),
            locale(),
            &client_info(&req, &state.trusted_proxies),
        )
        .await?;
    Ok(HttpResponse::Ok().json(dto::LegacySignedUp {
        Code: 200,
        Msg: m::L_SIGNED_UP.get().to_owned(),
        UserID: user.id.0,
        Name: user.username.as_str().to_owned(),
    }))
}

/// `POST /Auth/ResetPassword` `{Email}`: mails a reset code.
#[utoipa::path(post, path = "/Auth/ResetPassword", tag = super::TAG,
    summary = "Mail a reset code (`Code` 200, 503, 530)",
    description = LEGACY_CONTRACT,
    request_body = dto::LegacyEmailRequest,
    responses(
        (status = 200, description = "See `Code`.", body = dto::LegacyAnswer),
        Alike<dto::LegacyAnswer, BeforeHandler>,
    ),
)]
async fn reset_password<P: Ports>(
    state: State<P>,
    payload: web::Payload,
) -> Result<HttpResponse, LegacyError> {
    let [email] = fields(&state, payload, ["Email"]).await?;
    let form = ResetForm {
        identifier: email.as_deref(),
        channel: Some("email"),
        contact: email.as_deref(),
        client: None,
    };
    state
        .auth
        .request_reset_code(form, locale())
        .await
        .map_err(|e| match e {
            // The use case names seed 003's fields; this route read `Email`.
            AuthError::Validation(v) => AuthError::Validation(renamed(&v, "Email")),
            other => other,
        })?;
    Ok(answer(200, m::L_CODE_SENT.get()))
}

/// `v` with every refused field reported as `field`, the one field a route
/// read (so that `Msg` names what the client sent).
fn renamed(v: &ValidationErrors, field: &str) -> ValidationErrors {
    let mut out = ValidationErrors::new();
    for issue in v.fields().values().flatten() {
        out.add(field, issue.clone());
    }
    out
}

/// `POST /Auth/UpdatePassword` `{Email, Password, VerifyCode}`: sets the new
/// password; every session of the account is revoked.
#[utoipa::path(post, path = "/Auth/UpdatePassword", tag = super::TAG,
    summary = "Set a new password with the code (`Code` 200, 503, 520, 521, 530)",
    description = LEGACY_CONTRACT,
    request_body = dto::LegacyUpdatePasswordRequest,
    responses(
        (status = 200, description = "See `Code`.", body = dto::LegacyAnswer),
        Alike<dto::LegacyAnswer, BeforeHandler>,
    ),
)]
async fn update_password<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, LegacyError> {
    let [email, password, code] =
        fields(&state, payload, ["Email", "Password", "VerifyCode"]).await?;
    state
        .auth
        .reset_password(
            ResetForm {
                identifier: email.as_deref(),
                channel: Some("email"),
                contact: email.as_deref(),
                client: Some(&client_info(&req, &state.trusted_proxies)),
            },
            code.as_deref(),
            password.as_deref().map(PasswordInput::PlainOrSm3Digest),
            locale(),
        )
        .await?;
    Ok(answer(200, m::PASSWORD_CHANGED.get()))
}

/// `GET /CheckJWTToken`: `{Code: 200, Msg, User: <email>}` or `{Code: 401, Msg}`.
#[utoipa::path(get, path = "/CheckJWTToken", tag = super::TAG,
    summary = "Check a token (`Code` 200 or 401)",
    description = LEGACY_CONTRACT,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "See `Code`.", body = inline(AnyOf<dto::LegacyTokenOk, dto::LegacyAnswer>)),
    ),
)]
async fn check_token<P: Ports>(
    state: State<P>,
    req: HttpRequest,
) -> Result<HttpResponse, LegacyError> {
    Ok(match crate::http::authenticate_user(&state, &req).await {
        Ok((_, user)) => HttpResponse::Ok().json(dto::LegacyTokenOk {
            Code: 200,
            Msg: m::L_TOKEN_OK.get().to_owned(),
            User: user.email.as_str().to_owned(),
            UserID: user.id.0,
        }),
        Err(e) if is_server_fault(&e) => return Err(e.into()),
        Err(_) => answer(401, m::L_TOKEN_BAD.get()),
    })
}

/// `{Email, Password}` of a login: the address (not blank) and the
/// password, checked as the SM3 rule reads it; a missing or malformed field is a 530.
async fn credentials<P: Ports, D>(
    state: &State<P>,
    payload: web::Payload,
) -> Result<(String, String), DialectError<D>> {
    let [email, password] = fields(state, payload, ["Email", "Password"]).await?;
    let mut errors = ValidationErrors::new();
    let email = errors.check(
        "Email",
        email
            .filter(|e| !e.trim().is_empty())
            .ok_or(tessera_domain::validation::FieldIssue::Required),
    );
    let attempts = errors.check(
        "Password",
        password
            .as_deref()
            .map(PasswordInput::PlainOrSm3Digest)
            .ok_or(tessera_domain::validation::FieldIssue::Required)
            .and_then(PasswordInput::attempts),
    );
    match (email, attempts, password) {
        (Some(email), Some(_), Some(password)) => Ok((email, password)),
        _ => Err(errors.into()),
    }
}

/// `POST /Admin/Login` `{Email, Password}` → `{Code: 200, Msg, Token, Email}`:
/// dream's "admin mode" switch (issue 13, item 11). Only an account holding
/// one of `ADMIN_LOGIN_ROLES` (default `super_admin`) gets a token, whose
/// claims say `is_admin: true` beside seed 001's address identity. Wrong
/// password, unknown address and an account without such a role all answer
/// one body, `{Code: 500, Msg, Token: null, Email: null}` (dream's
/// `AuthFailed`), after the same work: the login use case with its dummy
/// hash, refusing the role before any session is opened. Missing or
/// malformed fields are Code 530; the per-IP login limit and the login
/// throttle apply as at `/Auth/Login`. Like `/Auth/Login`, the answer also
/// carries `UserID`, `RefreshToken` and `ExpiresIn`.
#[utoipa::path(post, path = "/Admin/Login", tag = super::TAG,
    summary = "Log in as administrator (`ADMIN_LOGIN_ROLES`; `Code` 200, 500, 401, 530, 510)",
    description = LEGACY_CONTRACT,
    request_body = dto::LegacyLoginRequest,
    responses(
        (status = 200, description = "See `Code`.", body = inline(AnyOf<dto::LegacyAdminLogin, dto::LegacyAnswer>)),
        Alike<dto::LegacyAnswer, BeforeHandler>,
    ),
)]
async fn admin_login<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, DialectError<Legacy>> {
    let (email, password) = credentials(&state, payload).await?;
    let login = state
        .auth
        .verify_credentials(
            &email,
            PasswordInput::PlainOrSm3Digest(&password),
            client_info(&req, &state.trusted_proxies),
            legacy_terms(&state, true),
        )
        .await;
    let refused =
        |code: u16, msg: &str, challenge: Option<&SecondFactorChallenge>| dto::LegacyAdminLogin {
            Code: code,
            Msg: msg.to_owned(),
            Token: None,
            Email: None,
            UserID: None,
            RefreshToken: None,
            ExpiresIn: None,
            MfaToken: challenge.map(|c| c.token.expose().to_owned()),
            Factors: challenge.map(|c| crate::http::modern::factors::kind_names(&c.factors)),
            MfaExpiresIn: challenge.map(|c| c.expires_in_secs(chrono::Utc::now())),
            RecoveryCodes: None,
        };
    Ok(match login {
        Ok(LoginStep::SecondFactor(challenge)) if challenge.enrolment => {
            HttpResponse::Ok().json(refused(
                204,
                m::L_ADMIN_MFA_ENROLMENT_REQUIRED.get(),
                Some(&challenge),
            ))
        }
        Ok(LoginStep::SecondFactor(challenge)) => HttpResponse::Ok().json(refused(
            203,
            m::L_ADMIN_MFA_REQUIRED.get(),
            Some(&challenge),
        )),
        Ok(step) => HttpResponse::Ok().json(admin_logged_in(&step.done()?)),
        Err(AuthError::InvalidCredentials) => {
            HttpResponse::Ok().json(refused(500, m::L_ADMIN_AUTH_FAILED.get(), None))
        }
        Err(e) => return Err(e.into()),
    })
}
