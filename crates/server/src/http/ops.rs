//! The operations routes: `/health`, `/ready`, `/metrics` and
//! `/.well-known/jwks.json`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use tessera_domain::ports::Ports;

use super::ops_dto::{Health, Jwks, Ready};
use super::route::{Method, Route, Shape};
use super::{AppState, messages, nothing_here, presented_token};

crate::declare_routes! {
    "";
    Get "/health" => health [];
    Get "/ready" => ready::<P> [];
    Get "/metrics" => metrics [];
    Get "/.well-known/jwks.json" => jwks::<P> [];
    Get "/docs" => docs [];
}

/// The tag of the operations routes in the OpenAPI document.
pub const TAG: &str = "operations";

/// `GET /openapi.json`: this document ([`crate::openapi::document`]),
/// built and serialized once per process and shared by every worker (it
/// was about 2.5 MiB of each worker's memory when each built its own).
#[utoipa::path(get, path = "/openapi.json", tag = TAG,
    summary = "This document",
    responses(
        (status = 200, description = "OpenAPI 3.1.", body = Object),
    ),
)]
pub async fn openapi_json() -> HttpResponse {
    static JSON: std::sync::LazyLock<actix_web::web::Bytes> = std::sync::LazyLock::new(|| {
        // Serializing a document of plain maps and strings cannot fail.
        serde_json::to_vec(&crate::openapi::document())
            .unwrap_or_default()
            .into()
    });
    HttpResponse::Ok()
        .content_type(actix_web::http::header::ContentType::json())
        .body(JSON.clone())
}

/// `GET /docs/`, served by `utoipa_swagger_ui`: documents the route of
/// [`SWAGGER_UI_ROUTES`], never called.
#[utoipa::path(get, path = "/docs/", tag = TAG,
    summary = "Swagger UI (`/docs` redirects here)",
    responses(
        (status = 200, description = "The page.", content_type = "text/html", body = String),
    ),
)]
#[allow(clippy::unused_async, dead_code)]
async fn swagger_ui() {}

/// The operations of [`SWAGGER_UI_ROUTES`], which have no handler here.
#[derive(utoipa::OpenApi)]
#[openapi(paths(openapi_json, swagger_ui))]
pub struct SwaggerUiDocumented;

/// The routes of the Swagger UI and its document, mounted outside the
/// dialects' declarations ([`super::routes`]).
pub const SWAGGER_UI_ROUTES: &[Route] = &[
    Route {
        path: "/openapi.json",
        method: Method::Get,
        bucket: None,
        permission: None,
        shape: Shape::Json,
    },
    Route {
        path: "/docs/",
        method: Method::Get,
        bucket: None,
        permission: None,
        shape: Shape::Json,
    },
];

/// `GET /docs`: a permanent redirect to the Swagger UI at `/docs/`.
#[utoipa::path(get, path = "/docs", tag = TAG,
    summary = "Redirects to `/docs/`",
    responses(
        (status = 308, description = "To `/docs/`."),
    ),
)]
pub async fn docs() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/docs/"))
        .finish()
}

/// `GET /.well-known/jwks.json`: the public keys that verify access tokens
/// (empty with HS256, whose key is secret).
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = TAG,
    summary = "Public keys that verify access tokens",
    responses(
        (status = 200, description = "JWK set.", body = Jwks),
    ),
)]
pub async fn jwks<P: Ports>(state: web::Data<AppState<P>>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=60"))
        .json(json!({"keys": state.auth.public_keys()}))
}

/// `GET /ready`: 200 when every configured dependency (database, Redis,
/// SMTP) answers within 2 s, else 503; each one's state in the body.
#[utoipa::path(get, path = "/ready", tag = TAG,
    summary = "Readiness: every configured dependency answers",
    responses(
        (status = 200, description = "Ready.", body = Ready),
        (status = 503, description = "A dependency is down.", body = Ready),
    ),
)]
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
#[utoipa::path(get, path = "/metrics", tag = TAG,
    summary = "Prometheus metrics (text format 0.0.4); `Authorization: Bearer` with `METRICS_BEARER_TOKEN` when set",
    responses(
        (status = 200, description = "Metrics.", content_type = "text/plain", body = String),
        (status = 401, description = "`METRICS_BEARER_TOKEN` is set and was not given.", content_type = "text/plain", body = String),
        (status = 404, description = "Served on `METRICS_LISTEN` instead.", body = crate::http::modern::dto::Error),
    ),
)]
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

/// The product name `GET /health` gives as `service`.
pub const SERVICE_NAME: &str = "Tessera";

/// `GET /health`: 200 while the process lives, in seed 001's shape
/// `{"Code": 200, "Msg", "status": "healthy", "service": "Tessera",
/// "version": <the crate's version>}` (the peer answers `status`, `service`
/// and `version`: peer-facts "Measured side by side"; issue 13, item 2).
/// Dependencies are `/ready`'s business.
#[utoipa::path(get, path = "/health", tag = TAG,
    summary = "Liveness: 200 while the process lives",
    responses(
        (status = 200, description = "Alive.", body = Health),
    ),
)]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(super::ops_dto::Health {
        Code: 200,
        Msg: messages::OK.get().to_owned(),
        status: "healthy".to_owned(),
        service: SERVICE_NAME.to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}
