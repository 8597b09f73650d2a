//! The hosted pages (issue 16): sign in, sign up, verify e-mail, forgot and
//! reset password, signed out, and the account page, under `/ui`, in zh-CN
//! and en. docs/pages.md describes them; docs/security.md their defences.
//!
//! - **The browser session is a Tessera session.** Signing in runs the login
//!   steps every dialect runs and opens an ordinary session; the browser
//!   holds an opaque [`BrowserCredential`](tessera_domain::usecase::BrowserCredential)
//!   in the cookie [`SESSION_COOKIE`] (`HttpOnly`, `Secure`, `SameSite=Lax`,
//!   `Path=/`), never a JWT.
//! - **Every state-changing form carries a CSRF token**: a signed-in form the
//!   session's own ([`AuthService::csrf_token`](tessera_domain::AuthService::csrf_token)),
//!   an anonymous form (sign in, sign up, …) one bound to the
//!   [`FORM_COOKIE`] nonce. A POST without it, or with another's, is
//!   refused with a 403 page before anything changes.
//! - **Headers on every page**: a strict Content-Security-Policy (scripts
//!   only from this server's files, none inline; no inline style;
//!   `frame-ancestors 'none'`), `Referrer-Policy`,
//!   `X-Content-Type-Options`, `Cache-Control: no-store`.
//! - **`return_to`** sends a browser back after signing in: a path on this
//!   server, or a URL within `RETURN_TO_ALLOWED`; anything else is refused.
//! - **The admin console** (`/ui/admin`) goes through the use cases and
//!   permission checks of `/api/admin`, their role-rank rule included.
//! - **The same limits, delays and audit events** as the JSON routes: the
//!   POST routes count against the same `RATE_LIMIT_*` buckets and call the
//!   same use cases.

mod account;
mod admin;
mod admin_clients;
mod admin_providers;
mod admin_webhooks;
mod auth;
mod oauth;
pub mod texts;
mod upstream;
mod views;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template as _;
use tessera_domain::error::AuthError;
use tessera_domain::mail::Locale;
use tessera_domain::model::Permission;
use tessera_domain::ports::Ports;
use tessera_domain::usecase::BrowserCaller;

use crate::config::Bucket;
use crate::config::PagesSettings;
use crate::http::AppState;
use crate::http::messages as m;
use crate::http::route::{Method, Route, Shape, mount};

pub use texts::Texts;

/// Where the pages live.
pub const PREFIX: &str = "/ui";
/// The browser session's cookie (`__Host-`: `Secure`, `Path=/`, no `Domain`,
/// so no other site or subdomain can set or read it).
pub const SESSION_COOKIE: &str = "__Host-tessera-session";
/// The anonymous forms' nonce cookie.
pub const FORM_COOKIE: &str = "__Host-tessera-form";
/// The language chosen with the switcher (`zh-CN` or `en`).
pub const LANG_COOKIE: &str = "__Host-tessera-lang";
/// On plain `http://` in development only (`TESSERA_ENV=development`), the
/// cookies drop `__Host-` and `Secure`, which a browser would refuse there:
/// these are their names then.
pub const DEV_SESSION_COOKIE: &str = "tessera-session";
/// See [`DEV_SESSION_COOKIE`].
pub const DEV_FORM_COOKIE: &str = "tessera-form";
/// See [`DEV_SESSION_COOKIE`].
pub const DEV_LANG_COOKIE: &str = "tessera-lang";

/// The pages' fixed parts, built once at start-up.
#[derive(Debug, Clone)]
pub struct PagesState {
    /// `PAGES_*`, `RETURN_TO_ALLOWED`.
    pub settings: PagesSettings,
    /// `MAIL_PRODUCT_NAME`.
    pub product: String,
    /// `TESSERA_ENV=development`: cookies without `Secure` on plain `http://`.
    pub development: bool,
    csp: String,
    theme_css: String,
}

