//! Webhook endpoints, the event outbox and deliveries (issue 20), with the
//! user store that queues events in its changes' transactions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[allow(unused_imports)]
use super::prelude::*;
use tessera_domain::model::{
    AccountEvent, AttemptOutcome, DeliveryState, EventType, PendingEvent, WebhookId, WebhookSecret,
};
use tessera_domain::ports::{NewWebhookEndpoint, WebhookStore};

fn at(secs: i64) -> chrono::DateTime<Utc> {
    chrono::DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
}

fn endpoint(url: &str, events: &[EventType]) -> NewWebhookEndpoint {
    NewWebhookEndpoint {
        url: url.into(),
        events: events.to_vec(),
        description: "说明 — test".into(),
        secret: WebhookSecret::new(format!("whsec_{}", super::tag())),
    }
}

fn outcome(status: Option<u16>) -> AttemptOutcome {
    AttemptOutcome {
        status,
        error: status.is_none().then(|| "could not connect".into()),
        duration_ms: 12,
    }
}

/// `store` shares its database with `users` (the same SQL database, or a
/// memory store built from the users' own [`tessera_memory`] outbox).
pub async fn webhooks<U, W>(users: U, store: W)
where
    U: UserRepository + UserDirectory,
    W: WebhookStore,
{
    // Events queued before this suite (other suites' changes) go first, to
    // no endpoint.
    while store.dispatch(at(0), 1_000).await.unwrap() > 0 {}

    let t = super::tag();
    let a = store
        .create_endpoint(
            &endpoint(
                "https://a.example/hook?x=1",
                &[EventType::UserCreated, EventType::RoleGranted],
            ),
            at(0),
        )
        .await
        .unwrap();
    let b = store
        .create_endpoint(&endpoint("http://127.0.0.1:9/in", &EventType::ALL), at(1))
        .await
        .unwrap();
    assert!(a.enabled && a.id != b.id);
    assert_eq!(
        a.events,
        vec![EventType::UserCreated, EventType::RoleGranted]
    );
    let listed = store.endpoints().await.unwrap();
    let mine: Vec<_> = listed
        .iter()
        .filter(|e| e.id == a.id || e.id == b.id)
        .collect();
    assert_eq!(mine.len(), 2);
    assert_eq!(mine[0].description, "说明 — test");
    assert_eq!(mine[0].secret, a.secret);
    assert!(
        !store
            .set_endpoint_enabled(WebhookId(-5), false)
            .await
            .unwrap()
    );

    // Events ride on the change: a refused change queues none.
    let x = users
        .create(
            super::new_user(&format!("x{t}"), &format!("x{t}@example.com"), None),
            None,
            &[PendingEvent::new(EventType::UserCreated, at(10))],
        )
        .await
        .unwrap();
    let dup = users
        .create(
            super::new_user(&format!("x{t}"), &format!("x2{t}@example.com"), None),
            None,
            &[PendingEvent::new(EventType::UserCreated, at(10))],
        )
        .await;
    assert!(matches!(dup, Err(CreateUserError::Duplicate(_))));
    let y = users
        .create(
            super::new_user(&format!("y{t}"), &format!("y{t}@example.com"), None),
            None,
            &[PendingEvent::new(EventType::UserCreated, at(11))],
        )
        .await
        .unwrap();
    // No change, no event.
    assert!(
        !users
            .set_active(
                x.id,
                true,
                at(12),
                &[PendingEvent::new(EventType::UserEnabled, at(12))]
            )
            .await
            .unwrap()
    );
    let admin = RoleName::parse("admin").unwrap();
    assert!(
        users
            .grant_role(
                x.id,
                &admin,
                at(13),
                &[PendingEvent::new(EventType::RoleGranted, at(13)).detail("admin")]
            )
            .await
            .unwrap()
    );

    // x: created, role.granted; y: created. A gets all three, B too.
    assert_eq!(store.dispatch(at(20), 1_000).await.unwrap(), 3);
    assert_eq!(store.dispatch(at(20), 1_000).await.unwrap(), 0);

    // In order per account and endpoint: x's second event waits for its first.
    let lease = Duration::seconds(30);
    let due = store.claim_due(at(20), 100, lease).await.unwrap();
    let of = |endpoint: WebhookId| {
        due.iter()
            .filter(|d| &d.url == if endpoint == a.id { &a.url } else { &b.url })
            .map(|d| (d.event.user, d.event.kind))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        of(a.id),
        vec![
            (x.id, EventType::UserCreated),
            (y.id, EventType::UserCreated)
        ]
    );
    assert_eq!(
        of(b.id),
        vec![
            (x.id, EventType::UserCreated),
            (y.id, EventType::UserCreated)
        ]
    );
    let first = due
        .iter()
        .find(|d| d.url == a.url && d.event.user == x.id)
        .unwrap()
        .clone();
    assert_eq!(first.attempts, 0);
    assert_eq!(first.secret, a.secret);
    assert!(first.message_id.starts_with("msg_"));
    // Leased: nobody else gets them.
    assert!(
        store
            .claim_due(at(21), 100, lease)
            .await
            .unwrap()
            .is_empty()
    );

    // A failure reschedules; the next event of x still waits.
    store
        .record_attempt(first.id, at(21), &outcome(None), Some(at(40)))
        .await
        .unwrap();
    for d in due.iter().filter(|d| d.id != first.id) {
        store
            .record_attempt(d.id, at(21), &outcome(Some(204)), None)
            .await
            .unwrap();
    }
    let waiting = store.claim_due(at(22), 100, lease).await.unwrap();
    assert!(
        waiting
            .iter()
            .all(|d| !(d.url == a.url && d.event.user == x.id)),
        "x's events wait for its first one's retry: {waiting:?}"
    );
    // B's role.granted for x is free (x's created was delivered there).
    assert_eq!(
        waiting
            .iter()
            .map(|d| (d.url.as_str(), d.event.kind, d.event.detail.as_deref()))
            .collect::<Vec<_>>(),
        vec![(b.url.as_str(), EventType::RoleGranted, Some("admin"))]
    );
    store
        .record_attempt(waiting[0].id, at(22), &outcome(Some(500)), None)
        .await
        .unwrap();

    let retried = store.claim_due(at(40), 100, lease).await.unwrap();
    assert_eq!(retried.len(), 1);
    assert_eq!(retried[0].id, first.id);
    assert_eq!(
        retried[0].message_id, first.message_id,
        "the same id on every attempt"
    );
    assert_eq!(retried[0].attempts, 1);
    store
        .record_attempt(first.id, at(41), &outcome(Some(200)), None)
        .await
        .unwrap();
    let next = store.claim_due(at(41), 100, lease).await.unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(
        (next[0].event.user, next[0].event.kind),
        (x.id, EventType::RoleGranted)
    );

    let shown = store.deliveries(a.id, 10).await.unwrap();
    assert_eq!(shown.len(), 3, "{shown:?}");
    let created_x = shown.iter().find(|d| d.id == first.id).unwrap();
    assert_eq!(created_x.state, DeliveryState::Delivered);
    assert_eq!(created_x.attempts, 2);
    assert_eq!(
        created_x
            .history
            .iter()
            .map(|h| (h.status, h.error.is_some()))
            .collect::<Vec<_>>(),
        vec![(None, true), (Some(200), false)]
    );
    let failed = store.deliveries(b.id, 10).await.unwrap();
    assert!(
        failed
            .iter()
            .any(|d| d.state == DeliveryState::Failed && d.event.kind == EventType::RoleGranted)
    );

    // Events outlive their account; a disabled endpoint gets no new deliveries.
    assert!(store.set_endpoint_enabled(b.id, false).await.unwrap());
    assert!(
        users
            .delete(y.id, &[PendingEvent::new(EventType::UserDeleted, at(50))])
            .await
            .unwrap()
    );
    store
        .enqueue(&[AccountEvent {
            kind: EventType::UserSignedIn,
            user: x.id,
            at: at(51),
            detail: None,
        }])
        .await
        .unwrap();
    assert_eq!(store.dispatch(at(52), 1_000).await.unwrap(), 2);
    assert!(
        store.deliveries(b.id, 10).await.unwrap().len() == failed.len(),
        "a disabled endpoint gets nothing new"
    );

    // Removing an endpoint removes its deliveries.
    assert!(store.delete_endpoint(a.id).await.unwrap());
    assert!(!store.delete_endpoint(a.id).await.unwrap());
    assert!(store.deliveries(a.id, 10).await.unwrap().is_empty());
    assert!(store.delete_endpoint(b.id).await.unwrap());
}
