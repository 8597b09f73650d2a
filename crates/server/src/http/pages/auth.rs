//! Signing in and out, signing up, verifying an address, resetting a
//! forgotten password: the anonymous pages.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template as _;
use tessera_domain::error::AuthError;
use tessera_domain::ports::Ports;
use tessera_domain::settings::LinkKind;
use tessera_domain::usecase::{BrowserSignIn, BrowserStep, RegistrationForm, ResetForm};
use tessera_domain::values::{PasswordInput, Username};

use super::views::{self, Chrome};
use super::{
    FormBody, Pages, State, allowed_return_to, anonymous_form_ok, chrome, cookie, cookie_name,
    csrf_refused, form_nonce, form_unreadable, html, message_page, nav, problem, rate_headers,
    read_form, refusal_page, see_other, session_cookie, signed_in,
};
use crate::http::client_info;
use crate::http::messages as m;

/// Renders an anonymous form page, setting the form nonce cookie when the
/// browser has none yet.
fn anonymous_page(
    pages: &super::PagesState,
    req: &HttpRequest,
    status: StatusCode,
    render: impl FnOnce(String) -> Result<String, askama::Error>,
    state_token: impl FnOnce(&str) -> String,
) -> HttpResponse {
    let (nonce, new_cookie) = match form_nonce(pages, req) {
        Ok(nonce) => nonce,
        Err(e) => return refusal_page(pages, chrome(pages, req, None), &e),
    };
    let mut r = html(pages, status, render(state_token(&nonce)));
    if let Some(c) = new_cookie {
        let _ = r.add_cookie(&c);
    }
    r
}

/// The `return_to` a form or query asks for: `None` when absent or empty,
/// the target when it is allowed ([`allowed_return_to`]).
///
/// # Errors
/// `Err(())` for a target outside the allow-list (answer with
/// [`return_to_refused`]).
fn checked_return_to(pages: &super::PagesState, raw: Option<&str>) -> Result<Option<String>, ()> {
    match raw.filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(raw) => allowed_return_to(&pages.settings, raw).map(Some).ok_or(()),
    }
}

/// The refusal page of a `return_to` outside the allow-list.
pub(super) fn return_to_refused(pages: &super::PagesState, chrome: Chrome) -> HttpResponse {
    let t = chrome.t;
    message_page(
        pages,
        chrome,
        StatusCode::BAD_REQUEST,
        t.error,
        vec![t.return_to_refused.to_owned()],
        None,
    )
}

fn sign_in_view(
    chrome: Chrome,
    csrf: String,
    return_to: Option<String>,
    identifier: String,
    error: Option<String>,
) -> views::SignIn {
    views::SignIn {
        title: chrome.t.sign_in.to_owned(),
        chrome,
        notice: None,
        error,
        csrf,
        return_to,
        identifier,
        providers: Vec::new(),
        code_sign_in: false,
    }
}

/// The sign-in buttons of the enabled upstream providers: `(href, name)`,
/// each starting a sign-in that lands on `return_to` (issue 19).
async fn provider_buttons<P: Ports>(
    state: &State<P>,
    return_to: Option<&str>,
) -> Vec<(String, String)> {
    let providers = state.auth.upstream_providers().await.unwrap_or_default();
    providers
        .into_iter()
        .map(|p| {
            let mut href = format!("/api/auth/oauth/{}/start", p.id);
            if let Some(target) = return_to {
                href = crate::http::with_query(&href, &[("return_to", target)]);
            }
            (href, p.display_name)
        })
        .collect()
}

/// `GET /ui/sign-in[?return_to=…]`: the form; a browser already signed in
/// goes straight on.
pub(super) async fn sign_in_page<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
) -> HttpResponse {
    let return_to = super::query_of(&req).get("return_to").cloned();
    let r = sign_in_form_page(state.clone(), pages, req).await;
    super::oauth::allow_client_redirect(&state, return_to.as_deref(), r).await
}

async fn sign_in_form_page<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
) -> HttpResponse {
    let query = super::query_of(&req);
    let Ok(return_to) = checked_return_to(&pages, query.get("return_to").map(String::as_str))
    else {
        return return_to_refused(&pages, chrome(&pages, &req, None));
    };
    // `reauthenticate=1`: an action needed a recent sign-in (`REAUTH_MAX_AGE`),
    // so the form is shown to a signed-in browser too.
    let reauthenticate = query.get("reauthenticate").is_some_and(|v| v == "1");
    if !reauthenticate && signed_in(&state, &pages, &req).await.is_ok() {
        return see_other(&pages, return_to.as_deref().unwrap_or("/ui/account"));
    }
    let view = chrome(&pages, &req, None);
    let notice = reauthenticate.then(|| view.t.reauthenticate.to_owned());
    // An application's `login_hint` (OpenID Connect Core §3.1.2.1) fills
    // the identifier in.
    let hint = query
        .get("login_hint")
        .filter(|h| h.chars().count() <= 254 && !h.chars().any(char::is_control))
        .cloned()
        .unwrap_or_default();
    let providers = provider_buttons(&state, return_to.as_deref()).await;
    anonymous_page(
        &pages,
        &req,
        StatusCode::OK,
        |csrf| {
            views::SignIn {
                notice,
                providers,
                code_sign_in: state.auth.settings().passwordless_login,
                ..sign_in_view(view, csrf, return_to, hint, None)
            }
            .render()
        },
        |nonce| state.auth.form_token(nonce).expose().to_owned(),
    )
}