impl PagesState {
    /// The pages of a deployment with `settings`, named `product`.
    #[must_use]
    pub fn new(settings: PagesSettings, product: String, development: bool) -> Self {
        // Images from this server, plus the logo's origin; forms may post
        // here and, after signing in, be redirected to an allowed origin
        // (Chromium applies `form-action` to a form's redirects too).
        let mut img = String::from("'self'");
        if let Some(logo) = &settings.logo_url
            && let Ok(url) = url::Url::parse(logo)
        {
            img.push(' ');
            img.push_str(&url.origin().ascii_serialization());
        }
        let mut form_action = String::from("'self'");
        for target in &settings.return_to_allowed {
            form_action.push(' ');
            form_action.push_str(&target.origin);
        }
        let csp = format!(
            "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; \
             img-src {img}; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
        );
        let theme_css = format!(":root {{ --accent: {}; }}\n", settings.accent_color);
        Self {
            settings,
            product,
            development,
            csp,
            theme_css,
        }
    }
}

type State<P> = web::Data<AppState<P>>;
type Pages = web::Data<PagesState>;

const fn route(path: &'static str, method: Method, bucket: Option<Bucket>) -> Route {
    Route {
        path,
        method,
        bucket,
        permission: None,
        shape: Shape::Page,
    }
}

