//! The change feed of a SQL store: the `cache_changes` table (issue 15).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use tessera_domain::error::StoreError;
use tessera_domain::model::{Change, UserId};
use tessera_domain::ports::ChangeFeed;

use crate::db::{Database, unavailable, with_conn};
use crate::rows::naive;
use crate::schema::cache_changes;

/// How long an id missing below the highest one read is looked for again:
/// MySQL allocates ids when a transaction inserts, so a later id can commit
/// first; a transaction that commits more than this after its insert is
/// reported late (its own instance drops its copies at once, the others
/// within their caches' time-to-live).
pub const GAP_GRACE_SECS: u64 = 10;

/// The most rows one query reads (a call reads until it has them all).
const BATCH: i64 = 2_000;

/// Gaps wider than this (ids skipped by `auto_increment_increment`, bulk
/// rollbacks) are not tracked id by id.
const MAX_TRACKED_GAP: i64 = 1_000;

/// `(topic, subject)` of a change as stored.
pub(crate) fn encode(change: &Change) -> (&'static str, String) {
    match change {
        Change::User(id) => ("u", id.0.to_string()),
        Change::Denied(key) => ("d", crate::denylist::encode(*key)),
        Change::Everything => ("*", String::new()),
    }
}

fn decode(topic: &str, subject: &str) -> Change {
    match topic {
        "u" => subject
            .parse()
            .map_or(Change::Everything, |id| Change::User(UserId(id))),
        "d" => crate::denylist::decode(subject).map_or(Change::Everything, Change::Denied),
        // A topic this version does not know: drop everything, to be safe.
        _ => Change::Everything,
    }
}

/// Adds a change row in the transaction of `$conn` (an expression evaluating
/// to `Result<usize, diesel::result::Error>`).
macro_rules! record_change {
    ($conn:expr, $change:expr, $at:expr) => {{
        let (topic, subject) = $crate::changes::encode(&$change);
        diesel::insert_into($crate::schema::cache_changes::table)
            .values((
                $crate::schema::cache_changes::topic.eq(topic),
                $crate::schema::cache_changes::subject.eq(subject),
                $crate::schema::cache_changes::changed_at.eq($crate::rows::naive($at)),
            ))
            .execute($conn)
            .await
    }};
}
pub(crate) use record_change;

/// A reader of the `cache_changes` table: the [`ChangeFeed`] of a SQLite file
/// or a MySQL database, shared by every instance and by `tessera` commands
/// run against it. Every write of `tessera-sql` that changes a user (account,
/// password, roles, state, deletion) or denies a key adds its row in its own
/// transaction, so a change is never committed without its row.
///
/// Keeps [`ChangeFeed`]'s promise on both stores: SQLite commits in id order
/// (one writer at a time); on MySQL ids missing below the highest one read are
/// read again for [`GAP_GRACE_SECS`]. When there is nothing new, a call
/// sleeps `wait` after its query (so the sync point is the query's start).
#[derive(Debug)]
pub struct SqlChangeFeed {
    db: Database,
    cursor: Option<i64>,
    /// Ids below the cursor not seen yet, and when they were first missed.
    gaps: BTreeMap<i64, Instant>,
}

impl SqlChangeFeed {
    /// A feed of `db`'s changes, positioned by its first call.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self {
            db,
            cursor: None,
            gaps: BTreeMap::new(),
        }
    }

    /// Deletes change rows older than `before` (readers are expected within
    /// seconds; a reader that falls further behind empties its caches when it
    /// recovers). Returns how many were deleted.
    ///
    /// # Errors
    /// [`StoreError`] when the table cannot be written.
    pub async fn prune(&self, before: DateTime<Utc>) -> Result<usize, StoreError> {
        with_conn!(write &self.db, conn => {
            diesel::delete(cache_changes::table.filter(cache_changes::changed_at.lt(naive(before))))
                .execute(conn)
                .await
                .map_err(unavailable)
        })
    }

    async fn rows_after(&self, floor: i64) -> Result<Vec<(i64, String, String)>, StoreError> {
        with_conn!(&self.db, conn => {
            cache_changes::table
                .filter(cache_changes::id.gt(floor))
                .order(cache_changes::id)
                .limit(BATCH)
                .select((cache_changes::id, cache_changes::topic, cache_changes::subject))
                .load(conn)
                .await
                .map_err(unavailable)
        })
    }
}

