//! `GET /api/auth/me/export` (issue 20, "Export my data"): the account's
//! data in one JSON document, the shape the account page's download also
//! uses. Secrets never appear: no password hash, TOTP secret, recovery code,
//! token or passkey key.

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use serde::Serialize;
use tessera_domain::model::AuditEvent;
use tessera_domain::ports::Ports;
use tessera_domain::usecase::{AccountExport, ExportedConsent};
use utoipa::ToSchema;

use super::dto;
use super::errors::ModernError;
use super::factors::Factors;
use super::federation::IdentityView;
use super::passkeys::{PasskeyView, rfc3339};
use crate::http::AppState;
use crate::openapi::TOKEN_REFUSED;

type State<P> = web::Data<AppState<P>>;

/// The document's version: a field only ever added under the same number.
pub const EXPORT_FORMAT: &str = "tessera.account-export.v1";

/// `GET /api/auth/me/export`: everything Tessera keeps about the caller's
/// account. Times are `YYYY-MM-DDTHH:MM:SSZ`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccountExportDocument {
    /// `tessera.account-export.v1`.
    pub format: String,
    pub exported_at: String,
    pub profile: ExportedProfile,
    /// Live sessions, oldest first.
    pub sessions: Vec<ExportedSession>,
    /// Second factors: kinds and counts, no secret.
    pub factors: Factors,
    /// Passkeys: names and dates, no key.
    pub passkeys: Vec<PasskeyView>,
    /// Identities at upstream providers linked to the account.
    pub identities: Vec<IdentityView>,
    /// Consents given to applications that sign in through Tessera.
    pub consents: Vec<ExportedConsentView>,
    pub audit: ExportedAudit,
}

/// The account as stored, without its password hash.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExportedProfile {
    pub id: i64,
    pub uuid: String,
    pub username: String,
    pub email: String,
    pub phone: Option<String>,
    pub role: String,
    pub roles: Vec<String>,
    /// What the roles grant.
    pub permissions: Vec<String>,
    pub is_active: bool,
    pub email_verified: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// One live session.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExportedSession {
    pub id: String,
    /// Whether the export was asked for with its token.
    pub current: bool,
    pub ip: Option<String>,
    /// The `User-Agent` it signed in with.
    pub user_agent: Option<String>,
    /// RFC 8176 methods of its sign-in (`pwd`, `otp`, `hwk`, `fed`, …).
    pub amr: Vec<String>,
    pub authenticated_at: String,
    pub created_at: String,
    pub last_used_at: String,
    pub expires_at: String,
    /// The OpenID Provider's client it was opened for, if any.
    pub client_id: Option<String>,
}

/// A consent given to a client.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExportedConsentView {
    pub client_id: String,
    /// `null` when the client no longer exists.
    pub client_name: Option<String>,
    pub scopes: Vec<String>,
    pub updated_at: String,
}

/// The audit events whose actor or subject the account is, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExportedAudit {
    /// Such events in the trail; more than `events` holds when over 10,000.
    pub total: u64,
    pub events: Vec<ExportedAuditEvent>,
}

/// One audit event.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExportedAuditEvent {
    pub at: String,
    /// `login_succeeded`, `password_changed`, … (docs/operations.md).
    pub kind: String,
    /// The account that acted (the holder, or an administrator).
    pub actor_id: Option<i64>,
    pub subject_id: Option<i64>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// A role, a reason, a count.
    pub detail: Option<String>,
}

impl From<&AuditEvent> for ExportedAuditEvent {
    fn from(e: &AuditEvent) -> Self {
        Self {
            at: rfc3339(e.at),
            kind: e.kind.as_str().to_owned(),
            actor_id: e.actor.map(|u| u.0),
            subject_id: e.subject.map(|u| u.0),
            ip: e.client.ip.clone(),
            user_agent: e.client.user_agent.clone(),
            detail: e.detail.clone(),
        }
    }
}

impl From<&ExportedConsent> for ExportedConsentView {
    fn from(c: &ExportedConsent) -> Self {
        Self {
            client_id: c.consent.client_id.to_string(),
            client_name: c.client_name.clone(),
            scopes: c
                .consent
                .scopes
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
            updated_at: rfc3339(c.consent.updated_at),
        }
    }
}

