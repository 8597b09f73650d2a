//! Tessera as an OpenID Provider (issue 18): discovery, the token endpoint
//! and UserInfo. The authorization endpoint is a page
//! (`http/pages/oauth.rs`); the ID tokens' public key is in
//! `/.well-known/jwks.json`. Errors are RFC 6749 §5.2's
//! `{error, error_description}`.

pub mod dto;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine as _;
use tessera_domain::model::OAuthClient;
use tessera_domain::ports::Ports;
use tessera_domain::usecase::{AuthorizationRequest, OAuthError, ProviderTokens};

use self::dto::{Discovery, OAuthErrorBody, PushedRequestResponse, TokenResponse};
use super::AppState;

crate::declare_routes! {
    "";
    Get "/.well-known/openid-configuration" => discovery::<P> [];
    Post "/oauth/token" => token::<P> [limit Refresh shape Form];
    Post "/oauth/revoke" => revoke::<P> [limit Refresh shape Form];
    Post "/oauth/introspect" => introspect::<P> [shape Form];
    Post "/oauth/par" => push_request::<P> [limit Ceremony shape Form];
    Get "/oauth/userinfo" => userinfo::<P> [];
    Post "/oauth/userinfo" => userinfo_post::<P> [];
}

/// The tag of these routes in the OpenAPI document.
pub const TAG: &str = "openid-provider";

type State<P> = web::Data<AppState<P>>;
type Form = std::collections::HashMap<String, String>;

/// Reads a request's `application/x-www-form-urlencoded` body, up to
/// `MAX_BODY_BYTES` (the edge refuses larger ones first); the last value of
/// a repeated name counts.
async fn read_form(req: &HttpRequest, payload: web::Payload, limit: usize) -> Option<Form> {
    let form_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form_type {
        return None;
    }
    let bytes = payload.to_bytes_limited(limit).await.ok()?.ok()?;
    Some(
        url::form_urlencoded::parse(&bytes)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
    )
}

/// The answer to an [`OAuthError`]: 400, 401 (`invalid_client`,
/// `invalid_token`, with `WWW-Authenticate`), 503, or an opaque 500 whose
/// cause is logged once.
fn error_response(e: &OAuthError, basic: bool) -> HttpResponse {
    let status = match e {
        OAuthError::InvalidClient | OAuthError::InvalidToken(_) => StatusCode::UNAUTHORIZED,
        OAuthError::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        OAuthError::ServerError(cause) => {
            tracing::error!(cause = %cause, "openid provider failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
        _ => StatusCode::BAD_REQUEST,
    };
    let mut r = HttpResponse::build(status);
    match e {
        OAuthError::InvalidClient if basic => {
            r.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"tessera\""));
        }
        OAuthError::InvalidToken(_) => {
            r.insert_header((
                header::WWW_AUTHENTICATE,
                "Bearer realm=\"tessera\", error=\"invalid_token\"",
            ));
        }
        _ => {}
    }
    r.insert_header((header::CACHE_CONTROL, "no-store"))
        .json(OAuthErrorBody {
            error: e.code(),
            error_description: match e {
                OAuthError::ServerError(_) => None,
                other => other.description().map(str::to_owned),
            },
        })
}

/// A refusal before the handler (the per-IP limit) in RFC 6749 §5.2's
/// shape: 429 `temporarily_unavailable` with `Retry-After`, or the store's
/// failure.
pub(crate) fn refused_before_handler(e: &tessera_domain::AuthError) -> HttpResponse {
    match e {
        tessera_domain::AuthError::TooManyRequests {
            retry_after_secs,
            limit,
        } => {
            let mut r = HttpResponse::TooManyRequests()
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .json(OAuthErrorBody {
                    error: "temporarily_unavailable",
                    error_description: Some(format!(
                        "too many requests from this address; retry in {retry_after_secs} s"
                    )),
                });
            super::rate_limit_headers(&mut r, *retry_after_secs, *limit);
            r
        }
        _ => error_response(&OAuthError::TemporarilyUnavailable, false),
    }
}