/// The pages' routes (for the 405 table and the route test). They are for
/// browsers and are not in `/openapi.json`; docs/pages.md lists them.
pub const ROUTES: &[Route] = &[
    route("/", Method::Get, None),
    route("/ui", Method::Get, None),
    route("/ui/theme.css", Method::Get, None),
    route("/ui/assets/{file}", Method::Get, None),
    route("/ui/lang/{tag}", Method::Get, None),
    route("/ui/sign-in", Method::Get, None),
    route("/ui/sign-in", Method::Post, Some(Bucket::Login)),
    route(
        "/ui/sign-in/second-factor",
        Method::Post,
        Some(Bucket::Login),
    ),
    route("/ui/sign-up", Method::Get, None),
    route("/ui/sign-up", Method::Post, Some(Bucket::Register)),
    route("/ui/verify-email", Method::Get, None),
    route("/ui/verify-email", Method::Post, Some(Bucket::VerifyCode)),
    route("/ui/forgot-password", Method::Get, None),
    route("/ui/forgot-password", Method::Post, Some(Bucket::SendCode)),
    route("/ui/reset-password", Method::Get, None),
    route("/ui/reset-password", Method::Post, Some(Bucket::VerifyCode)),
    route("/ui/sign-out", Method::Post, None),
    route("/ui/signed-out", Method::Get, None),
    route("/ui/account", Method::Get, None),
    route("/ui/account/export", Method::Get, None),
    route("/ui/account/delete", Method::Post, None),
    route("/ui/account/password", Method::Post, Some(Bucket::Login)),
    route("/ui/account/sessions/{id}/end", Method::Post, None),
    route("/ui/account/sessions/end-others", Method::Post, None),
    route("/ui/account/totp", Method::Post, Some(Bucket::VerifyCode)),
    route(
        "/ui/account/passkeys/options",
        Method::Post,
        Some(Bucket::Ceremony),
    ),
    route(
        "/ui/account/passkeys",
        Method::Post,
        Some(Bucket::VerifyCode),
    ),
    route("/ui/account/passkeys/{id}/rename", Method::Post, None),
    route("/ui/account/passkeys/{id}/remove", Method::Post, None),
    route("/ui/sign-in/passkey", Method::Post, Some(Bucket::Login)),
    route(
        "/ui/account/totp/confirm",
        Method::Post,
        Some(Bucket::VerifyCode),
    ),
    route(
        "/ui/account/totp/remove",
        Method::Post,
        Some(Bucket::VerifyCode),
    ),
    route(
        "/ui/account/recovery-codes",
        Method::Post,
        Some(Bucket::VerifyCode),
    ),
    route("/ui/admin", Method::Get, None),
    route("/ui/admin/users", Method::Get, None),
    route("/ui/admin/users/{id}", Method::Get, None),
    route("/ui/admin/users/{id}/disable", Method::Post, None),
    route("/ui/admin/users/{id}/enable", Method::Post, None),
    route("/ui/admin/users/{id}/roles", Method::Post, None),
    route(
        "/ui/admin/users/{id}/roles/{role}/revoke",
        Method::Post,
        None,
    ),
    route("/ui/admin/users/{id}/end-sessions", Method::Post, None),
    route(
        "/ui/admin/users/{id}/reset-factors",
        Method::Post,
        Some(Bucket::VerifyCode),
    ),
    route("/ui/admin/users/{id}/delete", Method::Post, None),
    route("/ui/admin/audit", Method::Get, None),
    route("/oauth/authorize", Method::Get, Some(Bucket::Ceremony)),
    route("/oauth/authorize", Method::Post, Some(Bucket::Ceremony)),
    route("/oauth/logout", Method::Get, None),
    route("/oauth/logout", Method::Post, None),
    route("/ui/admin/clients", Method::Get, None),
    route("/ui/admin/clients", Method::Post, None),
    route("/ui/admin/clients/{id}/secret", Method::Post, None),
    route("/ui/admin/clients/{id}/disable", Method::Post, None),
    route("/ui/admin/clients/{id}/enable", Method::Post, None),
    route("/ui/admin/clients/{id}/delete", Method::Post, None),
    route(
        "/api/auth/oauth/{provider}/start",
        Method::Get,
        Some(Bucket::Ceremony),
    ),
    route(
        "/api/auth/oauth/{provider}/callback",
        Method::Get,
        Some(Bucket::Login),
    ),
    route("/ui/account/identities/{provider}/link", Method::Get, None),
    route("/ui/account/identities/confirm", Method::Post, None),
    route("/ui/account/identities/unlink", Method::Post, None),
    route("/ui/admin/providers", Method::Get, None),
    route("/ui/admin/providers", Method::Post, None),
    route("/ui/admin/providers/{id}/delete", Method::Post, None),
    route("/ui/admin/webhooks", Method::Get, None),
    route("/ui/admin/webhooks", Method::Post, None),
    route("/ui/admin/webhooks/{id}", Method::Get, None),
    route("/ui/admin/webhooks/{id}/disable", Method::Post, None),
    route("/ui/admin/webhooks/{id}/enable", Method::Post, None),
    route("/ui/admin/webhooks/{id}/delete", Method::Post, None),
    route("/ui/account/email", Method::Post, Some(Bucket::SendCode)),
    route(
        "/ui/account/email/confirm",
        Method::Post,
        Some(Bucket::VerifyCode),
    ),
    route("/ui/account/phone", Method::Post, Some(Bucket::SendCode)),
    route(
        "/ui/account/phone/confirm",
        Method::Post,
        Some(Bucket::VerifyCode),
    ),
    route("/ui/account/revert", Method::Get, None),
    route("/ui/account/revert", Method::Post, Some(Bucket::VerifyCode)),
    route("/ui/sign-in/code", Method::Get, None),
    route("/ui/sign-in/code", Method::Post, Some(Bucket::SendCode)),
    route(
        "/ui/sign-in/code/verify",
        Method::Post,
        Some(Bucket::VerifyCode),
    ),
];