/// `POST /ui/sign-in`: the login steps of every dialect; on success the
/// session cookie and `303` to `return_to` (or the account page).
pub(super) async fn sign_in<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    body: FormBody,
) -> HttpResponse {
    let return_to = posted_return_to(&body);
    let r = sign_in_with_password(state.clone(), pages, req, body).await;
    super::oauth::allow_client_redirect(&state, return_to.as_deref(), r).await
}

/// The `return_to` of a posted form, read before the handler takes the form.
fn posted_return_to(body: &FormBody) -> Option<String> {
    body.as_ref().ok().and_then(|f| f.get("return_to").cloned())
}

async fn sign_in_with_password<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    body: FormBody,
) -> HttpResponse {
    let view = chrome(&pages, &req, None);
    let form = match anonymous_form(&state, &pages, &req, &view, body) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let Ok(return_to) = checked_return_to(&pages, form.get("return_to")) else {
        return return_to_refused(&pages, view);
    };
    let identifier = form.text("identifier");
    match state
        .auth
        .sign_in_browser(
            &identifier,
            form.get("password").unwrap_or_default(),
            client_info(&req, &state.trusted_proxies),
        )
        .await
    {
        Ok(BrowserStep::SignedIn(signed)) => signed_in_answer(&pages, &req, &signed, return_to),
        Ok(BrowserStep::SecondFactor(challenge)) => {
            second_factor_page(
                &state,
                &pages,
                view,
                form.text("csrf"),
                &challenge,
                return_to,
            )
            .await
        }
        Err(e @ (AuthError::Unavailable(_) | AuthError::Internal(_) | AuthError::Busy)) => {
            refusal_page(&pages, view, &e)
        }
        Err(e) => {
            let (status, text) = problem(&e);
            let csrf = form.text("csrf");
            let providers = provider_buttons(&state, return_to.as_deref()).await;
            let mut r = html(
                &pages,
                status,
                views::SignIn {
                    providers,
                    code_sign_in: state.auth.settings().passwordless_login,
                    ..sign_in_view(view, csrf, return_to, identifier, Some(text))
                }
                .render(),
            );
            rate_headers(&mut r, &e);
            r
        }
    }
}

/// The second step of a sign-in whose first step passed: the factor's
/// form, or for an account that must enrol a factor first
/// (`MFA_REQUIRED_ROLES`) a TOTP enrolment in the same step.
async fn second_factor_page<P: Ports>(
    state: &State<P>,
    pages: &super::PagesState,
    view: Chrome,
    csrf: String,
    challenge: &tessera_domain::usecase::SecondFactorChallenge,
    return_to: Option<String>,
) -> HttpResponse {
    let enrolment = if challenge.enrolment {
        match state
            .auth
            .begin_required_totp_enrolment(challenge.token.expose())
            .await
        {
            Ok(e) => Some(e),
            Err(e) => return refusal_page(pages, view, &e),
        }
    } else {
        None
    };
    html(
        pages,
        StatusCode::OK,
        second_factor_view(
            view,
            csrf,
            challenge.token.expose().to_owned(),
            return_to,
            !challenge.enrolment
                && challenge
                    .factors
                    .contains(&tessera_domain::model::FactorKind::Passkey),
            enrolment.as_ref(),
            None,
        )
        .render(),
    )
}

/// What a browser's sign-in through an upstream provider (issue 19) answers
/// once the provider's answer was taken: as `POST /ui/sign-in` does.
pub(super) async fn upstream_step_answer<P: Ports>(
    state: &State<P>,
    pages: &super::PagesState,
    req: &HttpRequest,
    step: BrowserStep,
    return_to: String,
) -> HttpResponse {
    match step {
        BrowserStep::SignedIn(signed) => signed_in_answer(pages, req, &signed, Some(return_to)),
        BrowserStep::SecondFactor(challenge) => {
            // The second step's form posts with the anonymous form token.
            let (nonce, new_cookie) = match form_nonce(pages, req) {
                Ok(nonce) => nonce,
                Err(e) => return refusal_page(pages, chrome(pages, req, None), &e),
            };
            let csrf = state.auth.form_token(&nonce).expose().to_owned();
            let view = chrome(pages, req, None);
            let mut r =
                second_factor_page(state, pages, view, csrf, &challenge, Some(return_to)).await;
            if let Some(c) = new_cookie {
                let _ = r.add_cookie(&c);
            }
            r
        }
    }
}

