//! "Export my data" (issue 20): everything Tessera keeps about an account,
//! for its holder, in one document — the right of access of GDPR Art. 15 and
//! the portability of Art. 20. Secrets stay out: no password hash, no TOTP
//! secret, no recovery code, no token, no passkey key (only the factors'
//! kinds and the passkeys' names and dates).

use chrono::{DateTime, Utc};

use super::{AuthService, Authenticated};
use crate::error::AuthError;
use crate::model::{
    AuditEvent, AuditKind, AuditQuery, Consent, FactorOverview, LinkedIdentity, Passkey, Session,
    User,
};
use crate::ports::{AuditLog as _, ClientRegistry as _, Ports, UserRepository as _};

/// The newest audit events an export carries at most; older ones are
/// counted in [`AccountExport::audit_total`].
pub const EXPORT_AUDIT_LIMIT: u64 = 10_000;

/// Audit events read per query while exporting.
const AUDIT_PAGE: u32 = 500;

/// A consent and the name of the client it was given to (`None` when the
/// client no longer reads back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedConsent {
    /// The consent.
    pub consent: Consent,
    /// The client's display name.
    pub client_name: Option<String>,
}

/// One account's data as [`AuthService::export_account`] gathers it. Every
/// part is what the holder's own routes show; together they are what the
/// stores keep about the account, secrets left out.
#[derive(Debug, Clone)]
pub struct AccountExport {
    /// When the export was made.
    pub exported_at: DateTime<Utc>,
    /// The account (its hash is never serialised by any adapter).
    pub user: User,
    /// The permissions its roles grant.
    pub permissions: Vec<String>,
    /// Its live sessions, oldest first.
    pub sessions: Vec<Session>,
    /// Its second factors: kinds and counts, no secret.
    pub factors: FactorOverview,
    /// Its passkeys (adapters show names and dates, not keys).
    pub passkeys: Vec<Passkey>,
    /// Identities at upstream providers linked to it.
    pub identities: Vec<LinkedIdentity>,
    /// Consents it gave to the OpenID Provider's clients.
    pub consents: Vec<ExportedConsent>,
    /// Audit events whose actor or subject it is, newest first, at most
    /// [`EXPORT_AUDIT_LIMIT`].
    pub audit: Vec<AuditEvent>,
    /// How many such events the trail holds in all.
    pub audit_total: u64,
}

impl<P: Ports> AuthService<P> {
    /// Everything kept about the caller's account (issue 20, "Export my
    /// data"). Any valid access token of the account may ask, as for its
    /// profile; the export is audited (`account_exported`).
    ///
    /// # Errors
    /// [`AuthError::UserNotFound`] when the account is gone;
    /// [`AuthError::Unavailable`] when a store fails or the audit trail
    /// cannot be read back (an export without it would be incomplete).
    pub async fn export_account(&self, auth: &Authenticated) -> Result<AccountExport, AuthError> {
        let user = self
            .ports
            .users
            .find_by_id(auth.user_id())
            .await?
            .ok_or(AuthError::UserNotFound)?;
        let permissions = self.permissions_of(&user).await?;
        let sessions = self.list_sessions(auth).await?;
        let factors = self.factors_of(&user).await?;
        let passkeys = self.passkeys(auth).await?;
        let identities = self.linked_identities(auth).await?;
        let mut consents = Vec::new();
        for consent in self.ports.clients.consents_of(user.id).await? {
            let client_name = self
                .ports
                .clients
                .client(&consent.client_id)
                .await?
                .map(|c| c.name);
            consents.push(ExportedConsent {
                consent,
                client_name,
            });
        }
        let (audit, audit_total) = self.own_audit_events(&user).await?;
        self.audit(self.by_self(AuditKind::AccountExported, auth, None))
            .await;
        Ok(AccountExport {
            exported_at: self.now(),
            user,
            permissions,
            sessions,
            factors,
            passkeys,
            identities,
            consents,
            audit,
            audit_total,
        })
    }

    /// The newest [`EXPORT_AUDIT_LIMIT`] events about `user`, and how many
    /// there are in all; an administrator's IP address and user agent left
    /// out of the events they made.
    async fn own_audit_events(&self, user: &User) -> Result<(Vec<AuditEvent>, u64), AuthError> {
        let mut events = Vec::new();
        let mut total = 0;
        loop {
            let page = self
                .ports
                .audit
                .query(&AuditQuery {
                    user: Some(user.id),
                    offset: events.len() as u64,
                    limit: AUDIT_PAGE,
                    ..AuditQuery::default()
                })
                .await?;
            total = total.max(page.total);
            let read = page.events.len();
            events.extend(page.events);
            if read < AUDIT_PAGE as usize || events.len() as u64 >= EXPORT_AUDIT_LIMIT {
                break;
            }
        }
        events.truncate(usize::try_from(EXPORT_AUDIT_LIMIT).unwrap_or(usize::MAX));
        let total = total.max(events.len() as u64);
        // Where another account (an administrator) acted from is that
        // account's data, not this one's: only the holder's own requests,
        // and those of nobody signed in (a failed sign-in), keep theirs.
        for e in &mut events {
            if e.actor.is_some_and(|actor| actor != user.id) {
                e.client = crate::model::ClientInfo::without_peer(None);
                e.identifier = None;
            }
        }
        Ok((events, total))
    }
}
