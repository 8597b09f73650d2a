//! Group commit of refresh-token rotations on SQLite.
//!
//! SQLite has one writer (see [`SqlitePools`]), and each statement run alone
//! is its own transaction: a lock, a WAL append and a hand-off to a blocking
//! thread, about 120 µs here, which capped refreshes near 8,500/s. Rotations
//! that arrive while the writer is busy instead wait in a [`RotationQueue`];
//! whoever gets the writer next runs every queued rotation in one
//! `BEGIN IMMEDIATE` transaction (one blocking hand-off, one commit) and
//! answers each caller. Each rotation is still its own compare-and-swap
//! `UPDATE`, run in arrival order, so two rotations of one session in one
//! batch leave exactly one winner, as they would one after the other.
//!
//! A caller whose future is dropped before a batch took its rotation takes it
//! back out of the queue (nothing is written); once taken, it is written and
//! the answer is discarded, as with a lone statement already sent.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use tessera_domain::error::StoreError;
use tokio::sync::oneshot;

use crate::db::{SqlitePools, settle, sqlite_conn};

/// One rotation as the `UPDATE` binds it.
#[derive(Debug, Clone)]
pub(crate) struct RotationRow {
    /// `sessions.id`.
    pub(crate) key: String,
    /// The generation the caller saw (the compare).
    pub(crate) from: i32,
    /// The next refresh token's fingerprint.
    pub(crate) fingerprint: String,
    /// When the rotation happens (UTC).
    pub(crate) at: NaiveDateTime,
}

/// What a queued caller is answered: whether its compare held, or why the
/// batch failed (every rotation of a failed batch is rolled back).
type Answer = Result<bool, String>;

struct Queued {
    ticket: u64,
    row: RotationRow,
    answer: oneshot::Sender<Answer>,
}

/// Rotations waiting for the SQLite writer, one queue per [`SqlitePools`].
#[derive(Default)]
pub(crate) struct RotationQueue {
    next_ticket: AtomicU64,
    pending: Mutex<Vec<Queued>>,
}

impl RotationQueue {
    fn push(&self, row: RotationRow) -> (u64, oneshot::Receiver<Answer>) {
        let ticket = self.next_ticket.fetch_add(1, Ordering::Relaxed);
        let (answer, receiver) = oneshot::channel();
        self.lock().push(Queued {
            ticket,
            row,
            answer,
        });
        (ticket, receiver)
    }

    /// Takes the rotation back out; false when a batch already took it.
    fn withdraw(&self, ticket: u64) -> bool {
        let mut pending = self.lock();
        let before = pending.len();
        pending.retain(|q| q.ticket != ticket);
        pending.len() != before
    }

    fn take_all(&self) -> Vec<Queued> {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Queued>> {
        // A panic while the lock is held leaves a plain Vec, still whole.
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Takes the rotation back out of the queue if the caller goes away first.
struct Withdraw<'a> {
    queue: &'a RotationQueue,
    ticket: u64,
    armed: bool,
}

impl Drop for Withdraw<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.queue.withdraw(self.ticket);
        }
    }
}

/// Rotates one session through `pools`' queue: true when the compare held
/// and the swap was written, false when nothing was written.
///
/// # Errors
/// [`StoreError::Unavailable`] when the writer could not be had in time (the
/// rotation is withdrawn, nothing written) or the batch's transaction failed
/// (rolled back, nothing written).
pub(crate) async fn rotate(pools: &SqlitePools, row: RotationRow) -> Result<bool, StoreError> {
    let queue = &*pools.rotations;
    let (ticket, mut answer) = queue.push(row);
    let mut guard = Withdraw {
        queue,
        ticket,
        armed: true,
    };
    let writer = tokio::select! {
        biased;
        // An earlier batch took this rotation: its answer, without the writer.
        answered = &mut answer => {
            guard.armed = false;
            return settle_answer(answered);
        }
        writer = sqlite_conn(&pools.writer) => writer,
    };
    let mut writer = match writer {
        Ok(writer) => writer,
        Err(e) => {
            guard.armed = false;
            if queue.withdraw(ticket) {
                return Err(e);
            }
            // Taken by a batch meanwhile: that batch answers.
            return settle_answer(answer.await);
        }
    };
    let batch = queue.take_all();
    guard.armed = false;
    if batch.is_empty() {
        drop(writer);
    } else {
        // The answers are sent from the blocking thread, so a batch that
        // commits answers its callers even if this caller goes away.
        let outcome = writer
            .spawn_blocking(move |conn| {
                let (rows, answers): (Vec<RotationRow>, Vec<_>) =
                    batch.into_iter().map(|q| (q.row, q.answer)).unzip();
                let written = conn.immediate_transaction(|conn| {
                    rows.iter()
                        .map(|row| {
                            compare_and_swap!(row)
                                .execute(conn)
                                .map(|changed| changed == 1)
                        })
                        .collect::<QueryResult<Vec<bool>>>()
                });
                match &written {
                    Ok(rotated) => {
                        for (answer, rotated) in answers.into_iter().zip(rotated) {
                            // A caller that went away after its rotation was taken.
                            let _ = answer.send(Ok(*rotated));
                        }
                    }
                    Err(e) => {
                        let reason = format!("database: {e}");
                        for answer in answers {
                            let _ = answer.send(Err(reason.clone()));
                        }
                    }
                }
                written.map(drop)
            })
            .await;
        settle(writer, outcome.is_err()).await;
    }
    settle_answer(answer.await)
}