/// Mounts [`ROUTES`], each with its rate limit, in the order of [`ROUTES`].
pub fn routes<P: Ports>(cfg: &mut web::ServiceConfig) {
    let handlers: [actix_web::Route; 77] = [
        web::route().to(home),
        web::route().to(home),
        web::route().to(theme_css),
        web::route().to(asset),
        web::route().to(choose_language),
        web::route().to(auth::sign_in_page::<P>),
        web::route().to(auth::sign_in::<P>),
        web::route().to(auth::second_factor::<P>),
        web::route().to(auth::sign_up_page::<P>),
        web::route().to(auth::sign_up::<P>),
        web::route().to(auth::verify_email_page::<P>),
        web::route().to(auth::verify_email::<P>),
        web::route().to(auth::forgot_password_page::<P>),
        web::route().to(auth::forgot_password::<P>),
        web::route().to(auth::reset_password_page::<P>),
        web::route().to(auth::reset_password::<P>),
        web::route().to(auth::sign_out::<P>),
        web::route().to(auth::signed_out_page::<P>),
        web::route().to(account::account_page::<P>),
        web::route().to(account::export_data::<P>),
        web::route().to(account::delete_account::<P>),
        web::route().to(account::change_password::<P>),
        web::route().to(account::end_session::<P>),
        web::route().to(account::end_other_sessions::<P>),
        web::route().to(account::begin_totp::<P>),
        web::route().to(account::passkey_options::<P>),
        web::route().to(account::add_passkey::<P>),
        web::route().to(account::rename_passkey::<P>),
        web::route().to(account::remove_passkey::<P>),
        web::route().to(auth::passkey_sign_in::<P>),
        web::route().to(account::confirm_totp::<P>),
        web::route().to(account::remove_totp::<P>),
        web::route().to(account::regenerate_recovery_codes::<P>),
        web::route().to(admin::admin_home),
        web::route().to(admin::users_page::<P>),
        web::route().to(admin::user_page::<P>),
        web::route().to(admin::disable::<P>),
        web::route().to(admin::enable::<P>),
        web::route().to(admin::grant::<P>),
        web::route().to(admin::revoke::<P>),
        web::route().to(admin::end_sessions::<P>),
        web::route().to(admin::reset_factors::<P>),
        web::route().to(admin::delete::<P>),
        web::route().to(admin::audit_page::<P>),
        web::route().to(oauth::authorize::<P>),
        web::route().to(oauth::authorize_form::<P>),
        web::route().to(oauth::logout::<P>),
        web::route().to(oauth::logout_form::<P>),
        web::route().to(admin_clients::clients_page::<P>),
        web::route().to(admin_clients::register::<P>),
        web::route().to(admin_clients::rotate_secret::<P>),
        web::route().to(admin_clients::disable::<P>),
        web::route().to(admin_clients::enable::<P>),
        web::route().to(admin_clients::delete::<P>),
        web::route().to(upstream::start::<P>),
        web::route().to(upstream::callback::<P>),
        web::route().to(upstream::link::<P>),
        web::route().to(upstream::confirm::<P>),
        web::route().to(upstream::unlink::<P>),
        web::route().to(admin_providers::providers_page::<P>),
        web::route().to(admin_providers::save::<P>),
        web::route().to(admin_providers::delete::<P>),
        web::route().to(admin_webhooks::webhooks_page::<P>),
        web::route().to(admin_webhooks::create::<P>),
        web::route().to(admin_webhooks::deliveries_page::<P>),
        web::route().to(admin_webhooks::disable::<P>),
        web::route().to(admin_webhooks::enable::<P>),
        web::route().to(admin_webhooks::delete::<P>),
        web::route().to(account::request_email_change::<P>),
        web::route().to(account::confirm_email_change::<P>),
        web::route().to(account::request_phone_change::<P>),
        web::route().to(account::confirm_phone_change::<P>),
        web::route().to(auth::contact_revert_page::<P>),
        web::route().to(auth::contact_revert::<P>),
        web::route().to(auth::sign_in_code_page::<P>),
        web::route().to(auth::send_sign_in_code::<P>),
        web::route().to(auth::verify_sign_in_code::<P>),
    ];
    for (declared, handler) in ROUTES.iter().zip(handlers) {
        mount::<P>(cfg, declared, handler);
    }
}

/// Whether `path` is one of the pages' (their errors are pages too).
#[must_use]
pub fn is_page_path(path: &str) -> bool {
    path == "/"
        || path
            .strip_prefix("/api/auth/oauth/")
            .is_some_and(|rest| rest.ends_with("/start") || rest.ends_with("/callback"))
        || path == "/oauth/authorize"
        || path == "/oauth/logout"
        || path
            .strip_prefix(PREFIX)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The language for a page: the switcher's cookie, if it names one we
/// speak, else `negotiated` (`Accept-Language`, then `DEFAULT_LOCALE`).
#[must_use]
pub fn page_locale(req: &actix_web::dev::ServiceRequest, negotiated: Locale) -> Locale {
    [LANG_COOKIE, DEV_LANG_COOKIE]
        .iter()
        .find_map(|name| req.cookie(name))
        .and_then(|c| Locale::from_tag(c.value()))
        .unwrap_or(negotiated)
}

// ---------------------------------------------------------------------------
// Responses.

/// Sets the headers every page carries.
fn secure_headers(pages: &PagesState, r: &mut actix_web::HttpResponseBuilder) {
    r.insert_header((header::CONTENT_SECURITY_POLICY, pages.csp.as_str()))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::CACHE_CONTROL, "no-store"));
}

