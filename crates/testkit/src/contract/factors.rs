//! Second factors (issue 17).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[allow(unused_imports)]
use super::prelude::*;
use super::tag;
use tessera_domain::model::{Passkey, PasskeyAdded, SealedSecret, StoredCredential, TotpFactor};
use tessera_domain::ports::FactorStore;

/// [`FactorStore`]: an enrolment counts once confirmed, a confirmed factor
/// is not replaced, steps only move forward (one winner among concurrent
/// callers), recovery codes are single use (one winner) and a new set voids
/// the old, removal takes the codes too. `owner` and `other` are two
/// existing accounts (SQL stores check the foreign key).
pub async fn factors<S: FactorStore + Clone>(store: S, owner: UserId, other: UserId) {
    let at = chrono::DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
    let factor = |sealed: &str| TotpFactor {
        user_id: owner,
        sealed_secret: SealedSecret(sealed.to_owned()),
        created_at: at,
        confirmed_at: None,
        last_used_step: None,
    };
    let none = store.overview(owner).await.unwrap();
    assert!(!none.has_second_factor() && !none.totp_pending);
    assert!(!store.use_totp_step(owner, 1).await.unwrap(), "no factor");

    assert!(store.begin_totp(&factor("v1.first")).await.unwrap());
    assert!(
        store.begin_totp(&factor("v1.second")).await.unwrap(),
        "an enrolment is replaced"
    );
    assert_eq!(store.totp(owner).await.unwrap(), Some(factor("v1.second")));
    let pending = store.overview(owner).await.unwrap();
    assert!(pending.totp_pending && !pending.has_second_factor());
    assert!(!store.use_totp_step(owner, 5).await.unwrap(), "unconfirmed");
    assert!(
        !store
            .confirm_totp(owner, &SealedSecret("v1.first".into()), 10, at)
            .await
            .unwrap(),
        "a replaced enrolment cannot be confirmed"
    );
    assert!(
        store
            .confirm_totp(owner, &SealedSecret("v1.second".into()), 10, at)
            .await
            .unwrap()
    );
    assert!(
        !store
            .confirm_totp(owner, &SealedSecret("v1.second".into()), 11, at)
            .await
            .unwrap()
    );
    assert!(
        !store.begin_totp(&factor("v1.third")).await.unwrap(),
        "a confirmed factor stays"
    );
    let on = store.totp(owner).await.unwrap().unwrap();
    assert_eq!((on.confirmed_at, on.last_used_step), (Some(at), Some(10)));
    assert_eq!(on.sealed_secret.0, "v1.second");

    assert!(
        !store.use_totp_step(owner, 10).await.unwrap(),
        "the confirming step is used"
    );
    assert!(
        !store.use_totp_step(owner, 9).await.unwrap(),
        "no going back"
    );
    assert!(store.use_totp_step(owner, 12).await.unwrap());
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.use_totp_step(owner, 13).await.unwrap() })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        won += usize::from(t.await.unwrap());
    }
    assert_eq!(won, 1, "one of concurrent uses of a step wins");

    let set: Vec<TokenFingerprint> = (0..10)
        .map(|i| TokenFingerprint(format!("{}{i}", tag())))
        .collect();
    store.replace_recovery_codes(owner, &set, at).await.unwrap();
    store
        .replace_recovery_codes(other, &[TokenFingerprint("others".into())], at)
        .await
        .unwrap();
    assert_eq!(store.overview(owner).await.unwrap().recovery_codes_left, 10);
    assert!(
        !store
            .use_recovery_code(owner, &TokenFingerprint("others".into()), at)
            .await
            .unwrap(),
        "another account's code"
    );
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (store, code) = (store.clone(), set[0].clone());
            tokio::spawn(async move { store.use_recovery_code(owner, &code, at).await.unwrap() })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        won += usize::from(t.await.unwrap());
    }
    assert_eq!(won, 1, "a recovery code is used once");
    assert_eq!(store.overview(owner).await.unwrap().recovery_codes_left, 9);
    let fresh = vec![TokenFingerprint(format!("{}new", tag()))];
    store
        .replace_recovery_codes(owner, &fresh, at)
        .await
        .unwrap();
    assert!(
        !store.use_recovery_code(owner, &set[1], at).await.unwrap(),
        "the old set is void"
    );
    let overview = store.overview(owner).await.unwrap();
    assert_eq!(overview.recovery_codes_left, 1);
    assert!(overview.has_second_factor());

    assert!(store.remove_totp(owner).await.unwrap());
    assert!(!store.remove_totp(owner).await.unwrap());
    let gone = store.overview(owner).await.unwrap();
    assert_eq!(
        gone,
        tessera_domain::model::FactorOverview::default(),
        "codes go with the factor"
    );
    assert!(!store.use_recovery_code(owner, &fresh[0], at).await.unwrap());
    assert_eq!(
        store.overview(other).await.unwrap().recovery_codes_left,
        1,
        "others untouched"
    );
}

