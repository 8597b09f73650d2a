//! Contract test suites: the behaviour every adapter of a port must show.
//! Each adapter crate runs these against its own implementation, so a new
//! adapter is proven by the same tests as the old ones.
//!
//! Meant for `[dev-dependencies]`: `tessera_testkit::contract::users(store).await`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod audit;
mod clients;
mod codes;
mod contact;
mod deletion;
mod directory;
mod factors;
mod identities;
mod mail;
mod sessions;
mod webhooks;

pub use audit::audit;
pub use clients::clients;
pub use codes::{codes, rate_limiter};
pub use contact::contact_change;
pub use deletion::account_deletion;
pub use directory::directory;
pub use factors::{factors, passkeys};
pub use identities::identities;
pub use mail::{mail_with_changes, outbox};
pub use sessions::{denylist, new_session, sessions, user_cache};
pub use webhooks::webhooks;

/// The imports every suite shares.
#[allow(unused_imports)]
mod prelude {
    pub(super) use std::collections::HashSet;

    pub(super) use chrono::{Duration, Utc};
    pub(super) use tessera_domain::error::CreateUserError;
    pub(super) use tessera_domain::model::{AttemptGrant, CodePurpose, VerificationCode};
    pub(super) use tessera_domain::model::{ClientInfo, Session, SessionId};
    pub(super) use tessera_domain::model::{
        NewUser, PasswordHash, UniqueField, User, UserId, UserOrder, UserQuery,
    };
    pub(super) use tessera_domain::model::{RevocationKey, TokenFingerprint};
    pub(super) use tessera_domain::ports::{
        CodeStore, MailOutbox, OutgoingMail, RateLimiter, SessionStore, TokenDenylist, UserCache,
        UserDirectory, UserRepository,
    };
    pub(super) use tessera_domain::values::{
        Email, Login, Phone, PhoneRegion, RoleName, Username, UsernamePolicy,
    };
    pub(super) use uuid::Uuid;
}

#[allow(unused_imports)]
use prelude::*;

/// A random number below 60,000 (distinct ids across runs).
fn rand_u16() -> u16 {
    (Uuid::new_v4().as_u128() % 60_000) as u16
}

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
            &[],
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
        match repo.create(u, None, &[]).await {
            Err(CreateUserError::Duplicate(f)) => assert_eq!(f, field),
            other => panic!("expected duplicate {field:?}, got {other:?}"),
        }
    }
    repo.create(
        new_user(&format!("dave{t}"), &format!("d{t}@b.com"), None),
        None,
        &[],
    )
    .await
    .unwrap();
    repo.create(
        new_user(&format!("erin{t}"), &format!("e{t}@b.com"), None),
        None,
        &[],
    )
    .await
    .unwrap();

    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let repo = repo.clone();
            let (name, email) = (format!("same{t}"), format!("s{i}{t}@b.com"));
            tokio::spawn(async move { repo.create(new_user(&name, &email, None), None, &[]).await })
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
    repo.update_password(
        alice.id,
        &PasswordHash::new("$argon2id$new"),
        later,
        None,
        &[],
    )
    .await
    .unwrap();
    assert!(
        repo.mark_email_verified(alice.id, later, &[])
            .await
            .unwrap()
    );
    assert!(
        !repo
            .mark_email_verified(alice.id, later, &[])
            .await
            .unwrap(),
        "once"
    );
    assert!(
        !repo
            .mark_email_verified(UserId(i64::MAX), later, &[])
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
        repo.create(new_user(&name, &email, phone.as_deref()), None, &[])
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
