use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use tessera_domain::error::StoreError;
use tessera_domain::ports::{MailOutbox, OutgoingMail, QueuedMail};
use tessera_domain::values::Email;

use crate::db::{Database, unavailable, with_conn};
use crate::rows::naive;
use crate::schema::mail_outbox;

/// Queued mail in the `mail_outbox` table, shared by every instance of one
/// database. Claims are leases taken with a compare-and-swap UPDATE, so two
/// senders never hold the same mail.
#[derive(Debug, Clone)]
pub struct SqlOutbox {
    db: Database,
}

impl SqlOutbox {
    /// The outbox in `db`.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

/// The row that queues a mail (inserted by [`SqlOutbox`] and inside the users
/// adapter's transactions).
#[derive(Insertable, Clone)]
#[diesel(table_name = mail_outbox)]
pub(crate) struct NewMailRow {
    recipient: String,
    subject: String,
    body_text: String,
    body_html: String,
    created_at: chrono::NaiveDateTime,
    next_attempt_at: chrono::NaiveDateTime,
}

/// `mail`, queued at `now`.
pub(crate) fn new_row(mail: &OutgoingMail, now: DateTime<Utc>) -> NewMailRow {
    NewMailRow {
        recipient: mail.to.as_str().to_owned(),
        subject: mail.subject.clone(),
        body_text: mail.text.clone(),
        body_html: mail.html.clone(),
        created_at: naive(now),
        next_attempt_at: naive(now),
    }
}

type Claimed = (i64, String, String, String, String, i32);

impl MailOutbox for SqlOutbox {
    async fn enqueue(&self, mail: &OutgoingMail, now: DateTime<Utc>) -> Result<(), StoreError> {
        with_conn!(write &self.db, conn => {
            diesel::insert_into(mail_outbox::table).values(new_row(mail, now)).execute(conn).await.map_err(unavailable)?;
            Ok(())
        })
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        lease: chrono::Duration,
    ) -> Result<Vec<QueuedMail>, StoreError> {
        let n = naive(now);
        let until = naive(now + lease);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows: Vec<Claimed> = with_conn!(write &self.db, conn => {
            let due = || {
                mail_outbox::sent_at
                    .is_null()
                    .and(mail_outbox::next_attempt_at.le(n))
                    .and(mail_outbox::locked_until.is_null().or(mail_outbox::locked_until.le(n)))
            };
            let candidates: Vec<i64> = mail_outbox::table
                .filter(due())
                .order(mail_outbox::id)
                .limit(limit)
                .select(mail_outbox::id)
                .load(conn)
                .await
                .map_err(unavailable)?;
            let mut mine = Vec::with_capacity(candidates.len());
            for id in candidates {
                let won = diesel::update(mail_outbox::table.filter(mail_outbox::id.eq(id)).filter(due()))
                    .set(mail_outbox::locked_until.eq(Some(until)))
                    .execute(conn)
                    .await
                    .map_err(unavailable)?;
                if won == 1 {
                    mine.push(id);
                }
            }
            mail_outbox::table
                .filter(mail_outbox::id.eq_any(&mine))
                .order(mail_outbox::id)
                .select((
                    mail_outbox::id,
                    mail_outbox::recipient,
                    mail_outbox::subject,
                    mail_outbox::body_text,
                    mail_outbox::body_html,
                    mail_outbox::attempts,
                ))
                .load(conn)
                .await
                .map_err(unavailable)
        })?;
        Ok(rows
            .into_iter()
            .map(|(id, to, subject, text, html, attempts)| QueuedMail {
                id,
                mail: OutgoingMail {
                    to: Email::from_stored(to),
                    subject,
                    text,
                    html,
                },
                attempts: u32::try_from(attempts).unwrap_or(0),
            })
            .collect())
    }

    async fn mark_sent(&self, id: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
        with_conn!(write &self.db, conn => {
            diesel::update(mail_outbox::table.find(id))
                .set((mail_outbox::sent_at.eq(Some(naive(at))), mail_outbox::locked_until.eq(None::<chrono::NaiveDateTime>)))
                .execute(conn)
                .await
                .map_err(unavailable)?;
            Ok(())
        })
    }

    async fn mark_failed(
        &self,
        id: i64,
        attempts: u32,
        retry_at: DateTime<Utc>,
        error: &str,
    ) -> Result<(), StoreError> {
        let error: String = error.chars().take(1000).collect();
        let attempts = i32::try_from(attempts).unwrap_or(i32::MAX);
        with_conn!(write &self.db, conn => {
            diesel::update(mail_outbox::table.find(id))
                .set((
                    mail_outbox::attempts.eq(attempts),
                    mail_outbox::next_attempt_at.eq(naive(retry_at)),
                    mail_outbox::locked_until.eq(None::<chrono::NaiveDateTime>),
                    mail_outbox::last_error.eq(Some(error)),
                ))
                .execute(conn)
                .await
                .map_err(unavailable)?;
            Ok(())
        })
    }

    async fn pending(&self) -> Result<usize, StoreError> {
        with_conn!(&self.db, conn => {
            let n: i64 = mail_outbox::table
                .filter(mail_outbox::sent_at.is_null())
                .count()
                .get_result(conn)
                .await
                .map_err(unavailable)?;
            Ok(usize::try_from(n).unwrap_or(0))
        })
    }
}
