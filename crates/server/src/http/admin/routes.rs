//! The administrators' handlers and their mount.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use tessera_domain::error::AuthError;
use tessera_domain::model::{UserId, UserQuery};
use tessera_domain::ports::Ports;
use tessera_domain::usecase::Actor;
use tessera_domain::validation::{FieldIssue, ValidationErrors};

use super::dto;
use super::errors::{AdminError, target};
use crate::http::dto::{Alike, ResponseList};
use crate::http::dto::{Paging, Search};
use crate::http::messages as m;
use crate::http::modern::dto::{Error, Message, Revoked, UserMessage};
use crate::http::modern::user_json;
use crate::http::route::Route;
use crate::http::{AppState, read_text_fields};
use crate::openapi::{OUTRANKED, TOKEN_REFUSED};

type State<P> = web::Data<AppState<P>>;

/// The refusals of a route that changes a user: bad token, missing
/// permission or outranked, no such user.
struct ChangeRefusals;

impl ResponseList for ChangeRefusals {
    const LIST: &'static [(u16, &'static str)] = &[
        (401, TOKEN_REFUSED),
        (403, OUTRANKED),
        (404, "No such user."),
    ];
}

crate::declare_routes! {
    "/api/admin";
    Get "/users" => list::<P> [permission USER_READ];
    Get "/users/{id}" => show::<P> [permission USER_READ];
    Delete "/users/{id}" => delete::<P> [permission USER_DELETE];
    Post "/users/{id}/disable" => disable::<P> [permission USER_UPDATE];
    Post "/users/{id}/enable" => enable::<P> [permission USER_UPDATE];
    Post "/users/{id}/roles" => grant::<P> [permission ROLE_UPDATE];
    Delete "/users/{id}/roles/{role}" => revoke::<P> [permission ROLE_UPDATE];
    Post "/users/{id}/revoke-sessions" => revoke_sessions::<P> [permission SESSION_REVOKE];
    Delete "/users/{id}/mfa" => reset_factors::<P> [permission USER_UPDATE];
}

/// The caller, once their token is accepted and their roles grant the
/// permission declared for the route in [`ROUTES`].
async fn caller<P: Ports>(state: &State<P>, req: &HttpRequest) -> Result<Actor, AdminError> {
    let (auth, user) = crate::http::authenticate_user(state, req).await?;
    let Some(permission) = Route::of(req).and_then(|r| r.permission) else {
        return Err(AuthError::Internal(format!("{}: no permission declared", req.path())).into());
    };
    let user = state.auth.require_permission(user, permission).await?;
    Ok(Actor {
        user: Some(user),
        client: auth.client,
        authentication: Some(auth.claims.authentication),
    })
}

/// A path id that is not a number names no user.
fn user_id(raw: &str) -> Result<UserId, AdminError> {
    raw.parse::<i64>()
        .map(UserId)
        .map_err(|_| AdminError::from(AuthError::AccountNotFound))
}

/// `GET /api/admin/users?page=1&per_page=20&q=text`.
#[utoipa::path(get, path = "/api/admin/users", tag = super::TAG,
    summary = "List users (`page`, `per_page`, `q`)",
    security(("bearer" = [])),
    params(Paging, Search),
    responses(
        (status = 200, description = "A page of users.", body = dto::UserPage),
        (status = 400, description = "Bad paging parameter.", body = Error),
        (status = 401, description = TOKEN_REFUSED, body = Error),
        (status = 403, description = "Missing permission.", body = Error),
    ),
)]
async fn list<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AdminError> {
    caller(&state, &req).await?;
    // A larger page size is served as the largest (as before); 0 is refused.
    let (page, per_page) = Paging::read(&query, 20)?;
    let search = query.get("q").or_else(|| query.get("search")).cloned();
    let result = state
        .auth
        .list_users(&UserQuery {
            search,
            offset: (page - 1).saturating_mul(per_page),
            limit: u32::try_from(per_page).unwrap_or(20),
            order: tessera_domain::model::UserOrder::Id,
        })
        .await?;
    Ok(HttpResponse::Ok().json(dto::UserPage {
        users: result.users.iter().map(user_json).collect(),
        total: result.total,
        page,
        per_page,
        pages: result.total.div_ceil(per_page),
    }))
}

/// `GET /api/admin/users/{id}`.
#[utoipa::path(get, path = "/api/admin/users/{id}", tag = super::TAG,
    summary = "One user with permissions",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The user.", body = dto::AdminUser),
        (status = 401, description = TOKEN_REFUSED, body = Error),
        (status = 403, description = "Missing permission.", body = Error),
        (status = 404, description = "No such user.", body = Error),
    ),
)]
async fn show<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    caller(&state, &req).await?;
    let user = state.auth.find_user(user_id(&id)?).await.map_err(target)?;
    let permissions = state.auth.permissions_of(&user).await?;
    let factors = state.auth.factors_of(&user).await?;
    Ok(HttpResponse::Ok().json(dto::AdminUser {
        user: user_json(&user).with_permissions(permissions),
        mfa: factors.into(),
    }))
}