/// `GET /.well-known/openid-configuration`: where every endpoint is and
/// what this provider supports.
#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = TAG,
    summary = "OpenID Provider metadata (discovery)",
    responses((status = 200, description = "The metadata.", body = Discovery)),
)]
pub async fn discovery<P: Ports>(state: State<P>) -> HttpResponse {
    let issuer = &state.auth.provider_settings().issuer;
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(Discovery {
            issuer: issuer.clone(),
            authorization_endpoint: format!("{issuer}/oauth/authorize"),
            token_endpoint: format!("{issuer}/oauth/token"),
            userinfo_endpoint: format!("{issuer}/oauth/userinfo"),
            jwks_uri: format!("{issuer}/.well-known/jwks.json"),
            revocation_endpoint: format!("{issuer}/oauth/revoke"),
            introspection_endpoint: format!("{issuer}/oauth/introspect"),
            end_session_endpoint: format!("{issuer}/oauth/logout"),
            pushed_authorization_request_endpoint: format!("{issuer}/oauth/par"),
            require_pushed_authorization_requests: false,
            revocation_endpoint_auth_methods_supported: vec![
                "client_secret_basic",
                "client_secret_post",
                "private_key_jwt",
                "none",
            ],
            introspection_endpoint_auth_methods_supported: vec![
                "client_secret_basic",
                "client_secret_post",
                "private_key_jwt",
            ],
            scopes_supported: tessera_domain::model::Scope::ALL
                .iter()
                .map(|s| s.as_str())
                .collect(),
            response_types_supported: vec!["code"],
            response_modes_supported: vec!["query"],
            grant_types_supported: vec![
                "authorization_code",
                "refresh_token",
                "client_credentials",
            ],
            subject_types_supported: vec!["public"],
            id_token_signing_alg_values_supported: vec![state.auth.id_token_algorithm()],
            token_endpoint_auth_methods_supported: vec![
                "client_secret_basic",
                "client_secret_post",
                "private_key_jwt",
                "none",
            ],
            token_endpoint_auth_signing_alg_values_supported: vec![
                "RS256", "PS256", "ES256", "EdDSA",
            ],
            code_challenge_methods_supported: vec!["S256"],
            claims_supported: vec![
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "nonce",
                "amr",
                "acr",
                "azp",
                "sid",
                "preferred_username",
                "name",
                "updated_at",
                "email",
                "email_verified",
                "phone_number",
                "roles",
            ],
            acr_values_supported: vec!["aal1", "aal2"],
            prompt_values_supported: vec!["none", "login", "consent"],
            claims_parameter_supported: false,
            request_parameter_supported: false,
            request_uri_parameter_supported: false,
            authorization_response_iss_parameter_supported: true,
        })
}

