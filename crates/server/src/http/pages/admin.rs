//! The admin console: users (search, order, pages), a user's page (roles,
//! disable and enable, end sessions, delete with the username typed to
//! confirm) and the audit log (by account, kind and time). Every page and
//! form goes through the use cases and permission checks of `/api/admin`
//! (`user:read` to look, `user:update`, `role:update`, `session:revoke`,
//! `user:delete` to act) and their role-rank rule.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template as _;
use chrono::{NaiveDateTime, Utc};
use tessera_domain::error::AuthError;
use tessera_domain::model::{
    AuditKind, AuditQuery, Permission, User, UserId, UserOrder, UserQuery,
};
use tessera_domain::ports::Ports;
use tessera_domain::usecase::{Actor, BrowserCaller};

use super::account::{caller_or_sign_in, form_caller};
use super::texts::Texts;
use super::{
    FormBody, Pages, PagesState, State, chrome, here, html, message_page, nav, problem, read_form,
    refusal_page, see_other,
};
use crate::http::messages as m;

/// Users per page of the console's lists.
const PER_PAGE: u32 = 20;

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn rfc3339(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The 403 page of a signed-in account without `permission`.
async fn forbidden<P: Ports>(
    state: &State<P>,
    pages: &PagesState,
    req: &HttpRequest,
    caller: &BrowserCaller,
) -> HttpResponse {
    let nav = nav(state, caller).await;
    let view = chrome(pages, req, Some(nav));
    let t = view.t;
    message_page(
        pages,
        view,
        StatusCode::FORBIDDEN,
        t.forbidden,
        vec![m::FORBIDDEN.get().to_owned()],
        Some(("/ui/account".to_owned(), t.account.to_owned())),
    )
}

/// The signed-in caller as an administrator holding `permission`, or the
/// answer (sign in, 403, a dependency down).
pub(super) async fn administrator<P: Ports>(
    state: &State<P>,
    pages: &PagesState,
    req: &HttpRequest,
    caller: BrowserCaller,
    permission: Permission,
) -> Result<(BrowserCaller, Actor), HttpResponse> {
    match state
        .auth
        .require_permission(caller.user.clone(), permission)
        .await
    {
        Ok(user) => {
            let actor = Actor {
                user: Some(user),
                client: caller.auth.client.clone(),
                authentication: Some(caller.auth.claims.authentication.clone()),
            };
            Ok((caller, actor))
        }
        Err(AuthError::Forbidden(_)) => Err(forbidden(state, pages, req, &caller).await),
        Err(e) => Err(refusal_page(pages, chrome(pages, req, None), &e)),
    }
}

/// A page number from the query: 1 and up; anything else is 1.
fn page_number(raw: Option<&str>) -> u64 {
    raw.and_then(|p| p.parse::<u64>().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1)
}

fn order_label(t: &Texts, order: UserOrder) -> &'static str {
    match order {
        UserOrder::Id => t.order_id,
        UserOrder::Newest => t.order_newest,
        UserOrder::Username => t.order_username,
        UserOrder::Email => t.order_email,
    }
}

fn roles_of(user: &User) -> Vec<String> {
    if user.roles.is_empty() {
        vec![user.role.as_str().to_owned()]
    } else {
        user.roles.iter().map(|r| r.as_str().to_owned()).collect()
    }
}

/// `GET /ui/admin`: the user list.
pub(super) async fn admin_home(pages: Pages) -> HttpResponse {
    see_other(&pages, "/ui/admin/users")
}

