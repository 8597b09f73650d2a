//! Contract test suites: the behaviour every adapter of a port must show.
//! Each adapter crate runs these against its own implementation, so a new
//! adapter is proven by the same tests as the old ones.
//!
//! Enabled by the `contract` feature; meant for `[dev-dependencies]`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::HashSet;

use chrono::{Duration, Utc};
use tessera_domain::error::CreateUserError;
use tessera_domain::model::{AttemptGrant, CodePurpose, VerificationCode};
use tessera_domain::model::{ClientInfo, Session, SessionId};
use tessera_domain::model::{NewUser, PasswordHash, UniqueField, User, UserId, UserQuery};
use tessera_domain::model::{RevocationKey, TokenFingerprint};
use tessera_domain::ports::{
    CodeStore, MailOutbox, OutgoingMail, RateLimiter, SessionStore, TokenDenylist, UserCache,
    UserDirectory, UserRepository,
};
use tessera_domain::values::{
    Email, Login, Phone, PhoneRegion, RoleName, Username, UsernamePolicy,
};
use uuid::Uuid;

/// A distinct prefix, so suites can share one store without colliding.
fn tag() -> String {
    Uuid::new_v4().simple().to_string()[..10].to_owned()
}

pub fn new_user(name: &str, email: &str, phone: Option<&str>) -> NewUser {
    // Stored values are second-precise in MySQL DATETIME(6)? Microseconds: keep whole seconds to compare.
    let now = chrono::DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
    NewUser {
        public_id: Uuid::new_v4(),
        username: Username::parse(name, &UsernamePolicy::EXISTING).unwrap(),
        email: Email::parse(email).unwrap(),
        phone: phone.map(|p| Phone::parse(p, PhoneRegion::default()).unwrap()),
        password_hash: PasswordHash::new("$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA"),
        role: RoleName::parse("unauth").unwrap(),
        email_verified: false,
        created_at: now,
    }
}

/// A login identifier read as the server reads it (phones in `CN`).
fn login_of(raw: &str) -> Login {
    Login::parse(raw, PhoneRegion::default()).unwrap()
}

/// [`UserRepository`]: round trip, lookups, unique columns, concurrent creation,
/// password update, identifiers compared in their canonical forms.
pub async fn users<R: UserRepository + Clone>(repo: R) {
    let t = tag();
    let phone = format!("139{}", &Uuid::new_v4().as_u128().to_string()[..8]);
    let alice = repo
        .create(
            new_user(
                &format!("Alice{t}"),
                &format!("alice{t}@b.com"),
                Some(&phone),
            ),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        repo.find_by_id(alice.id).await.unwrap(),
        Some(alice.clone()),
        "round trip"
    );
    assert!(alice.is_active && !alice.email_verified);
    for login in [
        format!("alice{t}"),
        format!("ALICE{t}"),
        format!("Alice{t}@B.com"),
        phone.clone(),
    ] {
        let found = repo.find_by_login(&login_of(&login)).await.unwrap();
        assert_eq!(
            found.map(|u| u.id),
            Some(alice.id),
            "find_by_login({login})"
        );
    }
    assert_eq!(
        repo.find_by_login(&login_of(&format!("nobody{t}")))
            .await
            .unwrap(),
        None
    );
    assert_eq!(repo.find_by_id(UserId(i64::MAX)).await.unwrap(), None);

    for (u, field) in [
        (
            new_user(&format!("aLiCe{t}"), &format!("x{t}@b.com"), None),
            UniqueField::Username,
        ),
        (
            new_user(&format!("bob{t}"), &format!("alice{t}@b.com"), None),
            UniqueField::Email,
        ),
        (
            new_user(&format!("carol{t}"), &format!("c{t}@b.com"), Some(&phone)),
            UniqueField::Phone,
        ),
    ] {
        match repo.create(u, None).await {
            Err(CreateUserError::Duplicate(f)) => assert_eq!(f, field),
            other => panic!("expected duplicate {field:?}, got {other:?}"),
        }
    }
    repo.create(
        new_user(&format!("dave{t}"), &format!("d{t}@b.com"), None),
        None,
    )
    .await
    .unwrap();
    repo.create(
        new_user(&format!("erin{t}"), &format!("e{t}@b.com"), None),
        None,
    )
    .await
    .unwrap();

    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let repo = repo.clone();
            let (name, email) = (format!("same{t}"), format!("s{i}{t}@b.com"));
            tokio::spawn(async move { repo.create(new_user(&name, &email, None), None).await })
        })
        .collect();
    let (mut ok, mut dup) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => ok += 1,
            Err(CreateUserError::Duplicate(UniqueField::Username)) => dup += 1,
            Err(e) => panic!("concurrent create: {e}"),
        }
    }
    assert_eq!(
        (ok, dup),
        (1, 39),
        "exactly one of 40 concurrent creates wins"
    );

    let later = alice.created_at + Duration::seconds(5);
    repo.update_password(alice.id, &PasswordHash::new("$argon2id$new"), later, None)
        .await
        .unwrap();
    assert!(repo.mark_email_verified(alice.id, later).await.unwrap());
    assert!(
        !repo.mark_email_verified(alice.id, later).await.unwrap(),
        "once"
    );
    assert!(
        !repo
            .mark_email_verified(UserId(i64::MAX), later)
            .await
            .unwrap()
    );
    let updated = repo.find_by_id(alice.id).await.unwrap().unwrap();
    assert_eq!(updated.password_hash.as_str(), "$argon2id$new");
    assert_eq!(updated.updated_at, later);
    assert!(updated.email_verified);

    canonical_identifiers(&repo, &t).await;
}