/// The client credentials of a token request (RFC 6749 §2.3.1): HTTP Basic
/// (each part form-urlencoded) or `client_id`/`client_secret` in the body,
/// not both. `Ok((id, secret, basic))`.
fn client_credentials(
    req: &HttpRequest,
    form: &std::collections::HashMap<String, String>,
) -> Result<(String, Option<String>, bool), OAuthError> {
    let basic = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split_once(' ')
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        })
        .map(|(_, b)| b.trim().to_owned());
    if let Some(encoded) = basic {
        if form.contains_key("client_secret") {
            return Err(OAuthError::InvalidRequest(
                "client credentials both in the header and the body".into(),
            ));
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or(OAuthError::InvalidClient)?;
        let (id, secret) = decoded.split_once(':').ok_or(OAuthError::InvalidClient)?;
        let unescape = |s: &str| -> String {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        return Ok((unescape(id), Some(unescape(secret)), true));
    }
    let id = form
        .get("client_id")
        .filter(|v| !v.is_empty())
        .ok_or(OAuthError::InvalidClient)?;
    Ok((id.clone(), form.get("client_secret").cloned(), false))
}

/// The form of a request to a client-authenticated endpoint, its client
/// and whether it used HTTP Basic; or the refusal.
async fn authenticated<P: Ports>(
    state: &State<P>,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<(Form, OAuthClient, bool), HttpResponse> {
    let Some(form) = read_form(req, payload, state.max_body_bytes).await else {
        return Err(error_response(
            &OAuthError::InvalidRequest(
                "the body must be application/x-www-form-urlencoded".into(),
            ),
            false,
        ));
    };
    if form.contains_key("client_assertion") || form.contains_key("client_assertion_type") {
        return client_by_assertion(state, req, form).await;
    }
    let (id, secret, basic) =
        client_credentials(req, &form).map_err(|e| error_response(&e, false))?;
    let client = state
        .auth
        .authenticate_client(&id, secret.as_deref())
        .await
        .map_err(|e| error_response(&e, basic))?;
    Ok((form, client, basic))
}

/// A token endpoint answer (RFC 6749 §5.1: never cached).
fn no_store_json(body: TokenResponse) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(body)
}

/// The `client_assertion_type` of `private_key_jwt` (RFC 7523 §2.2).
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A request authenticated with `private_key_jwt`: one method only (no
/// Basic header, no secret beside it).
async fn client_by_assertion<P: Ports>(
    state: &State<P>,
    req: &HttpRequest,
    form: Form,
) -> Result<(Form, OAuthClient, bool), HttpResponse> {
    let refuse = |d: &str| error_response(&OAuthError::InvalidRequest(d.into()), false);
    if req.headers().contains_key(header::AUTHORIZATION) || form.contains_key("client_secret") {
        return Err(refuse("one client authentication method per request"));
    }
    if form.get("client_assertion_type").map(String::as_str) != Some(JWT_BEARER) {
        return Err(refuse(
            "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ));
    }
    let Some(assertion) = form.get("client_assertion").filter(|a| !a.is_empty()) else {
        return Err(refuse("client_assertion is missing"));
    };
    let client = state
        .auth
        .authenticate_client_by_assertion(form.get("client_id").map(String::as_str), assertion)
        .await
        .map_err(|e| error_response(&e, false))?;
    Ok((form, client, false))
}

fn token_response(tokens: ProviderTokens) -> HttpResponse {
    no_store_json(TokenResponse {
        access_token: tokens.access.token.expose().to_owned(),
        token_type: "Bearer",
        expires_in: tokens.access.expires_in,
        refresh_token: tokens.refresh.map(|r| r.expose().to_owned()),
        id_token: tokens.id_token,
        scope: tessera_domain::model::Scope::join(&tokens.scopes),
    })
}

/// `POST /oauth/token` (form): `grant_type=authorization_code` (with
/// `code`, `redirect_uri`, `code_verifier`), `refresh_token` (with
/// `refresh_token`) or `client_credentials` (with `scope`); the client
/// authenticates with
/// `client_secret_basic`, `client_secret_post` or, public, `none`.
#[utoipa::path(post, path = "/oauth/token", tag = TAG,
    summary = "Token endpoint (authorization code with PKCE, refresh token, client credentials)",
    request_body(content = dto::TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Tokens.", body = TokenResponse),
        (status = 400, description = "invalid_request, invalid_grant, unauthorized_client, unsupported_grant_type.", body = OAuthErrorBody),
        (status = 401, description = "invalid_client.", body = OAuthErrorBody),
        (status = 429, description = "Too many requests from this address."),
        (status = 503, description = "temporarily_unavailable.", body = OAuthErrorBody),
    ),
)]
pub async fn token<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let (form, client, basic) = match authenticated(&state, &req, payload).await {
        Ok(parts) => parts,
        Err(refused) => return refused,
    };
    let get = |k: &str| form.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let from = super::client_info(&req, &state.trusted_proxies);
    let answer = match get("grant_type") {
        Some("authorization_code") => {
            state
                .auth
                .redeem_authorization_code(
                    &client,
                    get("code"),
                    get("redirect_uri"),
                    get("code_verifier"),
                    from,
                )
                .await
        }
        Some("refresh_token") => {
            state
                .auth
                .refresh_client_session(&client, get("refresh_token"), from)
                .await
        }
        Some("client_credentials") => {
            return match state
                .auth
                .issue_client_credentials_token(&client, get("scope"))
            {
                Ok(access) => no_store_json(TokenResponse {
                    access_token: access.token,
                    token_type: "Bearer",
                    expires_in: access.expires_in,
                    refresh_token: None,
                    id_token: None,
                    scope: tessera_domain::model::Scope::join(&access.scopes),
                }),
                Err(e) => error_response(&e, basic),
            };
        }
        Some(_) => Err(OAuthError::UnsupportedGrantType),
        None => Err(OAuthError::InvalidRequest("grant_type is missing".into())),
    };
    match answer {
        Ok(tokens) => token_response(tokens),
        Err(e) => error_response(&e, basic),
    }
}

/// `GET` or `POST /oauth/userinfo` with `Authorization: Bearer <access
/// token>`: the claims the client's granted scopes release (OpenID Connect
/// Core §5.3).
#[utoipa::path(get, path = "/oauth/userinfo", tag = TAG,
    summary = "UserInfo (also POST)",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Claims: sub, and those of the granted scopes.", body = Object),
        (status = 401, description = "invalid_token.", body = OAuthErrorBody),
        (status = 503, description = "temporarily_unavailable.", body = OAuthErrorBody),
    ),
)]
pub async fn userinfo<P: Ports>(state: State<P>, req: HttpRequest) -> HttpResponse {
    let bearer = match super::presented_token(&req) {
        Ok(t) => t,
        Err(p) => return error_response(&OAuthError::InvalidToken(p.to_string()), false),
    };
    let from = super::client_info(&req, &state.trusted_proxies);
    match state.auth.userinfo(bearer.as_deref(), from).await {
        Ok(claims) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(claims),
        Err(e) => error_response(&e, false),
    }
}

