//! The account page: profile, sessions, password (signed in only).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template as _;
use tessera_domain::error::AuthError;
use tessera_domain::model::{ContactKind, SessionId};
use tessera_domain::ports::Ports;
use tessera_domain::usecase::BrowserCaller;

use super::views;
use super::{
    FormBody, Pages, PagesState, State, chrome, csrf_refused, here, html, nav, problem,
    rate_headers, read_form, refusal_page, see_other, signed_in, to_sign_in,
};

/// The caller, or the answer that sends the browser to sign in.
pub(super) async fn caller_or_sign_in<P: Ports>(
    state: &State<P>,
    pages: &PagesState,
    req: &HttpRequest,
    back: &str,
) -> Result<BrowserCaller, HttpResponse> {
    match signed_in(state, pages, req).await {
        Ok(caller) => Ok(caller),
        Err(AuthError::Token(_) | AuthError::AccountDisabled | AuthError::UserNotFound) => {
            Err(to_sign_in(pages, req, back))
        }
        Err(e) => Err(refusal_page(pages, chrome(pages, req, None), &e)),
    }
}

/// The caller of a form POST whose `csrf` is its session's, or the answer.
pub(super) async fn form_caller<P: Ports>(
    state: &State<P>,
    pages: &PagesState,
    req: &HttpRequest,
    form: &super::Form,
) -> Result<BrowserCaller, HttpResponse> {
    let caller = caller_or_sign_in(state, pages, req, "/ui/account").await?;
    if state
        .auth
        .csrf_token_matches(caller.session.id, form.get("csrf").unwrap_or_default())
    {
        Ok(caller)
    } else {
        Err(csrf_refused(pages, chrome(pages, req, None)))
    }
}

