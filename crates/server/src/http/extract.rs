//! What handlers read from a request: the client's address and
//! [`ClientInfo`], the presented bearer token and the caller it
//! authenticates, and the bounded JSON body with its text fields.

use actix_web::http::header;
use actix_web::{HttpRequest, web};
use serde_json::{Map, Value};
use tessera_domain::error::TokenProblem;
use tessera_domain::model::ClientInfo;
use tessera_domain::ports::Ports;
use tessera_domain::validation::{FieldIssue, ValidationErrors};

use super::{AppState, DialectKind, messages};

/// The client's address: the peer, or — when the peer is a trusted proxy —
/// the right-most `X-Forwarded-For` entry that is not a trusted proxy itself.
#[must_use]
pub fn client_ip(req: &HttpRequest, trusted: &[ipnet::IpNet]) -> Option<std::net::IpAddr> {
    let peer = req.peer_addr()?.ip();
    let is_trusted = |ip: &std::net::IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<std::net::IpAddr> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map_while(|s| s.trim().parse().ok())
        .collect();
    forwarded
        .iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .or_else(|| forwarded.first())
        .copied()
        .or(Some(peer))
}

/// Why a request body was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// Larger than the configured limit.
    TooLarge,
    /// Not JSON (or not UTF-8).
    NotJson,
    /// JSON, but not an object.
    NotObject,
    /// The connection failed while reading.
    Read,
    /// The body did not arrive within `REQUEST_BODY_TIMEOUT`.
    TimedOut,
}

/// Reads a JSON object body of at most `limit` bytes. An empty body reads as `{}`.
///
/// # Errors
/// [`BodyError`] with the reason.
pub async fn read_json(
    payload: web::Payload,
    limit: usize,
) -> Result<Map<String, Value>, BodyError> {
    let bytes = match payload.to_bytes_limited(limit).await {
        Err(_) => return Err(BodyError::TooLarge),
        Ok(Err(e)) => {
            return Err(match e.as_error::<actix_web::error::PayloadError>() {
                Some(actix_web::error::PayloadError::Io(io))
                    if io.kind() == std::io::ErrorKind::TimedOut =>
                {
                    BodyError::TimedOut
                }
                _ => BodyError::Read,
            });
        }
        Ok(Ok(b)) => b,
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(BodyError::NotObject),
        Err(_) => Err(BodyError::NotJson),
    }
}

/// A text field: absent or `null` is `None`; a number is accepted as its
/// digits where `numbers_ok` (phone numbers); any other type is recorded as
/// [`FieldIssue::NotAString`] in `errors`.
pub fn text_field(
    body: &Map<String, Value>,
    name: &str,
    numbers_ok: bool,
    errors: &mut ValidationErrors,
) -> Option<String> {
    match body.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) if numbers_ok && n.is_u64() => Some(n.to_string()),
        Some(_) => {
            errors.add(name, FieldIssue::NotAString);
            None
        }
    }
}

/// The named text fields of `body`, each read by [`text_field`] (`(name,
/// numbers_ok)`), and the issues of the wrongly typed ones.
pub fn text_fields<const N: usize>(
    body: &Map<String, Value>,
    names: [(&str, bool); N],
) -> ([Option<String>; N], ValidationErrors) {
    let mut errors = ValidationErrors::new();
    let values = names.map(|(name, numbers_ok)| text_field(body, name, numbers_ok, &mut errors));
    (values, errors)
}

/// Reads the JSON body (at most `limit` bytes, [`read_json`]) and its named
/// text fields ([`text_fields`]).
///
/// # Errors
/// The body's [`BodyError`], or the issues of every wrongly typed field, in
/// the shape of the handler's dialect `D`.
pub async fn read_text_fields<D, const N: usize>(
    payload: web::Payload,
    limit: usize,
    names: [(&str, bool); N],
) -> Result<[Option<String>; N], super::dialect::DialectError<D>> {
    let body = read_json(payload, limit).await?;
    let (values, errors) = text_fields(&body, names);
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(errors.into())
    }
}

/// The token the request's `Authorization` header presents, read as the
/// dialect of its path reads it: `Bearer <token>` (scheme in any case)
/// everywhere, and on seed 002's routes (`/api/v1/`) also a bare token
/// without a scheme — a value without a space, as a JWT is — because seed
/// 002's server accepts it (issue 13, item 7; peer-facts "Measured side by
/// side", 002). `Ok(None)` when there is no header (or an empty one, or one
/// that is not visible ASCII); `Ok(Some(""))` for `Bearer` without a token.
///
/// # Errors
/// [`TokenProblem::WrongScheme`] for another scheme (`Basic …`, `Token …`),
/// or a bare token outside seed 002's routes.
pub fn presented_token(req: &HttpRequest) -> Result<Option<String>, TokenProblem> {
    let Some(value) = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
            Ok(Some(token.trim().to_owned()))
        }
        None if value.eq_ignore_ascii_case("bearer") => Ok(Some(String::new())),
        None if DialectKind::of(req.path()).accepts_bare_token() => Ok(Some(value.to_owned())),
        _ => Err(TokenProblem::WrongScheme),
    }
}

/// The language of this request (chosen from `Accept-Language` by
/// [`around_request`]; see [`messages::negotiate`]), for mail it sends.
#[must_use]
pub fn locale() -> tessera_domain::mail::Locale {
    messages::current()
}

/// Accepts the request's access token ([`presented_token`]), remembering
/// where the request came from (for the audit trail).
///
/// # Errors
/// [`TokenProblem::WrongScheme`], or as [`AuthService::authenticate`].
pub async fn authenticate<P: Ports>(
    state: &AppState<P>,
    req: &HttpRequest,
) -> Result<tessera_domain::usecase::Authenticated, tessera_domain::AuthError> {
    let (token, client) = credentials(state, req)?;
    state.auth.authenticate(token.as_deref(), client).await
}

/// Accepts the request's access token ([`presented_token`]) and loads its
/// active user (the denylist and user lookups run concurrently).
///
/// # Errors
/// [`TokenProblem::WrongScheme`], or as [`AuthService::authenticate_user`].
pub async fn authenticate_user<P: Ports>(
    state: &AppState<P>,
    req: &HttpRequest,
) -> Result<
    (
        tessera_domain::usecase::Authenticated,
        tessera_domain::model::User,
    ),
    tessera_domain::AuthError,
> {
    let (token, client) = credentials(state, req)?;
    state.auth.authenticate_user(token.as_deref(), client).await
}

/// The token the request presents ([`presented_token`]) and its client.
fn credentials<P: Ports>(
    state: &AppState<P>,
    req: &HttpRequest,
) -> Result<(Option<String>, ClientInfo), tessera_domain::AuthError> {
    let token = presented_token(req).map_err(tessera_domain::AuthError::Token)?;
    Ok((token, client_info(req, &state.trusted_proxies)))
}

/// Who is calling, for the session record and the login throttle.
#[must_use]
pub fn client_info(req: &HttpRequest, trusted: &[ipnet::IpNet]) -> ClientInfo {
    ClientInfo::new(
        client_ip(req, trusted),
        req.headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok()),
    )
}