/// `POST /oauth/userinfo`: as `GET` (OpenID Connect Core §5.3.1).
#[utoipa::path(post, path = "/oauth/userinfo", tag = TAG,
    summary = "UserInfo",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Claims: sub, and those of the granted scopes.", body = Object),
        (status = 401, description = "invalid_token.", body = OAuthErrorBody),
        (status = 503, description = "temporarily_unavailable.", body = OAuthErrorBody),
    ),
)]
pub async fn userinfo_post<P: Ports>(state: State<P>, req: HttpRequest) -> HttpResponse {
    userinfo(state, req).await
}

/// `POST /oauth/revoke` (RFC 7009): `token` (an access or refresh token
/// the client was issued), `token_type_hint`; 200 with an empty body
/// whether or not the token was live.
#[utoipa::path(post, path = "/oauth/revoke", tag = TAG,
    summary = "Revoke a token (RFC 7009)",
    request_body(content = dto::TokenReference, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Revoked, or nothing to revoke."),
        (status = 400, description = "invalid_request.", body = OAuthErrorBody),
        (status = 401, description = "invalid_client.", body = OAuthErrorBody),
        (status = 503, description = "temporarily_unavailable.", body = OAuthErrorBody),
    ),
)]
pub async fn revoke<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let (form, client, basic) = match authenticated(&state, &req, payload).await {
        Ok(parts) => parts,
        Err(refused) => return refused,
    };
    let from = super::client_info(&req, &state.trusted_proxies);
    let token = form
        .get("token")
        .map(String::as_str)
        .filter(|t| !t.is_empty());
    match state.auth.revoke_client_token(&client, token, from).await {
        Ok(()) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
        Err(e) => error_response(&e, basic),
    }
}

/// `POST /oauth/introspect` (RFC 7662): a confidential client (a resource
/// server) asks whether `token` is active.
#[utoipa::path(post, path = "/oauth/introspect", tag = TAG,
    summary = "Introspect a token (RFC 7662)",
    request_body(content = dto::TokenReference, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "`{active: false}`, or `active`, `token_type`, `sub`, `username`, `exp`, `iat`, `iss`, `sid`, `client_id`, `scope`.", body = Object),
        (status = 400, description = "invalid_request.", body = OAuthErrorBody),
        (status = 401, description = "invalid_client (also a public client).", body = OAuthErrorBody),
        (status = 503, description = "temporarily_unavailable.", body = OAuthErrorBody),
    ),
)]
pub async fn introspect<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let (form, client, basic) = match authenticated(&state, &req, payload).await {
        Ok(parts) => parts,
        Err(refused) => return refused,
    };
    let token = form
        .get("token")
        .map(String::as_str)
        .filter(|t| !t.is_empty());
    match state.auth.introspect_token(&client, token).await {
        Ok(answer) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(answer),
        Err(e) => error_response(&e, basic),
    }
}

/// The authorization request's parameters in a form or query.
pub(crate) fn authorization_request(params: &Form) -> AuthorizationRequest {
    let get = |k: &str| params.get(k).filter(|v| !v.is_empty()).cloned();
    AuthorizationRequest {
        response_type: get("response_type"),
        client_id: get("client_id"),
        redirect_uri: get("redirect_uri"),
        scope: get("scope"),
        state: get("state"),
        nonce: get("nonce"),
        code_challenge: get("code_challenge"),
        code_challenge_method: get("code_challenge_method"),
        prompt: get("prompt"),
        max_age: get("max_age"),
        login_hint: get("login_hint"),
        acr_values: get("acr_values"),
        request_uri: get("request_uri"),
        response_mode: get("response_mode"),
        request: get("request"),
    }
}

/// `POST /oauth/par` (RFC 9126): the client pushes its authorization
/// request and gets a `request_uri` for `/oauth/authorize`, valid 300 s and
/// once.
#[utoipa::path(post, path = "/oauth/par", tag = TAG,
    summary = "Push an authorization request (RFC 9126)",
    request_body(content = dto::PushedAuthorizationRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 201, description = "Stored.", body = PushedRequestResponse),
        (status = 400, description = "invalid_request, invalid_scope, unsupported_response_type, unauthorized_client.", body = OAuthErrorBody),
        (status = 401, description = "invalid_client.", body = OAuthErrorBody),
        (status = 429, description = "Too many requests from this address."),
        (status = 503, description = "temporarily_unavailable.", body = OAuthErrorBody),
    ),
)]
pub async fn push_request<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let (form, client, basic) = match authenticated(&state, &req, payload).await {
        Ok(parts) => parts,
        Err(refused) => return refused,
    };
    match state
        .auth
        .push_authorization_request(&client, authorization_request(&form))
        .await
    {
        Ok(pushed) => HttpResponse::Created()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(PushedRequestResponse {
                request_uri: pushed.request_uri,
                expires_in: pushed.expires_in,
            }),
        Err(e) => error_response(&e, basic),
    }
}