/// A posted account form and its caller (the session's `csrf` checked), or
/// the answer: an unreadable form, a browser to sign in, a CSRF refusal.
async fn posted<P: Ports>(
    state: &State<P>,
    pages: &PagesState,
    req: &HttpRequest,
    body: FormBody,
) -> Result<(super::Form, BrowserCaller), HttpResponse> {
    let Some(form) = read_form(body) else {
        return Err(super::form_unreadable(pages, chrome(pages, req, None)));
    };
    let caller = form_caller(state, pages, req, &form).await?;
    Ok((form, caller))
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Renders the account page of `caller` with `status`, a notice or an error.
async fn render_account<P: Ports>(
    state: &State<P>,
    pages: &PagesState,
    req: &HttpRequest,
    caller: &BrowserCaller,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> HttpResponse {
    render_account_awaiting_code(state, pages, req, caller, status, notice, error, None).await
}

/// [`render_account`], with the code field of a change of `pending`
/// (`email` or `phone`) under way (issue 20).
#[allow(clippy::too_many_arguments)]
async fn render_account_awaiting_code<P: Ports>(
    state: &State<P>,
    pages: &PagesState,
    req: &HttpRequest,
    caller: &BrowserCaller,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
    pending: Option<ContactKind>,
) -> HttpResponse {
    let sessions = match state.auth.list_sessions(&caller.auth).await {
        Ok(list) => list,
        Err(e) => return refusal_page(pages, chrome(pages, req, None), &e),
    };
    let factors = match state.auth.factor_overview(&caller.auth).await {
        Ok(overview) => overview,
        Err(e) => return refusal_page(pages, chrome(pages, req, None), &e),
    };
    let passkeys = match state.auth.passkeys(&caller.auth).await {
        Ok(list) => list
            .iter()
            .map(|p| views::PasskeyRow {
                id: p.id.to_string(),
                name: p.name.clone(),
                created_at: rfc3339(p.created_at),
                last_used_at: p.last_used_at.map(rfc3339),
            })
            .collect(),
        Err(e) => return refusal_page(pages, chrome(pages, req, None), &e),
    };
    let linked = match state.auth.linked_identities(&caller.auth).await {
        Ok(list) => list,
        Err(e) => return refusal_page(pages, chrome(pages, req, None), &e),
    };
    let providers = state.auth.upstream_providers().await.unwrap_or_default();
    let provider_name = |id: &tessera_domain::model::UpstreamId| {
        providers
            .iter()
            .find(|p| &p.id == id)
            .map_or_else(|| id.to_string(), |p| p.display_name.clone())
    };
    let identities = linked
        .iter()
        .map(|l| views::IdentityRow {
            provider: l.provider.to_string(),
            provider_name: provider_name(&l.provider),
            subject: l.subject.clone(),
            email: l.email.clone().unwrap_or_default(),
            linked_at: rfc3339(l.linked_at),
        })
        .collect();
    let nav = nav(state, caller).await;
    let csrf = nav.csrf.clone();
    let view = chrome(pages, req, Some(nav));
    let t = view.t;
    // An upstream sign-in in this browser matched this account's address
    // and waits for the person to confirm the link (issue 19): its token is
    // the browser's cookie, and only this account's is offered.
    let pending_link = match super::upstream::pending_link_token(pages, req) {
        Some(token) => match state.auth.pending_link(&token, caller.user.id).await {
            Ok(Some((provider, email))) => Some(
                t.confirm_link_text
                    .replace("{provider}", &provider)
                    .replace("{email}", email.as_deref().unwrap_or("?")),
            ),
            _ => None,
        },
        None => None,
    };
    let user = &caller.user;
    let rows = sessions
        .iter()
        .map(|s| views::SessionRow {
            id: s.id.0.to_string(),
            device: s
                .client
                .user_agent
                .clone()
                .unwrap_or_else(|| t.unknown.to_owned()),
            ip: s.client.ip.clone().unwrap_or_else(|| t.unknown.to_owned()),
            created_at: rfc3339(s.created_at),
            last_used_at: rfc3339(s.last_used_at),
            current: s.id == caller.session.id,
        })
        .collect();
    let mut roles: Vec<&str> = user.roles.iter().map(|r| r.as_str()).collect();
    if roles.is_empty() {
        roles.push(user.role.as_str());
    }
    html(
        pages,
        status,
        views::Account {
            title: t.account.to_owned(),
            chrome: view,
            notice,
            error,
            csrf,
            username: user.username.to_string(),
            email: user.email.to_string(),
            email_verified: user.email_verified,
            phone: user.phone.as_ref().map(ToString::to_string),
            roles: roles.join(", "),
            created_at: rfc3339(user.created_at),
            sessions: rows,
            totp_enabled: factors.totp_confirmed_at.is_some(),
            mfa_enabled: factors.has_second_factor(),
            recovery_left: factors.recovery_codes_left,
            passkeys,
            identities,
            providers: providers
                .iter()
                .filter(|p| !linked.iter().any(|l| l.provider == p.id))
                .map(|p| (p.id.to_string(), p.display_name.clone()))
                .collect(),
            pending_link,
            deletion_text: deletion_text(state, t),
            pending_contact: pending.map(|k| k.as_str().to_owned()),
        }
        .render(),
    )
}

/// What the account page says "Delete my account" does.
fn deletion_text<P: Ports>(state: &State<P>, t: &super::texts::Texts) -> String {
    let grace = state.auth.settings().account_deletion_grace;
    if grace <= chrono::Duration::zero() {
        t.delete_account_now_text.to_owned()
    } else {
        // Whole days, rounded up: a grace of 36 hours is "2 days".
        let days = (grace.num_seconds() + 86_399) / 86_400;
        t.delete_account_text.replace("{days}", &days.to_string())
    }
}

/// `POST /ui/account/delete`: the holder's request to delete the account
/// (the username typed again, a sign-in within `REAUTH_MAX_AGE`); every
/// session ends, this browser's cookie is cleared, and the page says when.
pub(super) async fn delete_account<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    body: FormBody,
) -> HttpResponse {
    let (form, caller) = match posted(&state, &pages, &req, body).await {
        Ok(posted) => posted,
        Err(answer) => return answer,
    };
    let typed = form.get("confirm").unwrap_or_default().trim();
    let username = caller.user.username.as_str();
    // As the sign-in reads usernames: case does not matter.
    if typed.to_lowercase() != username.to_lowercase() {
        let t = chrome(&pages, &req, None).t;
        return render_account(
            &state,
            &pages,
            &req,
            &caller,
            StatusCode::BAD_REQUEST,
            None,
            Some(t.delete_account_confirm.to_owned()),
        )
        .await;
    }
    let answer = match state
        .auth
        .request_account_deletion(&caller.auth, crate::http::locale())
        .await
    {
        Ok(answer) => answer,
        Err(e) => return factor_refused(&state, &pages, &req, &caller, &e).await,
    };
    let view = chrome(&pages, &req, None);
    let t = view.t;
    let (title, text) = match answer {
        tessera_domain::usecase::AccountDeletion::Scheduled { due_at } => (
            t.deletion_scheduled,
            t.deletion_scheduled_text
                .replace("{date}", &due_at.format("%Y-%m-%d %H:%M").to_string()),
        ),
        tessera_domain::usecase::AccountDeletion::Deleted => {
            (t.account_deleted, t.account_deleted_text.to_owned())
        }
    };
    let mut r = super::message_page(
        &pages,
        view,
        StatusCode::OK,
        title,
        vec![text],
        Some(("/ui/sign-in".to_owned(), t.sign_in.to_owned())),
    );
    super::clear_session_cookie(&pages, &req, &mut r);
    r
}

/// `GET /ui/account`.
pub(super) async fn account_page<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
) -> HttpResponse {
    let query = super::query_of(&req);
    let caller = match caller_or_sign_in(&state, &pages, &req, &here(&req)).await {
        Ok(caller) => caller,
        Err(answer) => return answer,
    };
    let t = super::texts::of(crate::http::messages::current());
    let notice = match query.get("done").map(String::as_str) {
        Some("password") => Some(t.password_changed.to_owned()),
        Some("sessions") => Some(t.sessions_ended.to_owned()),
        Some("totp") => Some(t.totp_enabled_done.to_owned()),
        Some("totp-off") => Some(t.totp_removed_done.to_owned()),
        Some("passkey") => Some(t.passkey_added_done.to_owned()),
        Some("passkey-renamed") => Some(t.passkey_renamed_done.to_owned()),
        Some("passkey-removed") => Some(t.passkey_removed_done.to_owned()),
        Some("linked") => Some(t.identity_linked_done.to_owned()),
        Some("unlinked") => Some(t.identity_unlinked_done.to_owned()),
        _ => None,
    };
    render_account(&state, &pages, &req, &caller, StatusCode::OK, notice, None).await
}

