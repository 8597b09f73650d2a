//! Identities linked to accounts and the console's upstream providers
//! (issue 19), in the `upstream_identities` and `upstream_providers` tables.
//! A provider is one JSON document ([`ProviderDocument`]), so a setting
//! added later needs no migration.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel_async::{AsyncConnection as _, RunQueryDsl};
use serde::{Deserialize, Serialize};
use tessera_domain::error::StoreError;
use tessera_domain::model::{
    ClaimMapping, LinkedIdentity, OAuth2Endpoints, ProviderSource, TokenEndpointAuth, UpstreamId,
    UpstreamProtocol, UpstreamProvider, UserId,
};
use tessera_domain::ports::IdentityLinks;
use tessera_domain::secret::Secret;

use crate::db::{Database, unavailable, with_conn};
use crate::rows::{naive, utc};
use crate::schema::{upstream_identities as ui, upstream_providers as up};

/// Linked identities and console providers in SQL.
#[derive(Debug, Clone)]
pub struct SqlIdentities {
    db: Database,
}

impl SqlIdentities {
    /// The identities stored in `db`.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

/// A provider as stored in `upstream_providers.settings`.
#[derive(Serialize, Deserialize)]
struct ProviderDocument {
    display_name: String,
    preset: Option<String>,
    issuer: Option<String>,
    #[serde(default)]
    tenant_issuer: bool,
    oauth2: Option<OAuth2Document>,
    client_id: String,
    client_secret: String,
    token_auth: String,
    scopes: Vec<String>,
    allow_sign_up: bool,
    link_by_email: bool,
    enabled: bool,
}

#[derive(Serialize, Deserialize)]
struct OAuth2Document {
    authorization_url: String,
    token_url: String,
    userinfo_url: String,
    emails_url: Option<String>,
    subject: String,
    email: Option<String>,
    email_verified: Option<String>,
    name: Option<String>,
    username: Option<String>,
}

fn to_document(p: &UpstreamProvider) -> ProviderDocument {
    let (issuer, tenant_issuer, oauth2) = match &p.protocol {
        UpstreamProtocol::OpenIdConnect {
            issuer,
            tenant_issuer,
        } => (Some(issuer.clone()), *tenant_issuer, None),
        UpstreamProtocol::OAuth2(e) => (
            None,
            false,
            Some(OAuth2Document {
                authorization_url: e.authorization_url.clone(),
                token_url: e.token_url.clone(),
                userinfo_url: e.userinfo_url.clone(),
                emails_url: e.emails_url.clone(),
                subject: e.claims.subject.clone(),
                email: e.claims.email.clone(),
                email_verified: e.claims.email_verified.clone(),
                name: e.claims.name.clone(),
                username: e.claims.username.clone(),
            }),
        ),
    };
    ProviderDocument {
        display_name: p.display_name.clone(),
        preset: p.preset.clone(),
        issuer,
        tenant_issuer,
        oauth2,
        client_id: p.client_id.clone(),
        client_secret: p.client_secret.expose().to_owned(),
        token_auth: p.token_auth.as_str().to_owned(),
        scopes: p.scopes.clone(),
        allow_sign_up: p.allow_sign_up,
        link_by_email: p.link_by_email,
        enabled: p.enabled,
    }
}

/// A stored provider; `None` for a document this version cannot read.
fn from_document(id: &str, text: &str) -> Option<UpstreamProvider> {
    let d: ProviderDocument = serde_json::from_str(text).ok()?;
    let protocol = match (d.issuer, d.oauth2) {
        (Some(issuer), None) => UpstreamProtocol::OpenIdConnect {
            issuer,
            tenant_issuer: d.tenant_issuer,
        },
        (None, Some(o)) => UpstreamProtocol::OAuth2(OAuth2Endpoints {
            authorization_url: o.authorization_url,
            token_url: o.token_url,
            userinfo_url: o.userinfo_url,
            emails_url: o.emails_url,
            claims: ClaimMapping {
                subject: o.subject,
                email: o.email,
                email_verified: o.email_verified,
                name: o.name,
                username: o.username,
            },
        }),
        _ => return None,
    };
    Some(UpstreamProvider {
        id: UpstreamId::parse(id)?,
        display_name: d.display_name,
        preset: d.preset,
        protocol,
        client_id: d.client_id,
        client_secret: Secret::new(d.client_secret),
        token_auth: TokenEndpointAuth::parse(&d.token_auth)?,
        scopes: d.scopes,
        allow_sign_up: d.allow_sign_up,
        link_by_email: d.link_by_email,
        enabled: d.enabled,
        source: ProviderSource::Console,
    })
}

type IdentityRow = (
    String,
    String,
    i64,
    Option<String>,
    NaiveDateTime,
    Option<NaiveDateTime>,
);

fn identity_columns() -> (
    ui::provider,
    ui::subject,
    ui::user_id,
    ui::email,
    ui::linked_at,
    ui::last_used_at,
) {
    (
        ui::provider,
        ui::subject,
        ui::user_id,
        ui::email,
        ui::linked_at,
        ui::last_used_at,
    )
}

fn to_identity(r: IdentityRow) -> Option<LinkedIdentity> {
    let (provider, subject, user_id, email, linked_at, last_used_at) = r;
    Some(LinkedIdentity {
        user_id: UserId(user_id),
        provider: UpstreamId::parse(&provider)?,
        subject,
        email,
        linked_at: utc(linked_at),
        last_used_at: last_used_at.map(utc),
    })
}

impl IdentityLinks for SqlIdentities {
    async fn link(&self, identity: &LinkedIdentity) -> Result<bool, StoreError> {
        let row = (
            ui::provider.eq(identity.provider.as_str().to_owned()),
            ui::subject.eq(identity.subject.clone()),
            ui::user_id.eq(identity.user_id.0),
            ui::email.eq(identity.email.clone()),
            ui::linked_at.eq(naive(identity.linked_at)),
            ui::last_used_at.eq(identity.last_used_at.map(naive)),
        );
        let inserted = with_conn!(write &self.db, conn => {
            diesel::insert_or_ignore_into(ui::table)
                .values(row.clone())
                .execute(conn)
                .await
                .map_err(unavailable)
        })?;
        Ok(inserted == 1)
    }

