use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel_async::{AsyncConnection as _, RunQueryDsl};
use tessera_domain::error::StoreError;
use tessera_domain::model::SessionId;
use tessera_domain::model::{Change, RevocationKey};
use tessera_domain::ports::TokenDenylist;
use uuid::Uuid;

use crate::changes::record_change;
use crate::db::{Database, unavailable, with_conn};
use crate::rows::naive;
use crate::schema::revoked_tokens;

/// The denylist in the `revoked_tokens` table. Every check is a query, so
/// instances sharing one database see each other's revocations; a single
/// instance can put `tessera_memory::MirroredDenylist` in front of it.
#[derive(Debug, Clone)]
pub struct SqlDenylist {
    db: Database,
}

pub(crate) fn encode(key: RevocationKey) -> String {
    match key {
        RevocationKey::Token(t) => format!("t:{t}"),
        RevocationKey::Session(s) => format!("s:{}", s.0),
    }
}

pub(crate) fn decode(s: &str) -> Option<RevocationKey> {
    let (kind, id) = s.split_once(':')?;
    let id = Uuid::parse_str(id).ok()?;
    match kind {
        "t" => Some(RevocationKey::Token(id)),
        "s" => Some(RevocationKey::Session(SessionId(id))),
        _ => None,
    }
}

impl SqlDenylist {
    /// The denylist stored in `db`.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// Every entry still in force at `now` (to fill a mirror at start-up).
    ///
    /// # Errors
    /// [`StoreError`] when the table cannot be read.
    pub async fn live_entries(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<(RevocationKey, DateTime<Utc>)>, StoreError> {
        let rows: Vec<(String, NaiveDateTime)> = with_conn!(&self.db, conn => {
            revoked_tokens::table
                .filter(revoked_tokens::expires_at.gt(naive(now)))
                .select((revoked_tokens::revocation_key, revoked_tokens::expires_at))
                .load(conn)
                .await
                .map_err(unavailable)
        })?;
        Ok(rows
            .into_iter()
            .filter_map(|(k, t)| Some((decode(&k)?, t.and_utc())))
            .collect())
    }
}

impl TokenDenylist for SqlDenylist {
    async fn deny(&self, key: RevocationKey, until: DateTime<Utc>) -> Result<(), StoreError> {
        let encoded = encode(key);
        let now = Utc::now();
        with_conn!(write &self.db, conn => {
            // One transaction with its change row, so every instance's
            // cache hears of the denial (issue 15).
            conn.transaction(async |c| -> Result<(), DieselError> {
                // An upsert that never shortens an entry: replace only with a later expiry.
                diesel::delete(
                    revoked_tokens::table
                        .filter(revoked_tokens::revocation_key.eq(&encoded))
                        .filter(revoked_tokens::expires_at.lt(naive(until))),
                )
                .execute(c)
                .await?;
                diesel::insert_or_ignore_into(revoked_tokens::table)
                    .values((revoked_tokens::revocation_key.eq(&encoded), revoked_tokens::expires_at.eq(naive(until))))
                    .execute(c)
                    .await?;
                record_change!(c, Change::Denied(key), now)?;
                Ok(())
            })
            .await
            .map_err(unavailable)?;
            // Forget entries whose tokens have expired anyway.
            diesel::delete(revoked_tokens::table.filter(revoked_tokens::expires_at.le(naive(now))))
                .execute(conn)
                .await
                .map_err(unavailable)?;
            Ok(())
        })
    }

    async fn any_denied(
        &self,
        keys: &[RevocationKey],
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let encoded: Vec<String> = keys.iter().map(|k| encode(*k)).collect();
        with_conn!(&self.db, conn => {
            let hits: i64 = revoked_tokens::table
                .filter(revoked_tokens::revocation_key.eq_any(&encoded))
                .filter(revoked_tokens::expires_at.gt(naive(now)))
                .count()
                .get_result(conn)
                .await
                .map_err(unavailable)?;
            Ok(hits > 0)
        })
    }
}