/// `GET /ui/admin/users`: search (username or e-mail), order, pages.
pub(super) async fn users_page<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
) -> HttpResponse {
    let query = super::query_of(&req);
    let caller = match caller_or_sign_in(&state, &pages, &req, &here(&req)).await {
        Ok(caller) => caller,
        Err(answer) => return answer,
    };
    let (caller, _) = match administrator(&state, &pages, &req, caller, Permission::USER_READ).await
    {
        Ok(both) => both,
        Err(answer) => return answer,
    };
    let q = query.get("q").cloned().unwrap_or_default();
    let order = query
        .get("order")
        .and_then(|o| UserOrder::parse(o))
        .unwrap_or_default();
    let page = page_number(query.get("page").map(String::as_str));
    let listed = state
        .auth
        .list_users(&UserQuery {
            search: Some(q.clone()),
            offset: (page - 1).saturating_mul(u64::from(PER_PAGE)),
            limit: PER_PAGE,
            order,
        })
        .await;
    let listed = match listed {
        Ok(listed) => listed,
        Err(e) => return refusal_page(&pages, chrome(&pages, &req, None), &e),
    };
    let nav = nav(&state, &caller).await;
    let view = chrome(&pages, &req, Some(nav));
    let t = view.t;
    let pages_total = listed.total.div_ceil(u64::from(PER_PAGE)).max(1);
    let link = |p: u64| {
        format!(
            "/ui/admin/users?q={}&order={}&page={p}",
            encode(&q),
            order.as_str()
        )
    };
    let notice = query
        .get("done")
        .and_then(|d| done_notice(d).map(str::to_owned));
    let users = super::views::AdminUsers {
        title: t.users.to_owned(),
        chrome: view,
        notice,
        error: None,
        q: q.clone(),
        orders: UserOrder::ALL
            .iter()
            .map(|(o, name)| (*name, order_label(t, *o), *o == order))
            .collect(),
        users: listed
            .users
            .iter()
            .map(|u| super::views::UserRow {
                id: u.id.0,
                username: u.username.to_string(),
                email: u.email.to_string(),
                roles: roles_of(u).join(", "),
                active: u.is_active,
                created_at: rfc3339(u.created_at),
            })
            .collect(),
        total: listed.total,
        page,
        pages: pages_total,
        previous: (page > 1).then(|| link(page - 1)),
        next: (page < pages_total).then(|| link(page + 1)),
    };
    html(&pages, StatusCode::OK, users.render())
}

/// What the last form on a user's page did.
fn done_notice(done: &str) -> Option<&'static str> {
    Some(match done {
        "disabled" => m::USER_DISABLED.get(),
        "enabled" => m::USER_ENABLED.get(),
        "granted" => m::ROLE_GRANTED.get(),
        "revoked" => m::ROLE_REVOKED.get(),
        "sessions" => m::SESSIONS_REVOKED.get(),
        "factors" => m::FACTORS_RESET.get(),
        "deleted" => m::USER_DELETED.get(),
        _ => return None,
    })
}

fn user_id(raw: &str) -> Option<UserId> {
    raw.parse::<i64>().ok().map(UserId)
}

/// What a user's page says besides the user: its status, a notice (what
/// was done) or an error (what was refused).
struct Said {
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
}

impl Said {
    fn done(notice: Option<String>) -> Self {
        Self {
            status: StatusCode::OK,
            notice,
            error: None,
        }
    }

    fn refused(status: StatusCode, error: String) -> Self {
        Self {
            status,
            notice: None,
            error: Some(error),
        }
    }
}

