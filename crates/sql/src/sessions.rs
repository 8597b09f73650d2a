use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel_async::{AsyncConnection as _, RunQueryDsl};
use tessera_domain::error::StoreError;
use tessera_domain::model::UserId;
use tessera_domain::model::{Session, SessionId, SessionRotation};
use tessera_domain::ports::SessionStore;
use uuid::Uuid;

use crate::db::{Database, Reused, unavailable, with_conn};
use crate::group_commit::{self, RotationRow};
use crate::rows::{SessionRow, naive};
use crate::schema::sessions;

/// Sessions in the `sessions` table.
#[derive(Debug, Clone)]
pub struct SqlSessions {
    db: Database,
}

impl SqlSessions {
    /// Sessions stored in `db`.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

impl SessionStore for SqlSessions {
    async fn create(&self, session: &Session) -> Result<(), StoreError> {
        let row = SessionRow::from(session);
        with_conn!(write &self.db, conn => {
            diesel::insert_into(sessions::table).values(&row).execute(conn).await.map_err(unavailable)?;
            Ok(())
        })
    }

    async fn get(&self, id: SessionId) -> Result<Option<Session>, StoreError> {
        let key = id.0.to_string();
        with_conn!(&self.db, conn => {
            let row = sessions::table
                .find(&key)
                .select(SessionRow::as_select())
                .first(conn)
                .await
                .optional()
                .map_err(unavailable)?;
            row.map(Session::try_from).transpose()
        })
    }

    async fn list_for_user(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<Session>, StoreError> {
        with_conn!(&self.db, conn => {
            let rows = sessions::table
                .filter(sessions::user_id.eq(user.0))
                .filter(sessions::revoked_at.is_null())
                .filter(sessions::expires_at.gt(naive(now)))
                .order((sessions::created_at, sessions::id))
                .select(SessionRow::as_select())
                .load(conn)
                .await
                .map_err(unavailable)?;
            rows.into_iter().map(Session::try_from).collect()
        })
    }

    async fn rotate(&self, rotation: &SessionRotation) -> Result<bool, StoreError> {
        let row = RotationRow {
            key: rotation.id.0.to_string(),
            from: i32::try_from(rotation.from_generation)
                .map_err(|e| StoreError::Unavailable(e.to_string()))?,
            fingerprint: rotation.new_fingerprint.0.clone(),
            at: naive(rotation.at),
        };
        match &self.db {
            // One writer: rotations queued behind it are committed together.
            Database::Sqlite(pools) => group_commit::rotate(pools, row).await,
            #[cfg(feature = "mysql")]
            Database::Mysql(pool) => {
                with_conn!(@run crate::db::mysql_conn(pool), conn => {
                    // One statement: the compare and the swap.
                    let changed = group_commit::compare_and_swap!(&row)
                    .execute(conn)
                    .await
                    .map_err(unavailable)?;
                    Ok(changed == 1)
                })
            }
        }
    }

    async fn touch(&self, id: SessionId, at: DateTime<Utc>) -> Result<(), StoreError> {
        let key = id.0.to_string();
        with_conn!(write &self.db, conn => {
            Reused(diesel::update(sessions::table.filter(sessions::id.eq(&key)).filter(sessions::revoked_at.is_null()))
                .set(sessions::last_used_at.eq(naive(at))))
                .execute(conn)
                .await
                .map_err(unavailable)?;
            Ok(())
        })
    }

    async fn revoke(&self, id: SessionId, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let key = id.0.to_string();
        with_conn!(write &self.db, conn => {
            // One statement: the row lock makes exactly one caller see 1.
            let changed = Reused(diesel::update(sessions::table.filter(sessions::id.eq(&key)).filter(sessions::revoked_at.is_null()))
                .set(sessions::revoked_at.eq(Some(naive(at)))))
                .execute(conn)
                .await
                .map_err(unavailable)?;
            Ok(changed == 1)
        })
    }

    async fn revoke_all_for_user(
        &self,
        user: UserId,
        keep: Option<SessionId>,
        at: DateTime<Utc>,
    ) -> Result<Vec<SessionId>, StoreError> {
        let keep = keep.map(|k| k.0.to_string()).unwrap_or_default();
        with_conn!(write &self.db, conn => {
            let ids: Vec<String> = conn
                .transaction(async |c| -> Result<_, DieselError> {
                    {
                        let live = sessions::table
                            .filter(sessions::user_id.eq(user.0))
                            .filter(sessions::revoked_at.is_null())
                            .filter(sessions::id.ne(&keep));
                        // Write first (see SqlCodes::take): lock the rows before reading them.
                        diesel::update(live).set(sessions::revoked_at.eq(sessions::revoked_at)).execute(c).await?;
                        let ids: Vec<String> = live.select(sessions::id).load(c).await?;
                        diesel::update(sessions::table.filter(sessions::id.eq_any(&ids)))
                            .set(sessions::revoked_at.eq(Some(naive(at))))
                            .execute(c)
                            .await?;
                        Ok(ids)
                    }
                })
                .await
                .map_err(unavailable)?;
            ids.iter()
                .map(|s| Uuid::parse_str(s).map(SessionId).map_err(|e| StoreError::Unavailable(e.to_string())))
                .collect()
        })
    }
}