/// One rotation's compare-and-swap `UPDATE` for a [`RotationRow`], on either
/// backend: the WHERE clause is the compare, the SET the swap. Executed, it
/// changes one row when the compare held, none otherwise.
macro_rules! compare_and_swap {
    ($row:expr) => {{
        let row: &$crate::group_commit::RotationRow = $row;
        $crate::db::Reused(
            ::diesel::update(
                $crate::schema::sessions::table
                    .filter($crate::schema::sessions::id.eq(&row.key))
                    .filter($crate::schema::sessions::generation.eq(row.from))
                    .filter($crate::schema::sessions::revoked_at.is_null()),
            )
            .set((
                $crate::schema::sessions::generation.eq(row.from + 1),
                $crate::schema::sessions::refresh_fingerprint.eq(&row.fingerprint),
                $crate::schema::sessions::rotated_at.eq(Some(row.at)),
                $crate::schema::sessions::last_used_at.eq(row.at),
            )),
        )
    }};
}
pub(crate) use compare_and_swap;

fn settle_answer(answered: Result<Answer, oneshot::error::RecvError>) -> Result<bool, StoreError> {
    match answered {
        Ok(answer) => answer.map_err(StoreError::Unavailable),
        // The batch's blocking task ended without answering (it panicked,
        // or the runtime shut down before it ran): nothing was committed.
        Err(_) => Err(StoreError::Unavailable(
            "database: a rotation's batch ended without an answer".to_owned(),
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::time::Duration;

    use chrono::Utc;
    use tessera_domain::model::{SessionId, SessionRotation, TokenFingerprint, UserId};
    use tessera_domain::ports::{SessionStore as _, UserRepository as _};
    use tessera_domain::values::PhoneRegion;
    use tessera_testkit::contract;

    use crate::db::{Database, DbConfig};
    use crate::{SqlSessions, SqlUsers};

    /// A migrated SQLite file whose writer waits at most `wait` to be had.
    async fn fresh(dir: &tempfile::TempDir, wait: Duration) -> (Database, UserId) {
        let config = DbConfig {
            url: format!("sqlite://{}", dir.path().join("t.db").display()),
            max_connections: 2,
            acquire_timeout: wait,
        };
        Database::migrate(&config, PhoneRegion::default())
            .await
            .unwrap();
        let db = Database::connect(&config).unwrap();
        let owner = SqlUsers::new(db.clone())
            .create(contract::new_user("owner", "owner@b.com", None), None, &[])
            .await
            .unwrap();
        (db, owner.id)
    }

    fn pools(db: &Database) -> &crate::db::SqlitePools {
        match db {
            Database::Sqlite(pools) => pools,
            #[cfg(feature = "mysql")]
            Database::Mysql(_) => unreachable!("a SQLite file"),
        }
    }

    fn rotation(id: SessionId, from: u32, fingerprint: &str) -> SessionRotation {
        SessionRotation {
            id,
            from_generation: from,
            new_fingerprint: TokenFingerprint(fingerprint.to_owned()),
            at: chrono::DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap(),
        }
    }

    async fn queued_until(db: &Database, len: usize) {
        for _ in 0..500 {
            if pools(db).rotations.lock().len() == len {
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        panic!("the queue never held {len} rotations");
    }

    /// Rotations that wait for the writer are committed by the first one to
    /// get it, in one transaction, and each is still its own compare: one
    /// winner per session, a missing session rotates nothing.
    #[tokio::test(flavor = "multi_thread")]
    async fn rotations_waiting_for_the_writer_commit_together_each_its_own_compare() {
        let dir = tempfile::tempdir().unwrap();
        let (db, owner) = fresh(&dir, Duration::from_secs(10)).await;
        let sessions = SqlSessions::new(db.clone());
        let mut ids = Vec::new();
        for _ in 0..3 {
            let session = contract::new_session(owner);
            sessions.create(&session).await.unwrap();
            ids.push(session.id);
        }

        let writer = pools(&db).writer.get().await.unwrap();
        let mut tasks = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            for racer in ["a", "b"] {
                let (sessions, id) = (sessions.clone(), *id);
                let fingerprint = format!("{i}{racer}");
                tasks.push(tokio::spawn(async move {
                    let won = sessions
                        .rotate(&rotation(id, 0, &fingerprint))
                        .await
                        .unwrap();
                    (id, fingerprint, won)
                }));
            }
        }
        let missing = SessionId(uuid::Uuid::new_v4());
        let sessions_m = sessions.clone();
        let lost = tokio::spawn(async move { sessions_m.rotate(&rotation(missing, 0, "m")).await });
        queued_until(&db, 7).await;
        drop(writer);

        assert!(
            !lost.await.unwrap().unwrap(),
            "a missing session rotates nothing"
        );
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.unwrap());
        }
        assert!(pools(&db).rotations.lock().is_empty());
        for id in ids {
            let winners: Vec<_> = outcomes
                .iter()
                .filter(|(s, _, won)| *s == id && *won)
                .collect();
            assert_eq!(
                winners.len(),
                1,
                "exactly one winner for {id:?}: {outcomes:?}"
            );
            let stored = sessions.get(id).await.unwrap().unwrap();
            assert_eq!(stored.generation, 1);
            assert_eq!(
                stored.refresh_fingerprint.0, winners[0].1,
                "the winner's swap is the one stored"
            );
        }
    }

    /// A caller that goes away while its rotation waits takes it back out:
    /// nothing is written once the writer is free.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_rotation_whose_caller_went_away_before_its_batch_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (db, owner) = fresh(&dir, Duration::from_secs(10)).await;
        let sessions = SqlSessions::new(db.clone());
        let session = contract::new_session(owner);
        sessions.create(&session).await.unwrap();

        let writer = pools(&db).writer.get().await.unwrap();
        let (sessions_t, id) = (sessions.clone(), session.id);
        let task = tokio::spawn(async move { sessions_t.rotate(&rotation(id, 0, "gone")).await });
        queued_until(&db, 1).await;
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
        queued_until(&db, 0).await;
        drop(writer);

        let stored = sessions.get(session.id).await.unwrap().unwrap();
        assert_eq!(
            (stored.generation, stored.refresh_fingerprint),
            (0, session.refresh_fingerprint)
        );
        // The writer is free and the queue works on.
        assert!(
            sessions
                .rotate(&rotation(session.id, 0, "next"))
                .await
                .unwrap()
        );
    }

    /// A rotation that cannot get the writer in time answers "unavailable"
    /// and is withdrawn: it is not written by a later batch.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_rotation_that_cannot_get_the_writer_is_unavailable_and_never_written() {
        let dir = tempfile::tempdir().unwrap();
        // The writer waits at least SQLite's busy timeout; hold it longer.
        let (db, owner) = fresh(&dir, Duration::from_millis(50)).await;
        let sessions = SqlSessions::new(db.clone());
        let session = contract::new_session(owner);
        sessions.create(&session).await.unwrap();

        let writer = pools(&db).writer.get().await.unwrap();
        let outcome = tokio::time::timeout(
            Duration::from_secs(30),
            sessions.rotate(&rotation(session.id, 0, "late")),
        )
        .await
        .expect("the pool's wait ends first");
        assert!(
            matches!(
                outcome,
                Err(tessera_domain::error::StoreError::Unavailable(_))
            ),
            "{outcome:?}"
        );
        assert!(pools(&db).rotations.lock().is_empty(), "withdrawn");
        drop(writer);
        assert!(
            sessions
                .rotate(&rotation(session.id, 0, "now"))
                .await
                .unwrap()
        );
        let stored = sessions.get(session.id).await.unwrap().unwrap();
        assert_eq!(
            (stored.generation, stored.refresh_fingerprint.0.as_str()),
            (1, "now")
        );
    }
}
