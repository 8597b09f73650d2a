//! The pages' templates (`crates/server/templates/pages/`), checked when
//! the server is compiled (askama): one struct per page, its fields the
//! page's values. Every value is HTML-escaped by the template.

// The template structs' fields are the names their templates use.
#![allow(missing_docs)]

use askama::Template;

use super::texts::{self, Texts};

/// The parts of every page: its words, the product and the navigation.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// The words in the page's language.
    pub t: &'static Texts,
    /// `MAIL_PRODUCT_NAME`.
    pub product: String,
    /// `PAGES_LOGO_URL`.
    pub logo_url: Option<String>,
    /// Who is signed in, if anyone.
    pub signed_in: Option<SignedInNav>,
    /// This page's path and query (the language switcher comes back here).
    pub back: String,
}

impl Chrome {
    /// The parts of a page built without the request's state (404, 405):
    /// the product name is Tessera's.
    #[must_use]
    pub fn bare() -> Self {
        Self {
            t: texts::of(crate::http::messages::current()),
            product: "Tessera".to_owned(),
            logo_url: None,
            signed_in: None,
            back: "/ui/account".to_owned(),
        }
    }
}

/// The navigation of a signed-in browser.
#[derive(Debug, Clone)]
pub struct SignedInNav {
    /// The username.
    pub name: String,
    /// Whether the account may open the admin console (`user:read`).
    pub admin: bool,
    /// The session's form token (the sign-out form).
    pub csrf: String,
}

/// `/oauth/authorize`: the consent page (issue 18).
#[derive(Template)]
#[template(path = "pages/consent.html")]
pub struct Consent {
    pub chrome: Chrome,
    pub title: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub csrf: String,
    /// The authorization request's parameters, posted back with the answer.
    pub params: Vec<(String, String)>,
    pub client_name: String,
    pub scopes: Vec<String>,
}

/// `/oauth/logout`: the confirmation of an RP-initiated logout (issue 18).
#[derive(Template)]
#[template(path = "pages/logout.html")]
pub struct Logout {
    pub chrome: Chrome,
    pub title: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub csrf: String,
    pub params: Vec<(String, String)>,
    pub client_name: Option<String>,
}

/// One client of the console's applications.
pub struct ClientRow {
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    pub confidential: bool,
    pub first_party: bool,
    pub disabled: bool,
    pub redirect_uris: Vec<String>,
}

/// `/ui/admin/clients`.
#[derive(Template)]
#[template(path = "pages/admin_clients.html")]
pub struct AdminClients {
    pub chrome: Chrome,
    pub title: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub csrf: String,
    pub clients: Vec<ClientRow>,
}

/// A page with paragraphs and a link.
#[derive(Template)]
#[template(path = "pages/message.html")]
pub struct Message {
    pub chrome: Chrome,
    pub title: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub paragraphs: Vec<String>,
    /// (href, label).
    pub link: Option<(String, String)>,
}

/// `/ui/sign-in`.
#[derive(Template)]
#[template(path = "pages/sign_in.html")]
pub struct SignIn {
    pub chrome: Chrome,
    pub title: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub csrf: String,
    pub return_to: Option<String>,
    pub identifier: String,
    /// The enabled upstream providers: `(id, name)`.
    pub providers: Vec<(String, String)>,
    /// `PASSWORDLESS_LOGIN`: offer sign-in by a one-time code.
    pub code_sign_in: bool,
}

/// `/ui/sign-in/code`: ask for a one-time code, then type it (issue 20).
#[derive(Template)]
#[template(path = "pages/sign_in_code.html")]
pub struct SignInCode {
    pub chrome: Chrome,
    pub title: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub csrf: String,
    pub return_to: Option<String>,
    pub identifier: String,
    /// A code was asked for: show the field to type it.
    pub code_step: bool,
}

/// `/ui/account/revert`: what the link would undo, and the button (issue 20).
#[derive(Template)]
#[template(path = "pages/contact_revert.html")]
pub struct ContactRevert {
    pub chrome: Chrome,
    pub title: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub csrf: String,
    pub token: String,
    /// The question, with the account and values in it.
    pub question: String,
}

