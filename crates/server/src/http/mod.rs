//! HTTP routes, one module per dialect, and what they share.

pub mod admin;
pub mod legacy;
mod messages;
pub mod modern;
mod pages;
pub mod v1;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};
use tessera_domain::AuthService;
use tessera_domain::error::TokenProblem;
use tessera_domain::model::ClientInfo;
use tessera_domain::ports::Ports;
use tessera_domain::validation::{FieldIssue, ValidationErrors};

/// What every handler can reach.
pub struct AppState<P: Ports> {
    /// The use cases.
    pub auth: AuthService<P>,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// Per-client-IP limits.
    pub rate_limits: crate::config::RateLimits,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// What `/ready` checks.
    pub readiness: crate::ready::Readiness,
    /// `V1_VERIFY_ON_GET`: seed 002's link confirms on a GET that asks for
    /// JSON (its contract) instead of showing the page (default false).
    pub v1_verify_on_get: bool,
}

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

/// Counts a request of `bucket` against the client IP's limit.
///
/// # Errors
/// [`AuthError::TooManyRequests`] over the limit; [`AuthError::Unavailable`]
/// when the counters cannot be reached.
pub async fn limit_ip<P: Ports>(
    state: &AppState<P>,
    req: &HttpRequest,
    bucket: crate::config::Bucket,
) -> Result<(), tessera_domain::AuthError> {
    use tessera_domain::ports::RateLimiter as _;
    let Some(limit) = state.rate_limits.get(bucket) else {
        return Ok(());
    };
    let ip =
        client_ip(req, &state.trusted_proxies).map_or_else(|| "-".to_owned(), |ip| ip.to_string());
    let d = state
        .auth
        .ports()
        .limiter
        .hit(
            &format!("ip:{}:{ip}", bucket.as_str()),
            limit.limit,
            limit.window_secs,
        )
        .await?;
    if d.allowed {
        Ok(())
    } else {
        Err(tessera_domain::AuthError::TooManyRequests {
            retry_after_secs: d.reset_after_secs.max(1),
            limit: limit.limit,
        })
    }
}

/// `Retry-After` and the `RateLimit-*` fields (IETF draft) of a refusal.
pub fn rate_limit_headers(r: &mut HttpResponse, retry_after_secs: u64, limit: u32) {
    let h = r.headers_mut();
    for (name, value) in [
        ("retry-after", retry_after_secs.to_string()),
        ("ratelimit-limit", limit.to_string()),
        ("ratelimit-remaining", "0".to_owned()),
        ("ratelimit-reset", retry_after_secs.to_string()),
    ] {
        if let Ok(v) = header::HeaderValue::from_str(&value) {
            h.insert(header::HeaderName::from_static(name), v);
        }
    }
}

/// The pattern of the preflight resource (`OPTIONS` on any path).
const PREFLIGHT_PATTERN: &str = "/{any:.*}";

/// Mounts every route.
pub fn routes<P: Ports>(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(PREFLIGHT_PATTERN)
            .guard(actix_web::guard::Options())
            .to(preflight),
    )
    .route("/health", web::get().to(health))
    .route("/ready", web::get().to(ready::<P>))
    .route("/metrics", web::get().to(metrics))
    .route("/.well-known/jwks.json", web::get().to(jwks::<P>))
    .route(
        "/docs",
        web::get().to(|| async {
            HttpResponse::PermanentRedirect()
                .insert_header((header::LOCATION, "/docs/"))
                .finish()
        }),
    )
    .service(
        utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}")
            .url("/openapi.json", crate::openapi::document()),
    )
    .service(web::scope("/api/auth").configure(modern::routes::<P>))
    .service(web::scope("/api/v1/auth").configure(v1::routes::<P>))
    .service(web::scope("/api/admin").configure(admin::routes::<P>))
    .configure(legacy::routes::<P>);
}