/// A rendered page with `status`.
fn html(
    pages: &PagesState,
    status: StatusCode,
    body: Result<String, askama::Error>,
) -> HttpResponse {
    match body {
        Ok(body) => {
            let mut r = HttpResponse::build(status);
            secure_headers(pages, &mut r);
            r.content_type("text/html; charset=utf-8").body(body)
        }
        Err(e) => {
            tracing::error!(cause = %e, "page template failed");
            let mut r = HttpResponse::InternalServerError();
            secure_headers(pages, &mut r);
            r.content_type("text/plain; charset=utf-8")
                .body(m::INTERNAL.get())
        }
    }
}

/// `303 See Other` to `location` (a path here, or an allowed `return_to`).
fn see_other(pages: &PagesState, location: &str) -> HttpResponse {
    let mut r = HttpResponse::SeeOther();
    secure_headers(pages, &mut r);
    r.insert_header((header::LOCATION, location)).finish()
}

/// What a page says about a refusal of a use case: its status and text.
fn problem(e: &AuthError) -> (StatusCode, String) {
    crate::http::modern::refusal_text(e)
}

/// A page with one message (a refusal, a confirmation) and a link.
fn message_page(
    pages: &PagesState,
    chrome: views::Chrome,
    status: StatusCode,
    title: &str,
    paragraphs: Vec<String>,
    link: Option<(String, String)>,
) -> HttpResponse {
    html(
        pages,
        status,
        views::Message {
            chrome,
            title: title.to_owned(),
            notice: None,
            error: None,
            paragraphs,
            link,
        }
        .render(),
    )
}

/// The 403 page of a form whose CSRF token is missing or not this
/// session's (nothing was changed).
fn csrf_refused(pages: &PagesState, chrome: views::Chrome) -> HttpResponse {
    let t = chrome.t;
    message_page(
        pages,
        chrome,
        StatusCode::FORBIDDEN,
        t.forbidden,
        vec![t.forbidden_text.to_owned()],
        None,
    )
}

/// The 400 page of a form body that could not be read: not URL-encoded,
/// or larger than the form reader takes (16 KiB).
fn form_unreadable(pages: &PagesState, chrome: views::Chrome) -> HttpResponse {
    let t = chrome.t;
    message_page(
        pages,
        chrome,
        StatusCode::BAD_REQUEST,
        t.error,
        vec![m::BODY_READ.get().to_owned()],
        None,
    )
}

/// The answer to a refusal the handler does not shape itself (a rate
/// limit, a dependency down): a page with the reason.
pub fn refusal_page(pages: &PagesState, chrome: views::Chrome, e: &AuthError) -> HttpResponse {
    crate::http::dialect::log_cause(e);
    let (status, text) = problem(e);
    let t = chrome.t;
    let mut r = message_page(pages, chrome, status, t.error, vec![text], None);
    rate_headers(&mut r, e);
    r
}

/// `Retry-After` and the limit's headers on the answer to a rate limit.
fn rate_headers(r: &mut HttpResponse, e: &AuthError) {
    if let AuthError::TooManyRequests {
        retry_after_secs,
        limit,
    } = e
    {
        crate::http::rate_limit_headers(r, *retry_after_secs, *limit);
    }
}

/// The answer of a page route's rate limit (before its handler runs).
#[must_use]
pub fn limit_refusal(req: &HttpRequest, e: &AuthError) -> HttpResponse {
    match req.app_data::<Pages>() {
        Some(pages) => refusal_page(pages, chrome(pages, req, None), e),
        None => <PagesDialect as crate::http::dialect::Dialect>::refusal(e),
    }
}

