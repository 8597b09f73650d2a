//! The mail outbox, alone and with the change that queues a mail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[allow(unused_imports)]
use super::prelude::*;
#[allow(unused_imports)]
use super::{login_of, new_user, rand_u16, tag};

fn mail(to: &str, subject: &str) -> OutgoingMail {
    OutgoingMail {
        to: Email::parse(to).unwrap(),
        subject: subject.into(),
        text: format!("{subject}\n"),
        html: format!("<p>{subject}</p>"),
    }
}

/// [`UserRepository`] + [`MailOutbox`] of one store: mail that accompanies a
/// change is queued if and only if the change is stored; deleting the
/// account takes its mail with it (issue 20).
pub async fn mail_with_changes<R: UserRepository + UserDirectory, O: MailOutbox>(
    repo: R,
    outbox: O,
) {
    let t = tag();
    let before = outbox.pending().await.unwrap();
    let u = repo
        .create(
            new_user(&format!("m{t}"), &format!("m{t}@b.com"), None),
            Some(&mail(&format!("m{t}@b.com"), "welcome")),
            &[],
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
            &[],
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
        &[],
    )
    .await
    .unwrap();
    assert_eq!(outbox.pending().await.unwrap(), before + 2);
    assert!(repo.delete(u.id, &[]).await.unwrap());
    assert_eq!(
        outbox.pending().await.unwrap(),
        before,
        "the deleted account's mail (usernames, codes, links) goes with it"
    );
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