/// Answers a CORS preflight (`OPTIONS` on any path) for the origins of
/// `CORS_ALLOWED_ORIGINS` (any by default), with the configured methods and
/// the asked headers. Real responses get their `Access-Control-Allow-Origin`
/// in [`around_request`].
pub async fn preflight(req: HttpRequest, cors: web::Data<crate::config::Cors>) -> HttpResponse {
    let asked = |name| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let origin = asked(header::ORIGIN);
    let Some(allow) = cors.allow_origin(origin.as_deref()) else {
        // Not an allowed origin: no CORS headers, so the browser refuses.
        return HttpResponse::NoContent().finish();
    };
    let mut r = HttpResponse::NoContent();
    r.insert_header(("Access-Control-Allow-Origin", allow))
        .insert_header(("Access-Control-Allow-Methods", cors.methods.clone()))
        .insert_header((
            "Access-Control-Allow-Headers",
            asked(header::ACCESS_CONTROL_REQUEST_HEADERS)
                .unwrap_or_else(|| "Authorization, Content-Type, Accept-Language".to_owned()),
        ))
        .insert_header(("Access-Control-Max-Age", cors.max_age.to_string()))
        .insert_header(("Vary", "Origin, Access-Control-Request-Headers"));
    if cors.credentials {
        r.insert_header(("Access-Control-Allow-Credentials", "true"));
    }
    r.finish()
}

/// `GET /.well-known/jwks.json`: the public keys that verify access tokens
/// (empty with HS256, whose key is secret).
pub async fn jwks<P: Ports>(state: web::Data<AppState<P>>) -> HttpResponse {
    use tessera_domain::ports::AccessTokenSigner as _;
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=60"))
        .json(json!({"keys": state.auth.ports().signer.public_keys()}))
}

/// `GET /ready`: 200 when every configured dependency (database, Redis,
/// SMTP) answers within 2 s, else 503; each one's state in the body.
pub async fn ready<P: Ports>(state: web::Data<AppState<P>>) -> HttpResponse {
    let (ok, body) = state.readiness.check().await;
    if ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// Who may read `/metrics`, as app data: `METRICS_BEARER_TOKEN` and whether
/// this listener serves it (with `METRICS_LISTEN` only the metrics listener does).
#[derive(Clone, Default)]
pub struct MetricsAccess {
    /// The bearer token a scrape must present, if any.
    pub token: Option<tessera_domain::secret::Secret>,
    /// False on the main port when `METRICS_LISTEN` moves `/metrics` away.
    pub served_here: bool,
}

impl std::fmt::Debug for MetricsAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsAccess")
            .field("token", &self.token)
            .field("served_here", &self.served_here)
            .finish()
    }
}

impl MetricsAccess {
    /// Whether `req` may read the metrics: no token configured, or an
    /// `Authorization: Bearer` equal to it (compared in constant time with
    /// `subtle`, so the answer time does not tell how much of it matched).
    #[must_use]
    pub fn admits(&self, req: &HttpRequest) -> bool {
        use subtle::ConstantTimeEq as _;
        let Some(token) = &self.token else {
            return true;
        };
        let given = presented_token(req).ok().flatten().unwrap_or_default();
        bool::from(given.as_bytes().ct_eq(token.expose().as_bytes()))
    }
}

/// `GET /metrics`: Prometheus text format; 401 without the
/// `METRICS_BEARER_TOKEN` when one is set; 404 on the main port when
/// `METRICS_LISTEN` serves it elsewhere.
pub async fn metrics(
    req: HttpRequest,
    metrics: web::Data<crate::metrics::Metrics>,
    access: Option<web::Data<MetricsAccess>>,
) -> HttpResponse {
    let access = access
        .map(|a| a.get_ref().clone())
        .unwrap_or(MetricsAccess {
            token: None,
            served_here: true,
        });
    if !access.served_here {
        return nothing_here(req).await;
    }
    if !access.admits(&req) {
        return HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\""))
            .content_type("text/plain; charset=utf-8")
            .body("unauthorized\n");
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render())
}

/// A plain 404 (never the 405 of a known route), for `/metrics` on the main
/// port when `METRICS_LISTEN` is set and for any other path on that listener.
pub async fn nothing_here(req: HttpRequest) -> HttpResponse {
    modern::error_body(
        actix_web::http::StatusCode::NOT_FOUND,
        "not_found",
        messages::NOT_FOUND.get(),
        &format!("{} {}", messages::NOT_FOUND.get(), req.path()),
    )
}

/// The product name `GET /health` gives as `service`.
pub const SERVICE_NAME: &str = "Tessera";

