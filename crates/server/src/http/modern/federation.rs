//! `/api/auth/oauth/*` and `/api/auth/identities*` (issue 19): the upstream
//! providers a front end may offer, the exchange of an API client's
//! one-time code for its tokens, and the caller's linked identities. The
//! browser's part (`…/start`, `…/callback`) is in the pages' module.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use tessera_domain::model::LinkedIdentity;
use tessera_domain::ports::Ports;
use tessera_domain::usecase::{FederationError, LinkProof, LoginStep, LoginTerms};
use tessera_domain::validation::ValidationErrors;
use utoipa::ToSchema;

use super::dto;
use super::errors::{ModernError, simple};
use super::factors;
use super::passkeys::rfc3339;
use crate::http::messages as m;
use crate::http::{AppState, client_info, read_json, text_field};
use crate::openapi::TOKEN_REFUSED;

type State<P> = web::Data<AppState<P>>;

/// An upstream provider people may sign in with.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProviderView {
    /// Its id, in its routes.
    pub id: String,
    /// The name to show ("GitHub").
    pub name: String,
    /// Where a browser starts signing in (add `return_to`, and for an API
    /// client `code_challenge` and `code_challenge_method=S256`).
    pub start_url: String,
}

/// `GET /api/auth/oauth/providers`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProviderList {
    /// By id.
    pub providers: Vec<ProviderView>,
}

/// An upstream identity linked to the caller's account.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IdentityView {
    /// The provider's id.
    pub provider: String,
    /// The provider's subject (its id for the person).
    pub subject: String,
    /// The address the provider gave when it was linked.
    pub email: Option<String>,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub linked_at: String,
    /// `YYYY-MM-DDTHH:MM:SSZ`; `null` before its first sign-in.
    pub last_used_at: Option<String>,
}

impl From<&LinkedIdentity> for IdentityView {
    fn from(l: &LinkedIdentity) -> Self {
        Self {
            provider: l.provider.to_string(),
            subject: l.subject.clone(),
            email: l.email.clone(),
            linked_at: rfc3339(l.linked_at),
            last_used_at: l.last_used_at.map(rfc3339),
        }
    }
}

/// `GET /api/auth/identities`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IdentityList {
    /// By provider, then link time.
    pub identities: Vec<IdentityView>,
}

/// `POST /api/auth/identities/link`'s answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Linked {
    /// `Linked.`
    pub message: String,
    /// The identity now linked.
    pub identity: IdentityView,
}

/// `POST /api/auth/oauth/exchange`.
#[derive(ToSchema)]
#[allow(dead_code)] // the schema of a body read field by field
pub struct ExchangeRequest {
    /// The one-time `code` the callback sent to `return_to`.
    pub code: String,
    /// The PKCE `code_verifier` whose `S256` challenge the sign-in started with.
    pub code_verifier: String,
}

/// `POST /api/auth/identities/link`.
#[derive(ToSchema)]
#[allow(dead_code)] // the schema of a body read field by field
pub struct LinkRequest {
    /// The `link_token` the callback sent to `return_to` with
    /// `error=link_required`.
    pub link_token: String,
    /// The PKCE `code_verifier` of the sign-in that got the token.
    pub code_verifier: String,
}

/// A refusal of this module's routes in the dialect's shape.
///
/// # Errors
/// The login steps' refusals, answered as every route answers them.
pub(crate) fn refused(e: FederationError) -> Result<HttpResponse, ModernError> {
    match e {
        FederationError::Auth(a) => Err(a.into()),
        other => {
            crate::http::dialect::log_federation(&other);
            Ok(simple(
                crate::http::federation_status(&other),
                other.code(),
                &crate::http::federation_text(&other),
            ))
        }
    }
}

#[utoipa::path(get, path = "/api/auth/oauth/providers", tag = super::TAG,
    summary = "The upstream providers people may sign in with",
    responses((status = 200, description = "Enabled providers, by id.", body = ProviderList)),
)]
pub async fn providers<P: Ports>(state: State<P>) -> Result<HttpResponse, ModernError> {
    let list = state.auth.upstream_providers().await?;
    Ok(HttpResponse::Ok().json(ProviderList {
        providers: list
            .iter()
            .map(|p| ProviderView {
                id: p.id.to_string(),
                name: p.display_name.clone(),
                start_url: format!("/api/auth/oauth/{}/start", p.id),
            })
            .collect(),
    }))
}

