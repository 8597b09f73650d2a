//! The operations routes: `/health`, `/ready`, `/metrics` and
//! `/.well-known/jwks.json`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use tessera_domain::ports::Ports;

use super::route::{Method, Route, Shape};
use super::{AppState, messages, nothing_here, presented_token};

crate::declare_routes! {
    "";
    Get "/health" => (health) [];
    Get "/ready" => (ready::<P>) [];
    Get "/metrics" => (metrics) [];
    Get "/.well-known/jwks.json" => (jwks::<P>) [];
    Get "/docs" => (docs) [];
}

/// The routes `utoipa_swagger_ui` serves (mounted in [`super::routes`]).
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
pub async fn docs() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/docs/"))
        .finish()
}

/// `GET /.well-known/jwks.json`: the public keys that verify access tokens
/// (empty with HS256, whose key is secret).
pub async fn jwks<P: Ports>(state: web::Data<AppState<P>>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=60"))
        .json(json!({"keys": state.auth.public_keys()}))
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

/// The product name `GET /health` gives as `service`.
pub const SERVICE_NAME: &str = "Tessera";

/// `GET /health`: 200 while the process lives, in seed 001's shape
/// `{"Code": 200, "Msg", "status": "healthy", "service": "Tessera",
/// "version": <the crate's version>}` (the peer answers `status`, `service`
/// and `version`: peer-facts "Measured side by side"; issue 13, item 2).
/// Dependencies are `/ready`'s business.
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(super::ops_dto::Health {
        Code: 200,
        Msg: messages::OK.get().to_owned(),
        status: "healthy".to_owned(),
        service: SERVICE_NAME.to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}