/// `GET /health`: 200 while the process lives, in seed 001's shape
/// `{"Code": 200, "Msg", "status": "healthy", "service": "Tessera",
/// "version": <the crate's version>}` (the peer answers `status`, `service`
/// and `version`: peer-facts "Measured side by side"; issue 13, item 2).
/// Dependencies are `/ready`'s business.
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "Code": 200,
        "Msg": messages::OK.get(),
        "status": "healthy",
        "service": SERVICE_NAME,
        "version": env!("CARGO_PKG_VERSION"),
    }))
}

/// `path` as logs may show it: a verification link's token (a secret in
/// the path of seed 002's link) is replaced by `{token}`.
fn loggable_path(path: &str) -> &str {
    if path.starts_with("/api/v1/auth/verify/") {
        "/api/v1/auth/verify/{token}"
    } else {
        path
    }
}

/// A new request id: UUID-shaped, a random per-process half and a counter
/// (unique without asking the OS for randomness on every request).
fn new_request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static PROCESS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let process = *PROCESS.get_or_init(|| uuid::Uuid::new_v4().as_u64_pair().0);
    uuid::Uuid::from_u64_pair(process, NEXT.fetch_add(1, Ordering::Relaxed)).to_string()
}

/// A request id fit to echo: 1 to 128 of `A-Z a-z 0-9 - _ . :`.
fn acceptable_request_id(v: &str) -> bool {
    (1..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// How request bodies are bounded, as app data for [`around_request`].
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    /// `MAX_BODY_BYTES`: a declared `Content-Length` above it is refused at
    /// once (413), before any of the body is read.
    pub max_bytes: usize,
    /// `REQUEST_BODY_TIMEOUT`: the whole body must arrive within this time
    /// of the request head, or the request is answered 408.
    pub timeout: std::time::Duration,
}

/// The request's body, cut off with an error once its deadline passes
/// (and `expired` set, so [`around_request`] answers 408 whatever the reader
/// made of the error).
struct DeadlinePayload {
    inner: actix_web::dev::Payload,
    deadline: std::pin::Pin<Box<tokio::time::Sleep>>,
    expired: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl futures_core::Stream for DeadlinePayload {
    type Item = Result<web::Bytes, actix_web::error::PayloadError>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::future::Future as _;
        use std::sync::atomic::Ordering;
        use std::task::Poll;
        if self.expired.load(Ordering::Relaxed) {
            return Poll::Ready(None);
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            self.expired.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(actix_web::error::PayloadError::Io(
                std::io::Error::new(std::io::ErrorKind::TimedOut, "request body timed out"),
            ))));
        }
        std::pin::Pin::new(&mut self.inner).poll_next(cx)
    }
}

/// A body refusal in the shape of the dialect `path` belongs to.
#[must_use]
pub fn body_refusal(path: &str, e: BodyError) -> HttpResponse {
    match Dialect::of(path) {
        Dialect::Legacy => legacy::body_refusal_for_path(path, e),
        Dialect::V1 => v1::body_refusal(e),
        Dialect::Modern => modern::ApiError::Body(e).render(),
    }
}

/// Whether the CORS headers of an answer depend on the request's `Origin`
/// (a list of origins, or credentials, which echo the origin): then every
/// answer carries `Vary: Origin` (Fetch standard, "CORS protocol and HTTP caches").
fn cors_varies(cors: &crate::config::Cors) -> bool {
    cors.credentials || cors.origins.as_ref().is_some_and(|l| !l.is_empty())
}

/// Adds `value` to the response's `Vary` list unless it is already named
/// there (other `Vary` values are kept).
pub fn add_vary(h: &mut header::HeaderMap, value: &'static str) {
    let existing: Vec<String> = h
        .get_all(header::VARY)
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect();
    let named = existing
        .iter()
        .flat_map(|v| v.split(','))
        .any(|v| v.trim().eq_ignore_ascii_case(value) || v.trim() == "*");
    if named {
        return;
    }
    let joined = existing
        .into_iter()
        .chain(std::iter::once(value.to_owned()))
        .collect::<Vec<_>>()
        .join(", ");
    if let Ok(v) = header::HeaderValue::from_str(&joined) {
        h.insert(header::VARY, v);
    }
}

/// Answers that may be stored by caches: the Swagger UI's static files.
fn cacheable(path: &str) -> bool {
    path.starts_with("/docs/") && path != "/docs/"
}