/// Renders the page of the user `id` for `caller`.
async fn render_user<P: Ports>(
    state: &State<P>,
    pages: &PagesState,
    req: &HttpRequest,
    caller: &BrowserCaller,
    id: UserId,
    said: Said,
) -> HttpResponse {
    let Said {
        status,
        notice,
        error,
    } = said;
    let user = match state.auth.find_user(id).await {
        Ok(user) => user,
        Err(AuthError::UserNotFound | AuthError::AccountNotFound) => {
            return <super::PagesDialect as crate::http::dialect::Dialect>::not_found(
                req.path(),
                "GET",
            );
        }
        Err(e) => return refusal_page(pages, chrome(pages, req, None), &e),
    };
    let catalogue = match state.auth.role_catalogue().await {
        Ok(catalogue) => catalogue,
        Err(e) => return refusal_page(pages, chrome(pages, req, None), &e),
    };
    let granted = state
        .auth
        .permissions_of(&caller.user)
        .await
        .unwrap_or_default();
    let may = |p: Permission| granted.iter().any(|g| g == p.as_str());
    let factors = match state.auth.factors_of(&user).await {
        Ok(factors) => factors,
        Err(e) => return refusal_page(pages, chrome(pages, req, None), &e),
    };
    let nav = nav(state, caller).await;
    let csrf = nav.csrf.clone();
    let view = chrome(pages, req, Some(nav));
    let roles = roles_of(&user);
    let grantable = catalogue
        .names()
        .filter(|r| !roles.iter().any(|held| held == r))
        .map(str::to_owned)
        .collect();
    html(
        pages,
        status,
        super::views::AdminUser {
            title: user.username.to_string(),
            chrome: view,
            notice,
            error,
            csrf,
            id: user.id.0,
            username: user.username.to_string(),
            email: user.email.to_string(),
            email_verified: user.email_verified,
            phone: user.phone.as_ref().map(ToString::to_string),
            active: user.is_active,
            created_at: rfc3339(user.created_at),
            roles,
            grantable,
            may_update: may(Permission::USER_UPDATE),
            may_change_roles: may(Permission::ROLE_UPDATE),
            may_end_sessions: may(Permission::SESSION_REVOKE),
            may_delete: may(Permission::USER_DELETE),
            factor_kinds: factors
                .kinds()
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }
        .render(),
    )
}

/// A refused admin form: the user's page with the refusal when the caller
/// may read users (`user:read`), else the refusal alone (a role that may
/// act without reading sees nothing of the account).
async fn refused_on_user<P: Ports>(
    state: &State<P>,
    pages: &PagesState,
    req: &HttpRequest,
    caller: &BrowserCaller,
    id: UserId,
    said: Said,
) -> HttpResponse {
    let may_read = state
        .auth
        .require_permission(caller.user.clone(), Permission::USER_READ)
        .await
        .is_ok();
    if may_read {
        return render_user(state, pages, req, caller, id, said).await;
    }
    let nav = nav(state, caller).await;
    let view = chrome(pages, req, Some(nav));
    let t = view.t;
    message_page(
        pages,
        view,
        said.status,
        t.error,
        said.error.into_iter().collect(),
        None,
    )
}

/// `GET /ui/admin/users/{id}`.
pub(super) async fn user_page<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    let query = super::query_of(&req);
    let caller = match caller_or_sign_in(&state, &pages, &req, &here(&req)).await {
        Ok(caller) => caller,
        Err(answer) => return answer,
    };
    let (caller, _) = match administrator(&state, &pages, &req, caller, Permission::USER_READ).await
    {
        Ok(both) => both,
        Err(answer) => return answer,
    };
    let Some(id) = user_id(&id) else {
        return <super::PagesDialect as crate::http::dialect::Dialect>::not_found(
            req.path(),
            "GET",
        );
    };
    let notice = query
        .get("done")
        .and_then(|d| done_notice(d))
        .map(str::to_owned);
    render_user(&state, &pages, &req, &caller, id, Said::done(notice)).await
}

/// What an admin form asks for.
enum Change {
    Disable,
    Enable,
    Grant,
    Revoke(String),
    EndSessions,
    ResetFactors,
    Delete,
}

impl Change {
    const fn permission(&self) -> Permission {
        match self {
            Self::Disable | Self::Enable | Self::ResetFactors => Permission::USER_UPDATE,
            Self::Grant | Self::Revoke(_) => Permission::ROLE_UPDATE,
            Self::EndSessions => Permission::SESSION_REVOKE,
            Self::Delete => Permission::USER_DELETE,
        }
    }
}