/// The pages' fixed parts without a deployment's settings, for answers
/// built without the request's state.
static BARE_PAGES: std::sync::LazyLock<PagesState> = std::sync::LazyLock::new(|| {
    PagesState::new(PagesSettings::default(), "Tessera".to_owned(), false)
});

/// The pages' 404, 405 and pre-handler refusals, built without the
/// request's state: the product name is generic there.
pub struct PagesDialect;

impl crate::http::dialect::Dialect for PagesDialect {
    fn refusal(e: &AuthError) -> HttpResponse {
        let pages = &*BARE_PAGES;
        refusal_page(pages, views::Chrome::bare(), e)
    }

    fn body_refusal(_e: crate::http::BodyError) -> HttpResponse {
        let pages = &*BARE_PAGES;
        let chrome = views::Chrome::bare();
        let t = chrome.t;
        message_page(
            pages,
            chrome,
            StatusCode::BAD_REQUEST,
            t.error,
            vec![m::BODY_READ.get().to_owned()],
            None,
        )
    }

    fn not_found(_path: &str, _method: &str) -> HttpResponse {
        let pages = &*BARE_PAGES;
        let chrome = views::Chrome::bare();
        let t = chrome.t;
        message_page(
            pages,
            chrome,
            StatusCode::NOT_FOUND,
            t.not_found,
            vec![t.not_found_text.to_owned()],
            Some(("/ui/account".to_owned(), t.account.to_owned())),
        )
    }

    fn method_not_allowed(_path: &str, _method: &str) -> HttpResponse {
        let pages = &*BARE_PAGES;
        let chrome = views::Chrome::bare();
        let t = chrome.t;
        message_page(
            pages,
            chrome,
            StatusCode::METHOD_NOT_ALLOWED,
            t.error,
            vec![m::METHOD_NOT_ALLOWED.get().to_owned()],
            None,
        )
    }
}

// ---------------------------------------------------------------------------
// Cookies.

/// Whether this request's cookies go without `__Host-` and `Secure`: only
/// in development, over plain `http://` to a host other than a loopback
/// name (browsers keep `Secure` cookies of `http://localhost`).
fn plain_cookies(pages: &PagesState, req: &HttpRequest) -> bool {
    if !pages.development {
        return false;
    }
    let info = req.connection_info();
    let host = info.host().rsplit_once(':').map_or(info.host(), |(h, _)| h);
    info.scheme() == "http" && !matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

fn cookie_name(
    pages: &PagesState,
    req: &HttpRequest,
    secure: &'static str,
    plain: &'static str,
) -> &'static str {
    if plain_cookies(pages, req) {
        plain
    } else {
        secure
    }
}

/// A cookie with the pages' attributes: `HttpOnly`, `SameSite=Lax`,
/// `Path=/`, and `Secure` unless [`plain_cookies`].
fn cookie(
    pages: &PagesState,
    req: &HttpRequest,
    name: &'static str,
    value: String,
) -> Cookie<'static> {
    let mut c = Cookie::new(name, value);
    c.set_http_only(true);
    c.set_same_site(SameSite::Lax);
    c.set_path("/");
    c.set_secure(!plain_cookies(pages, req));
    c
}

/// The browser credential the request carries, if any.
fn session_cookie(pages: &PagesState, req: &HttpRequest) -> Option<String> {
    req.cookie(cookie_name(pages, req, SESSION_COOKIE, DEV_SESSION_COOKIE))
        .map(|c| c.value().to_owned())
}

/// The signed-in caller, if the request's cookie names a live session.
///
/// # Errors
/// The refusal of [`AuthService::authenticate_browser`](tessera_domain::AuthService::authenticate_browser).
async fn signed_in<P: Ports>(
    state: &State<P>,
    pages: &PagesState,
    req: &HttpRequest,
) -> Result<BrowserCaller, AuthError> {
    let credential = session_cookie(pages, req);
    state
        .auth
        .authenticate_browser(
            credential.as_deref(),
            crate::http::client_info(req, &state.trusted_proxies),
        )
        .await
}

