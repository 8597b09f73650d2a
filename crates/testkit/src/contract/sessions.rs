//! Sessions, the denylist and the user cache.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[allow(unused_imports)]
use super::prelude::*;
#[allow(unused_imports)]
use super::{login_of, new_user, rand_u16, tag};

fn rotation(
    id: SessionId,
    from_generation: u32,
    new_fingerprint: TokenFingerprint,
    at: chrono::DateTime<Utc>,
) -> tessera_domain::model::SessionRotation {
    tessera_domain::model::SessionRotation {
        id,
        from_generation,
        new_fingerprint,
        at,
    }
}

/// A live session of `user`: generation 0, seven days to live, signed in
/// with a password and a one-time code a second ago.
pub fn new_session(user: UserId) -> Session {
    let now = chrono::DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
    Session {
        id: SessionId(Uuid::new_v4()),
        user_id: user,
        generation: 0,
        refresh_fingerprint: TokenFingerprint("fp0".into()),
        created_at: now,
        last_used_at: now,
        rotated_at: None,
        expires_at: now + Duration::days(7),
        revoked_at: None,
        client: ClientInfo {
            ip: Some("127.0.0.1".into()),
            user_agent: Some("contract".into()),
        },
        authentication: tessera_domain::model::Authentication {
            at: now - Duration::seconds(1),
            methods: vec![
                tessera_domain::model::AuthMethod::Pwd,
                tessera_domain::model::AuthMethod::Otp,
            ],
        },
        issued_to: None,
    }
}