/// The session cookie of `signed` and `303` to `return_to` (or the account page).
fn signed_in_answer(
    pages: &super::PagesState,
    req: &HttpRequest,
    signed: &BrowserSignIn,
    return_to: Option<String>,
) -> HttpResponse {
    let mut r = see_other(pages, return_to.as_deref().unwrap_or("/ui/account"));
    let _ = r.add_cookie(&new_session_cookie(pages, req, signed));
    r
}

/// The session cookie of `signed`, living as long as its session.
fn new_session_cookie(
    pages: &super::PagesState,
    req: &HttpRequest,
    signed: &BrowserSignIn,
) -> actix_web::cookie::Cookie<'static> {
    let name = cookie_name(pages, req, super::SESSION_COOKIE, super::DEV_SESSION_COOKIE);
    let mut c = cookie(pages, req, name, signed.credential.expose().to_owned());
    let lifetime = (signed.session.expires_at - chrono::Utc::now())
        .num_seconds()
        .max(0);
    c.set_max_age(actix_web::cookie::time::Duration::seconds(lifetime));
    c
}

fn second_factor_view(
    chrome: Chrome,
    csrf: String,
    mfa_token: String,
    return_to: Option<String>,
    passkey: bool,
    enrolment: Option<&tessera_domain::usecase::TotpEnrolment>,
    error: Option<String>,
) -> views::SecondFactor {
    views::SecondFactor {
        title: chrome.t.second_factor.to_owned(),
        chrome,
        notice: None,
        error,
        csrf,
        mfa_token,
        return_to,
        passkey,
        enrol_qr: enrolment.map(|e| crate::http::modern::factors::qr_svg_element(e.uri.expose())),
        enrol_secret: enrolment
            .map(super::account::grouped_secret)
            .unwrap_or_default(),
    }
}

/// `POST /ui/sign-in/second-factor`: a sign-in's second step (a TOTP code
/// or a recovery code for its `mfa_token`); on success as `/ui/sign-in`. A
/// wrong code shows the step again with the attempts left; a challenge that
/// is gone (expired, used up, or the password changed) sends the browser
/// back to the sign-in form.
pub(super) async fn second_factor<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    body: FormBody,
) -> HttpResponse {
    let return_to = posted_return_to(&body);
    let r = second_factor_step(state.clone(), pages, req, body).await;
    super::oauth::allow_client_redirect(&state, return_to.as_deref(), r).await
}

async fn second_factor_step<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    body: FormBody,
) -> HttpResponse {
    let view = chrome(&pages, &req, None);
    let form = match anonymous_form(&state, &pages, &req, &view, body) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let Ok(return_to) = checked_return_to(&pages, form.get("return_to")) else {
        return return_to_refused(&pages, view);
    };
    let mfa_token = form.text("mfa_token");
    // The page's script answers with a passkey's credential (JSON) instead
    // of a code.
    let credential = form.get("credential").unwrap_or_default();
    let passkey = !credential.is_empty();
    let answer = if passkey {
        credential
    } else {
        form.get("code").unwrap_or_default()
    };
    match state
        .auth
        .finish_browser_sign_in(
            &mfa_token,
            passkey.then_some(tessera_domain::model::FactorKind::Passkey),
            answer,
            client_info(&req, &state.trusted_proxies),
            crate::http::locale(),
        )
        .await
    {
        Ok(signed) => match &signed.recovery_codes {
            // A factor enrolled to sign in: its first recovery codes, shown
            // once, on the first page of the new session.
            Some(codes) => {
                let mut r = super::account::recovery_codes_page(&pages, view, codes, |t| {
                    t.totp_enabled_done
                });
                let _ = r.add_cookie(&new_session_cookie(&pages, &req, &signed));
                r
            }
            None => signed_in_answer(&pages, &req, &signed, return_to),
        },
        Err(e @ (AuthError::Unavailable(_) | AuthError::Internal(_) | AuthError::Busy)) => {
            refusal_page(&pages, view, &e)
        }
        Err(e @ (AuthError::ChallengeInvalid | AuthError::CodeExhausted)) => {
            let (status, text) = problem(&e);
            html(
                &pages,
                status,
                sign_in_view(
                    view,
                    form.text("csrf"),
                    return_to,
                    String::new(),
                    Some(text),
                )
                .render(),
            )
        }
        Err(e) => {
            let (status, text) = problem(&e);
            let enrolment = if form.get("enrol") == Some("1") {
                state
                    .auth
                    .pending_required_totp_enrolment(&mfa_token)
                    .await
                    .ok()
                    .flatten()
            } else {
                None
            };
            let mut r = html(
                &pages,
                status,
                second_factor_view(
                    view,
                    form.text("csrf"),
                    mfa_token,
                    return_to,
                    form.get("passkey") == Some("1"),
                    enrolment.as_ref(),
                    Some(text),
                )
                .render(),
            );
            rate_headers(&mut r, &e);
            r
        }
    }
}