impl AccountExportDocument {
    /// The document of `export`, made for the session `current`.
    #[must_use]
    pub fn new(export: AccountExport, current: tessera_domain::model::SessionId) -> Self {
        let u = &export.user;
        Self {
            format: EXPORT_FORMAT.to_owned(),
            exported_at: rfc3339(export.exported_at),
            profile: ExportedProfile {
                id: u.id.0,
                uuid: u.public_id.to_string(),
                username: u.username.as_str().to_owned(),
                email: u.email.as_str().to_owned(),
                phone: u.phone.as_ref().map(|p| p.as_str().to_owned()),
                role: u.role.as_str().to_owned(),
                roles: u.roles.iter().map(|r| r.as_str().to_owned()).collect(),
                permissions: export.permissions.clone(),
                is_active: u.is_active,
                email_verified: u.email_verified,
                created_at: rfc3339(u.created_at),
                updated_at: rfc3339(u.updated_at),
            },
            sessions: export
                .sessions
                .iter()
                .map(|s| ExportedSession {
                    id: s.id.0.to_string(),
                    current: s.id == current,
                    ip: s.client.ip.clone(),
                    user_agent: s.client.user_agent.clone(),
                    amr: s
                        .authentication
                        .methods
                        .iter()
                        .map(|m| m.as_str().to_owned())
                        .collect(),
                    authenticated_at: rfc3339(s.authentication.at),
                    created_at: rfc3339(s.created_at),
                    last_used_at: rfc3339(s.last_used_at),
                    expires_at: rfc3339(s.expires_at),
                    client_id: s.issued_to.as_ref().map(ToString::to_string),
                })
                .collect(),
            factors: Factors::from(export.factors),
            passkeys: export.passkeys.iter().map(PasskeyView::from).collect(),
            identities: export.identities.iter().map(IdentityView::from).collect(),
            consents: export
                .consents
                .iter()
                .map(ExportedConsentView::from)
                .collect(),
            audit: ExportedAudit {
                total: export.audit_total,
                events: export.audit.iter().map(ExportedAuditEvent::from).collect(),
            },
        }
    }

    /// The document as a download: `200`, JSON, and
    /// `Content-Disposition: attachment; filename="tessera-export-{username}.json"`;
    /// a username beyond ASCII letters, digits and `_` (`张三`) goes in
    /// RFC 6266's `filename*=UTF-8''…` beside an ASCII `filename`.
    #[must_use]
    pub fn download(&self) -> HttpResponse {
        let name = format!("tessera-export-{}.json", self.profile.username);
        let disposition = if name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            header::ContentDisposition::attachment(name)
        } else {
            header::ContentDisposition {
                disposition: header::DispositionType::Attachment,
                parameters: vec![
                    header::DispositionParam::Filename("tessera-export.json".to_owned()),
                    header::DispositionParam::FilenameExt(header::ExtendedValue {
                        charset: header::Charset::Ext("UTF-8".to_owned()),
                        language_tag: None,
                        value: name.into_bytes(),
                    }),
                ],
            }
        };
        HttpResponse::Ok()
            .insert_header((header::CONTENT_DISPOSITION, disposition))
            .json(self)
    }
}

#[utoipa::path(get, path = "/api/auth/me/export", tag = super::TAG,
    summary = "Export my data: the account's profile, roles, sessions, factors, identities, consents and audit events",
    description = "One JSON document (`format` `tessera.account-export.v1`), served as an attachment. \
        No secret appears in it: no password hash, TOTP secret, recovery code, token or passkey key. \
        The audit part holds the newest 10,000 events whose actor or subject is the account \
        (`audit.total` counts them all). Each export is audited (`account_exported`).",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The export.", body = AccountExportDocument),
        (status = 401, description = TOKEN_REFUSED, body = dto::Error),
    ),
)]
pub async fn export<P: Ports>(
    state: State<P>,
    req: HttpRequest,
) -> Result<HttpResponse, ModernError> {
    let auth = crate::http::authenticate(&state, &req).await?;
    let current = auth.session_id();
    let export = state.auth.export_account(&auth).await?;
    Ok(AccountExportDocument::new(export, current).download())
}