/// The current page's path and query, as a `return_to` (paths only).
fn here(req: &HttpRequest) -> String {
    match req.uri().path_and_query() {
        Some(pq) => pq.as_str().to_owned(),
        None => req.path().to_owned(),
    }
}

/// `303` to the sign-in page, coming back to `back` afterwards (and
/// clearing a dead session cookie).
fn to_sign_in(pages: &PagesState, req: &HttpRequest, back: &str) -> HttpResponse {
    let target = format!(
        "/ui/sign-in?return_to={}",
        url::form_urlencoded::byte_serialize(back.as_bytes()).collect::<String>()
    );
    let mut r = see_other(pages, &target);
    clear_session_cookie(pages, req, &mut r);
    r
}

/// Adds the removal of this browser's session cookie to `r`, when it sent one.
fn clear_session_cookie(pages: &PagesState, req: &HttpRequest, r: &mut HttpResponse) {
    if session_cookie(pages, req).is_some() {
        let name = cookie_name(pages, req, SESSION_COOKIE, DEV_SESSION_COOKIE);
        let _ = r.add_removal_cookie(&cookie(pages, req, name, String::new()));
    }
}

/// `raw` when it is a path on this server that every browser reads as one:
/// a leading `/`, no `//` or `/\` start, and only printable ASCII other than
/// `\` (browsers drop tabs and line breaks from a URL, so `/\t/host` would
/// become `//host`, another origin). At most 2,048 bytes.
#[must_use]
pub fn local_path(raw: &str) -> Option<&str> {
    (raw.len() <= 2048
        && raw.starts_with('/')
        && !raw.starts_with("//")
        && raw
            .bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && b != b'\\'))
    .then_some(raw)
}

/// Where a browser may be sent back to: a path on this server
/// ([`local_path`]) or a URL within `RETURN_TO_ALLOWED`. `None` when `raw`
/// is neither.
#[must_use]
pub fn allowed_return_to(settings: &PagesSettings, raw: &str) -> Option<String> {
    if raw.starts_with('/') {
        return local_path(raw).map(str::to_owned);
    }
    if raw.len() > 2048 || raw.chars().any(|c| c.is_control() || c == '\\') {
        return None;
    }
    let url = url::Url::parse(raw).ok()?;
    settings
        .return_to_allowed
        .iter()
        .any(|t| t.allows(&url))
        .then(|| url.to_string())
}

/// The navigation of a signed-in caller.
async fn nav<P: Ports>(state: &State<P>, caller: &BrowserCaller) -> views::SignedInNav {
    let admin = state
        .auth
        .permissions_of(&caller.user)
        .await
        .is_ok_and(|p| p.iter().any(|p| p == Permission::USER_READ.as_str()));
    views::SignedInNav {
        name: caller.user.username.to_string(),
        admin,
        csrf: state.auth.csrf_token(caller.session.id).expose().to_owned(),
    }
}

/// The header and language of every page.
fn chrome(
    pages: &PagesState,
    req: &HttpRequest,
    signed_in: Option<views::SignedInNav>,
) -> views::Chrome {
    views::Chrome {
        t: texts::of(m::current()),
        product: pages.product.clone(),
        logo_url: pages.settings.logo_url.clone(),
        signed_in,
        back: switch_back(req),
    }
}

/// Where the language switcher comes back to: this page; after a form was
/// posted, the form's page when the path has one (`GET`), else the account
/// page.
fn switch_back(req: &HttpRequest) -> String {
    let path = req.path();
    let has_page = ROUTES
        .iter()
        .any(|r| r.method == Method::Get && crate::http::matches_pattern(r.path, path));
    if req.method() == actix_web::http::Method::GET {
        here(req)
    } else if has_page {
        path.to_owned()
    } else {
        "/ui/account".to_owned()
    }
}