/// The second-factor step of `/ui/sign-in`.
#[derive(Template)]
#[template(path = "pages/second_factor.html")]
pub struct SecondFactor {
    pub chrome: Chrome,
    pub title: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub csrf: String,
    pub mfa_token: String,
    pub return_to: Option<String>,
    /// The account has a passkey: offer it.
    pub passkey: bool,
    /// The account must enrol a factor first (`MFA_REQUIRED_ROLES`): the
    /// QR code (an SVG element) of the TOTP enrolment begun for it.
    pub enrol_qr: Option<String>,
    /// The enrolment's base32 key in groups of four.
    pub enrol_secret: String,
}

/// A TOTP enrolment waiting for its first code.
#[derive(Template)]
#[template(path = "pages/totp_setup.html")]
pub struct TotpSetup {
    pub chrome: Chrome,
    pub title: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub csrf: String,
    /// An SVG element (rectangles only, made by `qrcode` from the URI).
    pub qr_svg: String,
    /// The base32 key in groups of four.
    pub secret: String,
}

/// New recovery codes, shown once.
#[derive(Template)]
#[template(path = "pages/recovery_codes.html")]
pub struct RecoveryCodes {
    pub chrome: Chrome,
    pub title: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub codes: Vec<String>,
}

/// `/ui/sign-up`.
#[derive(Template)]
#[template(path = "pages/sign_up.html")]
pub struct SignUp {
    pub chrome: Chrome,
    pub title: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub csrf: String,
    pub username: String,
    pub email: String,
    pub phone: String,
    pub username_min: usize,
    pub username_max: usize,
    pub password_min: usize,
    pub password_max: usize,
    pub password_mixed: bool,
    pub password_screened: bool,
}

/// `/ui/verify-email`.
#[derive(Template)]
#[template(path = "pages/verify_email.html")]
pub struct VerifyEmail {
    pub chrome: Chrome,
    pub title: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub csrf: String,
    pub email: String,
}

/// `/ui/forgot-password`.
#[derive(Template)]
#[template(path = "pages/forgot_password.html")]
pub struct ForgotPassword {
    pub chrome: Chrome,
    pub title: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub csrf: String,
    pub identifier: String,
    pub contact: String,
}

/// `/ui/reset-password`.
#[derive(Template)]
#[template(path = "pages/reset_password.html")]
pub struct ResetPassword {
    pub chrome: Chrome,
    pub title: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub csrf: String,
    pub identifier: String,
    pub contact: String,
}

/// One row of the account page's session list.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub id: String,
    pub device: String,
    pub ip: String,
    /// RFC 3339, UTC, whole seconds.
    pub created_at: String,
    /// RFC 3339, UTC, whole seconds.
    pub last_used_at: String,
    /// The session of this browser.
    pub current: bool,
}

/// `/ui/account`.
#[derive(Template)]
#[template(path = "pages/account.html")]
pub struct Account {
    pub chrome: Chrome,
    pub title: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub csrf: String,
    pub username: String,
    pub email: String,
    pub email_verified: bool,
    pub phone: Option<String>,
    pub roles: String,
    /// RFC 3339, UTC, whole seconds.
    pub created_at: String,
    pub sessions: Vec<SessionRow>,
    /// A confirmed TOTP factor.
    pub totp_enabled: bool,
    /// Any factor (TOTP or a passkey): logins ask for a second step.
    pub mfa_enabled: bool,
    /// Unused recovery codes.
    pub recovery_left: u32,
    /// The account's passkeys.
    pub passkeys: Vec<PasskeyRow>,
    /// The upstream identities linked to the account.
    pub identities: Vec<IdentityRow>,
    /// The enabled providers, to connect another: `(id, name)`.
    pub providers: Vec<(String, String)>,
    /// A pending link of this browser's to confirm: the question.
    pub pending_link: Option<String>,
    /// What "Delete my account" does, with `ACCOUNT_DELETION_GRACE` in it.
    pub deletion_text: String,
    /// A change of `email` or `phone` waits for its code: show its field.
    pub pending_contact: Option<String>,
}

/// One linked identity on the account page.
#[derive(Debug, Clone)]
pub struct IdentityRow {
    pub provider: String,
    pub provider_name: String,
    pub subject: String,
    pub email: String,
    /// RFC 3339, UTC, whole seconds.
    pub linked_at: String,
}

/// One passkey on the account page.
#[derive(Debug, Clone)]
pub struct PasskeyRow {
    pub id: String,
    pub name: String,
    /// RFC 3339, UTC, whole seconds.
    pub created_at: String,
    /// RFC 3339, UTC, whole seconds; `None` before its first use.
    pub last_used_at: Option<String>,
}