/// Issue 12 items 4 and 9: one account per username as people read it
/// (RFC 8265 `UsernameCaseMapped`), per canonical e-mail address and per E.164
/// number; lookups by any spelling of the same identifier; distinct readings
/// stay distinct (no accent or width folding beyond the rule).
async fn canonical_identifiers<R: UserRepository>(repo: &R, t: &str) {
    let create = |name: String, email: String, phone: Option<String>| {
        repo.create(new_user(&name, &email, phone.as_deref()), None)
    };
    let mut n = 0;
    let mut next_email = || {
        n += 1;
        format!("id{n}{t}@b.com")
    };
    // (taken, same account as people read it)
    for (first, second) in [
        (format!("élise{t}"), format!("Élise{t}")),
        (format!("e\u{301}mile{t}"), format!("ÉMILE{t}")),
        (format!("дмитрий{t}"), format!("ДМИТРИЙ{t}")),
        (format!("kora{t}"), format!("\u{212A}ora{t}")),
        (format!("carol{t}"), format!("ｃarol{t}")),
        (format!("ＦＵＬＬ{t}"), format!("full{t}")),
    ] {
        let stored = create(first.clone(), next_email(), None).await.unwrap();
        assert_eq!(
            stored.username.as_str(),
            Username::parse(&first, &UsernamePolicy::EXISTING)
                .unwrap()
                .as_str(),
            "display form (NFC) kept"
        );
        match create(second.clone(), next_email(), None).await {
            Err(CreateUserError::Duplicate(UniqueField::Username)) => {}
            other => panic!("{second:?} beside {first:?}: expected username taken, got {other:?}"),
        }
        let found = repo.find_by_login(&login_of(&second)).await.unwrap();
        assert_eq!(
            found.map(|u| u.id),
            Some(stored.id),
            "{second:?} finds {first:?}"
        );
    }
    // Registered with the Kelvin sign, found by typing K.
    let kelvin = create(format!("\u{212A}elvin{t}"), next_email(), None)
        .await
        .unwrap();
    for typed in [format!("Kelvin{t}"), format!("kelvin{t}")] {
        let found = repo.find_by_login(&login_of(&typed)).await.unwrap();
        assert_eq!(found.map(|u| u.id), Some(kelvin.id), "{typed}");
    }
    // Different letters are different names (MySQL's _ci collations fold them).
    create(format!("resume{t}"), next_email(), None)
        .await
        .unwrap();
    create(format!("résumé{t}"), next_email(), None)
        .await
        .unwrap();
    create(format!("strasse{t}"), next_email(), None)
        .await
        .unwrap();

    // E-mail: one canonical form; accents are not folded.
    let idn = create(format!("idn{t}"), format!("Élise{t}@Bücher.Example"), None)
        .await
        .unwrap();
    assert_eq!(
        idn.email.as_str(),
        format!("élise{t}@xn--bcher-kva.example")
    );
    for typed in [
        format!("ÉLISE{t}@bücher.example"),
        format!("e\u{301}lise{t}@XN--BCHER-KVA.example"),
    ] {
        let found = repo.find_by_login(&login_of(&typed)).await.unwrap();
        assert_eq!(found.map(|u| u.id), Some(idn.id), "{typed}");
        match create(format!("idn2{t}"), typed.clone(), None).await {
            Err(CreateUserError::Duplicate(UniqueField::Email)) => {}
            other => panic!("{typed}: expected email taken, got {other:?}"),
        }
    }
    create(
        format!("plain{t}"),
        format!("elise{t}@bucher.example"),
        None,
    )
    .await
    .unwrap();

    // Phones: E.164 whichever way they are written.
    let digits = format!("137{}", &Uuid::new_v4().as_u128().to_string()[..8]);
    let phoned = create(format!("ph{t}"), next_email(), Some(digits.clone()))
        .await
        .unwrap();
    assert_eq!(
        phoned.phone.as_ref().map(Phone::as_str),
        Some(format!("+86{digits}").as_str())
    );
    for typed in [format!("+86 {digits}"), format!("0086 {digits}")] {
        match create(format!("ph2{t}"), next_email(), Some(typed.clone())).await {
            Err(CreateUserError::Duplicate(UniqueField::Phone)) => {}
            other => panic!("{typed}: expected phone taken, got {other:?}"),
        }
        let found = repo.find_by_login(&login_of(&typed)).await.unwrap();
        assert_eq!(found.map(|u| u.id), Some(phoned.id), "{typed}");
    }
}