/// Runs one admin form: the session's form token, the permission, then the
/// use case (with its rank rule); `303` back with what was done, or the
/// user's page with the refusal.
async fn change<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    id: &str,
    body: FormBody,
    change: Change,
) -> HttpResponse {
    let Some(form) = read_form(body) else {
        return super::form_unreadable(&pages, chrome(&pages, &req, None));
    };
    let caller = match form_caller(&state, &pages, &req, &form).await {
        Ok(caller) => caller,
        Err(answer) => return answer,
    };
    let (caller, actor) =
        match administrator(&state, &pages, &req, caller, change.permission()).await {
            Ok(both) => both,
            Err(answer) => return answer,
        };
    let Some(id) = user_id(id) else {
        return <super::PagesDialect as crate::http::dialect::Dialect>::not_found(
            req.path(),
            "POST",
        );
    };
    let outcome = match &change {
        Change::Disable => state
            .auth
            .set_user_active(&actor, id, false)
            .await
            .map(|_| "disabled"),
        Change::Enable => state
            .auth
            .set_user_active(&actor, id, true)
            .await
            .map(|_| "enabled"),
        Change::Grant => state
            .auth
            .grant_role(&actor, id, form.get("role").unwrap_or_default())
            .await
            .map(|_| "granted"),
        Change::Revoke(role) => state
            .auth
            .revoke_role(&actor, id, role)
            .await
            .map(|_| "revoked"),
        Change::EndSessions => state
            .auth
            .admin_revoke_sessions(&actor, id)
            .await
            .map(|_| "sessions"),
        Change::ResetFactors => state
            .auth
            .admin_reset_factors(&actor, id, crate::http::locale())
            .await
            .map(|_| "factors"),
        Change::Delete => {
            let typed = form.get("confirm").unwrap_or_default().trim();
            match state.auth.find_user(id).await {
                Ok(target) if typed == target.username.as_str() => {
                    state.auth.delete_user(&actor, id).await.map(|()| "deleted")
                }
                Ok(_) => {
                    let t = super::texts::of(m::current());
                    let said = Said::refused(StatusCode::BAD_REQUEST, t.delete_mismatch.to_owned());
                    return refused_on_user(&state, &pages, &req, &caller, id, said).await;
                }
                Err(e) => Err(e),
            }
        }
    };
    match outcome {
        Ok("deleted") => see_other(&pages, "/ui/admin/users?done=deleted"),
        Ok(done) => see_other(&pages, &format!("/ui/admin/users/{}?done={done}", id.0)),
        Err(e @ (AuthError::Unavailable(_) | AuthError::Internal(_) | AuthError::Busy)) => {
            refusal_page(&pages, chrome(&pages, &req, None), &e)
        }
        Err(AuthError::UserNotFound | AuthError::AccountNotFound) => {
            <super::PagesDialect as crate::http::dialect::Dialect>::not_found(req.path(), "POST")
        }
        // The administrator's sign-in is too old for a change (`REAUTH_MAX_AGE`):
        // sign in again, then back to this user's page.
        Err(AuthError::ReauthenticationRequired) => see_other(
            &pages,
            &format!(
                "/ui/sign-in?reauthenticate=1&return_to=%2Fui%2Fadmin%2Fusers%2F{}",
                id.0
            ),
        ),
        Err(e) => {
            let (status, text) = problem(&e);
            refused_on_user(
                &state,
                &pages,
                &req,
                &caller,
                id,
                Said::refused(status, text),
            )
            .await
        }
    }
}

/// `POST /ui/admin/users/{id}/disable`.
pub(super) async fn disable<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    id: web::Path<String>,
    body: FormBody,
) -> HttpResponse {
    change(state, pages, req, &id, body, Change::Disable).await
}

/// `POST /ui/admin/users/{id}/enable`.
pub(super) async fn enable<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    id: web::Path<String>,
    body: FormBody,
) -> HttpResponse {
    change(state, pages, req, &id, body, Change::Enable).await
}

/// `POST /ui/admin/users/{id}/roles` (`role`).
pub(super) async fn grant<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    id: web::Path<String>,
    body: FormBody,
) -> HttpResponse {
    change(state, pages, req, &id, body, Change::Grant).await
}

/// `POST /ui/admin/users/{id}/roles/{role}/revoke`.
pub(super) async fn revoke<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: FormBody,
) -> HttpResponse {
    let (id, role) = path.into_inner();
    change(state, pages, req, &id, body, Change::Revoke(role)).await
}