/// `GET /ui/account/export`: the account's data as a JSON download, the
/// document of `GET /api/auth/me/export` (issue 20).
pub(super) async fn export_data<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
) -> HttpResponse {
    let caller = match caller_or_sign_in(&state, &pages, &req, "/ui/account").await {
        Ok(caller) => caller,
        Err(answer) => return answer,
    };
    let current = caller.auth.session_id();
    match state.auth.export_account(&caller.auth).await {
        Ok(export) => {
            crate::http::modern::export::AccountExportDocument::new(export, current).download()
        }
        Err(e) => refusal_page(&pages, chrome(&pages, &req, None), &e),
    }
}

/// `POST /ui/account/password`: the current password and a new one; the
/// other sessions end (as `/api/auth/change-password`).
pub(super) async fn change_password<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    body: FormBody,
) -> HttpResponse {
    let (form, caller) = match posted(&state, &pages, &req, body).await {
        Ok(posted) => posted,
        Err(answer) => return answer,
    };
    match state
        .auth
        .change_password(
            &caller.auth,
            form.get("old_password"),
            form.get("new_password"),
            crate::http::locale(),
        )
        .await
    {
        Ok(()) => see_other(&pages, "/ui/account?done=password"),
        Err(e @ (AuthError::Unavailable(_) | AuthError::Internal(_) | AuthError::Busy)) => {
            refusal_page(&pages, chrome(&pages, &req, None), &e)
        }
        Err(AuthError::ReauthenticationRequired) => see_other(
            &pages,
            "/ui/sign-in?reauthenticate=1&return_to=%2Fui%2Faccount",
        ),
        Err(e) => {
            let (status, text) = problem(&e);
            let mut r =
                render_account(&state, &pages, &req, &caller, status, None, Some(text)).await;
            rate_headers(&mut r, &e);
            r
        }
    }
}

