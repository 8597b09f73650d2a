//! Routes declared once: each dialect module lists its routes with
//! [`declare_routes!`](crate::declare_routes) next to its handlers — path,
//! method, per-IP rate-limit bucket, required permission — and everything
//! else derives from that list: the mount (with the rate limit applied by
//! [`mount`], so a route cannot miss its limit), the 405 `Allow` table
//! ([`super::allowed_methods`]), the route test and the OpenAPI check.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpMessage as _, HttpRequest, web};
use tessera_domain::ports::Ports;

use super::AppState;
use crate::config::Bucket;

/// The methods routes are declared with (`HEAD` is served wherever `GET`
/// is, RFC 9110 §9.3.2; `OPTIONS` answers every path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET` (and `HEAD`).
    Get,
    /// `POST`.
    Post,
    /// `DELETE`.
    Delete,
}

impl Method {
    /// The method's name as HTTP writes it.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Delete => "DELETE",
        }
    }

    fn actix(self) -> actix_web::http::Method {
        match self {
            Self::Get => actix_web::http::Method::GET,
            Self::Post => actix_web::http::Method::POST,
            Self::Delete => actix_web::http::Method::DELETE,
        }
    }
}

/// How a route answers a refusal that comes before its handler runs (its
/// rate limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// JSON, in the shape of the dialect the path belongs to.
    Json,
    /// An HTML page (the verification link's pages).
    Page,
    /// JSON, but the request's body is a form
    /// (`application/x-www-form-urlencoded`): the OpenID Provider's token
    /// endpoint (RFC 6749 §4.1.3).
    Form,
}

/// One route, as declared next to its handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The path pattern; `{name}` stands for one non-empty segment.
    pub path: &'static str,
    /// The method it answers.
    pub method: Method,
    /// The per-client-IP limit counted before the handler runs
    /// (`RATE_LIMIT_*`), if any.
    pub bucket: Option<Bucket>,
    /// The permission the caller's roles must grant, if any (admin routes).
    pub permission: Option<tessera_domain::model::Permission>,
    /// How a refusal before the handler is answered.
    pub shape: Shape,
}

impl Route {
    /// The declaration of the route `req` was routed to (set by [`mount`]).
    #[must_use]
    pub fn of(req: &HttpRequest) -> Option<&'static Self> {
        req.extensions().get::<&'static Self>().copied()
    }
}

/// Mounts `handler` as `route`: the method guard, the declaration in the
/// request's extensions ([`Route::of`]) and the route's rate limit, counted
/// before the handler (and its body reading) runs.
pub fn mount<P: Ports>(
    cfg: &mut web::ServiceConfig,
    route: &'static Route,
    handler: actix_web::Route,
) {
    let resource = web::resource(route.path)
        .guard(actix_web::guard::Method(route.method.actix()))
        .route(handler);
    if route.bucket.is_none() && route.permission.is_none() {
        // Nothing to admit: no extra layer on the hot paths (`/me`, …).
        cfg.service(resource);
    } else {
        cfg.service(resource.wrap(from_fn(move |req, next| admit::<P>(route, req, next))));
    }
}

