//! Seed 001's dialect: `/Auth/*`, `/CheckJWTToken` (and `/health`, shared).
//!
//! Every answer is HTTP 200 with `{Code, Msg}`; clients read `Code`:
//! 200 success, 202 login by a super admin, 401 authentication failed,
//! 501 login failed, 502 user exists, 503 user does not exist, 510 storage
//! unavailable, 520 wrong code, 521 code expired, 530 missing or malformed
//! fields; 429 (HTTP 429 too, with `Retry-After`) when asked too often. An
//! unknown `/Auth/*` path is HTTP 404 `{Code: 404, Msg: "接口不存在"}`.
//!
//! `Password` may be the password or its SM3 digest (64 hex digits, as the
//! README describes); see `docs/api.md` for the rule.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};
use tessera_domain::AuthService;
use tessera_domain::error::AuthError;
use tessera_domain::ports::Ports;
use tessera_domain::service::{ResetForm, SignUp};
use tessera_domain::validation::ValidationErrors;

use crate::config::Bucket;

use super::{AppState, BodyError, client_info, locale, read_json, text_field};

type State<P> = web::Data<AppState<P>>;

/// Mounts the `/Auth/*` routes and `/CheckJWTToken`.
pub fn routes<P: Ports>(cfg: &mut web::ServiceConfig) {
    cfg.route("/CheckJWTToken", web::get().to(check_token::<P>))
        .service(
            web::scope("/Auth")
                .route("/Login", web::post().to(login::<P>))
                .route("/Sign", web::post().to(sign::<P>))
                .route("/Verify", web::post().to(verify::<P>))
                .route("/ResetPassword", web::post().to(reset_password::<P>))
                .route("/UpdatePassword", web::post().to(update_password::<P>))
                .default_service(web::to(super::not_found)),
        );
}

/// `{Code, Msg}` with HTTP 200.
fn answer(code: u16, msg: &str) -> HttpResponse {
    HttpResponse::Ok().json(json!({"Code": code, "Msg": msg}))
}

fn field_list(v: &ValidationErrors) -> String {
    v.fields()
        .iter()
        .flat_map(|(field, issues)| {
            issues
                .iter()
                .map(move |issue| super::messages::field_issue(field, issue))
        })
        .collect::<Vec<_>>()
        .join("；")
}

/// The dialect's answer to a refusal.
fn refusal(e: &AuthError) -> HttpResponse {
    match e {
        AuthError::Validation(v) => {
            answer(530, &format!("参数不完整或格式错误（{}）", field_list(v)))
        }
        AuthError::Conflict(_) => answer(502, "用户已存在"),
        AuthError::InvalidCredentials => answer(501, "登录失败，邮箱或密码错误"),
        AuthError::AccountDisabled => answer(401, "认证失败：账户已被禁用"),
        AuthError::EmailNotVerified => answer(401, "认证失败：邮箱尚未验证"),
        AuthError::Token(_) | AuthError::UserNotFound => answer(401, "认证失败"),
        AuthError::AccountNotFound | AuthError::ContactMismatch => answer(503, "用户不存在"),
        AuthError::CodeWrong { .. } => answer(520, "验证码错误"),
        AuthError::CodeExpired | AuthError::CodeExhausted => {
            answer(521, "验证码已过期或已失效，请重新获取")
        }
        AuthError::TooManyRequests {
            retry_after_secs,
            limit,
        } => {
            let mut r = HttpResponse::build(StatusCode::TOO_MANY_REQUESTS).json(json!({
                "Code": 429, "Msg": "请求过于频繁，请稍后再试", "RetryAfter": retry_after_secs,
            }));
            super::rate_limit_headers(&mut r, *retry_after_secs, *limit);
            r
        }
        AuthError::Busy => HttpResponse::Ok()
            .insert_header(("Retry-After", "1"))
            .json(json!({"Code": 510, "Msg": "服务繁忙，请稍后重试"})),
        AuthError::Unavailable(cause) => {
            tracing::error!(%cause, "dependency unavailable");
            answer(510, "数据库连接错误")
        }
        AuthError::Internal(cause) => {
            tracing::error!(%cause, "internal error");
            answer(510, "服务器内部错误")
        }
        AuthError::Forbidden(_) | AuthError::SelfLockout => answer(401, "认证失败"),
        AuthError::RefreshReused
        | AuthError::WrongPassword
        | AuthError::SamePassword
        | AuthError::SessionNotFound => answer(401, "认证失败"),
    }
}

/// A body error as Code 530 (413 keeps its HTTP status: the body was not read).
fn body_refusal(e: BodyError) -> HttpResponse {
    match e {
        BodyError::TooLarge => {
            HttpResponse::PayloadTooLarge().json(json!({"Code": 413, "Msg": "请求体过大"}))
        }
        BodyError::NotJson | BodyError::NotObject => {
            answer(530, "参数不完整：请求体必须是 JSON 对象")
        }
        BodyError::Read => answer(530, "参数不完整：读取请求体失败"),
    }
}

/// Reads the body and the named text fields; a wrongly typed field is a 530.
async fn fields<const N: usize>(
    state: &State<impl Ports>,
    payload: web::Payload,
    names: [&str; N],
) -> Result<[Option<String>; N], HttpResponse> {
    let body: Map<String, Value> = read_json(payload, state.max_body_bytes)
        .await
        .map_err(body_refusal)?;
    let mut errors = ValidationErrors::new();
    let values = names.map(|n| text_field(&body, n, n == "VerifyCode", &mut errors));
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(refusal(&AuthError::Validation(errors)))
    }
}

fn ok_or_refusal(r: Result<HttpResponse, AuthError>) -> HttpResponse {
    r.unwrap_or_else(|e| refusal(&e))
}