/// One row of the admin console's user list.
#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub roles: String,
    pub active: bool,
    /// RFC 3339, UTC, whole seconds.
    pub created_at: String,
}

/// `/ui/admin/users`.
#[derive(Template)]
#[template(path = "pages/admin_users.html")]
pub struct AdminUsers {
    pub chrome: Chrome,
    pub title: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub q: String,
    /// (value, label, selected).
    pub orders: Vec<(&'static str, &'static str, bool)>,
    pub users: Vec<UserRow>,
    pub total: u64,
    pub page: u64,
    pub pages: u64,
    pub previous: Option<String>,
    pub next: Option<String>,
}

/// `/ui/admin/users/{id}`.
#[derive(Template)]
#[template(path = "pages/admin_user.html")]
pub struct AdminUser {
    pub chrome: Chrome,
    pub title: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub csrf: String,
    pub id: i64,
    pub username: String,
    pub email: String,
    pub email_verified: bool,
    pub phone: Option<String>,
    pub active: bool,
    /// RFC 3339, UTC, whole seconds.
    pub created_at: String,
    pub roles: Vec<String>,
    /// The catalogue's roles the account does not hold.
    pub grantable: Vec<String>,
    /// What the caller's roles allow: the forms shown (`user:update`,
    /// `role:update`, `session:revoke`, `user:delete`).
    pub may_update: bool,
    pub may_change_roles: bool,
    pub may_end_sessions: bool,
    pub may_delete: bool,
    /// The second factors a login asks for (`totp, recovery_code`); empty
    /// for none.
    pub factor_kinds: String,
}

/// One row of the admin console's audit log.
#[derive(Debug, Clone)]
pub struct AuditRow {
    /// RFC 3339, UTC, whole seconds.
    pub at: String,
    pub kind: &'static str,
    pub actor: Option<i64>,
    pub subject: Option<i64>,
    pub ip: String,
    /// The user agent (`tessera-cli` for the command line).
    pub client: String,
    pub detail: String,
}

/// `/ui/admin/audit`.
#[derive(Template)]
#[template(path = "pages/admin_audit.html")]
pub struct AdminAudit {
    pub chrome: Chrome,
    pub title: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub user: String,
    /// (kind, selected).
    pub kinds: Vec<(&'static str, bool)>,
    pub since: String,
    pub until: String,
    pub events: Vec<AuditRow>,
    pub total: u64,
    pub page: u64,
    pub pages: u64,
    pub previous: Option<String>,
    pub next: Option<String>,
}

/// One provider of the admin console's list.
#[derive(Debug, Clone)]
pub struct ProviderRow {
    pub id: String,
    pub name: String,
    /// `oidc` or `oauth2`, with the preset when there is one.
    pub kind: String,
    pub console: bool,
    pub enabled: bool,
    pub callback: String,
}

/// One webhook endpoint of `/ui/admin/webhooks`.
pub struct WebhookRow {
    pub id: i64,
    pub url: String,
    /// The event types, comma-separated.
    pub events: String,
    pub description: String,
    pub enabled: bool,
}

/// `/ui/admin/webhooks`.
#[derive(Template)]
#[template(path = "pages/admin_webhooks.html")]
pub struct AdminWebhooks {
    pub chrome: Chrome,
    pub title: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub csrf: String,
    pub webhooks: Vec<WebhookRow>,
    /// Every event type with its checkbox's field name.
    pub event_types: Vec<(&'static str, String)>,
}

/// One delivery of `/ui/admin/webhooks/{id}`.
pub struct DeliveryRow {
    pub message_id: String,
    pub kind: &'static str,
    pub user_id: i64,
    pub occurred_at: String,
    pub state: &'static str,
    pub next_attempt_at: Option<String>,
    /// Each attempt: time, status or error, duration.
    pub attempts: Vec<String>,
}

/// `/ui/admin/webhooks/{id}`.
#[derive(Template)]
#[template(path = "pages/admin_webhook.html")]
pub struct AdminWebhookDeliveries {
    pub chrome: Chrome,
    pub title: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub deliveries: Vec<DeliveryRow>,
}

/// `/ui/admin/providers`.
#[derive(Template)]
#[template(path = "pages/admin_providers.html")]
pub struct AdminProviders {
    pub chrome: Chrome,
    pub title: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub csrf: String,
    pub providers: Vec<ProviderRow>,
}
