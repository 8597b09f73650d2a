//! The audit trail read back: filters, newest first, paging, totals.

use tessera_domain::model::{AuditEvent, AuditKind, AuditQuery};
use tessera_domain::ports::AuditLog;

use super::prelude::*;
use super::rand_u16;

fn event(
    kind: AuditKind,
    actor: Option<i64>,
    subject: Option<i64>,
    minutes_ago: i64,
) -> AuditEvent {
    // Whole seconds: stores keep at least that.
    let now = chrono::DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
    AuditEvent {
        at: now - Duration::minutes(minutes_ago),
        kind,
        actor: actor.map(UserId),
        subject: subject.map(UserId),
        identifier: Some(format!("id-{minutes_ago}")),
        client: ClientInfo::new(Some([127, 0, 0, 1].into()), Some("contract")),
        detail: Some(format!("detail-{minutes_ago}")),
    }
}

/// `log` keeps what was recorded and reads it back newest first, filtered
/// by account (actor or subject), kind and time, in pages with a total.
/// `log` must hold no other events with the ids used here (a fresh store).
pub async fn audit<A: AuditLog>(log: A) {
    let base = i64::from(rand_u16()) * 1000 + 1_000_000;
    let (ann, bob, admin) = (base, base + 1, base + 2);
    let recorded = [
        event(AuditKind::LoginSucceeded, Some(ann), Some(ann), 50),
        event(AuditKind::LoginFailed, None, Some(bob), 40),
        event(AuditKind::UserDisabled, Some(admin), Some(bob), 30),
        event(AuditKind::LoginSucceeded, Some(bob), Some(bob), 20),
        event(AuditKind::RoleGranted, Some(admin), Some(ann), 10),
    ];
    for e in &recorded {
        log.record(e).await.unwrap();
    }
    let query = |user: i64| AuditQuery {
        user: Some(UserId(user)),
        limit: 100,
        ..AuditQuery::default()
    };

    // By account: as actor or as subject, newest first, whole events.
    let page = log.query(&query(ann)).await.unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(
        page.events,
        vec![recorded[4].clone(), recorded[0].clone()],
        "newest first, as recorded"
    );
    let page = log.query(&query(admin)).await.unwrap();
    assert_eq!(
        page.events.iter().map(|e| e.kind).collect::<Vec<_>>(),
        vec![AuditKind::RoleGranted, AuditKind::UserDisabled]
    );

    // By kind and account.
    let page = log
        .query(&AuditQuery {
            kind: Some(AuditKind::LoginSucceeded),
            ..query(bob)
        })
        .await
        .unwrap();
    assert_eq!(page.events, vec![recorded[3].clone()]);

    // By time: since is inclusive, until exclusive.
    let page = log
        .query(&AuditQuery {
            since: Some(recorded[2].at),
            until: Some(recorded[3].at),
            ..query(bob)
        })
        .await
        .unwrap();
    assert_eq!(page.events, vec![recorded[2].clone()]);

    // Paging keeps the total.
    let page = log
        .query(&AuditQuery {
            offset: 1,
            limit: 1,
            ..query(bob)
        })
        .await
        .unwrap();
    assert_eq!((page.total, page.events.len()), (3, 1));
    assert_eq!(page.events[0], recorded[2]);
}