/// `POST /ui/sign-out`: ends this browser's session (the session's form
/// token required) and clears the cookie.
pub(super) async fn sign_out<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    body: FormBody,
) -> HttpResponse {
    let view = chrome(&pages, &req, None);
    let Some(form) = read_form(body) else {
        return form_unreadable(&pages, view);
    };
    let caller = match signed_in(&state, &pages, &req).await {
        Ok(caller) => caller,
        // Nobody to sign out: the same end state.
        Err(AuthError::Token(_)) => return see_other(&pages, "/ui/signed-out"),
        Err(e) => return refusal_page(&pages, view, &e),
    };
    if !state
        .auth
        .csrf_token_matches(caller.session.id, form.get("csrf").unwrap_or_default())
    {
        return csrf_refused(&pages, view);
    }
    if let Err(e) = state.auth.logout(&caller.auth).await {
        return refusal_page(&pages, view, &e);
    }
    let mut r = see_other(&pages, "/ui/signed-out");
    if session_cookie(&pages, &req).is_some() {
        let name = cookie_name(
            &pages,
            &req,
            super::SESSION_COOKIE,
            super::DEV_SESSION_COOKIE,
        );
        let _ = r.add_removal_cookie(&cookie(&pages, &req, name, String::new()));
    }
    r
}

/// `GET /ui/signed-out`.
pub(super) async fn signed_out_page<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
) -> HttpResponse {
    let nav = match signed_in(&state, &pages, &req).await {
        Ok(caller) => Some(nav(&state, &caller).await),
        Err(_) => None,
    };
    let view = chrome(&pages, &req, nav);
    let t = view.t;
    message_page(
        &pages,
        view,
        StatusCode::OK,
        t.signed_out,
        vec![t.signed_out_text.to_owned()],
        Some(("/ui/sign-in".to_owned(), t.sign_in.to_owned())),
    )
}

fn sign_up_view<P: Ports>(
    state: &State<P>,
    chrome: Chrome,
    csrf: String,
    form: Option<&super::Form>,
    error: Option<String>,
) -> views::SignUp {
    let settings = state.auth.settings();
    let field = |name: &str| form.map(|f| f.text(name)).unwrap_or_default();
    views::SignUp {
        title: chrome.t.sign_up.to_owned(),
        chrome,
        notice: None,
        error,
        csrf,
        username: field("username"),
        email: field("email"),
        phone: field("phone"),
        username_min: settings.username_policy.min_chars,
        username_max: Username::MAX,
        password_min: settings.password_policy.min_chars,
        password_max: settings.password_policy.max_chars,
        password_mixed: settings.password_policy.require_mixed,
        password_screened: settings.password_policy.min_score > 0,
    }
}

/// `GET /ui/sign-up`: the form and the rules it is held to.
pub(super) async fn sign_up_page<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
) -> HttpResponse {
    let view = chrome(&pages, &req, None);
    anonymous_page(
        &pages,
        &req,
        StatusCode::OK,
        |csrf| sign_up_view(&state, view, csrf, None, None).render(),
        |nonce| state.auth.form_token(nonce).expose().to_owned(),
    )
}

/// `POST /ui/sign-up`: registration as `/api/auth/register` does it (the
/// default role; the verification mail with a code and a link).
pub(super) async fn sign_up<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    body: FormBody,
) -> HttpResponse {
    let view = chrome(&pages, &req, None);
    let form = match anonymous_form(&state, &pages, &req, &view, body) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let phone = form
        .get("phone")
        .filter(|p| !p.trim().is_empty())
        .map(str::to_owned);
    let registration = RegistrationForm {
        username: form.get("username").map(str::to_owned),
        email: form.get("email").map(str::to_owned),
        password: form.get("password").map(str::to_owned),
        phone,
        role: None,
    };
    match state
        .auth
        .register(&registration, crate::http::locale(), LinkKind::Page)
        .await
    {
        Ok(user) => {
            let t = view.t;
            message_page(
                &pages,
                view,
                StatusCode::CREATED,
                t.sign_up,
                vec![t.signed_up_text.to_owned()],
                Some((
                    format!(
                        "/ui/verify-email?email={}",
                        url::form_urlencoded::byte_serialize(user.email.as_str().as_bytes())
                            .collect::<String>()
                    ),
                    t.verify_email.to_owned(),
                )),
            )
        }
        Err(e @ (AuthError::Unavailable(_) | AuthError::Internal(_) | AuthError::Busy)) => {
            refusal_page(&pages, view, &e)
        }
        Err(e) => {
            let (status, text) = problem(&e);
            let csrf = form.text("csrf");
            html(
                &pages,
                status,
                sign_up_view(&state, view, csrf, Some(&form), Some(text)).render(),
            )
        }
    }
}

