//! Unknown routes (404) and known routes called with another method (405
//! with `Allow`), each in the shape of the dialect its path belongs to.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};

use super::dialect::Dialect;
use super::legacy::{self, Legacy};
use super::modern::{self, Modern};
use super::route::{Method, Route};
use super::v1::{self, V1};
use super::{DialectKind, WasHead, admin, messages, ops};

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

/// Every declared route: the operations routes, then each dialect's, in
/// declaration order. A path listed here called with another method
/// answers 405 with `Allow` instead of 404.
pub fn all_routes() -> impl Iterator<Item = &'static Route> {
    [
        ops::ROUTES,
        ops::SWAGGER_UI_ROUTES,
        modern::ROUTES,
        super::oidc::ROUTES,
        v1::ROUTES,
        admin::ROUTES,
        admin::clients::ROUTES,
        admin::providers::ROUTES,
        admin::webhooks::ROUTES,
        legacy::ROUTES,
        super::pages::ROUTES,
    ]
    .into_iter()
    .flatten()
}

/// The order methods are listed in (`Allow`, the route table).
const METHOD_ORDER: [&str; 4] = ["GET", "HEAD", "POST", "DELETE"];

/// Every route pattern with its methods, in declaration order (`HEAD`
/// wherever `GET` is, RFC 9110 §9.1; `OPTIONS`, which answers any path, is
/// not listed).
#[must_use]
pub fn route_table() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut table: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for route in all_routes() {
        let at = match table.iter().position(|(p, _)| *p == route.path) {
            Some(at) => at,
            None => {
                table.push((route.path, Vec::new()));
                table.len() - 1
            }
        };
        let methods = &mut table[at].1;
        methods.push(route.method.as_str());
        if route.method == Method::Get {
            methods.push("HEAD");
        }
        methods.sort_by_key(|m| METHOD_ORDER.iter().position(|o| o == m));
    }
    table
}

/// The methods of the route that `path` names, if any.
#[must_use]
pub fn allowed_methods(path: &str) -> Option<Vec<&'static str>> {
    // A trailing `/` names the same route, except on `/` itself.
    let trimmed = path.trim_end_matches('/');
    let path = if trimmed.is_empty() { "/" } else { trimmed };
    route_table()
        .into_iter()
        .find_map(|(pattern, methods)| matches_pattern(pattern, path).then_some(methods))
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

/// Any unknown route (404), or a known one called with another method (405
/// with `Allow`), in the shape of the dialect the path belongs to.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    use actix_web::HttpMessage as _;
    let path = req.path();
    let method = if req.extensions().get::<WasHead>().is_some() {
        "HEAD"
    } else {
        req.method().as_str()
    };
    // A page's path with a trailing `/` is another page (none): 404, not
    // the 405 of the page without it.
    let allowed =
        if DialectKind::of(path) == DialectKind::Pages && path.len() > 1 && path.ends_with('/') {
            None
        } else {
            allowed_methods(path)
        };
    let mut r = match DialectKind::of(path) {
        DialectKind::Legacy => unrouted::<Legacy>(path, method, allowed.is_some()),
        DialectKind::V1 => unrouted::<V1>(path, method, allowed.is_some()),
        DialectKind::Modern => unrouted::<Modern>(path, method, allowed.is_some()),
        DialectKind::Pages => {
            unrouted::<super::pages::PagesDialect>(path, method, allowed.is_some())
        }
    };
    if let Some(methods) = allowed
        && let Ok(v) = header::HeaderValue::from_str(&format!("{}, OPTIONS", methods.join(", ")))
    {
        r.headers_mut().insert(header::ALLOW, v);
    }
    r
}

/// `D`'s 405 when the path is a route (`known`), else its 404.
fn unrouted<D: Dialect>(path: &str, method: &str, known: bool) -> HttpResponse {
    if known {
        D::method_not_allowed(path, method)
    } else {
        D::not_found(path, method)
    }
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
    DialectKind::of(path) == DialectKind::Modern && !under("/api/auth") && !under("/api/admin")
}
