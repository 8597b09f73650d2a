//! `/api/admin/users`: administrators' user management, in `/api/auth`'s
//! error shape. Each route needs a permission of the caller's roles:
//!
//! | route | permission |
//! |---|---|
//! | `GET /api/admin/users?page=&per_page=&q=` | `user:read` |
//! | `GET /api/admin/users/{id}` | `user:read` |
//! | `DELETE /api/admin/users/{id}` | `user:delete` |
//! | `POST /api/admin/users/{id}/disable`, `/enable` | `user:update` |
//! | `POST /api/admin/users/{id}/roles` `{role}` | `role:update` |
//! | `DELETE /api/admin/users/{id}/roles/{role}` | `role:update` |
//! | `POST /api/admin/users/{id}/revoke-sessions` | `session:revoke` |
//!
//! No token: 401; a token without the permission: 403 (`code: forbidden`,
//! `permission`). Every route but the two reads also refuses, with 403
//! `forbidden` and `reason: outranked`, to change an account whose highest
//! role ranks above the caller's, a `super_admin` account (unless the caller
//! is one), or to grant or take away such a role (issue 12, item 5;
//! `Actor::may_change`).

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use tessera_domain::error::AuthError;
use tessera_domain::model::{UserId, UserQuery};
use tessera_domain::ports::Ports;
use tessera_domain::usecase::Actor;
use tessera_domain::validation::{FieldIssue, ValidationErrors};

use super::messages as m;
use super::modern::{ApiError, user_json};
use super::{AppState, read_json, text_field};

type State<P> = web::Data<AppState<P>>;

/// Mounts the admin routes (inside the `/api/admin` scope).
pub fn routes<P: Ports>(cfg: &mut web::ServiceConfig) {
    cfg.route("/users", web::get().to(list::<P>))
        .route("/users/{id}", web::get().to(show::<P>))
        .route("/users/{id}", web::delete().to(delete::<P>))
        .route("/users/{id}/disable", web::post().to(disable::<P>))
        .route("/users/{id}/enable", web::post().to(enable::<P>))
        .route("/users/{id}/roles", web::post().to(grant::<P>))
        .route("/users/{id}/roles/{role}", web::delete().to(revoke::<P>))
        .route(
            "/users/{id}/revoke-sessions",
            web::post().to(revoke_sessions::<P>),
        );
}

async fn caller<P: Ports>(
    state: &State<P>,
    req: &HttpRequest,
    permission: &'static str,
) -> Result<Actor, ApiError> {
    let (auth, user) = super::authenticate_user(state, req).await?;
    let user = state.auth.require_permission(user, permission).await?;
    Ok(Actor {
        user: Some(user),
        client: auth.client,
    })
}

/// A path id that is not a number names no user.
fn user_id(raw: &str) -> Result<UserId, ApiError> {
    raw.parse::<i64>()
        .map(UserId)
        .map_err(|_| ApiError::Auth(AuthError::AccountNotFound))
}

/// Once the caller is authorised, a missing user is the target: 404, not 401.
fn target(e: AuthError) -> ApiError {
    match e {
        AuthError::UserNotFound => ApiError::Auth(AuthError::AccountNotFound),
        other => ApiError::Auth(other),
    }
}

/// A positive whole number from the query (`default` when absent); anything
/// else is a validation issue of `name` (also `GET /api/auth/sessions`).
pub(super) fn number(
    q: &HashMap<String, String>,
    name: &str,
    default: u64,
    max: u64,
    errors: &mut ValidationErrors,
) -> u64 {
    match q.get(name).map(|v| v.trim().parse::<u64>()) {
        None => default,
        Some(Ok(n)) if n >= 1 => n.min(max),
        Some(_) => {
            errors.add(name, FieldIssue::Range { min: 1, max });
            default
        }
    }
}