/// The method a `HEAD` request was received with, kept in the request's
/// extensions: [`around_request`] serves `HEAD` as `GET` (RFC 9110 §9.3.2).
#[derive(Debug, Clone, Copy)]
pub struct WasHead;

/// The middleware every request passes: takes `X-Request-Id` (or makes a
/// UUID), runs the request in a tracing span that carries it (so every log
/// line of the request has it) and echoes it; serves `HEAD` as `GET` without
/// the body (RFC 9110 §9.3.2); refuses a declared `Content-Length` above
/// `MAX_BODY_BYTES` at once (413) and cuts off bodies that take longer than
/// `REQUEST_BODY_TIMEOUT` (408), in the dialect's shape; adds the CORS
/// headers of the request's origin (with `Vary: Origin` whenever they depend
/// on it); marks every answer that sets no `Cache-Control` of its own
/// `no-store` with `Pragma: no-cache` (RFC 6749 §5.1, RFC 9111 §5.2.2.5);
/// and counts the request in the metrics, with bounded labels.
pub fn around_request<S, B>(
    mut req: actix_web::dev::ServiceRequest,
    srv: &S,
) -> impl std::future::Future<
    Output = Result<
        actix_web::dev::ServiceResponse<actix_web::body::EitherBody<B>>,
        actix_web::Error,
    >,
> + use<S, B>
where
    S: actix_web::dev::Service<
            actix_web::dev::ServiceRequest,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    use actix_web::HttpMessage as _;
    use tracing::Instrument as _;
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable_request_id(v))
        .map_or_else(new_request_id, str::to_owned);
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %crate::metrics::method_label(req.method().as_str()),
        path = %loggable_path(req.path())
    );
    let started = std::time::Instant::now();
    let (cors, varies) =
        req.app_data::<web::Data<crate::config::Cors>>()
            .map_or((None, false), |c| {
                let origin = req
                    .headers()
                    .get(header::ORIGIN)
                    .and_then(|v| v.to_str().ok());
                (
                    c.allow_origin(origin).map(|a| (a, c.credentials)),
                    cors_varies(c),
                )
            });
    let metrics = req
        .app_data::<web::Data<crate::metrics::Metrics>>()
        .cloned();
    let method = req.method().clone();
    if method == actix_web::http::Method::HEAD {
        // Routed as GET; the HTTP/1 codec remembers the request was HEAD and
        // sends the headers (Content-Length included) without the body.
        req.head_mut().method = actix_web::http::Method::GET;
        req.extensions_mut().insert(WasHead);
    }
    let lang = messages::negotiate(
        req.path(),
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
        req.app_data::<web::Data<DefaultLocale>>()
            .map_or_else(Default::default, |d| d.0),
    );
    let limits = req
        .app_data::<web::Data<BodyLimits>>()
        .map(|l| *l.get_ref());
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let has_body =
        declared.is_some_and(|n| n > 0) || req.headers().contains_key(header::TRANSFER_ENCODING);
    // Set by the body's deadline; allocated only for requests with a body.
    let mut expired = None;
    let too_large = matches!((limits, declared), (Some(l), Some(n)) if n > l.max_bytes as u64);
    enum Step<R, F> {
        Refused(R),
        Call(F),
    }
    let step = if too_large {
        // Refused before a byte of the body is read.
        let mut refusal = body_refusal(req.path(), BodyError::TooLarge);
        refusal
            .head_mut()
            .set_connection_type(actix_web::http::ConnectionType::Close);
        Step::Refused(req.into_response(refusal).map_into_right_body())
    } else {
        if let Some(l) = limits
            && has_body
        {
            let inner = req.take_payload();
            let timed = DeadlinePayload {
                inner,
                deadline: Box::pin(tokio::time::sleep(l.timeout)),
                expired: std::sync::Arc::clone(expired.insert(std::sync::Arc::new(
                    std::sync::atomic::AtomicBool::new(false),
                ))),
            };
            req.set_payload(actix_web::dev::Payload::Stream {
                payload: Box::pin(timed),
            });
        }
        let _entered = span.enter();
        Step::Call(srv.call(req))
    };
    let fut = async move {
        let mut res = match step {
            Step::Refused(refused) => refused,
            Step::Call(call) => call.await?.map_into_left_body(),
        };
        if expired.is_some_and(|e| e.load(std::sync::atomic::Ordering::Relaxed)) {
            // Whatever the reader made of the cut-off body, the answer is 408.
            let mut refusal = body_refusal(res.request().path(), BodyError::TimedOut);
            refusal
                .head_mut()
                .set_connection_type(actix_web::http::ConnectionType::Close);
            res = res.into_response(refusal.map_into_right_body());
        }
        if let Some(m) = &metrics {
            // The preflight resource matches every path: only OPTIONS is
            // its own; anything else it matched found no route.
            let route = res
                .request()
                .match_pattern()
                .filter(|p| p != PREFLIGHT_PATTERN || method == actix_web::http::Method::OPTIONS)
                .unwrap_or_else(|| "unmatched".to_owned());
            m.observe_request(
                method.as_str(),
                &route,
                res.status().as_u16(),
                started.elapsed().as_secs_f64(),
            );
        }
        tracing::debug!(
            status = res.status().as_u16(),
            latency_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request done"
        );
        let cacheable = cacheable(res.request().path());
        let h = res.headers_mut();
        if let Ok(v) = header::HeaderValue::from_str(&id) {
            h.insert(header::HeaderName::from_static("x-request-id"), v);
        }
        if !h.contains_key(header::CACHE_CONTROL) && !cacheable {
            h.insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
        }
        let no_store = h
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("no-store"));
        if no_store && !h.contains_key(header::PRAGMA) {
            h.insert(header::PRAGMA, header::HeaderValue::from_static("no-cache"));
        }
        if let Some((allow, credentials)) = cors
            && let Ok(v) = header::HeaderValue::from_str(&allow)
        {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
            if credentials {
                h.insert(
                    header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                    header::HeaderValue::from_static("true"),
                );
            }
        }
        if varies {
            add_vary(h, "Origin");
        }
        Ok(res)
    };
    messages::scope(lang, fut.instrument(span))
}