    async fn linked(
        &self,
        provider: &UpstreamId,
        subject: &str,
    ) -> Result<Option<LinkedIdentity>, StoreError> {
        let row: Option<IdentityRow> = with_conn!(&self.db, conn => {
            ui::table
                .find((provider.as_str(), subject))
                .select(identity_columns())
                .first(conn)
                .await
                .optional()
                .map_err(unavailable)
        })?;
        Ok(row.and_then(to_identity))
    }

    async fn identities_of(&self, user: UserId) -> Result<Vec<LinkedIdentity>, StoreError> {
        let rows: Vec<IdentityRow> = with_conn!(&self.db, conn => {
            ui::table
                .filter(ui::user_id.eq(user.0))
                .order((ui::provider.asc(), ui::linked_at.asc()))
                .select(identity_columns())
                .load(conn)
                .await
                .map_err(unavailable)
        })?;
        Ok(rows.into_iter().filter_map(to_identity).collect())
    }

    async fn unlink(
        &self,
        user: UserId,
        provider: &UpstreamId,
        subject: &str,
    ) -> Result<bool, StoreError> {
        let provider = provider.as_str().to_owned();
        let subject = subject.to_owned();
        let removed = with_conn!(write &self.db, conn => {
            diesel::delete(
                ui::table
                    .find((&provider, &subject))
                    .filter(ui::user_id.eq(user.0)),
            )
            .execute(conn)
            .await
            .map_err(unavailable)
        })?;
        Ok(removed == 1)
    }

    async fn record_use(
        &self,
        provider: &UpstreamId,
        subject: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let provider = provider.as_str().to_owned();
        let subject = subject.to_owned();
        with_conn!(write &self.db, conn => {
            diesel::update(ui::table.find((&provider, &subject)))
                .set(ui::last_used_at.eq(Some(naive(at))))
                .execute(conn)
                .await
                .map_err(unavailable)
        })?;
        Ok(())
    }

    async fn providers(&self) -> Result<Vec<UpstreamProvider>, StoreError> {
        let rows: Vec<(String, String)> = with_conn!(&self.db, conn => {
            up::table
                .order(up::id.asc())
                .select((up::id, up::settings))
                .load(conn)
                .await
                .map_err(unavailable)
        })?;
        Ok(rows
            .iter()
            .filter_map(|(id, text)| from_document(id, text))
            .collect())
    }

    async fn save_provider(&self, provider: &UpstreamProvider) -> Result<(), StoreError> {
        let id = provider.id.as_str().to_owned();
        let text = serde_json::to_string(&to_document(provider))
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let now = naive(Utc::now());
        with_conn!(write &self.db, conn => {
            conn.transaction(async |c| -> Result<_, DieselError> {
                diesel::delete(up::table.find(&id)).execute(c).await?;
                diesel::insert_into(up::table)
                    .values((up::id.eq(&id), up::settings.eq(&text), up::updated_at.eq(now)))
                    .execute(c)
                    .await?;
                Ok(())
            })
            .await
            .map_err(unavailable)
        })
    }

    async fn delete_provider(&self, id: &UpstreamId) -> Result<bool, StoreError> {
        let id = id.as_str().to_owned();
        with_conn!(write &self.db, conn => {
            conn.transaction(async |c| -> Result<_, DieselError> {
                diesel::delete(ui::table.filter(ui::provider.eq(&id))).execute(c).await?;
                let removed = diesel::delete(up::table.find(&id)).execute(c).await?;
                Ok(removed == 1)
            })
            .await
            .map_err(unavailable)
        })
    }
}
