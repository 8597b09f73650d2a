//! Scheduled account deletion (issue 20, "Delete my account").
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[allow(unused_imports)]
use super::prelude::*;
use super::{new_user, tag};

/// [`UserDirectory::schedule_deletion`] and its companions: a schedule is
/// one per account (asking again moves it), only due ones are listed and
/// deleted, a cancelled one deletes nothing, and a deleted account's
/// schedule goes with it.
pub async fn account_deletion<R: UserRepository + UserDirectory>(repo: R) {
    let t = tag();
    let now = chrono::DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
    let hour = chrono::Duration::hours(1);
    let mut ids = Vec::new();
    for i in 0..3 {
        let u = repo
            .create(
                new_user(&format!("del{i}{t}"), &format!("del{i}{t}@b.com"), None),
                None,
                &[],
            )
            .await
            .unwrap();
        ids.push(u.id);
    }
    let (a, b, c) = (ids[0], ids[1], ids[2]);
    assert_eq!(repo.deletion_due_at(a).await.unwrap(), None);
    assert!(
        !repo
            .schedule_deletion(UserId(i64::MAX - 7), now, now)
            .await
            .unwrap(),
        "no such account"
    );

    // Asking again moves the date.
    assert!(repo.schedule_deletion(a, now, now + hour).await.unwrap());
    assert!(
        repo.schedule_deletion(a, now, now + hour * 2)
            .await
            .unwrap()
    );
    assert_eq!(repo.deletion_due_at(a).await.unwrap(), Some(now + hour * 2));
    assert!(repo.schedule_deletion(b, now, now + hour).await.unwrap());
    assert!(
        repo.schedule_deletion(c, now, now + hour * 3)
            .await
            .unwrap()
    );

    // Only due ones, earliest first (other tests' accounts may be due too).
    let ids = &ids;
    let repo = &repo;
    let due = |at| async move {
        repo.deletions_due(at, 1000)
            .await
            .unwrap()
            .into_iter()
            .filter(|id| ids.contains(id))
            .collect::<Vec<_>>()
    };
    assert_eq!(due(now).await, Vec::<UserId>::new());
    assert_eq!(due(now + hour * 2).await, vec![b, a]);
    assert!(repo.deletions_due(now + hour * 3, 1).await.unwrap().len() <= 1);

    // Not due yet: nothing is deleted.
    assert!(!repo.delete_if_due(a, now + hour, &[]).await.unwrap());
    assert!(repo.find_by_id(a).await.unwrap().is_some());

    // A cancelled schedule deletes nothing.
    assert!(repo.cancel_deletion(b).await.unwrap());
    assert!(!repo.cancel_deletion(b).await.unwrap(), "once");
    assert_eq!(repo.deletion_due_at(b).await.unwrap(), None);
    assert!(!repo.delete_if_due(b, now + hour * 5, &[]).await.unwrap());
    assert!(repo.find_by_id(b).await.unwrap().is_some());

    // Due: the account goes, with its schedule.
    assert!(repo.delete_if_due(a, now + hour * 2, &[]).await.unwrap());
    assert!(repo.find_by_id(a).await.unwrap().is_none());
    assert_eq!(repo.deletion_due_at(a).await.unwrap(), None);
    assert!(
        !repo.delete_if_due(a, now + hour * 2, &[]).await.unwrap(),
        "once"
    );

    // An administrator's delete takes the schedule too.
    assert!(repo.delete(c, &[]).await.unwrap());
    assert_eq!(repo.deletion_due_at(c).await.unwrap(), None);
    assert!(!due(now + hour * 9).await.contains(&c));
}