/// `POST /ui/account/sessions/{id}/end`: ends one of the account's sessions.
pub(super) async fn end_session<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    id: web::Path<String>,
    body: FormBody,
) -> HttpResponse {
    let (_, caller) = match posted(&state, &pages, &req, body).await {
        Ok(posted) => posted,
        Err(answer) => return answer,
    };
    let Ok(id) = uuid::Uuid::parse_str(&id) else {
        let (status, text) = problem(&AuthError::SessionNotFound);
        return render_account(&state, &pages, &req, &caller, status, None, Some(text)).await;
    };
    match state
        .auth
        .revoke_own_session(&caller.auth, SessionId(id))
        .await
    {
        Ok(()) => see_other(&pages, "/ui/account?done=sessions"),
        Err(e @ AuthError::SessionNotFound) => {
            let (status, text) = problem(&e);
            render_account(&state, &pages, &req, &caller, status, None, Some(text)).await
        }
        Err(e) => refusal_page(&pages, chrome(&pages, &req, None), &e),
    }
}

/// `POST /ui/account/sessions/end-others`: ends every session of the
/// account but this browser's.
pub(super) async fn end_other_sessions<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    body: FormBody,
) -> HttpResponse {
    let (_, caller) = match posted(&state, &pages, &req, body).await {
        Ok(posted) => posted,
        Err(answer) => return answer,
    };
    match state.auth.end_other_sessions(&caller.auth).await {
        Ok(_) => see_other(&pages, "/ui/account?done=sessions"),
        Err(e) => refusal_page(&pages, chrome(&pages, &req, None), &e),
    }
}

/// The enrolment page of `enrolment` (its QR code, its key, the form for
/// the first code).
fn totp_setup_page(
    pages: &PagesState,
    view: super::views::Chrome,
    csrf: String,
    enrolment: &tessera_domain::usecase::TotpEnrolment,
    status: StatusCode,
    error: Option<String>,
) -> HttpResponse {
    let t = view.t;
    let grouped = grouped_secret(enrolment);
    html(
        pages,
        status,
        views::TotpSetup {
            title: t.set_up_totp.to_owned(),
            chrome: view,
            notice: None,
            error,
            csrf,
            qr_svg: crate::http::modern::factors::qr_svg_element(enrolment.uri.expose()),
            secret: grouped,
        }
        .render(),
    )
}