fn verify_view(
    chrome: Chrome,
    csrf: String,
    email: String,
    error: Option<String>,
) -> views::VerifyEmail {
    views::VerifyEmail {
        title: chrome.t.verify_email.to_owned(),
        chrome,
        notice: None,
        error,
        csrf,
        email,
    }
}

/// `GET /ui/verify-email[?email=…]`: the code form (the mailed link lands
/// on `/api/auth/verify-email`, its own page).
pub(super) async fn verify_email_page<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
) -> HttpResponse {
    let query = super::query_of(&req);
    let view = chrome(&pages, &req, None);
    let email = query.get("email").cloned().unwrap_or_default();
    anonymous_page(
        &pages,
        &req,
        StatusCode::OK,
        |csrf| verify_view(view, csrf, email, None).render(),
        |nonce| state.auth.form_token(nonce).expose().to_owned(),
    )
}

/// `POST /ui/verify-email`: the address, the mailed code and the password
/// (issue 12: whoever verifies proves both).
pub(super) async fn verify_email<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    body: FormBody,
) -> HttpResponse {
    let view = chrome(&pages, &req, None);
    let form = match anonymous_form(&state, &pages, &req, &view, body) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    match state
        .auth
        .verify_email_code(
            form.get("email"),
            form.get("code"),
            form.get("password"),
            &client_info(&req, &state.trusted_proxies),
        )
        .await
    {
        Ok(_) => {
            let t = view.t;
            message_page(
                &pages,
                view,
                StatusCode::OK,
                t.verify_email,
                vec![m::EMAIL_VERIFIED.get().to_owned()],
                Some(("/ui/sign-in".to_owned(), t.sign_in.to_owned())),
            )
        }
        Err(e @ (AuthError::Unavailable(_) | AuthError::Internal(_) | AuthError::Busy)) => {
            refusal_page(&pages, view, &e)
        }
        Err(e) => {
            let (status, text) = problem(&e);
            let (csrf, email) = (form.text("csrf"), form.text("email"));
            let mut r = html(
                &pages,
                status,
                verify_view(view, csrf, email, Some(text)).render(),
            );
            rate_headers(&mut r, &e);
            r
        }
    }
}

fn forgot_view(
    chrome: Chrome,
    csrf: String,
    form: Option<&super::Form>,
    notice: Option<String>,
    error: Option<String>,
) -> views::ForgotPassword {
    let field = |name: &str| form.map(|f| f.text(name)).unwrap_or_default();
    views::ForgotPassword {
        title: chrome.t.forgot_password.to_owned(),
        chrome,
        notice,
        error,
        csrf,
        identifier: field("identifier"),
        contact: field("contact"),
    }
}

/// `GET /ui/forgot-password`.
pub(super) async fn forgot_password_page<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
) -> HttpResponse {
    let view = chrome(&pages, &req, None);
    anonymous_page(
        &pages,
        &req,
        StatusCode::OK,
        |csrf| forgot_view(view, csrf, None, None, None).render(),
        |nonce| state.auth.form_token(nonce).expose().to_owned(),
    )
}

/// A posted anonymous form whose CSRF token is its nonce's, or the page
/// that refuses it (unreadable: 400; token missing or not this browser's: 403).
fn anonymous_form<P: Ports>(
    state: &State<P>,
    pages: &super::PagesState,
    req: &HttpRequest,
    view: &Chrome,
    body: FormBody,
) -> Result<super::Form, Box<HttpResponse>> {
    let Some(form) = read_form(body) else {
        return Err(Box::new(form_unreadable(pages, view.clone())));
    };
    if !anonymous_form_ok(state, pages, req, &form) {
        return Err(Box::new(csrf_refused(pages, view.clone())));
    }
    Ok(form)
}

/// The use case's reset form from the page's fields (`identifier`,
/// `contact`; the channel follows the contact).
fn reset_request<'a>(
    form: &'a super::Form,
    contact: &'a str,
    client: &'a tessera_domain::model::ClientInfo,
) -> ResetForm<'a> {
    ResetForm {
        identifier: form.get("identifier"),
        channel: Some(channel_of(contact)),
        contact: Some(contact),
        client: Some(client),
    }
}

/// The reset form's `channel`: where `contact` says the code goes.
fn channel_of(contact: &str) -> &'static str {
    if contact.contains('@') {
        "email"
    } else {
        "phone"
    }
}