/// `DELETE /api/admin/users/{id}`: revokes every session, then deletes.
#[utoipa::path(delete, path = "/api/admin/users/{id}", tag = super::TAG,
    summary = "Delete a user (revokes sessions)",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "Deleted.", body = Message),
        (status = 400, description = "Yourself.", body = Error),
        Alike<Error, ChangeRefusals>,
    ),
)]
async fn delete<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let actor = caller(&state, &req).await?;
    state
        .auth
        .delete_user(&actor, user_id(&id)?)
        .await
        .map_err(target)?;
    Ok(HttpResponse::Ok().json(Message::new(m::USER_DELETED.get())))
}

async fn set_active<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    id: &str,
    active: bool,
) -> Result<HttpResponse, AdminError> {
    let actor = caller(&state, &req).await?;
    let user = state
        .auth
        .set_user_active(&actor, user_id(id)?, active)
        .await
        .map_err(target)?;
    let message = if active {
        m::USER_ENABLED.get()
    } else {
        m::USER_DISABLED.get()
    };
    Ok(HttpResponse::Ok().json(UserMessage::new(message, &user)))
}

/// `POST /api/admin/users/{id}/disable`: also revokes every session.
#[utoipa::path(post, path = "/api/admin/users/{id}/disable", tag = super::TAG,
    summary = "Disable (revokes sessions)",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "Disabled.", body = UserMessage),
        (status = 400, description = "Yourself.", body = Error),
        Alike<Error, ChangeRefusals>,
    ),
)]
async fn disable<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    set_active(state, req, &id, false).await
}

/// `POST /api/admin/users/{id}/enable`.
#[utoipa::path(post, path = "/api/admin/users/{id}/enable", tag = super::TAG,
    summary = "Enable",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "Enabled.", body = UserMessage),
        Alike<Error, ChangeRefusals>,
    ),
)]
async fn enable<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    set_active(state, req, &id, true).await
}

/// `POST /api/admin/users/{id}/roles` `{"role": "admin"}`.
#[utoipa::path(post, path = "/api/admin/users/{id}/roles", tag = super::TAG,
    summary = "Grant a role",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    description = "Beyond the schema: `role` must name an existing role (roles are data); otherwise 400.",
    request_body = dto::RoleRequest,
    responses(
        (status = 200, description = "Granted.", body = UserMessage),
        (status = 400, description = "Validation failed or unknown role.", body = Error),
        Alike<Error, ChangeRefusals>,
    ),
)]
async fn grant<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    let actor = caller(&state, &req).await?;
    let id = user_id(&id)?;
    let [role] = read_text_fields(payload, state.max_body_bytes, [("role", false)]).await?;
    let Some(role) = role else {
        let mut errors = ValidationErrors::new();
        errors.add("role", FieldIssue::Required);
        return Err(errors.into());
    };
    let user = state
        .auth
        .grant_role(&actor, id, &role)
        .await
        .map_err(target)?;
    Ok(HttpResponse::Ok().json(UserMessage::new(m::ROLE_GRANTED.get(), &user)))
}

/// `DELETE /api/admin/users/{id}/roles/{role}`.
#[utoipa::path(delete, path = "/api/admin/users/{id}/roles/{role}", tag = super::TAG,
    summary = "Remove a role",
    security(("bearer" = [])),
    params(("id" = String, Path), ("role" = String, Path)),
    responses(
        (status = 200, description = "Removed.", body = UserMessage),
        (status = 400, description = "Own admin role, or bad role name.", body = Error),
        Alike<Error, ChangeRefusals>,
    ),
)]
async fn revoke<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AdminError> {
    let actor = caller(&state, &req).await?;
    let (id, role) = path.into_inner();
    let user = state
        .auth
        .revoke_role(&actor, user_id(&id)?, &role)
        .await
        .map_err(target)?;
    Ok(HttpResponse::Ok().json(UserMessage::new(m::ROLE_REVOKED.get(), &user)))
}

/// `POST /api/admin/users/{id}/revoke-sessions`.
#[utoipa::path(post, path = "/api/admin/users/{id}/revoke-sessions", tag = super::TAG,
    summary = "Revoke every session",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "Revoked.", body = Revoked),
        Alike<Error, ChangeRefusals>,
    ),
)]
async fn revoke_sessions<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let actor = caller(&state, &req).await?;
    let id = user_id(&id)?;
    let revoked = state
        .auth
        .admin_revoke_sessions(&actor, id)
        .await
        .map_err(target)?;
    Ok(HttpResponse::Ok().json(Revoked::new(m::SESSIONS_REVOKED.get(), revoked)))
}

/// `DELETE /api/admin/users/{id}/mfa`: removes the user's second factors.
#[utoipa::path(delete, path = "/api/admin/users/{id}/mfa", tag = super::TAG,
    summary = "Reset a user's second factors (TOTP and recovery codes; audited)",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "Removed (or there were none: `removed` false); the user is mailed a notice.", body = dto::FactorsReset),
        (status = 400, description = "`self_lockout`: one's own factors are changed at `/api/auth/mfa`, with a code.", body = Error),
        Alike<Error, ChangeRefusals>,
    ),
)]
async fn reset_factors<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let actor = caller(&state, &req).await?;
    let removed = state
        .auth
        .admin_reset_factors(&actor, user_id(&id)?, crate::http::locale())
        .await
        .map_err(target)?;
    let text = m::FACTORS_RESET.get().to_owned();
    Ok(HttpResponse::Ok().json(dto::FactorsReset {
        message: text.clone(),
        msg: text,
        removed,
    }))
}