/// [`SessionStore`]: round trip, compare-and-swap rotation (also concurrent), revocation.
/// `owner` must exist where the store checks foreign keys.
pub async fn sessions<S: SessionStore + Clone>(store: S, owner: UserId) {
    let s = new_session(owner);
    let other = new_session(owner);
    // A session an OAuth client's code opened says so (issue 18).
    let keep = Session {
        issued_to: tessera_domain::model::ClientId::parse("tc_contract.app"),
        ..new_session(owner)
    };
    for x in [&s, &other, &keep] {
        store.create(x).await.unwrap();
    }
    assert_eq!(
        store.get(s.id).await.unwrap(),
        Some(s.clone()),
        "round trip"
    );
    assert_eq!(store.get(SessionId(Uuid::new_v4())).await.unwrap(), None);
    assert_eq!(store.get(keep.id).await.unwrap(), Some(keep.clone()));
    let listed: HashSet<SessionId> = store
        .list_for_user(owner, s.created_at)
        .await
        .unwrap()
        .into_iter()
        .map(|x| x.id)
        .collect();
    assert_eq!(listed, HashSet::from([s.id, other.id, keep.id]));

    let now = s.created_at + Duration::seconds(1);
    assert!(
        store
            .rotate(&rotation(s.id, 0, TokenFingerprint("fp1".into()), now))
            .await
            .unwrap()
    );
    assert!(
        !store
            .rotate(&rotation(s.id, 0, TokenFingerprint("fpX".into()), now))
            .await
            .unwrap(),
        "stale generation"
    );
    let got = store.get(s.id).await.unwrap().unwrap();
    assert_eq!(
        (got.generation, got.refresh_fingerprint.0.as_str()),
        (1, "fp1")
    );
    assert_eq!((got.rotated_at, got.last_used_at), (Some(now), now));
    let later = now + Duration::seconds(5);
    store.touch(s.id, later).await.unwrap();
    let touched = store.get(s.id).await.unwrap().unwrap();
    assert_eq!(
        (touched.last_used_at, touched.generation),
        (later, 1),
        "touch moves only last_used_at"
    );
    store.touch(SessionId(Uuid::new_v4()), later).await.unwrap();

    let tasks: Vec<_> = (0..30)
        .map(|i| {
            let store = store.clone();
            let id = other.id;
            tokio::spawn(async move {
                store
                    .rotate(&rotation(id, 0, TokenFingerprint(format!("c{i}")), now))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut wins = 0;
    for t in tasks {
        wins += usize::from(t.await.unwrap());
    }
    assert_eq!(wins, 1, "exactly one concurrent rotation wins");

    let revoked: HashSet<SessionId> = store
        .revoke_all_for_user(owner, Some(keep.id), now)
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(revoked, HashSet::from([s.id, other.id]));
    let live = store.list_for_user(owner, now).await.unwrap();
    assert_eq!(
        live.iter().map(|x| x.id).collect::<Vec<_>>(),
        vec![keep.id],
        "only the kept one is live"
    );
    assert_eq!(live[0].client, keep.client);
    assert!(
        store
            .list_for_user(owner, keep.expires_at)
            .await
            .unwrap()
            .is_empty(),
        "none is live after its absolute end"
    );
    assert!(
        store
            .revoke_all_for_user(owner, Some(keep.id), now)
            .await
            .unwrap()
            .is_empty(),
        "idempotent"
    );
    assert_eq!(
        store.get(s.id).await.unwrap().unwrap().revoked_at,
        Some(now)
    );
    assert!(
        !store
            .rotate(&rotation(s.id, 1, TokenFingerprint("fp2".into()), now))
            .await
            .unwrap(),
        "revoked never rotates"
    );
    assert!(
        store
            .get(keep.id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_none()
    );
    assert!(
        store.revoke(keep.id, now).await.unwrap(),
        "the first revocation says it revoked"
    );
    assert!(
        !store
            .revoke(keep.id, now + Duration::seconds(9))
            .await
            .unwrap(),
        "a second one does not"
    );
    assert!(
        !store.revoke(SessionId(Uuid::new_v4()), now).await.unwrap(),
        "nor one of an unknown session"
    );
    // Of many concurrent revocations of one session, exactly one revoked it.
    let raced = Session {
        id: SessionId(Uuid::new_v4()),
        revoked_at: None,
        ..keep.clone()
    };
    store.create(&raced).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let store = store.clone();
        let id = raced.id;
        tasks.push(tokio::spawn(
            async move { store.revoke(id, now).await.unwrap() },
        ));
    }
    let mut winners = 0;
    for t in tasks {
        winners += usize::from(t.await.unwrap());
    }
    assert_eq!(winners, 1, "exactly one concurrent revocation revoked");
    assert_eq!(
        store.get(keep.id).await.unwrap().unwrap().revoked_at,
        Some(now),
        "first revocation time kept"
    );
}

/// [`TokenDenylist`]: deny, check, never shorten, expiry.
pub async fn denylist<D: TokenDenylist>(d: D) {
    let now = Utc::now();
    let live = RevocationKey::Session(SessionId(Uuid::new_v4()));
    let short = RevocationKey::Token(Uuid::new_v4());
    let absent = RevocationKey::Token(Uuid::new_v4());
    d.deny(live, now + Duration::minutes(15)).await.unwrap();
    d.deny(live, now + Duration::minutes(1)).await.unwrap();
    d.deny(short, now + Duration::seconds(1)).await.unwrap();
    assert!(d.any_denied(&[live], now).await.unwrap());
    assert!(
        d.any_denied(&[absent, live], now + Duration::minutes(5))
            .await
            .unwrap(),
        "never shortened"
    );
    assert!(d.any_denied(&[short], now).await.unwrap());
    assert!(
        !d.any_denied(&[short], now + Duration::seconds(2))
            .await
            .unwrap(),
        "expired"
    );
    assert!(!d.any_denied(&[absent], now).await.unwrap());
    assert!(!d.any_denied(&[], now).await.unwrap());
}

/// [`UserCache`]: miss, put, hit, invalidate.
pub async fn user_cache<C: UserCache>(cache: C) {
    let user: User = new_user(&format!("cached{}", tag()), "c@b.com", Some("13800138000"))
        .with_id(UserId(i64::from(rand_u16()) + 1_000_000));
    assert_eq!(cache.get(user.id).await.unwrap(), None);
    cache.put(&user).await.unwrap();
    assert_eq!(
        cache.get(user.id).await.unwrap(),
        Some(user.clone()),
        "round trip, every field"
    );
    cache.invalidate(user.id).await.unwrap();
    assert_eq!(cache.get(user.id).await.unwrap(), None);
    cache.invalidate(user.id).await.unwrap();
}