/// Records `route` on the request and counts its rate limit; over the
/// limit (or with the counters down) the request is answered here, in the
/// route's shape.
async fn admit<P: Ports>(
    route: &'static Route,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    req.extensions_mut().insert(route);
    if let Some(bucket) = route.bucket
        && let Some(state) = req.app_data::<web::Data<AppState<P>>>().cloned()
        && let Err(e) = super::limit_ip(&state, req.request(), bucket).await
    {
        let refusal = match route.shape {
            // The OpenID Provider's form endpoints answer in RFC 6749's shape.
            Shape::Form => super::oidc::refused_before_handler(&e),
            Shape::Json => {
                super::dialect::log_cause(&e);
                super::dialect::refusal(req.path(), &e)
            }
            // The page's refusal logs a server fault itself.
            Shape::Page if super::pages::is_page_path(req.path()) => {
                super::pages::limit_refusal(req.request(), &e)
            }
            Shape::Page => super::modern::pages::refusal(&state, e),
        };
        return Ok(req.into_response(refusal).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// Declares a dialect's routes once, next to their handlers: generates
/// `pub const ROUTES: &[Route]`, `pub fn routes<P: Ports>(cfg)`, which
/// mounts each one through [`mount`], and `pub struct Documented`, whose
/// `utoipa::OpenApi` lists each handler's `#[utoipa::path]` operation (the
/// collector in [`crate::openapi`] merges them). A handler is written as a
/// path, with `::<P>` when it is generic over the server's `Ports`; each one
/// carries `#[utoipa::path]` (see docs/adr/0008).
///
/// ```ignore
/// declare_routes! {
///     "/api/auth";
///     Post "/register" => register::<P> [limit Register];
///     Get "/verify-email" => pages::verify_email_page::<P> [shape Page];
///     Get "/users" => list::<P> [permission USER_READ];
/// }
/// ```
#[macro_export]
macro_rules! declare_routes {
    (
        $prefix:literal;
        $(
            $method:ident $path:literal => $handler:ident $(:: $segment:ident)* $(::<$ports:ident>)?
            [ $(limit $bucket:ident)? $(permission $perm:ident)? $(shape $shape:ident)? ];
        )*
    ) => {
        /// This module's routes, declared once: mounted by [`routes`], listed
        /// by [`crate::http::all_routes`] for the 405 table, the route test and
        /// the OpenAPI check.
        pub const ROUTES: &[$crate::http::route::Route] = &[
            $(
                $crate::http::route::Route {
                    path: concat!($prefix, $path),
                    method: $crate::http::route::Method::$method,
                    bucket: $crate::declare_routes!(@opt $($crate::config::Bucket::$bucket)?),
                    permission: $crate::declare_routes!(@opt $(tessera_domain::model::Permission::$perm)?),
                    shape: $crate::declare_routes!(@shape $($shape)?),
                },
            )*
        ];

        /// Mounts this module's [`ROUTES`], each with its rate limit.
        pub fn routes<P: tessera_domain::ports::Ports>(cfg: &mut actix_web::web::ServiceConfig) {
            let mut declared = ROUTES.iter();
            $(
                if let Some(route) = declared.next() {
                    $crate::http::route::mount::<P>(
                        cfg,
                        route,
                        actix_web::web::route().to($handler $(:: $segment)* $(::<$ports>)?),
                    );
                }
            )*
        }

        /// The `#[utoipa::path]` operation of each handler of [`ROUTES`].
        #[derive(utoipa::OpenApi)]
        #[openapi(paths($($handler $(:: $segment)*),*))]
        pub struct Documented;
    };
    (@opt) => { None };
    (@opt $e:expr) => { Some($e) };
    (@shape) => { $crate::http::route::Shape::Json };
    (@shape $s:ident) => { $crate::http::route::Shape::$s };
}

#[cfg(test)]
mod tests {
    use super::Method;
    use crate::http::all_routes;

    #[test]
    fn each_route_is_declared_once_and_admin_routes_name_a_permission() {
        let mut seen = std::collections::BTreeSet::new();
        for r in all_routes() {
            assert!(
                seen.insert((r.path, r.method.as_str())),
                "{} {} is declared twice",
                r.method.as_str(),
                r.path
            );
            assert_eq!(
                r.path.starts_with("/api/admin/"),
                r.permission.is_some(),
                "{}: a permission exactly on admin routes",
                r.path
            );
        }
    }

    #[test]
    fn every_login_and_code_route_counts_against_a_limit() {
        for r in all_routes().filter(|r| r.method == Method::Post) {
            let sensitive = [
                "login",
                "Login",
                "register",
                "Sign",
                "Verify",
                "verify",
                "reset",
                "Reset",
                "UpdatePassword",
                "change-password",
                "refresh",
                "resend",
                "mfa",
                "totp",
                "recovery",
                "second-factor",
                "factors",
            ]
            .iter()
            .any(|w| r.path.contains(w));
            if sensitive {
                assert!(r.bucket.is_some(), "{} has no rate limit", r.path);
            }
        }
    }
}