/// `DEFAULT_LOCALE`, as app data for [`around_request`].
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultLocale(pub tessera_domain::mail::Locale);

/// Every route and its methods (`OPTIONS` answers any path; `HEAD` is
/// answered wherever `GET` is, RFC 9110 §9.1). A test checks that each entry
/// is served; a path listed here called with another method answers 405 with
/// `Allow` instead of 404.
pub const ROUTES: &[(&str, &[&str])] = &[
    ("/health", &["GET", "HEAD"]),
    ("/ready", &["GET", "HEAD"]),
    ("/metrics", &["GET", "HEAD"]),
    ("/.well-known/jwks.json", &["GET", "HEAD"]),
    ("/openapi.json", &["GET", "HEAD"]),
    ("/docs", &["GET", "HEAD"]),
    ("/docs/", &["GET", "HEAD"]),
    ("/api/auth/register", &["POST"]),
    ("/api/auth/login", &["POST"]),
    ("/api/auth/profile", &["GET", "HEAD"]),
    ("/api/auth/me", &["GET", "HEAD"]),
    ("/api/auth/refresh", &["POST"]),
    ("/api/auth/logout", &["POST"]),
    ("/api/auth/logout-all", &["POST"]),
    ("/api/auth/sessions", &["GET", "HEAD"]),
    ("/api/auth/sessions/{id}", &["DELETE"]),
    ("/api/auth/change-password", &["POST"]),
    ("/api/auth/verify-email", &["GET", "HEAD", "POST"]),
    ("/api/auth/verify-email/confirm", &["POST"]),
    ("/api/auth/verify-email/reject", &["POST"]),
    ("/api/auth/resend-verification", &["POST"]),
    ("/api/auth/request-reset-code", &["POST"]),
    ("/api/auth/reset-password", &["POST"]),
    ("/api/v1/auth/register", &["POST"]),
    ("/api/v1/auth/verify/{token}", &["GET", "HEAD"]),
    ("/api/v1/auth/login", &["POST"]),
    ("/api/v1/auth/profile", &["GET", "HEAD"]),
    ("/api/admin/users", &["GET", "HEAD"]),
    ("/api/admin/users/{id}", &["GET", "HEAD", "DELETE"]),
    ("/api/admin/users/{id}/disable", &["POST"]),
    ("/api/admin/users/{id}/enable", &["POST"]),
    ("/api/admin/users/{id}/roles", &["POST"]),
    ("/api/admin/users/{id}/roles/{role}", &["DELETE"]),
    ("/api/admin/users/{id}/revoke-sessions", &["POST"]),
    ("/Auth/Login", &["POST"]),
    ("/Auth/Sign", &["POST"]),
    ("/Auth/Verify", &["POST"]),
    ("/Auth/ResetPassword", &["POST"]),
    ("/Auth/UpdatePassword", &["POST"]),
    ("/Admin/Login", &["POST"]),
    ("/CheckJWTToken", &["GET", "HEAD"]),
];

