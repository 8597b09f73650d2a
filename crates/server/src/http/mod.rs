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
        .configure(admin::providers::routes::<P>)
        .configure(admin::webhooks::routes::<P>)
        .configure(legacy::routes::<P>)
        .configure(pages::routes::<P>)
        .route("/openapi.json", web::get().to(ops::openapi_json))
        .service(
            utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}")
                .config(utoipa_swagger_ui::Config::from("/openapi.json")),
        );
}

/// `target` (an absolute URL or a path of this server) with `pairs` added
/// to its query, its own query kept; `target` unchanged when unreadable.
pub(crate) fn with_query(target: &str, pairs: &[(&str, &str)]) -> String {
    let relative = target.starts_with('/');
    let base = url::Url::parse("http://relative.invalid").ok();
    let parsed = if relative {
        base.and_then(|b| b.join(target).ok())
    } else {
        url::Url::parse(target).ok()
    };
    let Some(mut u) = parsed else {
        return target.to_owned();
    };
    {
        let mut q = u.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
    }
    if relative {
        match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        }
    } else {
        u.to_string()
    }
}

/// The status of a refused upstream sign-in, link or exchange (issue 19):
/// a provider that failed is a bad gateway, never a 500.
pub(crate) fn federation_status(
    e: &tessera_domain::usecase::FederationError,
) -> actix_web::http::StatusCode {
    use actix_web::http::StatusCode;
    use tessera_domain::usecase::FederationError as F;
    match e {
        F::UnknownProvider | F::IdentityNotFound => StatusCode::NOT_FOUND,
        F::StateInvalid | F::CodeInvalid | F::ChallengeInvalid | F::ProviderInvalid(_) => {
            StatusCode::BAD_REQUEST
        }
        F::Denied(_) | F::SignUpClosed | F::EmailUnverified => StatusCode::FORBIDDEN,
        F::Upstream(_) => StatusCode::BAD_GATEWAY,
        F::EmailMissing => StatusCode::UNPROCESSABLE_ENTITY,
        F::AccountExists | F::IdentityTaken | F::LastSignInMethod | F::ProviderReadOnly => {
            StatusCode::CONFLICT
        }
        F::Auth(a) => modern::refusal_text(a).0,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The machine-readable code of a refused upstream sign-in: the login
/// steps' refusals as `/api/auth` names them (`account_disabled`, …).
pub(crate) fn federation_code(e: &tessera_domain::usecase::FederationError) -> &'static str {
    match e {
        tessera_domain::usecase::FederationError::Auth(a) => modern::refusal_code(a),
        other => other.code(),
    }
}

/// What a person is told of a refused upstream sign-in, link or exchange:
/// never the provider's own words (they go to the log).
pub(crate) fn federation_text(e: &tessera_domain::usecase::FederationError) -> String {
    use tessera_domain::usecase::FederationError as F;
    match e {
        F::UnknownProvider => "No such sign-in provider.".into(),
        F::StateInvalid => {
            "This sign-in expired or was started in another browser. Please start again.".into()
        }
        F::Denied(_) => "The provider did not sign you in.".into(),
        F::Upstream(tessera_domain::ports::UpstreamError::Unavailable(_)) => {
            "The provider is unavailable. Please try again later.".into()
        }
        F::Upstream(_) => "The provider's answer could not be accepted.".into(),
        F::SignUpClosed => "No account uses this identity, and this provider does not create accounts.".into(),
        F::EmailMissing => "The provider did not share a usable e-mail address.".into(),
        F::EmailUnverified => "The provider does not vouch for this e-mail address, so no account is made from it: sign up, then connect the provider from your account page.".into(),
        F::AccountExists => "An account already uses this e-mail address. Sign in to it, then connect the provider from your account page.".into(),
        F::IdentityTaken => "This identity is connected to another account.".into(),
        F::LastSignInMethod => "This is the account's last way to sign in: set a password or connect another first.".into(),
        F::IdentityNotFound => "This identity is not connected to the account.".into(),
        F::CodeInvalid => "The code is invalid or expired.".into(),
        F::ChallengeInvalid => {
            "code_challenge must be an S256 challenge (RFC 7636), code_challenge_method S256."
                .into()
        }
        F::ProviderInvalid(why) => format!("Invalid provider: {why}"),
        F::ProviderReadOnly => "This provider comes from the configuration and cannot be changed here.".into(),
        F::Auth(a) => modern::refusal_text(a).1,
        _ => messages::INTERNAL.get().to_owned(),
    }
}