#[utoipa::path(post, path = "/api/auth/oauth/exchange", tag = super::TAG,
    summary = "Exchange an upstream sign-in's one-time code (RFC 7636 PKCE)",
    description = "An API client (SPA, mobile) started the sign-in at `/api/auth/oauth/{provider}/start` \
        with `return_to` and a PKCE `code_challenge`; the callback sent the browser to `return_to` with \
        `code`. The code lives 60 s and works once. The answer is a login's: the token pair, or \
        `mfa_required` with an `mfa_token` for `/api/auth/mfa/verify`.",
    request_body = ExchangeRequest,
    responses(
        (status = 200, description = "Token pair and user.", body = dto::LoginResponse),
        (status = 400, description = "`code_invalid`: unknown, expired or used code, or a verifier that does not match.", body = dto::Error),
        (status = 403, description = "Account disabled (`dto::Error`), or `mfa_required`.", body = inline(crate::http::dto::AnyOf<dto::Error, factors::MfaRequired>)),
    ),
)]
pub async fn exchange<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ModernError> {
    let body = read_json(payload, state.max_body_bytes).await?;
    let mut type_errors = ValidationErrors::new();
    let code = text_field(&body, "code", false, &mut type_errors);
    let verifier = text_field(&body, "code_verifier", false, &mut type_errors);
    if !type_errors.is_empty() {
        return Err(type_errors.into());
    }
    let step = match state
        .auth
        .exchange_upstream_code(
            code.as_deref().unwrap_or_default(),
            verifier.as_deref().unwrap_or_default(),
            client_info(&req, &state.trusted_proxies),
            LoginTerms::default(),
        )
        .await
    {
        Ok(step) => step,
        Err(e) => return refused(e),
    };
    let out = match step {
        LoginStep::SecondFactor(challenge) => {
            return Ok(factors::MfaRequired::response(&challenge));
        }
        step => step.done()?,
    };
    Ok(HttpResponse::Ok().json(dto::LoginResponse::new(m::LOGGED_IN.get(), &out)))
}

#[utoipa::path(get, path = "/api/auth/identities", tag = super::TAG,
    summary = "The caller's linked upstream identities",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Linked identities.", body = IdentityList),
        (status = 401, description = TOKEN_REFUSED, body = dto::Error),
    ),
)]
pub async fn identities<P: Ports>(
    state: State<P>,
    req: HttpRequest,
) -> Result<HttpResponse, ModernError> {
    let auth = crate::http::authenticate(&state, &req).await?;
    let list = state.auth.linked_identities(&auth).await?;
    Ok(HttpResponse::Ok().json(IdentityList {
        identities: list.iter().map(IdentityView::from).collect(),
    }))
}

#[utoipa::path(post, path = "/api/auth/identities/link", tag = super::TAG,
    summary = "Link the identity an upstream sign-in matched by address",
    description = "The caller must be signed in, recently (`REAUTH_MAX_AGE`), to the account whose \
        address the upstream identity has: that sign-in is the proof the link needs; and send the \
        PKCE `code_verifier` of the upstream sign-in that got the token, so a token sent to \
        someone else links nothing.",
    security(("bearer" = [])),
    request_body = LinkRequest,
    responses(
        (status = 201, description = "Linked.", body = Linked),
        (status = 400, description = "`code_invalid`: unknown, expired, or another account's token.", body = dto::Error),
        (status = 401, description = TOKEN_REFUSED, body = dto::Error),
        (status = 403, description = "`reauthentication_required`.", body = dto::Error),
        (status = 409, description = "`identity_taken`: linked to another account.", body = dto::Error),
    ),
)]
pub async fn link<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ModernError> {
    let auth = crate::http::authenticate(&state, &req).await?;
    let body = read_json(payload, state.max_body_bytes).await?;
    let mut type_errors = ValidationErrors::new();
    let token = text_field(&body, "link_token", false, &mut type_errors);
    let verifier = text_field(&body, "code_verifier", false, &mut type_errors);
    if !type_errors.is_empty() {
        return Err(type_errors.into());
    }
    let linked = match state
        .auth
        .link_pending_identity(
            &auth,
            token.as_deref().unwrap_or_default(),
            LinkProof::CodeVerifier(verifier.as_deref().unwrap_or_default()),
        )
        .await
    {
        Ok(linked) => linked,
        Err(e) => return refused(e),
    };
    Ok(HttpResponse::build(StatusCode::CREATED).json(Linked {
        message: "Linked.".into(),
        identity: IdentityView::from(&linked),
    }))
}

#[utoipa::path(delete, path = "/api/auth/identities/{provider}/{subject}", tag = super::TAG,
    summary = "Unlink an upstream identity",
    description = "Refused (409 `last_sign_in_method`) when the account would have no way left to \
        sign in: no password, no passkey, no other identity.",
    security(("bearer" = [])),
    params(
        ("provider" = String, Path, description = "The provider's id."),
        ("subject" = String, Path, description = "The provider's subject."),
    ),
    responses(
        (status = 200, description = "Unlinked.", body = dto::Message),
        (status = 401, description = TOKEN_REFUSED, body = dto::Error),
        (status = 403, description = "`reauthentication_required`.", body = dto::Error),
        (status = 404, description = "`identity_not_found`.", body = dto::Error),
        (status = 409, description = "`last_sign_in_method`.", body = dto::Error),
    ),
)]
pub async fn unlink<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ModernError> {
    let auth = crate::http::authenticate(&state, &req).await?;
    let (provider, subject) = path.into_inner();
    if let Err(e) = state.auth.unlink_identity(&auth, &provider, &subject).await {
        return refused(e);
    }
    Ok(HttpResponse::Ok().json(dto::Message::new("Unlinked.")))
}