/// [`FactorStore`]'s passkeys: a credential id is registered once across
/// accounts, the per-account bound holds under concurrent registrations,
/// rename and removal touch only the owner's, a use updates the stored
/// credential, the recovery codes go with the last factor (and stay while a
/// TOTP factor or another passkey remains), and removing every factor
/// empties the overview.
pub async fn passkeys<S: FactorStore + Clone>(store: S, owner: UserId, other: UserId) {
    let at = chrono::DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
    let t = tag();
    let passkey = |user: UserId, n: usize| Passkey {
        id: uuid::Uuid::new_v4(),
        user_id: user,
        credential_id: format!("{t}-cred-{n}"),
        name: format!("key {n}"),
        credential: StoredCredential(format!("{{\"n\":{n}}}")),
        backup_eligible: n.is_multiple_of(2),
        created_at: at + chrono::Duration::seconds(i64::try_from(n).unwrap()),
        last_used_at: None,
    };
    let codes = vec![TokenFingerprint(format!("{t}pk"))];
    let first = passkey(owner, 0);
    assert_eq!(
        store.add_passkey(&first, 3, &codes).await.unwrap(),
        PasskeyAdded::Added {
            recovery_codes_issued: true
        },
        "the first factor brings its recovery codes"
    );
    assert_eq!(store.overview(owner).await.unwrap().recovery_codes_left, 1);
    let mut stolen = passkey(other, 0);
    stolen.id = uuid::Uuid::new_v4();
    assert_eq!(
        store.add_passkey(&stolen, 3, &codes).await.unwrap(),
        PasskeyAdded::CredentialTaken,
        "a credential id belongs to one account"
    );
    assert_eq!(
        store
            .passkey_by_credential(&first.credential_id)
            .await
            .unwrap(),
        Some(first.clone())
    );
    // Concurrent registrations never pass the bound, and none issues codes
    // while the account holds some.
    let racers: Vec<_> = (1..=6)
        .map(|n| {
            let store = store.clone();
            let p = passkey(owner, n);
            let more = vec![TokenFingerprint(format!("{t}more{n}"))];
            tokio::spawn(async move { store.add_passkey(&p, 3, &more).await.unwrap() })
        })
        .collect();
    let mut outcomes = Vec::new();
    for r in racers {
        outcomes.push(r.await.unwrap());
    }
    let added = PasskeyAdded::Added {
        recovery_codes_issued: false,
    };
    assert_eq!(
        outcomes.iter().filter(|o| **o == added).count(),
        2,
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == PasskeyAdded::AccountFull)
            .count(),
        4,
        "three passkeys at most: {outcomes:?}"
    );
    let held = store.passkeys(owner).await.unwrap();
    assert_eq!(held.len(), 3);
    assert_eq!(held[0], first, "oldest first");
    assert_eq!(store.overview(owner).await.unwrap().passkeys, 3);

    assert!(!store.rename_passkey(other, first.id, "mine").await.unwrap());
    assert!(
        store
            .rename_passkey(owner, first.id, "Laptop")
            .await
            .unwrap()
    );
    let updated = StoredCredential("{\"counter\":7}".into());
    assert!(
        store
            .record_passkey_use(first.id, &first.credential, Some((&updated, true)), at)
            .await
            .unwrap()
    );
    assert!(
        !store
            .record_passkey_use(
                first.id,
                &first.credential,
                Some((&first.credential, false)),
                at
            )
            .await
            .unwrap(),
        "compare and set: a use checked against an older credential changes nothing"
    );
    assert!(
        store
            .record_passkey_use(first.id, &first.credential, None, at)
            .await
            .unwrap(),
        "a use that changes no credential is recorded"
    );
    let read = store
        .passkey_by_credential(&first.credential_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.name, "Laptop");
    assert_eq!(read.credential, updated);
    assert!(
        read.backup_eligible,
        "the flag is stored with the credential"
    );
    assert_eq!(read.last_used_at, Some(at));

    assert!(
        !store.remove_passkey(other, first.id).await.unwrap(),
        "not theirs"
    );
    for p in &held {
        assert!(store.remove_passkey(owner, p.id).await.unwrap());
        let left = store.overview(owner).await.unwrap();
        let last = left.passkeys == 0;
        assert_eq!(
            left.recovery_codes_left,
            u32::from(!last),
            "codes go with the last factor"
        );
    }
    assert!(!store.remove_passkey(owner, first.id).await.unwrap());

    // A TOTP factor keeps the codes when the passkey goes; removing every
    // factor takes all.
    store
        .add_passkey(&passkey(owner, 10), 3, &codes)
        .await
        .unwrap();
    assert!(
        store
            .begin_totp(&TotpFactor {
                user_id: owner,
                sealed_secret: SealedSecret("v1.pk".into()),
                created_at: at,
                confirmed_at: None,
                last_used_step: None,
            })
            .await
            .unwrap()
    );
    assert!(
        store
            .confirm_totp(owner, &SealedSecret("v1.pk".into()), 1, at)
            .await
            .unwrap()
    );
    store
        .replace_recovery_codes(owner, &codes, at)
        .await
        .unwrap();
    assert!(store.remove_totp(owner).await.unwrap());
    assert_eq!(
        store.overview(owner).await.unwrap().recovery_codes_left,
        1,
        "the passkey still stands"
    );
    assert!(store.remove_all_factors(owner).await.unwrap());
    assert_eq!(
        store.overview(owner).await.unwrap(),
        tessera_domain::model::FactorOverview::default()
    );
    assert!(!store.remove_all_factors(owner).await.unwrap());
}