/// The methods of the route that `path` names, if any.
#[must_use]
pub fn allowed_methods(path: &str) -> Option<&'static [&'static str]> {
    let path = path.trim_end_matches('/');
    ROUTES
        .iter()
        .find_map(|(pattern, methods)| matches_pattern(pattern, path).then_some(*methods))
}

/// Whether `path` is an instance of the route `pattern`, where a `{name}`
/// segment stands for any one non-empty segment.
#[must_use]
pub fn matches_pattern(pattern: &str, path: &str) -> bool {
    let (mut want, mut got) = (pattern.split('/'), path.split('/'));
    loop {
        match (want.next(), got.next()) {
            (None, None) => return true,
            (Some(w), Some(s)) if w == s || (w.starts_with('{') && !s.is_empty()) => {}
            _ => return false,
        }
    }
}

/// The dialect a path belongs to, which decides its error shape and its
/// default language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Seed 001: `/Auth/*`, `/Admin/*`, `/CheckJWTToken`; `{Code, Msg}`.
    Legacy,
    /// Seed 002: `/api/v1/*`; `{error, message}` / `{code, message}`.
    V1,
    /// Everything else: `{error, message, msg, code}`.
    Modern,
}

impl Dialect {
    /// Whether an `Authorization` header may hold a bare token without the
    /// `Bearer ` scheme: only seed 002's, whose server accepts it (issue 13,
    /// item 7); the others refuse it as another scheme.
    #[must_use]
    pub fn accepts_bare_token(self) -> bool {
        self == Self::V1
    }

    /// The dialect of `path`.
    #[must_use]
    pub fn of(path: &str) -> Self {
        let under = |prefix: &str| {
            path.strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        };
        if under("/Auth") || under("/Admin") || path == "/CheckJWTToken" {
            Self::Legacy
        } else if path.starts_with("/api/v1/") {
            Self::V1
        } else {
            Self::Modern
        }
    }
}

/// Any unknown route (404), or a known one called with another method (405
/// with `Allow`), in the shape of the dialect the path belongs to.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    use actix_web::HttpMessage as _;
    use actix_web::http::StatusCode;
    let path = req.path();
    let method = if req.extensions().get::<WasHead>().is_some() {
        "HEAD"
    } else {
        req.method().as_str()
    };
    let dialect = Dialect::of(path);
    if let Some(methods) = allowed_methods(path) {
        let allow = format!("{}, OPTIONS", methods.join(", "));
        let text = format!("{method} {path}");
        let mut r = if dialect == Dialect::Legacy {
            HttpResponse::MethodNotAllowed()
                .json(json!({"Code": 405, "Msg": messages::METHOD_NOT_ALLOWED.get()}))
        } else if dialect == Dialect::V1 {
            HttpResponse::MethodNotAllowed()
                .json(json!({"error": messages::METHOD_NOT_ALLOWED.get(), "message": messages::METHOD_NOT_ALLOWED.get()}))
        } else {
            unrouted_body(
                path,
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                messages::METHOD_NOT_ALLOWED.get(),
                &format!("{} {text}", messages::METHOD_NOT_ALLOWED.get()),
            )
        };
        if let Ok(v) = header::HeaderValue::from_str(&allow) {
            r.headers_mut().insert(header::ALLOW, v);
        }
        return r;
    }
    if dialect == Dialect::Legacy {
        return HttpResponse::NotFound()
            .json(json!({"Code": 404, "Msg": messages::NOT_FOUND.get()}));
    }
    if dialect == Dialect::V1 {
        return HttpResponse::NotFound().json(
            json!({"error": messages::NOT_FOUND.get(), "message": messages::NOT_FOUND.get()}),
        );
    }
    unrouted_body(
        path,
        StatusCode::NOT_FOUND,
        "not_found",
        messages::NOT_FOUND.get(),
        &format!("{} {method} {}", messages::NOT_FOUND.get(), req.path()),
    )
}