/// `POST /Auth/Login` `{Email, Password}` → `{Code, Msg, Token, UserID}`.
async fn login<P: Ports>(state: State<P>, req: HttpRequest, payload: web::Payload) -> HttpResponse {
    if let Err(e) = super::limit_ip(&state, &req, Bucket::Login).await {
        return refusal(&e);
    }
    let [email, password] = match fields(&state, payload, ["Email", "Password"]).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let mut errors = ValidationErrors::new();
    let email = errors.check(
        "Email",
        email
            .filter(|e| !e.trim().is_empty())
            .ok_or(tessera_domain::validation::FieldIssue::Required),
    );
    let attempts = errors.check(
        "Password",
        AuthService::<P>::legacy_attempts(password.as_deref()),
    );
    let (Some(email), Some(attempts)) = (email, attempts) else {
        return refusal(&AuthError::Validation(errors));
    };
    let ttl = state.auth.settings().legacy_access_ttl;
    match state
        .auth
        .login_with(
            &email,
            &attempts,
            client_info(&req, &state.trusted_proxies),
            Some(ttl),
        )
        .await
    {
        Ok(out) => {
            let (code, msg) = if out.user.is_super_admin() {
                (202, "超级管理员登录成功")
            } else {
                (200, "登录成功")
            };
            HttpResponse::Ok().json(json!({
                "Code": code, "Msg": msg,
                "Token": out.tokens.access.token.expose(),
                "UserID": out.user.id.0,
                "RefreshToken": out.tokens.refresh.expose(),
                "ExpiresIn": out.tokens.access.expires_in,
            }))
        }
        Err(AuthError::InvalidCredentials) => HttpResponse::Ok().json(json!({
            "Code": 501, "Msg": "登录失败，邮箱或密码错误", "Token": null, "UserID": null,
        })),
        Err(e) => refusal(&e),
    }
}

/// `POST /Auth/Sign` `{Name, Email, Password}`: mails a sign-up code.
async fn sign<P: Ports>(state: State<P>, req: HttpRequest, payload: web::Payload) -> HttpResponse {
    if let Err(e) = super::limit_ip(&state, &req, Bucket::SendCode).await {
        return refusal(&e);
    }
    let [name, email, password] = match fields(&state, payload, ["Name", "Email", "Password"]).await
    {
        Ok(f) => f,
        Err(r) => return r,
    };
    let form = SignUp {
        name: name.as_deref(),
        email: email.as_deref(),
        password: password.as_deref(),
    };
    ok_or_refusal(
        state
            .auth
            .send_sign_up_code(&form, locale(&req, &state))
            .await
            .map(|()| answer(200, "验证码已发送，请查收邮件")),
    )
}

/// `POST /Auth/Verify` `{Name, Email, Password, VerifyCode}`: creates the account.
async fn verify<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    if let Err(e) = super::limit_ip(&state, &req, Bucket::VerifyCode).await {
        return refusal(&e);
    }
    let [name, email, password, code] =
        match fields(&state, payload, ["Name", "Email", "Password", "VerifyCode"]).await {
            Ok(f) => f,
            Err(r) => return r,
        };
    let form = SignUp {
        name: name.as_deref(),
        email: email.as_deref(),
        password: password.as_deref(),
    };
    ok_or_refusal(
        state
            .auth
            .complete_sign_up(&form, code.as_deref())
            .await
            .map(|user| {
                HttpResponse::Ok().json(json!({
                    "Code": 200, "Msg": "注册成功",
                    "UserID": user.id.0, "Name": user.username.as_str(),
                }))
            }),
    )
}

/// `POST /Auth/ResetPassword` `{Email}`: mails a reset code.
async fn reset_password<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    if let Err(e) = super::limit_ip(&state, &req, Bucket::SendCode).await {
        return refusal(&e);
    }
    let [email] = match fields(&state, payload, ["Email"]).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let form = ResetForm {
        identifier: email.as_deref(),
        channel: Some("email"),
        contact: email.as_deref(),
        client: None,
    };
    ok_or_refusal(
        state
            .auth
            .request_reset_code(form, locale(&req, &state))
            .await
            .map(|_| answer(200, "验证码已发送，请查收邮件")),
    )
}

/// `POST /Auth/UpdatePassword` `{Email, Password, VerifyCode}`: sets the new
/// password; every session of the account is revoked.
async fn update_password<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    if let Err(e) = super::limit_ip(&state, &req, Bucket::VerifyCode).await {
        return refusal(&e);
    }
    let [email, password, code] =
        match fields(&state, payload, ["Email", "Password", "VerifyCode"]).await {
            Ok(f) => f,
            Err(r) => return r,
        };
    ok_or_refusal(
        state
            .auth
            .reset_password_legacy(
                email.as_deref(),
                code.as_deref(),
                password.as_deref(),
                locale(&req, &state),
                &client_info(&req, &state.trusted_proxies),
            )
            .await
            .map(|()| answer(200, "密码修改成功")),
    )
}

/// `GET /CheckJWTToken`: `{Code: 200, Msg, User: <email>}` or `{Code: 401, Msg}`.
async fn check_token<P: Ports>(state: State<P>, req: HttpRequest) -> HttpResponse {
    let checked = async {
        let auth = super::authenticate(&state, &req).await?;
        state.auth.current_user(&auth).await
    }
    .await;
    match checked {
        Ok(user) => HttpResponse::Ok().json(json!({
            "Code": 200, "Msg": "Token有效",
            "User": user.email.as_str(), "UserID": user.id.0,
        })),
        Err(e @ (AuthError::Unavailable(_) | AuthError::Internal(_))) => refusal(&e),
        Err(_) => answer(401, "Token无效或已过期"),
    }
}