fn session(user: UserId) -> Session {
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
    }
}

/// [`SessionStore`]: round trip, compare-and-swap rotation (also concurrent), revocation.
/// `owner` must exist where the store checks foreign keys.
pub async fn sessions<S: SessionStore + Clone>(store: S, owner: UserId) {
    let s = session(owner);
    let other = session(owner);
    let keep = session(owner);
    for x in [&s, &other, &keep] {
        store.create(x).await.unwrap();
    }
    assert_eq!(
        store.get(s.id).await.unwrap(),
        Some(s.clone()),
        "round trip"
    );
    assert_eq!(store.get(SessionId(Uuid::new_v4())).await.unwrap(), None);
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
            .rotate(s.id, 0, &TokenFingerprint("fp1".into()), now)
            .await
            .unwrap()
    );
    assert!(
        !store
            .rotate(s.id, 0, &TokenFingerprint("fpX".into()), now)
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
                    .rotate(id, 0, &TokenFingerprint(format!("c{i}")), now)
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
            .rotate(s.id, 1, &TokenFingerprint("fp2".into()), now)
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

fn rand_u16() -> u16 {
    (Uuid::new_v4().as_u128() % 60_000) as u16
}

/// [`CodeStore`]: one code per (purpose, recipient), attempts counted
/// atomically before each comparison, single use, bindings kept.
pub async fn codes<S: CodeStore + Clone>(store: S) {
    let recipient = format!("{}@b.com", tag());
    let code = VerificationCode {
        purpose: CodePurpose::ResetPassword,
        recipient: recipient.clone(),
        fingerprint: TokenFingerprint("fp".into()),
        digits: 6,
        expires_at: chrono::DateTime::from_timestamp(Utc::now().timestamp() + 600, 0).unwrap(),
        attempts: 0,
        max_attempts: 5,
        binding: Some("bound to something".into()),
    };
    assert_eq!(store.get(code.purpose, &recipient).await.unwrap(), None);
    assert_eq!(
        store.claim_attempt(code.purpose, &recipient).await.unwrap(),
        AttemptGrant::NoCode
    );
    store.put(&code).await.unwrap();
    assert_eq!(
        store.get(code.purpose, &recipient).await.unwrap(),
        Some(code.clone()),
        "stored with its binding"
    );
    assert_eq!(
        store
            .get(CodePurpose::VerifyEmail, &recipient)
            .await
            .unwrap(),
        None,
        "purposes are separate"
    );
    for n in 1..=2 {
        assert_eq!(
            store.claim_attempt(code.purpose, &recipient).await.unwrap(),
            AttemptGrant::Granted(VerificationCode {
                attempts: n,
                ..code.clone()
            })
        );
    }
    assert_eq!(
        store
            .get(code.purpose, &recipient)
            .await
            .unwrap()
            .unwrap()
            .attempts,
        2
    );
    assert_eq!(
        store
            .claim_attempt(CodePurpose::Register, &recipient)
            .await
            .unwrap(),
        AttemptGrant::NoCode
    );

    let replacement = VerificationCode {
        fingerprint: TokenFingerprint("fp2".into()),
        binding: None,
        ..code.clone()
    };
    store.put(&replacement).await.unwrap();
    assert_eq!(
        store.get(code.purpose, &recipient).await.unwrap(),
        Some(replacement.clone()),
        "replaced, count reset, binding gone"
    );

    // Issue 12, item 1: 100 concurrent claims grant exactly `max_attempts`
    // comparisons; every later one is refused, the code stays exhausted.
    let claims: Vec<_> = (0..100)
        .map(|_| {
            let (store, r) = (store.clone(), recipient.clone());
            tokio::spawn(async move {
                store
                    .claim_attempt(CodePurpose::ResetPassword, &r)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut granted = Vec::new();
    for c in claims {
        match c.await.unwrap() {
            AttemptGrant::Granted(code) => granted.push(code.attempts),
            AttemptGrant::Exhausted => {}
            AttemptGrant::NoCode => panic!("the code vanished"),
        }
    }
    granted.sort_unstable();
    assert_eq!(granted, vec![1, 2, 3, 4, 5], "each comparison counted once");
    assert_eq!(
        store.claim_attempt(code.purpose, &recipient).await.unwrap(),
        AttemptGrant::Exhausted
    );

    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (store, r) = (store.clone(), recipient.clone());
            tokio::spawn(async move { store.take(CodePurpose::ResetPassword, &r).await.unwrap() })
        })
        .collect();
    let mut taken = 0;
    for t in tasks {
        taken += usize::from(t.await.unwrap().is_some());
    }
    assert_eq!(taken, 1, "single use under concurrency");
    assert_eq!(store.get(code.purpose, &recipient).await.unwrap(), None);

    let expired = VerificationCode {
        expires_at: Utc::now() - Duration::seconds(1),
        recipient: format!("x{recipient}"),
        ..code.clone()
    };
    store.put(&expired).await.unwrap();
    assert_eq!(
        store.get(code.purpose, &expired.recipient).await.unwrap(),
        None,
        "expired codes are gone"
    );
    assert_eq!(
        store
            .claim_attempt(code.purpose, &expired.recipient)
            .await
            .unwrap(),
        AttemptGrant::NoCode,
        "an expired code grants nothing"
    );
}

/// [`RateLimiter`]: counts within a window, refuses past the limit, keys are separate.
pub async fn rate_limiter<L: RateLimiter>(limiter: L) {
    let key = format!("contract:{}", tag());
    for i in 1..=3u32 {
        let d = limiter.hit(&key, 3, 60).await.unwrap();
        assert!(d.allowed, "hit {i}");
        assert_eq!((d.limit, d.remaining), (3, 3 - i));
        assert!((1..=60).contains(&d.reset_after_secs), "{d:?}");
    }
    let d = limiter.hit(&key, 3, 60).await.unwrap();
    assert!(!d.allowed);
    assert_eq!(d.remaining, 0);
    assert!(
        limiter
            .hit(&format!("{key}:other"), 3, 60)
            .await
            .unwrap()
            .allowed
    );

    // open_for reads without counting; clear forgets.
    assert!((1..=60).contains(&limiter.open_for(&key).await.unwrap().unwrap()));
    assert!(
        !limiter.hit(&key, 3, 60).await.unwrap().allowed,
        "open_for counted nothing"
    );
    assert_eq!(
        limiter.open_for(&format!("{key}:never")).await.unwrap(),
        None
    );
    limiter.clear(&key).await.unwrap();
    assert_eq!(limiter.open_for(&key).await.unwrap(), None);
    assert!(
        limiter.hit(&key, 3, 60).await.unwrap().allowed,
        "a cleared key starts over"
    );
    limiter.clear(&format!("{key}:never")).await.unwrap();

    let short = format!("{key}:short");
    assert!(limiter.hit(&short, 1, 1).await.unwrap().allowed);
    assert!(!limiter.hit(&short, 1, 1).await.unwrap().allowed);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert!(
        limiter.hit(&short, 1, 1).await.unwrap().allowed,
        "a new window"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        limiter.open_for(&short).await.unwrap(),
        None,
        "an ended window is closed"
    );
}

fn mail(to: &str, subject: &str) -> OutgoingMail {
    OutgoingMail {
        to: Email::parse(to).unwrap(),
        subject: subject.into(),
        text: format!("{subject}\n"),
        html: format!("<p>{subject}</p>"),
    }
}

/// [`UserRepository`] + [`MailOutbox`] of one store: mail that accompanies a
/// change is queued if and only if the change is stored.
pub async fn mail_with_changes<R: UserRepository, O: MailOutbox>(repo: R, outbox: O) {
    let t = tag();
    let before = outbox.pending().await.unwrap();
    let u = repo
        .create(
            new_user(&format!("m{t}"), &format!("m{t}@b.com"), None),
            Some(&mail(&format!("m{t}@b.com"), "welcome")),
        )
        .await
        .unwrap();
    assert_eq!(
        outbox.pending().await.unwrap(),
        before + 1,
        "queued with the user"
    );
    let dup = repo
        .create(
            new_user(&format!("m{t}"), &format!("other{t}@b.com"), None),
            Some(&mail("x@b.com", "never")),
        )
        .await;
    assert!(matches!(
        dup,
        Err(CreateUserError::Duplicate(UniqueField::Username))
    ));
    assert_eq!(
        outbox.pending().await.unwrap(),
        before + 1,
        "a refused change queues nothing"
    );
    repo.update_password(
        u.id,
        &PasswordHash::new("$argon2id$x"),
        Utc::now(),
        Some(&mail(u.email.as_str(), "changed")),
    )
    .await
    .unwrap();
    assert_eq!(outbox.pending().await.unwrap(), before + 2);
}

/// [`MailOutbox`]: due mail is claimed once per lease, failures are retried later, sent mail never again.
pub async fn outbox<O: MailOutbox>(outbox: O) {
    let now = chrono::DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
    let lease = Duration::seconds(60);
    // Drain anything due from earlier suites sharing the store.
    for q in outbox
        .claim_due(now + Duration::days(30), 10_000, lease)
        .await
        .unwrap()
    {
        outbox.mark_sent(q.id, now).await.unwrap();
    }
    let t = tag();
    outbox
        .enqueue(&mail(&format!("a{t}@b.com"), "first"), now)
        .await
        .unwrap();
    outbox
        .enqueue(&mail(&format!("b{t}@b.com"), "second"), now)
        .await
        .unwrap();
    assert_eq!(outbox.pending().await.unwrap(), 2);

    let claimed = outbox.claim_due(now, 10, lease).await.unwrap();
    assert_eq!(
        claimed
            .iter()
            .map(|q| q.mail.subject.as_str())
            .collect::<Vec<_>>(),
        ["first", "second"]
    );
    assert_eq!(
        claimed[0].mail,
        mail(&format!("a{t}@b.com"), "first"),
        "round trip"
    );
    assert!(
        outbox.claim_due(now, 10, lease).await.unwrap().is_empty(),
        "leased: nobody else gets them"
    );

    outbox.mark_sent(claimed[0].id, now).await.unwrap();
    outbox
        .mark_failed(claimed[1].id, 1, now + Duration::seconds(30), "smtp down")
        .await
        .unwrap();
    assert_eq!(outbox.pending().await.unwrap(), 1);
    assert!(
        outbox
            .claim_due(now + Duration::seconds(10), 10, lease)
            .await
            .unwrap()
            .is_empty(),
        "not due yet"
    );
    let again = outbox
        .claim_due(now + Duration::seconds(31), 10, lease)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(
        (again[0].mail.subject.as_str(), again[0].attempts),
        ("second", 1)
    );
    outbox.mark_sent(again[0].id, now).await.unwrap();
    assert_eq!(outbox.pending().await.unwrap(), 0);
    assert!(
        outbox
            .claim_due(now + Duration::days(30), 10, lease)
            .await
            .unwrap()
            .is_empty(),
        "sent mail never again"
    );
}

/// [`UserDirectory`]: roles (primary first, grant, revoke with promotion and
/// fallback), the seeded catalogue, enabling and disabling, search and paging.
pub async fn directory<R: UserRepository + UserDirectory>(repo: R) {
    let t = tag();
    let role = |r: &str| RoleName::parse(r).unwrap();
    let now = chrono::DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
    let mut ids = Vec::new();
    for i in 0..3 {
        let u = repo
            .create(
                new_user(&format!("dir{i}{t}"), &format!("dir{i}{t}@b.com"), None),
                None,
            )
            .await
            .unwrap();
        assert_eq!(u.roles, vec![role("unauth")], "a new user holds its role");
        ids.push(u.id);
    }
    let id = ids[0];

    // Grant: idempotent, primary first, visible to every lookup.
    assert!(repo.grant_role(id, &role("admin"), now).await.unwrap());
    assert!(!repo.grant_role(id, &role("admin"), now).await.unwrap());
    assert!(
        !repo.grant_role(id, &role("unauth"), now).await.unwrap(),
        "the primary role is held"
    );
    assert!(repo.grant_role(id, &role("regulator"), now).await.unwrap());
    assert_eq!(
        roles_of(&repo, id).await,
        (
            "unauth".into(),
            vec!["unauth".into(), "admin".into(), "regulator".into()]
        )
    );
    let by_login = repo
        .find_by_login(&login_of(&format!("dir0{t}")))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_login.roles.len(), 3);
    assert!(
        !repo
            .grant_role(UserId(i64::MAX), &role("admin"), now)
            .await
            .unwrap()
    );

    // Revoke: a granted role; then the primary (the next granted role takes its place).
    assert!(
        repo.revoke_role(id, &role("admin"), &role("unauth"), now)
            .await
            .unwrap()
    );
    assert!(
        !repo
            .revoke_role(id, &role("admin"), &role("unauth"), now)
            .await
            .unwrap()
    );
    assert!(
        repo.revoke_role(id, &role("unauth"), &role("unauth"), now)
            .await
            .unwrap()
    );
    assert_eq!(
        roles_of(&repo, id).await,
        ("regulator".into(), vec!["regulator".into()])
    );
    // The last role falls back to the default.
    assert!(
        repo.revoke_role(id, &role("regulator"), &role("unauth"), now)
            .await
            .unwrap()
    );
    assert_eq!(
        roles_of(&repo, id).await,
        ("unauth".into(), vec!["unauth".into()])
    );
    assert!(
        !repo
            .revoke_role(id, &role("unauth"), &role("unauth"), now)
            .await
            .unwrap(),
        "never roleless"
    );

    // Catalogue: seeded by the store.
    let c = repo.catalogue().await.unwrap();
    assert!(
        c.contains(&role("super_admin"))
            && c.contains(&role("admin"))
            && c.contains(&role("pharmacy"))
    );
    assert!(
        c.permissions_of("admin")
            .contains(&"user:update".to_owned())
    );
    assert!(
        c.permissions_of("pharmacy")
            .contains(&"profile:read".to_owned())
    );
    assert!(
        !c.permissions_of("pharmacy")
            .contains(&"user:read".to_owned())
    );
    // Ranks (issue 12, item 5): seeded as RoleCatalogue::builtin says.
    assert_eq!(
        (
            c.rank_of("super_admin"),
            c.rank_of("admin"),
            c.rank_of("pharmacy"),
            c.rank_of("user")
        ),
        (100, 50, 0, 0)
    );
    let seeded = tessera_domain::model::RoleCatalogue::builtin();
    for name in seeded.names() {
        assert_eq!(c.rank_of(name), seeded.rank_of(name), "{name}");
    }

    // Enable and disable.
    assert!(repo.set_active(ids[1], false, now).await.unwrap());
    assert!(!repo.set_active(ids[1], false, now).await.unwrap());
    assert!(!repo.find_by_id(ids[1]).await.unwrap().unwrap().is_active);
    assert!(repo.set_active(ids[1], true, now).await.unwrap());
    assert!(!repo.set_active(UserId(i64::MAX), false, now).await.unwrap());

    // Search (username or email, any case) and paging by id.
    let q = |search: &str, offset, limit| UserQuery {
        search: Some(search.to_owned()),
        offset,
        limit,
    };
    let page = repo.list(&q(&format!("DIR1{t}"), 0, 10)).await.unwrap();
    assert_eq!((page.total, page.users.len()), (1, 1));
    assert_eq!(page.users[0].id, ids[1]);
    let page = repo.list(&q(&format!("{t}@b.com"), 1, 1)).await.unwrap();
    assert_eq!(page.total, 3);
    assert_eq!(
        page.users.iter().map(|u| u.id).collect::<Vec<_>>(),
        vec![ids[1]]
    );
    let none = repo.list(&q("%_no-such-user_%", 0, 10)).await.unwrap();
    assert_eq!(
        (none.total, none.users.len()),
        (0, 0),
        "LIKE wildcards are literal"
    );
    let all = repo
        .list(&UserQuery {
            search: None,
            offset: 0,
            limit: 1000,
        })
        .await
        .unwrap();
    assert!(all.total >= 3 && all.users.windows(2).all(|w| w[0].id < w[1].id));

    // Delete: gone from every lookup, its roles with it; a second delete is a no-op.
    repo.grant_role(ids[2], &role("admin"), now).await.unwrap();
    assert!(repo.delete(ids[2]).await.unwrap());
    assert!(!repo.delete(ids[2]).await.unwrap());
    assert_eq!(repo.find_by_id(ids[2]).await.unwrap(), None);
    let gone = login_of(&format!("dir2{t}@b.com"));
    assert_eq!(repo.find_by_login(&gone).await.unwrap(), None);
    let again = repo
        .create(
            new_user(&format!("dir2{t}"), &format!("dir2{t}@b.com"), None),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        again.roles,
        vec![role("unauth")],
        "no role survives its user"
    );
}

async fn roles_of<R: UserRepository>(repo: &R, id: UserId) -> (String, Vec<String>) {
    let u = repo.find_by_id(id).await.unwrap().unwrap();
    (
        u.role.as_str().to_owned(),
        u.roles.iter().map(|r| r.as_str().to_owned()).collect(),
    )
}