/// `POST /ui/forgot-password`: sends a reset code. Whether the account
/// exists, or has that address, is not told: both answer as a sent code.
pub(super) async fn forgot_password<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    body: FormBody,
) -> HttpResponse {
    let view = chrome(&pages, &req, None);
    let form = match anonymous_form(&state, &pages, &req, &view, body) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let client = client_info(&req, &state.trusted_proxies);
    let contact = form.text("contact");
    let request = reset_request(&form, &contact, &client);
    let csrf = form.text("csrf");
    match state
        .auth
        .request_reset_code(request, crate::http::locale())
        .await
    {
        // A per-address resend limit is counted only for a real account:
        // it answers as a sent code too (the per-IP limit of the route
        // answers everyone alike, before this handler).
        Ok(_)
        | Err(
            AuthError::AccountNotFound
            | AuthError::ContactMismatch
            | AuthError::TooManyRequests { .. },
        ) => {
            // The reset page says what to do next; the form's values go with it.
            let target = format!(
                "/ui/reset-password?identifier={}&contact={}",
                url::form_urlencoded::byte_serialize(form.text("identifier").as_bytes())
                    .collect::<String>(),
                url::form_urlencoded::byte_serialize(contact.as_bytes()).collect::<String>()
            );
            see_other(&pages, &target)
        }
        Err(e @ (AuthError::Unavailable(_) | AuthError::Internal(_) | AuthError::Busy)) => {
            refusal_page(&pages, view, &e)
        }
        Err(e) => {
            let (status, text) = problem(&e);
            let mut r = html(
                &pages,
                status,
                forgot_view(view, csrf, Some(&form), None, Some(text)).render(),
            );
            rate_headers(&mut r, &e);
            r
        }
    }
}

fn reset_view(
    chrome: Chrome,
    csrf: String,
    identifier: String,
    contact: String,
    notice: Option<String>,
    error: Option<String>,
) -> views::ResetPassword {
    views::ResetPassword {
        title: chrome.t.reset_password.to_owned(),
        chrome,
        notice,
        error,
        csrf,
        identifier,
        contact,
    }
}

/// `GET /ui/reset-password[?identifier=…&contact=…]`.
pub(super) async fn reset_password_page<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
) -> HttpResponse {
    let query = super::query_of(&req);
    let view = chrome(&pages, &req, None);
    let sent = query.contains_key("contact");
    let notice = sent.then(|| m::RESET_CODE_SENT.get().to_owned());
    let (identifier, contact) = (
        query.get("identifier").cloned().unwrap_or_default(),
        query.get("contact").cloned().unwrap_or_default(),
    );
    anonymous_page(
        &pages,
        &req,
        StatusCode::OK,
        |csrf| reset_view(view, csrf, identifier, contact, notice, None).render(),
        |nonce| state.auth.form_token(nonce).expose().to_owned(),
    )
}

/// `POST /ui/reset-password`: the code and a new password; every session
/// of the account ends.
pub(super) async fn reset_password<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    body: FormBody,
) -> HttpResponse {
    let view = chrome(&pages, &req, None);
    let form = match anonymous_form(&state, &pages, &req, &view, body) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let client = client_info(&req, &state.trusted_proxies);
    let contact = form.text("contact");
    // The new password is judged here first, against the policy and the
    // account as typed, so that its refusal reads the same whether or not
    // the account exists (the use case screens it against the account's own
    // name and address only when it does).
    let policy = &state.auth.settings().password_policy;
    let judged = PasswordInput::Plain(form.get("new_password").unwrap_or_default())
        .new_password(policy)
        .and_then(|p| p.screen(policy, &form.text("identifier"), &contact));
    if let Err(issue) = judged {
        let text = m::field_issue("new_password", &issue);
        let (csrf, identifier) = (form.text("csrf"), form.text("identifier"));
        return html(
            &pages,
            StatusCode::BAD_REQUEST,
            reset_view(view, csrf, identifier, contact, None, Some(text)).render(),
        );
    }
    let request = reset_request(&form, &contact, &client);
    match state
        .auth
        .reset_password(
            request,
            form.get("code"),
            form.get("new_password").map(PasswordInput::Plain),
            crate::http::locale(),
        )
        .await
    {
        Ok(()) => {
            let t = view.t;
            message_page(
                &pages,
                view,
                StatusCode::OK,
                t.reset_password,
                vec![t.reset_done.to_owned()],
                Some(("/ui/sign-in".to_owned(), t.sign_in.to_owned())),
            )
        }
        Err(e @ (AuthError::Unavailable(_) | AuthError::Internal(_) | AuthError::Busy)) => {
            refusal_page(&pages, view, &e)
        }
        Err(_) => {
            // Whether the account exists, has that address, has a live code
            // or is throttled is not told: every other refusal reads alike.
            let (status, text) = problem(&AuthError::CodeInvalid);
            let csrf = form.text("csrf");
            let identifier = form.text("identifier");
            html(
                &pages,
                status,
                reset_view(view, csrf, identifier, contact, None, Some(text)).render(),
            )
        }
    }
}