impl ChangeFeed for SqlChangeFeed {
    async fn changes(&mut self, wait: Duration) -> Result<Vec<Change>, StoreError> {
        let Some(mut cursor) = self.cursor else {
            let last: Option<i64> = with_conn!(&self.db, conn => {
                cache_changes::table
                    .select(diesel::dsl::max(cache_changes::id))
                    .first(conn)
                    .await
                    .map_err(unavailable)
            })?;
            self.cursor = Some(last.unwrap_or(0));
            return Ok(Vec::new());
        };
        let now = Instant::now();
        let mut floor = self
            .gaps
            .keys()
            .next()
            .map_or(cursor, |first| (first - 1).min(cursor));
        let mut changes = Vec::new();
        loop {
            let rows = self.rows_after(floor).await?;
            let full = i64::try_from(rows.len()).unwrap_or(i64::MAX) >= BATCH;
            for (id, topic, subject) in rows {
                floor = id;
                if id > cursor {
                    if id - cursor <= MAX_TRACKED_GAP {
                        for missing in (cursor + 1)..id {
                            self.gaps.insert(missing, now);
                        }
                    }
                    cursor = id;
                } else if self.gaps.remove(&id).is_none() {
                    continue; // read before
                }
                changes.push(decode(&topic, &subject));
            }
            if !full {
                break;
            }
        }
        self.cursor = Some(cursor);
        let grace = Duration::from_secs(GAP_GRACE_SECS);
        self.gaps
            .retain(|_, missed| now.saturating_duration_since(*missed) < grace);
        if changes.is_empty() {
            tokio::time::sleep(wait).await;
        }
        Ok(changes)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::time::Duration;

    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use tessera_domain::model::{Change, RevocationKey, SessionId, UserId};
    use tessera_domain::ports::ChangeFeed;

    use crate::db::with_conn;
    use crate::schema::cache_changes;
    use crate::{Database, DbConfig};

    async fn insert(db: &Database, id: i64, user: i64) {
        async fn run(
            db: &Database,
            id: i64,
            user: i64,
        ) -> Result<usize, tessera_domain::error::StoreError> {
            with_conn!(write db, conn => {
                diesel::insert_into(cache_changes::table)
                    .values((
                        cache_changes::id.eq(id),
                        cache_changes::topic.eq("u"),
                        cache_changes::subject.eq(user.to_string()),
                        cache_changes::changed_at.eq(chrono::Utc::now().naive_utc()),
                    ))
                    .execute(conn)
                    .await
                    .map_err(crate::db::unavailable)
            })
        }
        run(db, id, user).await.unwrap();
    }

    /// MySQL allocates ids at insert and commits in any order: an id missing
    /// below the highest one read is read when it shows up (within the grace).
    #[tokio::test(flavor = "multi_thread")]
    async fn an_id_committed_late_is_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let config = DbConfig::sqlite(&dir.path().join("t.db")).unwrap();
        Database::migrate(&config, tessera_domain::values::PhoneRegion::default())
            .await
            .unwrap();
        let db = Database::connect(&config).unwrap();
        let mut feed = super::SqlChangeFeed::new(db.clone());
        assert!(feed.changes(Duration::ZERO).await.unwrap().is_empty());
        insert(&db, 1, 10).await;
        insert(&db, 3, 30).await;
        assert_eq!(
            feed.changes(Duration::ZERO).await.unwrap(),
            [Change::User(UserId(10)), Change::User(UserId(30))]
        );
        insert(&db, 2, 20).await;
        insert(&db, 4, 40).await;
        assert_eq!(
            feed.changes(Duration::ZERO).await.unwrap(),
            [Change::User(UserId(20)), Change::User(UserId(40))],
            "the late id once, the new one once"
        );
        assert!(feed.changes(Duration::ZERO).await.unwrap().is_empty());
    }

    #[test]
    fn changes_read_back_as_written() {
        for change in [
            Change::User(UserId(42)),
            Change::Denied(RevocationKey::Session(SessionId(uuid::Uuid::new_v4()))),
            Change::Denied(RevocationKey::Token(uuid::Uuid::new_v4())),
            Change::Everything,
        ] {
            let (topic, subject) = super::encode(&change);
            assert_eq!(super::decode(topic, &subject), change);
        }
        assert_eq!(super::decode("zz", "1"), Change::Everything);
        assert_eq!(super::decode("u", "x"), Change::Everything);
    }
}
