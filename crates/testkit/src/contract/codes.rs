//! Verification codes and rate limits.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[allow(unused_imports)]
use super::prelude::*;
#[allow(unused_imports)]
use super::{login_of, new_user, rand_u16, tag};

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
    // A passkey ceremony's state rides in the binding: a few KiB.
    let ceremony = VerificationCode {
        purpose: CodePurpose::PasskeySignIn,
        binding: Some(format!("{{\"state\":\"{}\"}}", "é".repeat(4000))),
        ..code.clone()
    };
    store.put(&ceremony).await.unwrap();
    assert_eq!(
        store.take(ceremony.purpose, &recipient).await.unwrap(),
        Some(ceremony),
        "a long binding is kept whole"
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

/// `limit` hits per `window_secs`.
fn window(limit: u32, window_secs: u64) -> tessera_domain::ports::RateWindow {
    tessera_domain::ports::RateWindow { limit, window_secs }
}

/// [`RateLimiter`]: counts within a window, refuses past the limit, keys are separate.
pub async fn rate_limiter<L: RateLimiter>(limiter: L) {
    let key = format!("contract:{}", tag());
    for i in 1..=3u32 {
        let d = limiter.hit(&key, window(3, 60)).await.unwrap();
        assert!(d.allowed, "hit {i}");
        assert_eq!((d.limit, d.remaining), (3, 3 - i));
        assert!((1..=60).contains(&d.reset_after_secs), "{d:?}");
    }
    let d = limiter.hit(&key, window(3, 60)).await.unwrap();
    assert!(!d.allowed);
    assert_eq!(d.remaining, 0);
    assert!(
        limiter
            .hit(&format!("{key}:other"), window(3, 60))
            .await
            .unwrap()
            .allowed
    );

    // open_for reads without counting; clear forgets.
    assert!((1..=60).contains(&limiter.open_for(&key).await.unwrap().unwrap()));
    assert!(
        !limiter.hit(&key, window(3, 60)).await.unwrap().allowed,
        "open_for counted nothing"
    );
    assert_eq!(
        limiter.open_for(&format!("{key}:never")).await.unwrap(),
        None
    );
    limiter.clear(&key).await.unwrap();
    assert_eq!(limiter.open_for(&key).await.unwrap(), None);
    assert!(
        limiter.hit(&key, window(3, 60)).await.unwrap().allowed,
        "a cleared key starts over"
    );
    limiter.clear(&format!("{key}:never")).await.unwrap();

    let short = format!("{key}:short");
    assert!(limiter.hit(&short, window(1, 1)).await.unwrap().allowed);
    assert!(!limiter.hit(&short, window(1, 1)).await.unwrap().allowed);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert!(
        limiter.hit(&short, window(1, 1)).await.unwrap().allowed,
        "a new window"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        limiter.open_for(&short).await.unwrap(),
        None,
        "an ended window is closed"
    );
}