/// `POST /ui/sign-in/passkey`: a sign-in with a passkey alone (the page's
/// script posts the ceremony and the credential); on success as
/// `/ui/sign-in`, else the sign-in form with the reason.
pub(super) async fn passkey_sign_in<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    body: FormBody,
) -> HttpResponse {
    let view = chrome(&pages, &req, None);
    let form = match anonymous_form(&state, &pages, &req, &view, body) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let Ok(return_to) = checked_return_to(&pages, form.get("return_to")) else {
        return return_to_refused(&pages, view);
    };
    match state
        .auth
        .sign_in_browser_with_passkey(
            form.get("ceremony_token").unwrap_or_default(),
            form.get("credential").unwrap_or_default(),
            client_info(&req, &state.trusted_proxies),
        )
        .await
    {
        Ok(signed) => signed_in_answer(&pages, &req, &signed, return_to),
        Err(e @ (AuthError::Unavailable(_) | AuthError::Internal(_) | AuthError::Busy)) => {
            refusal_page(&pages, view, &e)
        }
        Err(e) => {
            let (status, text) = problem(&e);
            let csrf = form.text("csrf");
            let mut r = html(
                &pages,
                status,
                sign_in_view(view, csrf, return_to, String::new(), Some(text)).render(),
            );
            rate_headers(&mut r, &e);
            r
        }
    }
}

/// The page of a sign-in by code (issue 20).
fn code_view(
    chrome: Chrome,
    csrf: String,
    return_to: Option<String>,
    identifier: String,
    code_step: bool,
    notice: Option<String>,
    error: Option<String>,
) -> views::SignInCode {
    views::SignInCode {
        title: chrome.t.code_sign_in_title.to_owned(),
        chrome,
        notice,
        error,
        csrf,
        return_to,
        identifier,
        code_step,
    }
}

/// `GET /ui/sign-in/code` (`PASSWORDLESS_LOGIN`; otherwise the refusal page).
pub(super) async fn sign_in_code_page<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
) -> HttpResponse {
    let view = chrome(&pages, &req, None);
    if !state.auth.settings().passwordless_login {
        return refusal_page(&pages, view, &AuthError::PasswordlessLoginDisabled);
    }
    let query = super::query_of(&req);
    let Ok(return_to) = checked_return_to(&pages, query.get("return_to").map(String::as_str))
    else {
        return return_to_refused(&pages, view);
    };
    anonymous_page(
        &pages,
        &req,
        StatusCode::OK,
        |csrf| code_view(view, csrf, return_to, String::new(), false, None, None).render(),
        |nonce| state.auth.form_token(nonce).expose().to_owned(),
    )
}

/// `POST /ui/sign-in/code`: sends the code and shows the field to type it.
/// Whether an account may sign in with the identifier is not told: both
/// answer as a sent code (so does the per-identifier resend limit).
pub(super) async fn send_sign_in_code<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    body: FormBody,
) -> HttpResponse {
    let view = chrome(&pages, &req, None);
    let form = match anonymous_form(&state, &pages, &req, &view, body) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let Ok(return_to) = checked_return_to(&pages, form.get("return_to")) else {
        return return_to_refused(&pages, view);
    };
    let identifier = form.text("identifier");
    let csrf = form.text("csrf");
    match state
        .auth
        .request_sign_in_code(Some(&identifier), crate::http::locale())
        .await
    {
        Ok(_) | Err(AuthError::TooManyRequests { .. }) => {
            let notice = Some(view.t.sign_in_code_sent.to_owned());
            html(
                &pages,
                StatusCode::OK,
                code_view(view, csrf, return_to, identifier, true, notice, None).render(),
            )
        }
        Err(e @ AuthError::Validation(_)) => {
            let (status, text) = problem(&e);
            html(
                &pages,
                status,
                code_view(view, csrf, return_to, identifier, false, None, Some(text)).render(),
            )
        }
        Err(e) => refusal_page(&pages, view, &e),
    }
}

/// `POST /ui/sign-in/code/verify`: the code; then as `POST /ui/sign-in`
/// (the second-factor step, or the session cookie and `return_to`).
pub(super) async fn verify_sign_in_code<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    body: FormBody,
) -> HttpResponse {
    let return_to = posted_return_to(&body);
    let r = sign_in_with_code(state.clone(), pages, req, body).await;
    super::oauth::allow_client_redirect(&state, return_to.as_deref(), r).await
}