/// The base32 key of `enrolment` in groups of four, for typing.
pub(super) fn grouped_secret(enrolment: &tessera_domain::usecase::TotpEnrolment) -> String {
    enrolment
        .secret
        .expose()
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// New recovery codes, shown once.
pub(super) fn recovery_codes_page(
    pages: &PagesState,
    view: super::views::Chrome,
    codes: &tessera_domain::usecase::RecoveryCodes,
    notice: fn(&super::texts::Texts) -> &'static str,
) -> HttpResponse {
    let t = view.t;
    let mut r = html(
        pages,
        StatusCode::OK,
        views::RecoveryCodes {
            title: t.recovery_codes.to_owned(),
            chrome: view,
            notice: Some(notice(t).to_owned()),
            error: None,
            codes: codes.0.iter().map(|c| c.expose().to_owned()).collect(),
        }
        .render(),
    );
    r.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    r
}

/// The answer to a refused factor form: the account page with the reason
/// (a server fault is its own page).
async fn factor_refused<P: Ports>(
    state: &State<P>,
    pages: &PagesState,
    req: &HttpRequest,
    caller: &BrowserCaller,
    e: &AuthError,
) -> HttpResponse {
    if matches!(
        e,
        AuthError::Unavailable(_) | AuthError::Internal(_) | AuthError::Busy
    ) {
        return refusal_page(pages, chrome(pages, req, None), e);
    }
    if matches!(e, AuthError::ReauthenticationRequired) {
        // Sign in again (the form is shown although this browser is
        // signed in), then back to the account page.
        return see_other(
            pages,
            "/ui/sign-in?reauthenticate=1&return_to=%2Fui%2Faccount",
        );
    }
    let (status, text) = problem(e);
    let mut r = render_account(state, pages, req, caller, status, None, Some(text)).await;
    rate_headers(&mut r, e);
    r
}

/// `POST /ui/account/totp`: begins a TOTP enrolment and shows its QR code.
pub(super) async fn begin_totp<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    body: FormBody,
) -> HttpResponse {
    let (_, caller) = match posted(&state, &pages, &req, body).await {
        Ok(posted) => posted,
        Err(answer) => return answer,
    };
    match state.auth.begin_totp_enrolment(&caller.auth).await {
        Ok(enrolment) => {
            let nav = nav(&state, &caller).await;
            let csrf = nav.csrf.clone();
            let view = chrome(&pages, &req, Some(nav));
            totp_setup_page(&pages, view, csrf, &enrolment, StatusCode::OK, None)
        }
        Err(e) => factor_refused(&state, &pages, &req, &caller, &e).await,
    }
}

/// `POST /ui/account/totp/confirm`: the first code; shows the recovery
/// codes (the first time), else back to the account page.
pub(super) async fn confirm_totp<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    body: FormBody,
) -> HttpResponse {
    let (form, caller) = match posted(&state, &pages, &req, body).await {
        Ok(posted) => posted,
        Err(answer) => return answer,
    };
    match state
        .auth
        .confirm_totp_enrolment(
            &caller.auth,
            form.get("code").unwrap_or_default(),
            crate::http::locale(),
        )
        .await
    {
        Ok(Some(codes)) => recovery_codes_page(
            &pages,
            chrome(&pages, &req, Some(nav(&state, &caller).await)),
            &codes,
            |t| t.totp_enabled_done,
        ),
        Ok(None) => see_other(&pages, "/ui/account?done=totp"),
        Err(
            e @ (AuthError::CodeInvalid
            | AuthError::Validation(_)
            | AuthError::TooManyRequests { .. }),
        ) => {
            // The same QR code again, with the reason.
            match state.auth.pending_totp_enrolment(&caller.auth).await {
                Ok(Some(enrolment)) => {
                    let nav = nav(&state, &caller).await;
                    let csrf = nav.csrf.clone();
                    let view = chrome(&pages, &req, Some(nav));
                    let (status, text) = problem(&e);
                    let mut r = totp_setup_page(&pages, view, csrf, &enrolment, status, Some(text));
                    rate_headers(&mut r, &e);
                    r
                }
                Ok(None) => factor_refused(&state, &pages, &req, &caller, &e).await,
                Err(e) => factor_refused(&state, &pages, &req, &caller, &e).await,
            }
        }
        Err(e) => factor_refused(&state, &pages, &req, &caller, &e).await,
    }
}

/// `POST /ui/account/totp/remove`: turns the TOTP factor off (a current
/// code or a recovery code).
pub(super) async fn remove_totp<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    body: FormBody,
) -> HttpResponse {
    let (form, caller) = match posted(&state, &pages, &req, body).await {
        Ok(posted) => posted,
        Err(answer) => return answer,
    };
    match state
        .auth
        .remove_totp(
            &caller.auth,
            form.get("code").unwrap_or_default(),
            crate::http::locale(),
        )
        .await
    {
        Ok(()) => see_other(&pages, "/ui/account?done=totp-off"),
        Err(e) => factor_refused(&state, &pages, &req, &caller, &e).await,
    }
}

