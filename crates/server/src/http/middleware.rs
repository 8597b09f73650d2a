//! What every request passes through: the request id and span, `HEAD` as
//! `GET`, the body's size and deadline, CORS (preflight and the headers of
//! real answers), cache headers and the request metrics.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::{BodyError, body_refusal, messages};

/// The route label of preflights in the request metrics (`OPTIONS` on any
/// path, answered by [`around_request`] before routing).
pub const PREFLIGHT_PATTERN: &str = "/{any:.*}";

/// Answers a CORS preflight (`OPTIONS` on any path) for the origins of
/// `CORS_ALLOWED_ORIGINS` (any by default), with the configured methods and
/// the asked headers. Real responses get their `Access-Control-Allow-Origin`
/// in [`around_request`], which calls this for every `OPTIONS` request
/// before routing (a catch-all route would be matched, by a regular
/// expression, ahead of every other route on every request).
#[must_use]
pub fn preflight(req: &HttpRequest, cors: &crate::config::Cors) -> HttpResponse {
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

/// `path` as logs may show it: a verification link's token (a secret in
/// the path of seed 002's link) is replaced by `{token}`.
fn loggable_path(path: &str) -> &str {
    if path.starts_with("/api/v1/auth/verify/") {
        "/api/v1/auth/verify/{token}"
    } else {
        path
    }
}

/// A new request id: a random UUID (version 4, RFC 9562 §5.4), drawn from a
/// thread-local generator seeded by the OS (uuid's `fast-rng`), so it says
/// nothing about how many requests the server has seen.
fn new_request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Whether `headers` declare a JSON body: `Content-Type` `application/json`
/// or any `+json` type (RFC 6839), parameters such as `charset` allowed.
fn declares_json(headers: &header::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<actix_web::mime::Mime>().ok())
        .is_some_and(|m| {
            m.type_() == actix_web::mime::APPLICATION
                && (m.subtype() == actix_web::mime::JSON
                    || m.suffix() == Some(actix_web::mime::JSON))
        })
}

/// Whether `method path` is a route declared to take an HTML form (the
/// verification link's page forms, the hosted pages and the token endpoint,
/// [`super::route::Shape::Page`], [`super::route::Shape::Form`]; a pattern's `{id}` matches a segment); the same
/// path with another method may be a JSON route (`POST /api/auth/verify-email`).
fn takes_form(method: &str, path: &str) -> bool {
    super::all_routes().any(|r| {
        matches!(
            r.shape,
            super::route::Shape::Page | super::route::Shape::Form
        ) && r.method.as_str() == method
            && super::matches_pattern(r.path, path)
    })
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
    // The hosted pages are signed in by cookie: no origin may read them or
    // post to them across sites, whatever CORS allows the JSON routes.
    let page = super::pages::is_page_path(req.path());
    let (cors, varies) = req
        .app_data::<web::Data<crate::config::Cors>>()
        .filter(|_| !page)
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
    // The hosted pages remember the language chosen with their switcher.
    let lang = if super::pages::is_page_path(req.path()) {
        super::pages::page_locale(&req, lang)
    } else {
        lang
    };
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
    // A body that does not say it is JSON is refused before it is read
    // (as the seeds' Flask `get_json` does), except on the routes that take
    // a form (the verification link's page). Besides being the contract,
    // this keeps every JSON route out of the "simple" requests a foreign
    // page can send without a CORS preflight (`text/plain`, forms).
    let not_json =
        has_body && !takes_form(req.method().as_str(), req.path()) && !declares_json(req.headers());
    let preflight_cors = (method == actix_web::http::Method::OPTIONS)
        .then(|| req.app_data::<web::Data<crate::config::Cors>>().cloned())
        .flatten();
    let is_preflight = preflight_cors.is_some();
    let step = if too_large || not_json {
        // Refused before a byte of the body is read.
        // In the request's language: this answer is built before the
        // request's language scope below is entered.
        let cause = if too_large {
            BodyError::TooLarge
        } else {
            BodyError::NotJson
        };
        let mut refusal = messages::in_locale(lang, || body_refusal(req.path(), cause));
        refusal
            .head_mut()
            .set_connection_type(actix_web::http::ConnectionType::Close);
        Step::Refused(req.into_response(refusal).map_into_right_body())
    } else if let Some(cors) = preflight_cors {
        // After the body checks: a preflight with a body too large or not
        // JSON is refused (and its connection closed) like any request.
        let answer = if page {
            HttpResponse::NoContent().finish()
        } else {
            preflight(req.request(), &cors)
        };
        Step::Refused(req.into_response(answer).map_into_right_body())
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
            let route = if is_preflight {
                PREFLIGHT_PATTERN.to_owned()
            } else {
                res.request()
                    .match_pattern()
                    .unwrap_or_else(|| "unmatched".to_owned())
            };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_request_ids_are_random_version_4_uuids() {
        let (a, b) = (new_request_id(), new_request_id());
        for id in [&a, &b] {
            let parsed = uuid::Uuid::parse_str(id).unwrap_or_default();
            assert_eq!(parsed.get_version_num(), 4, "{id}");
            assert!(acceptable_request_id(id), "{id}");
        }
        // Not a counter: the two differ beyond their last digits.
        assert_ne!(a[..24], b[..24], "{a} {b}");
    }

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