async fn sign_in_with_code<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    body: FormBody,
) -> HttpResponse {
    let view = chrome(&pages, &req, None);
    let form = match anonymous_form(&state, &pages, &req, &view, body) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let Ok(return_to) = checked_return_to(&pages, form.get("return_to")) else {
        return return_to_refused(&pages, view);
    };
    let identifier = form.text("identifier");
    let csrf = form.text("csrf");
    match state
        .auth
        .sign_in_browser_with_code(
            &identifier,
            form.get("code").unwrap_or_default(),
            client_info(&req, &state.trusted_proxies),
        )
        .await
    {
        Ok(BrowserStep::SignedIn(signed)) => signed_in_answer(&pages, &req, &signed, return_to),
        Ok(BrowserStep::SecondFactor(challenge)) => {
            second_factor_page(&state, &pages, view, csrf, &challenge, return_to).await
        }
        Err(e @ (AuthError::Unavailable(_) | AuthError::Internal(_) | AuthError::Busy)) => {
            refusal_page(&pages, view, &e)
        }
        Err(e) => {
            let (status, text) = problem(&e);
            let mut r = html(
                &pages,
                status,
                code_view(view, csrf, return_to, identifier, true, None, Some(text)).render(),
            );
            rate_headers(&mut r, &e);
            r
        }
    }
}

/// `GET /ui/account/revert?token=…` (issue 20): what the link mailed to the
/// previous address would undo, and the button; opening it changes nothing
/// (a mail scanner's GET must not sign everyone out).
pub(super) async fn contact_revert_page<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
) -> HttpResponse {
    let query = super::query_of(&req);
    let token = query.get("token").cloned().unwrap_or_default();
    let view = chrome(&pages, &req, None);
    let t = view.t;
    let (status, question, error) = match state.auth.preview_contact_revert(&token).await {
        Ok(preview) => {
            let kind = match preview.kind {
                tessera_domain::model::ContactKind::Email => t.kind_email,
                tessera_domain::model::ContactKind::Phone => t.kind_phone,
            };
            let question = t
                .undo_change_text
                .replace("{username}", &preview.username)
                .replace("{kind}", kind)
                .replace(
                    "{restore}",
                    preview.restore.as_deref().unwrap_or(t.no_phone),
                )
                .replace("{replaced}", &preview.replaced_by);
            (StatusCode::OK, question, None)
        }
        Err(e @ (AuthError::Unavailable(_) | AuthError::Internal(_) | AuthError::Busy)) => {
            return refusal_page(&pages, view, &e);
        }
        Err(e @ AuthError::CodeExpired) => (
            problem(&e).0,
            String::new(),
            Some(t.revert_link_dead.to_owned()),
        ),
        Err(e) => {
            let (status, text) = problem(&e);
            (status, String::new(), Some(text))
        }
    };
    anonymous_page(
        &pages,
        &req,
        status,
        |csrf| revert_view(view, csrf, token, question, None, error).render(),
        |nonce| state.auth.form_token(nonce).expose().to_owned(),
    )
}

fn revert_view(
    chrome: Chrome,
    csrf: String,
    token: String,
    question: String,
    notice: Option<String>,
    error: Option<String>,
) -> views::ContactRevert {
    views::ContactRevert {
        title: chrome.t.undo_change.to_owned(),
        chrome,
        notice,
        error,
        csrf,
        token,
        question,
    }
}

/// `POST /ui/account/revert`: undoes the change; every session of the
/// account ends (this browser's too, if it had one).
pub(super) async fn contact_revert<P: Ports>(
    state: State<P>,
    pages: Pages,
    req: HttpRequest,
    body: FormBody,
) -> HttpResponse {
    let view = chrome(&pages, &req, None);
    let form = match anonymous_form(&state, &pages, &req, &view, body) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let token = form.text("token");
    match state
        .auth
        .revert_contact_change(&token, &client_info(&req, &state.trusted_proxies))
        .await
    {
        Ok(_) => {
            let t = view.t;
            message_page(
                &pages,
                view,
                StatusCode::OK,
                t.undo_change,
                vec![t.change_undone_text.to_owned()],
                Some((
                    "/ui/forgot-password".to_owned(),
                    t.forgot_password.to_owned(),
                )),
            )
        }
        Err(e @ (AuthError::Unavailable(_) | AuthError::Internal(_) | AuthError::Busy)) => {
            refusal_page(&pages, view, &e)
        }
        Err(e) => {
            let (status, text) = problem(&e);
            let text = if matches!(e, AuthError::CodeExpired) {
                view.t.revert_link_dead.to_owned()
            } else {
                text
            };
            let csrf = form.text("csrf");
            html(
                &pages,
                status,
                revert_view(view, csrf, token, String::new(), None, Some(text)).render(),
            )
        }
    }
}