/// `POST /ui/account/recovery-codes`: a new set (a current code), shown once.
pub(super) async fn regenerate_recovery_codes<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    body: FormBody,
) -> HttpResponse {
    let (form, caller) = match posted(&state, &pages, &req, body).await {
        Ok(posted) => posted,
        Err(answer) => return answer,
    };
    match state
        .auth
        .regenerate_recovery_codes(
            &caller.auth,
            form.get("code").unwrap_or_default(),
            crate::http::locale(),
        )
        .await
    {
        Ok(codes) => recovery_codes_page(
            &pages,
            chrome(&pages, &req, Some(nav(&state, &caller).await)),
            &codes,
            |t| t.recovery_codes_done,
        ),
        Err(e) => factor_refused(&state, &pages, &req, &caller, &e).await,
    }
}

/// `POST /ui/account/passkeys/options` (the page's script, with the
/// session's `csrf`): a registration ceremony as JSON, as
/// `POST /api/auth/passkeys/options` answers it; a refusal is JSON too
/// (`{code, message}`), `403 reauthentication_required` included.
pub(super) async fn passkey_options<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    body: FormBody,
) -> HttpResponse {
    let (_, caller) = match posted(&state, &pages, &req, body).await {
        Ok(posted) => posted,
        Err(answer) => return answer,
    };
    match state.auth.begin_passkey_registration(&caller.auth).await {
        Ok(ceremony) => match serde_json::from_str::<serde_json::Value>(&ceremony.options.0) {
            Ok(options) => HttpResponse::Ok()
                .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
                .json(serde_json::json!({
                    "ceremony_token": ceremony.token.expose(),
                    "expires_in": ceremony.expires_in_secs(chrono::Utc::now()),
                    "options": options,
                })),
            Err(e) => {
                let e = AuthError::Internal(format!("ceremony options: {e}"));
                actix_web::ResponseError::error_response(&crate::http::modern::ModernError::from(e))
            }
        },
        Err(e) => {
            actix_web::ResponseError::error_response(&crate::http::modern::ModernError::from(e))
        }
    }
}

/// `POST /ui/account/passkeys`: the credential the script created; shows
/// the recovery codes when it is the account's first factor, else back to
/// the account page.
pub(super) async fn add_passkey<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    body: FormBody,
) -> HttpResponse {
    let (form, caller) = match posted(&state, &pages, &req, body).await {
        Ok(posted) => posted,
        Err(answer) => return answer,
    };
    match state
        .auth
        .finish_passkey_registration(
            &caller.auth,
            form.get("ceremony_token").unwrap_or_default(),
            form.get("credential").unwrap_or_default(),
            form.get("name"),
            crate::http::locale(),
        )
        .await
    {
        Ok((_, Some(codes))) => recovery_codes_page(
            &pages,
            chrome(&pages, &req, Some(nav(&state, &caller).await)),
            &codes,
            |t| t.passkey_added_done,
        ),
        Ok((_, None)) => see_other(&pages, "/ui/account?done=passkey"),
        Err(e) => factor_refused(&state, &pages, &req, &caller, &e).await,
    }
}

/// `POST /ui/account/passkeys/{id}/rename`.
pub(super) async fn rename_passkey<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    id: web::Path<String>,
    body: FormBody,
) -> HttpResponse {
    let (form, caller) = match posted(&state, &pages, &req, body).await {
        Ok(posted) => posted,
        Err(answer) => return answer,
    };
    let Ok(id) = uuid::Uuid::parse_str(&id) else {
        return factor_refused(&state, &pages, &req, &caller, &AuthError::FactorNotEnrolled).await;
    };
    match state
        .auth
        .rename_passkey(&caller.auth, id, form.get("name").unwrap_or_default())
        .await
    {
        Ok(()) => see_other(&pages, "/ui/account?done=passkey-renamed"),
        Err(e) => factor_refused(&state, &pages, &req, &caller, &e).await,
    }
}

