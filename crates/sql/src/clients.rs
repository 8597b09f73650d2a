//! The OpenID Provider's clients, consents and grants (issue 18) in the
//! `oauth_clients`, `oauth_consents` and `oauth_grants` tables. Lists are
//! stored space-separated (a URI holds no space; scope and grant names none).

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel_async::{AsyncConnection as _, RunQueryDsl};
use tessera_domain::error::StoreError;
use tessera_domain::model::{
    ClientId, ClientKind, Consent, GrantType, OAuthClient, OAuthGrant, Scope, SessionId,
    TokenFingerprint, UserId,
};
use tessera_domain::ports::ClientRegistry;
use uuid::Uuid;

use crate::db::{Database, unavailable, with_conn};
use crate::rows::naive;
use crate::schema::{oauth_clients as oc, oauth_consents as ocs, oauth_grants as og};

/// Clients, consents and grants in SQL.
#[derive(Debug, Clone)]
pub struct SqlClients {
    db: Database,
}

impl SqlClients {
    /// The registry stored in `db`.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

type ClientRow = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
    String,
    bool,
    bool,
    NaiveDateTime,
);

fn client_columns() -> (
    oc::id,
    oc::name,
    oc::kind,
    oc::secret_fingerprint,
    oc::jwks,
    oc::redirect_uris,
    oc::post_logout_redirect_uris,
    oc::scopes,
    oc::grant_types,
    oc::first_party,
    oc::disabled,
    oc::created_at,
) {
    (
        oc::id,
        oc::name,
        oc::kind,
        oc::secret_fingerprint,
        oc::jwks,
        oc::redirect_uris,
        oc::post_logout_redirect_uris,
        oc::scopes,
        oc::grant_types,
        oc::first_party,
        oc::disabled,
        oc::created_at,
    )
}

