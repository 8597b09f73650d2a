//! HTTP routes, one module per dialect, and what they share.
//!
//! | module | holds |
//! |---|---|
//! | [`state`] | [`AppState`], what every handler can reach |
//! | [`extract`] | client address, bearer token and caller, bounded JSON body |
//! | [`rate_limit`] | per-IP limits and their headers |
//! | [`middleware`] | request ids and spans, `HEAD`, body limits, CORS, cache headers |
//! | [`fallback`] | 404 and 405 in each dialect's shape |
//! | [`ops`] | `/health`, `/ready`, `/metrics`, `/.well-known/jwks.json` |
//! | [`dialect`] | which dialect a path belongs to |
//! | [`modern`], [`v1`], [`legacy`], [`admin`] | each dialect's routes, bodies and error mapping |
//! | [`pages`] | the hosted pages (`/ui`): sign in, sign up, account |

pub mod admin;
pub mod dialect;
pub mod dto;
pub mod extract;
pub mod fallback;
pub mod legacy;
pub(crate) mod messages;
pub mod middleware;
pub mod modern;
pub mod oidc;
pub mod ops;
pub mod ops_dto;
pub mod pages;
pub mod rate_limit;
pub mod route;
pub mod state;
pub mod v1;

use actix_web::web;
use tessera_domain::ports::Ports;

pub use dialect::{DialectKind, body_refusal};
pub use extract::{
    BodyError, authenticate, authenticate_user, client_info, client_ip, locale, presented_token,
    read_json, read_text_fields, text_field, text_fields,
};
pub use fallback::{
    all_routes, allowed_methods, matches_pattern, not_found, nothing_here, outside_every_prefix,
    route_table,
};
pub use middleware::{
    BodyLimits, DefaultLocale, PREFLIGHT_PATTERN, WasHead, add_vary, around_request, preflight,
};
pub use ops::{MetricsAccess, SERVICE_NAME, health, jwks, metrics, ready};
pub use rate_limit::{limit_ip, rate_limit_headers};
pub use state::AppState;

/// Mounts every route: the operations routes, each dialect's declared
/// routes and, last, the Swagger UI (its `/docs/{_:.*}` is a regular
/// expression, tried only by paths no other route took). CORS preflights
/// never reach routing ([`around_request`]).
pub fn routes<P: Ports>(cfg: &mut web::ServiceConfig) {
    cfg.configure(ops::routes::<P>)
        .configure(modern::routes::<P>)
        .configure(oidc::routes::<P>)
        .configure(v1::routes::<P>)
        .configure(admin::routes::<P>)
        .configure(admin::clients::routes::<P>)
        .configure(legacy::routes::<P>)
        .configure(pages::routes::<P>)
        .route("/openapi.json", web::get().to(ops::openapi_json))
        .service(
            utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}")
                .config(utoipa_swagger_ui::Config::from("/openapi.json")),
        );
}