/// `POST /ui/account/passkeys/{id}/remove` (a recent sign-in, as the API).
pub(super) async fn remove_passkey<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    id: web::Path<String>,
    body: FormBody,
) -> HttpResponse {
    let (_, caller) = match posted(&state, &pages, &req, body).await {
        Ok(posted) => posted,
        Err(answer) => return answer,
    };
    let Ok(id) = uuid::Uuid::parse_str(&id) else {
        return factor_refused(&state, &pages, &req, &caller, &AuthError::FactorNotEnrolled).await;
    };
    match state
        .auth
        .remove_passkey(&caller.auth, id, crate::http::locale())
        .await
    {
        Ok(()) => see_other(&pages, "/ui/account?done=passkey-removed"),
        Err(e) => factor_refused(&state, &pages, &req, &caller, &e).await,
    }
}

/// `POST /ui/account/email` and `/ui/account/phone` (issue 20): a code goes
/// to the new address or number, and the page shows the field to type it.
async fn request_contact_change<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    body: FormBody,
    kind: ContactKind,
) -> HttpResponse {
    let (form, caller) = match posted(&state, &pages, &req, body).await {
        Ok(posted) => posted,
        Err(answer) => return answer,
    };
    let locale = crate::http::locale();
    let issued = match kind {
        ContactKind::Email => {
            state
                .auth
                .request_email_change(&caller.auth, form.get("email"), locale)
                .await
        }
        ContactKind::Phone => {
            state
                .auth
                .request_phone_change(&caller.auth, form.get("phone"), locale)
                .await
        }
    };
    match issued {
        Ok(issued) => {
            let t = chrome(&pages, &req, None).t;
            render_account_awaiting_code(
                &state,
                &pages,
                &req,
                &caller,
                StatusCode::OK,
                Some(t.contact_code_sent.replace("{to}", &issued.sent_to)),
                None,
                Some(kind),
            )
            .await
        }
        Err(e) => factor_refused(&state, &pages, &req, &caller, &e).await,
    }
}

/// `POST /ui/account/email`.
pub(super) async fn request_email_change<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    body: FormBody,
) -> HttpResponse {
    request_contact_change(state, pages, req, body, ContactKind::Email).await
}

/// `POST /ui/account/phone`.
pub(super) async fn request_phone_change<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    body: FormBody,
) -> HttpResponse {
    request_contact_change(state, pages, req, body, ContactKind::Phone).await
}

/// `POST /ui/account/{email,phone}/confirm`: the code finishes the change;
/// a wrong one shows the field again.
async fn confirm_contact_change<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    body: FormBody,
    kind: ContactKind,
) -> HttpResponse {
    let (form, caller) = match posted(&state, &pages, &req, body).await {
        Ok(posted) => posted,
        Err(answer) => return answer,
    };
    match state
        .auth
        .confirm_contact_change(&caller.auth, kind, form.get("code"), crate::http::locale())
        .await
    {
        Ok(user) => {
            let t = chrome(&pages, &req, None).t;
            let caller = BrowserCaller { user, ..caller };
            render_account(
                &state,
                &pages,
                &req,
                &caller,
                StatusCode::OK,
                Some(t.contact_changed.to_owned()),
                None,
            )
            .await
        }
        Err(e @ (AuthError::CodeWrong { .. } | AuthError::Validation(_))) => {
            let (status, text) = problem(&e);
            let mut r = render_account_awaiting_code(
                &state,
                &pages,
                &req,
                &caller,
                status,
                None,
                Some(text),
                Some(kind),
            )
            .await;
            rate_headers(&mut r, &e);
            r
        }
        Err(e) => factor_refused(&state, &pages, &req, &caller, &e).await,
    }
}

/// `POST /ui/account/email/confirm`.
pub(super) async fn confirm_email_change<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    body: FormBody,
) -> HttpResponse {
    confirm_contact_change(state, pages, req, body, ContactKind::Email).await
}

/// `POST /ui/account/phone/confirm`.
pub(super) async fn confirm_phone_change<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    body: FormBody,
) -> HttpResponse {
    confirm_contact_change(state, pages, req, body, ContactKind::Phone).await
}