/// Whether `path` lies outside every dialect's prefix (`/Auth`,
/// `/CheckJWTToken`, `/api/auth`, `/api/v1`, `/api/admin`): the operations
/// routes (`/health`, …) and unknown paths such as `/definitely-not-here`.
#[must_use]
pub fn outside_every_prefix(path: &str) -> bool {
    let under = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    Dialect::of(path) == Dialect::Modern && !under("/api/auth") && !under("/api/admin")
}

/// A 404 or 405 of the modern dialect (`{error, message, msg, code}`); at a
/// path outside every prefix also seed 001's `Code` (the HTTP status) and
/// `Msg` (`error`'s text), since a seed 001 client reads those on any path
/// (peer-facts "Measured side by side"; issue 13, item 3). Within
/// `/api/auth` and `/api/admin` the answer keeps its own shape: a `Code`
/// beside `code` would only confuse those clients.
fn unrouted_body(
    path: &str,
    status: actix_web::http::StatusCode,
    code: &str,
    error: &str,
    message: &str,
) -> HttpResponse {
    let mut body = json!({"error": error, "message": message, "msg": message, "code": code});
    if outside_every_prefix(path) {
        body["Code"] = json!(status.as_u16());
        body["Msg"] = json!(error);
    }
    HttpResponse::build(status).json(body)
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
        None if Dialect::of(req.path()).accepts_bare_token() => Ok(Some(value.to_owned())),
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
/// [`TokenProblem::WrongScheme`], or as [`AuthService::authenticate_from`].
pub async fn authenticate<P: Ports>(
    state: &AppState<P>,
    req: &HttpRequest,
) -> Result<tessera_domain::usecase::Authenticated, tessera_domain::AuthError> {
    state
        .auth
        .authenticate_from(
            presented_token(req)
                .map_err(tessera_domain::AuthError::Token)?
                .as_deref(),
            client_info(req, &state.trusted_proxies),
        )
        .await
}

/// Accepts the request's access token ([`presented_token`]) and loads its
/// active user (the denylist and user lookups run concurrently).
///
/// # Errors
/// [`TokenProblem::WrongScheme`], or as [`AuthService::authenticate_user_from`].
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
    state
        .auth
        .authenticate_user_from(
            presented_token(req)
                .map_err(tessera_domain::AuthError::Token)?
                .as_deref(),
            client_info(req, &state.trusted_proxies),
        )
        .await
}

/// Who is calling, for the session record and the login throttle.
#[must_use]
pub fn client_info(req: &HttpRequest, trusted: &[ipnet::IpNet]) -> ClientInfo {
    ClientInfo {
        ip: client_ip(req, trusted).map(|ip| ip.to_string()),
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(255).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vary_is_added_to_not_replacing_other_values() {
        let mut h = header::HeaderMap::new();
        add_vary(&mut h, "Origin");
        assert_eq!(h.get(header::VARY).unwrap(), "Origin");
        let mut h = header::HeaderMap::new();
        h.insert(
            header::VARY,
            header::HeaderValue::from_static("Accept-Encoding"),
        );
        add_vary(&mut h, "Origin");
        assert_eq!(h.get(header::VARY).unwrap(), "Accept-Encoding, Origin");
        add_vary(&mut h, "Origin");
        assert_eq!(h.get(header::VARY).unwrap(), "Accept-Encoding, Origin");
        let mut h = header::HeaderMap::new();
        h.insert(header::VARY, header::HeaderValue::from_static("*"));
        add_vary(&mut h, "Origin");
        assert_eq!(h.get(header::VARY).unwrap(), "*");
    }

    #[test]
    fn cors_varies_only_when_the_origin_matters() {
        let cors = |origins: Option<Vec<String>>, credentials| crate::config::Cors {
            origins,
            credentials,
            methods: String::new(),
            max_age: 0,
        };
        assert!(!cors_varies(&cors(None, false)));
        assert!(!cors_varies(&cors(Some(Vec::new()), false)));
        assert!(cors_varies(&cors(
            Some(vec!["https://a.example".into()]),
            false
        )));
        assert!(cors_varies(&cors(
            Some(vec!["https://a.example".into()]),
            true
        )));
    }
}
