//! The `audit_log` table.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use tessera_domain::error::StoreError;
use tessera_domain::model::{AuditEvent, AuditKind, AuditPage, AuditQuery, ClientInfo, UserId};
use tessera_domain::ports::AuditLog;

use crate::db::{Database, unavailable, with_conn};
use crate::rows::{naive, utc};
use crate::schema::audit_log;

/// The audit trail in the `audit_log` table.
#[derive(Debug, Clone)]
pub struct SqlAudit {
    db: Database,
}

impl SqlAudit {
    /// The trail in `db`.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// The newest `limit` events, newest first, as `(kind, actor, subject,
    /// identifier, ip, user_agent, detail)` (for operators and tests).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    #[allow(clippy::type_complexity)]
    pub async fn recent(
        &self,
        limit: i64,
    ) -> Result<
        Vec<(
            String,
            Option<i64>,
            Option<i64>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        )>,
        StoreError,
    > {
        with_conn!(&self.db, conn => {
            audit_log::table
                .order(audit_log::id.desc())
                .limit(limit)
                .select((
                    audit_log::kind,
                    audit_log::actor_id,
                    audit_log::subject_id,
                    audit_log::identifier,
                    audit_log::ip,
                    audit_log::user_agent,
                    audit_log::detail,
                ))
                .load(conn)
                .await
                .map_err(unavailable)
        })
    }
}

fn clip(s: Option<&str>) -> Option<String> {
    s.map(|v| v.chars().take(255).collect())
}

impl AuditLog for SqlAudit {
    async fn query(&self, q: &AuditQuery) -> Result<AuditPage, StoreError> {
        let offset = i64::try_from(q.offset).unwrap_or(i64::MAX);
        let limit = i64::from(q.limit);
        let kind = q.kind.map(AuditKind::as_str);
        let (since, until) = (q.since.map(naive), q.until.map(naive));
        let user = q.user.map(|u| u.0);
        with_conn!(&self.db, conn => {
            let filtered = || {
                let mut f = audit_log::table.into_boxed();
                if let Some(u) = user {
                    f = f.filter(audit_log::actor_id.eq(u).or(audit_log::subject_id.eq(u)));
                }
                if let Some(k) = kind {
                    f = f.filter(audit_log::kind.eq(k));
                }
                if let Some(t) = since {
                    f = f.filter(audit_log::at.ge(t));
                }
                if let Some(t) = until {
                    f = f.filter(audit_log::at.lt(t));
                }
                f
            };
            let total: i64 = filtered().count().get_result(conn).await.map_err(unavailable)?;
            let rows: Vec<AuditRow> = filtered()
                .order(audit_log::id.desc())
                .offset(offset)
                .limit(limit)
                .select((
                    audit_log::at,
                    audit_log::kind,
                    audit_log::actor_id,
                    audit_log::subject_id,
                    audit_log::identifier,
                    audit_log::ip,
                    audit_log::user_agent,
                    audit_log::detail,
                ))
                .load(conn)
                .await
                .map_err(unavailable)?;
            Ok(AuditPage {
                events: rows.into_iter().filter_map(event_of).collect(),
                total: u64::try_from(total).unwrap_or(0),
            })
        })
    }

    async fn record(&self, e: &AuditEvent) -> Result<(), StoreError> {
        let row = (
            audit_log::at.eq(naive(e.at)),
            audit_log::kind.eq(e.kind.as_str()),
            audit_log::actor_id.eq(e.actor.map(|u| u.0)),
            audit_log::subject_id.eq(e.subject.map(|u| u.0)),
            audit_log::identifier.eq(clip(e.identifier.as_deref())),
            audit_log::ip.eq(clip(e.client.ip.as_deref())),
            audit_log::user_agent.eq(clip(e.client.user_agent.as_deref())),
            audit_log::detail.eq(clip(e.detail.as_deref())),
        );
        with_conn!(write &self.db, conn => {
            diesel::insert_into(audit_log::table)
                .values(row.clone())
                .execute(conn)
                .await
                .map_err(unavailable)?;
            Ok(())
        })
    }
}

/// One `audit_log` row as [`SqlAudit::query`] reads it.
type AuditRow = (
    chrono::NaiveDateTime,
    String,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn event_of(row: AuditRow) -> Option<AuditEvent> {
    let (at, kind, actor, subject, identifier, ip, user_agent, detail) = row;
    Some(AuditEvent {
        at: utc(at),
        // A kind this build does not know (written by a newer one) is skipped.
        kind: AuditKind::parse(&kind)?,
        actor: actor.map(UserId),
        subject: subject.map(UserId),
        identifier,
        client: ClientInfo { ip, user_agent },
        detail,
    })
}