/// `POST /ui/admin/users/{id}/end-sessions`.
pub(super) async fn end_sessions<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    id: web::Path<String>,
    body: FormBody,
) -> HttpResponse {
    change(state, pages, req, &id, body, Change::EndSessions).await
}

/// `POST /ui/admin/users/{id}/reset-factors`: removes the user's second factors.
pub(super) async fn reset_factors<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    id: web::Path<String>,
    body: FormBody,
) -> HttpResponse {
    change(state, pages, req, &id, body, Change::ResetFactors).await
}

/// `POST /ui/admin/users/{id}/delete` (`confirm`: the username).
pub(super) async fn delete<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    id: web::Path<String>,
    body: FormBody,
) -> HttpResponse {
    change(state, pages, req, &id, body, Change::Delete).await
}

/// A `datetime-local` value (`2026-11-30T09:15`, seconds optional), read as UTC.
fn utc_time(raw: &str) -> Option<chrono::DateTime<Utc>> {
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(raw, f).ok())
        .map(|t| t.and_utc())
}

/// `GET /ui/admin/audit`: the audit trail, newest first.
pub(super) async fn audit_page<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
) -> HttpResponse {
    let query = super::query_of(&req);
    let caller = match caller_or_sign_in(&state, &pages, &req, &here(&req)).await {
        Ok(caller) => caller,
        Err(answer) => return answer,
    };
    let (caller, _) = match administrator(&state, &pages, &req, caller, Permission::USER_READ).await
    {
        Ok(both) => both,
        Err(answer) => return answer,
    };
    let text = |name: &str| {
        query
            .get(name)
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    };
    let (user, kind, since, until) = (text("user"), text("kind"), text("since"), text("until"));
    let mut unreadable = false;
    let mut read = |raw: &str, parse: &dyn Fn(&str) -> bool| {
        if !raw.is_empty() && !parse(raw) {
            unreadable = true;
        }
    };
    read(&user, &|v| user_id(v).is_some());
    read(&kind, &|v| AuditKind::parse(v).is_some());
    read(&since, &|v| utc_time(v).is_some());
    read(&until, &|v| utc_time(v).is_some());
    let page = page_number(query.get("page").map(String::as_str));
    let filters = AuditQuery {
        user: user_id(&user),
        kind: AuditKind::parse(&kind),
        since: utc_time(&since),
        until: utc_time(&until),
        offset: (page - 1).saturating_mul(u64::from(PER_PAGE)),
        limit: PER_PAGE,
    };
    let trail = match state.auth.audit_trail(&filters).await {
        Ok(trail) => trail,
        Err(e) => return refusal_page(&pages, chrome(&pages, &req, None), &e),
    };
    let nav = nav(&state, &caller).await;
    let view = chrome(&pages, &req, Some(nav));
    let t = view.t;
    let pages_total = trail.total.div_ceil(u64::from(PER_PAGE)).max(1);
    let link = |p: u64| {
        format!(
            "/ui/admin/audit?user={}&kind={}&since={}&until={}&page={p}",
            encode(&user),
            encode(&kind),
            encode(&since),
            encode(&until)
        )
    };
    let view = super::views::AdminAudit {
        title: t.audit_log.to_owned(),
        chrome: view,
        notice: None,
        error: unreadable.then(|| t.bad_filter.to_owned()),
        kinds: AuditKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.as_str() == kind))
            .collect(),
        events: trail
            .events
            .iter()
            .map(|e| super::views::AuditRow {
                at: rfc3339(e.at),
                kind: e.kind.as_str(),
                actor: e.actor.map(|u| u.0),
                subject: e.subject.map(|u| u.0),
                ip: e.client.ip.clone().unwrap_or_default(),
                client: e.client.user_agent.clone().unwrap_or_default(),
                detail: e.detail.clone().unwrap_or_default(),
            })
            .collect(),
        total: trail.total,
        page,
        pages: pages_total,
        previous: (page > 1).then(|| link(page - 1)),
        next: (page < pages_total).then(|| link(page + 1)),
        user,
        since,
        until,
    };
    html(&pages, StatusCode::OK, view.render())
}