fn words(text: &str) -> Vec<String> {
    text.split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

fn scopes(text: &str) -> Vec<Scope> {
    text.split(' ').filter_map(Scope::parse).collect()
}

/// A stored row as a client; `None` for a row this version cannot read.
fn to_client(r: ClientRow) -> Option<OAuthClient> {
    let (
        id,
        name,
        kind,
        secret,
        jwks,
        redirects,
        logouts,
        scope_text,
        grants,
        first_party,
        disabled,
        created_at,
    ) = r;
    Some(OAuthClient {
        id: ClientId::parse(&id)?,
        name,
        kind: ClientKind::parse(&kind)?,
        secret_fingerprint: secret.map(TokenFingerprint),
        jwks,
        redirect_uris: words(&redirects),
        post_logout_redirect_uris: words(&logouts),
        scopes: scopes(&scope_text),
        grant_types: grants.split(' ').filter_map(GrantType::parse).collect(),
        first_party,
        disabled,
        created_at: created_at.and_utc(),
    })
}

fn grant_text(grants: &[GrantType]) -> String {
    grants
        .iter()
        .map(|g| g.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

impl ClientRegistry for SqlClients {
    async fn create_client(&self, client: &OAuthClient) -> Result<bool, StoreError> {
        let row = (
            oc::id.eq(client.id.as_str().to_owned()),
            oc::name.eq(client.name.clone()),
            oc::kind.eq(client.kind.as_str()),
            oc::secret_fingerprint.eq(client.secret_fingerprint.as_ref().map(|f| f.0.clone())),
            oc::jwks.eq(client.jwks.clone()),
            oc::redirect_uris.eq(client.redirect_uris.join(" ")),
            oc::post_logout_redirect_uris.eq(client.post_logout_redirect_uris.join(" ")),
            oc::scopes.eq(Scope::join(&client.scopes)),
            oc::grant_types.eq(grant_text(&client.grant_types)),
            oc::first_party.eq(client.first_party),
            oc::disabled.eq(client.disabled),
            oc::created_at.eq(naive(client.created_at)),
        );
        let inserted = with_conn!(write &self.db, conn => {
            diesel::insert_or_ignore_into(oc::table)
                .values(row.clone())
                .execute(conn)
                .await
                .map_err(unavailable)
        })?;
        Ok(inserted == 1)
    }

    async fn client(&self, id: &ClientId) -> Result<Option<OAuthClient>, StoreError> {
        let row: Option<ClientRow> = with_conn!(&self.db, conn => {
            oc::table
                .find(id.as_str())
                .select(client_columns())
                .first(conn)
                .await
                .optional()
                .map_err(unavailable)
        })?;
        Ok(row.and_then(to_client))
    }

    async fn clients(&self) -> Result<Vec<OAuthClient>, StoreError> {
        let rows: Vec<ClientRow> = with_conn!(&self.db, conn => {
            oc::table
                .order(oc::id.asc())
                .select(client_columns())
                .load(conn)
                .await
                .map_err(unavailable)
        })?;
        Ok(rows.into_iter().filter_map(to_client).collect())
    }

    async fn update_client(&self, client: &OAuthClient) -> Result<bool, StoreError> {
        let changes = (
            oc::name.eq(client.name.clone()),
            oc::kind.eq(client.kind.as_str()),
            oc::secret_fingerprint.eq(client.secret_fingerprint.as_ref().map(|f| f.0.clone())),
            oc::jwks.eq(client.jwks.clone()),
            oc::redirect_uris.eq(client.redirect_uris.join(" ")),
            oc::post_logout_redirect_uris.eq(client.post_logout_redirect_uris.join(" ")),
            oc::scopes.eq(Scope::join(&client.scopes)),
            oc::grant_types.eq(grant_text(&client.grant_types)),
            oc::first_party.eq(client.first_party),
            oc::disabled.eq(client.disabled),
        );
        let id = client.id.as_str().to_owned();
        let updated = with_conn!(write &self.db, conn => {
            diesel::update(oc::table.find(&id))
                .set(changes.clone())
                .execute(conn)
                .await
                .map_err(unavailable)
        })?;
        Ok(updated == 1)
    }

    async fn delete_client(&self, id: &ClientId) -> Result<bool, StoreError> {
        let id = id.as_str().to_owned();
        with_conn!(write &self.db, conn => {
            conn.transaction(async |c| -> Result<_, DieselError> {
                diesel::delete(og::table.filter(og::client_id.eq(&id))).execute(c).await?;
                diesel::delete(ocs::table.filter(ocs::client_id.eq(&id))).execute(c).await?;
                let removed = diesel::delete(oc::table.find(&id)).execute(c).await?;
                Ok(removed == 1)
            })
            .await
            .map_err(unavailable)
        })
    }

    async fn consented_scopes(
        &self,
        user: UserId,
        client: &ClientId,
    ) -> Result<Vec<Scope>, StoreError> {
        let text: Option<String> = with_conn!(&self.db, conn => {
            ocs::table
                .find((user.0, client.as_str()))
                .select(ocs::scopes)
                .first(conn)
                .await
                .optional()
                .map_err(unavailable)
        })?;
        Ok(text.as_deref().map(scopes).unwrap_or_default())
    }

    async fn remember_consent(
        &self,
        user: UserId,
        client: &ClientId,
        granted: &[Scope],
    ) -> Result<(), StoreError> {
        let id = client.as_str().to_owned();
        let text = Scope::join(granted);
        let now = naive(Utc::now());
        with_conn!(write &self.db, conn => {
            conn.transaction(async |c| -> Result<_, DieselError> {
                diesel::delete(ocs::table.find((user.0, &id))).execute(c).await?;
                diesel::insert_into(ocs::table)
                    .values((
                        ocs::user_id.eq(user.0),
                        ocs::client_id.eq(&id),
                        ocs::scopes.eq(&text),
                        ocs::updated_at.eq(now),
                    ))
                    .execute(c)
                    .await?;
                Ok(())
            })
            .await
            .map_err(unavailable)
        })
    }

    async fn consents_of(&self, user: UserId) -> Result<Vec<Consent>, StoreError> {
        let rows: Vec<(String, String, NaiveDateTime)> = with_conn!(&self.db, conn => {
            ocs::table
                .filter(ocs::user_id.eq(user.0))
                .order(ocs::client_id.asc())
                .select((ocs::client_id, ocs::scopes, ocs::updated_at))
                .load(conn)
                .await
                .map_err(unavailable)
        })?;
        Ok(rows
            .into_iter()
            .filter_map(|(client, scope_text, at)| {
                Some(Consent {
                    client_id: ClientId::parse(&client)?,
                    scopes: scopes(&scope_text),
                    updated_at: at.and_utc(),
                })
            })
            .collect())
    }

    async fn record_grant(&self, grant: &OAuthGrant) -> Result<(), StoreError> {
        let row = (
            og::session_id.eq(grant.session_id.0.to_string()),
            og::client_id.eq(grant.client_id.as_str().to_owned()),
            og::user_id.eq(grant.user_id.0),
            og::scopes.eq(Scope::join(&grant.scopes)),
            og::created_at.eq(naive(grant.created_at)),
        );
        with_conn!(write &self.db, conn => {
            diesel::insert_into(og::table)
                .values(row.clone())
                .execute(conn)
                .await
                .map(|_| ())
                .map_err(unavailable)
        })
    }

    async fn grant(&self, session: SessionId) -> Result<Option<OAuthGrant>, StoreError> {
        let row: Option<(String, String, i64, String, NaiveDateTime)> = with_conn!(&self.db, conn => {
            og::table
                .find(session.0.to_string())
                .select((og::session_id, og::client_id, og::user_id, og::scopes, og::created_at))
                .first(conn)
                .await
                .optional()
                .map_err(unavailable)
        })?;
        Ok(row.and_then(|(sid, client, user, scope_text, created_at)| {
            Some(OAuthGrant {
                session_id: SessionId(Uuid::parse_str(&sid).ok()?),
                client_id: ClientId::parse(&client)?,
                user_id: UserId(user),
                scopes: scopes(&scope_text),
                created_at: created_at.and_utc(),
            })
        }))
    }

    async fn grant_sessions(&self, client: &ClientId) -> Result<Vec<SessionId>, StoreError> {
        let ids: Vec<String> = with_conn!(&self.db, conn => {
            og::table
                .filter(og::client_id.eq(client.as_str()))
                .select(og::session_id)
                .load(conn)
                .await
                .map_err(unavailable)
        })?;
        Ok(ids
            .iter()
            .filter_map(|s| Uuid::parse_str(s).ok().map(SessionId))
            .collect())
    }
}