/// `GET /api/admin/users?page=1&per_page=20&q=text`.
async fn list<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    caller(&state, &req, "user:read").await?;
    let mut errors = ValidationErrors::new();
    let page = number(&query, "page", 1, u64::MAX, &mut errors);
    // A larger page size is served as the largest (as before); 0 is refused.
    let per_page = number(
        &query,
        "per_page",
        20,
        u64::from(tessera_domain::usecase::MAX_PAGE_SIZE),
        &mut errors,
    );
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let search = query.get("q").or_else(|| query.get("search")).cloned();
    let result = state
        .auth
        .list_users(&UserQuery {
            search,
            offset: (page - 1).saturating_mul(per_page),
            limit: u32::try_from(per_page).unwrap_or(20),
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "users": result.users.iter().map(user_json).collect::<Vec<_>>(),
        "total": result.total,
        "page": page,
        "per_page": per_page,
        "pages": result.total.div_ceil(per_page),
    })))
}

/// `GET /api/admin/users/{id}`.
async fn show<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller(&state, &req, "user:read").await?;
    let user = state.auth.find_user(user_id(&id)?).await.map_err(target)?;
    let mut body = user_json(&user);
    if let serde_json::Value::Object(map) = &mut body {
        map.insert(
            "permissions".into(),
            json!(state.auth.permissions_of(&user).await?),
        );
    }
    Ok(HttpResponse::Ok().json(json!({"user": body})))
}

/// `DELETE /api/admin/users/{id}`: revokes every session, then deletes.
async fn delete<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let actor = caller(&state, &req, "user:delete").await?;
    state
        .auth
        .delete_user(&actor, user_id(&id)?)
        .await
        .map_err(target)?;
    Ok(HttpResponse::Ok()
        .json(json!({"message": m::USER_DELETED.get(), "msg": m::USER_DELETED.get()})))
}

async fn set_active<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    id: &str,
    active: bool,
) -> Result<HttpResponse, ApiError> {
    let actor = caller(&state, &req, "user:update").await?;
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
    Ok(HttpResponse::Ok()
        .json(json!({"message": message, "msg": message, "user": user_json(&user)})))
}

/// `POST /api/admin/users/{id}/disable`: also revokes every session.
async fn disable<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    set_active(state, req, &id, false).await
}

/// `POST /api/admin/users/{id}/enable`.
async fn enable<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    set_active(state, req, &id, true).await
}

/// `POST /api/admin/users/{id}/roles` `{"role": "admin"}`.
async fn grant<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let actor = caller(&state, &req, "role:update").await?;
    let id = user_id(&id)?;
    let body = read_json(payload, state.max_body_bytes).await?;
    let mut errors = ValidationErrors::new();
    let role = text_field(&body, "role", false, &mut errors);
    let Some(role) = role.filter(|_| errors.is_empty()) else {
        if errors.is_empty() {
            errors.add("role", FieldIssue::Required);
        }
        return Err(errors.into());
    };
    let user = state
        .auth
        .grant_role(&actor, id, &role)
        .await
        .map_err(target)?;
    Ok(HttpResponse::Ok()
        .json(json!({"message": m::ROLE_GRANTED.get(), "msg": m::ROLE_GRANTED.get(), "user": user_json(&user)})))
}

/// `DELETE /api/admin/users/{id}/roles/{role}`.
async fn revoke<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let actor = caller(&state, &req, "role:update").await?;
    let (id, role) = path.into_inner();
    let user = state
        .auth
        .revoke_role(&actor, user_id(&id)?, &role)
        .await
        .map_err(target)?;
    Ok(HttpResponse::Ok()
        .json(json!({"message": m::ROLE_REVOKED.get(), "msg": m::ROLE_REVOKED.get(), "user": user_json(&user)})))
}

/// `POST /api/admin/users/{id}/revoke-sessions`.
async fn revoke_sessions<P: Ports>(
    state: State<P>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let actor = caller(&state, &req, "session:revoke").await?;
    let id = user_id(&id)?;
    let revoked = state
        .auth
        .admin_revoke_sessions(&actor, id)
        .await
        .map_err(target)?;
    Ok(HttpResponse::Ok()
        .json(json!({"message": m::SESSIONS_REVOKED.get(), "msg": m::SESSIONS_REVOKED.get(), "revoked": revoked})))
}