/// The anonymous forms' nonce: the request's [`FORM_COOKIE`] when it holds
/// one, else a new one to set.
///
/// # Errors
/// [`AuthError::Unavailable`] when the system has no randomness to give
/// (no form is served then).
fn form_nonce(
    pages: &PagesState,
    req: &HttpRequest,
) -> Result<(String, Option<Cookie<'static>>), AuthError> {
    let name = cookie_name(pages, req, FORM_COOKIE, DEV_FORM_COOKIE);
    if let Some(c) = req.cookie(name)
        && c.value().len() == 64
        && c.value().bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Ok((c.value().to_owned(), None));
    }
    let mut bytes = [0u8; 32];
    // The operating system's generator; without it no form can be trusted.
    getrandom::fill(&mut bytes)
        .map_err(|e| AuthError::Unavailable(format!("no randomness for a form nonce: {e}")))?;
    let nonce: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let c = cookie(pages, req, name, nonce.clone());
    Ok((nonce, Some(c)))
}

/// Whether an anonymous form's `csrf` field matches the request's nonce cookie.
fn anonymous_form_ok<P: Ports>(
    state: &State<P>,
    pages: &PagesState,
    req: &HttpRequest,
    form: &Form,
) -> bool {
    let name = cookie_name(pages, req, FORM_COOKIE, DEV_FORM_COOKIE);
    match (req.cookie(name), form.get("csrf")) {
        (Some(nonce), Some(token)) if nonce.value().len() == 64 => {
            state.auth.form_token_matches(nonce.value(), token)
        }
        _ => false,
    }
}

// ---------------------------------------------------------------------------
// Forms.

/// A submitted form's fields (URL-encoded; a field given twice keeps its
/// last value).
#[derive(Debug, Default)]
struct Form(std::collections::HashMap<String, String>);

impl Form {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().to_owned()
    }
}

/// The request's query string as fields (a field given twice keeps its
/// last value; bytes that are not UTF-8 are replaced): never a refusal, so
/// a hostile query string still gets a page.
fn query_of(req: &HttpRequest) -> std::collections::HashMap<String, String> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect()
}

/// Reads a URL-encoded form body (the server's body limits apply first).
type FormBody = Result<web::Form<std::collections::HashMap<String, String>>, actix_web::Error>;

fn read_form(body: FormBody) -> Option<Form> {
    body.ok().map(|f| Form(f.into_inner()))
}

// ---------------------------------------------------------------------------
// Handlers shared by every page.

async fn home(pages: Pages) -> HttpResponse {
    see_other(&pages, "/ui/account")
}

async fn theme_css(pages: Pages) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(pages.theme_css.clone())
}

/// The files under `crates/server/assets/`, embedded in the binary.
#[derive(rust_embed::Embed)]
#[folder = "assets/"]
struct Assets;

async fn asset(pages: Pages, req: HttpRequest, file: web::Path<String>) -> HttpResponse {
    let Some(found) = Assets::get(&file) else {
        return <PagesDialect as crate::http::dialect::Dialect>::not_found(req.path(), "GET");
    };
    let etag = format!("\"{}\"", hex(&found.metadata.sha256_hash()[..16]));
    if req
        .headers()
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .finish();
    }
    let _ = &pages;
    HttpResponse::Ok()
        .content_type(found.metadata.mimetype())
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(found.data.into_owned())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `GET /ui/lang/{tag}?back=…`: remembers the language (a year) and goes
/// back to the page (a path on this server only).
async fn choose_language(pages: Pages, req: HttpRequest, tag: web::Path<String>) -> HttpResponse {
    let query = query_of(&req);
    let back = query
        .get("back")
        .and_then(|b| local_path(b))
        .unwrap_or("/ui/account")
        .to_owned();
    let mut r = see_other(&pages, &back);
    if let Some(locale) = Locale::from_tag(&tag) {
        let name = cookie_name(&pages, &req, LANG_COOKIE, DEV_LANG_COOKIE);
        let mut c = cookie(&pages, &req, name, texts::of(locale).html_lang.to_owned());
        c.set_max_age(actix_web::cookie::time::Duration::days(365));
        let _ = r.add_cookie(&c);
    }
    r
}
