//! [`UserRepository::change_contact`] (issue 20, "Change e-mail").

use tessera_domain::model::{ContactChange, EventType, PendingEvent};

use super::prelude::*;
use super::{login_of, new_user, tag};

/// A new address counts as verified and is found by its canonical form; the
/// old one finds nothing; another account's address or number is refused
/// with [`CreateUserError::Duplicate`] and nothing changes; a number may be
/// removed; a missing account changes nothing (false); two accounts racing
/// for one address: exactly one wins.
pub async fn contact_change<R: UserRepository + Clone>(repo: R) {
    let t = tag();
    let phone = format!("137{}", &Uuid::new_v4().as_u128().to_string()[..8]);
    let other_phone = format!("136{}", &Uuid::new_v4().as_u128().to_string()[..8]);
    let ann = repo
        .create(
            new_user(&format!("ann{t}"), &format!("ann{t}@b.com"), Some(&phone)),
            None,
            &[],
        )
        .await
        .unwrap();
    let ben = repo
        .create(
            new_user(
                &format!("ben{t}"),
                &format!("ben{t}@b.com"),
                Some(&other_phone),
            ),
            None,
            &[],
        )
        .await
        .unwrap();
    let at = ann.created_at + Duration::seconds(3);
    let new = Email::parse(&format!("Ann.New{t}@B.com")).unwrap();
    let changed = repo
        .change_contact(
            ann.id,
            &ContactChange::Email(new.clone()),
            Some(&ContactChange::Email(ann.email.clone())),
            at,
            None,
            &[PendingEvent::new(EventType::UserEmailChanged, at)],
        )
        .await
        .unwrap();
    assert!(changed);
    let now = repo.find_by_id(ann.id).await.unwrap().unwrap();
    assert_eq!(now.email, new);
    assert!(now.email_verified, "a new address counts as verified");
    assert_eq!(now.updated_at, at);
    assert_eq!(
        repo.find_by_login(&login_of(&format!("ann.new{t}@b.com")))
            .await
            .unwrap()
            .map(|u| u.id),
        Some(ann.id)
    );
    assert_eq!(
        repo.find_by_login(&login_of(&format!("ann{t}@b.com")))
            .await
            .unwrap(),
        None,
        "the old address no longer names the account"
    );

    // Another account's address or number: refused, nothing written.
    for (change, field) in [
        (ContactChange::Email(ben.email.clone()), UniqueField::Email),
        (ContactChange::Phone(ben.phone.clone()), UniqueField::Phone),
    ] {
        match repo
            .change_contact(ann.id, &change, None, at, None, &[])
            .await
        {
            Err(CreateUserError::Duplicate(f)) => assert_eq!(f, field),
            other => panic!("expected duplicate {field:?}, got {other:?}"),
        }
    }
    let unchanged = repo.find_by_id(ann.id).await.unwrap().unwrap();
    assert_eq!(unchanged.email, new);
    assert_eq!(unchanged.phone, ann.phone);

    // A change that expects a value the account no longer holds (a revert
    // restored another meanwhile) touches nothing.
    assert!(
        !repo
            .change_contact(
                ann.id,
                &ContactChange::Email(Email::parse(&format!("late{t}@b.com")).unwrap()),
                Some(&ContactChange::Email(ann.email.clone())),
                at,
                None,
                &[],
            )
            .await
            .unwrap()
    );
    assert!(
        !repo
            .change_contact(
                ann.id,
                &ContactChange::Phone(None),
                Some(&ContactChange::Phone(None)),
                at,
                None,
                &[]
            )
            .await
            .unwrap(),
        "the account has a number"
    );
    assert_eq!(repo.find_by_id(ann.id).await.unwrap().unwrap().email, new);

    // A number, then none.
    let number = Phone::parse(
        &format!("135{}", &Uuid::new_v4().as_u128().to_string()[..8]),
        PhoneRegion::default(),
    )
    .unwrap();
    assert!(
        repo.change_contact(
            ann.id,
            &ContactChange::Phone(Some(number.clone())),
            None,
            at,
            None,
            &[]
        )
        .await
        .unwrap()
    );
    assert_eq!(
        repo.find_by_login(&Login::Phone(number.clone()))
            .await
            .unwrap()
            .map(|u| u.id),
        Some(ann.id)
    );
    assert!(
        repo.change_contact(ann.id, &ContactChange::Phone(None), None, at, None, &[])
            .await
            .unwrap()
    );
    assert_eq!(repo.find_by_id(ann.id).await.unwrap().unwrap().phone, None);
    assert!(
        !repo
            .change_contact(
                UserId(i64::MAX),
                &ContactChange::Phone(None),
                None,
                at,
                None,
                &[]
            )
            .await
            .unwrap(),
        "a missing account"
    );

    // Two accounts racing for one address: exactly one gets it.
    let contested = Email::parse(&format!("contested{t}@b.com")).unwrap();
    let tasks: Vec<_> = [ann.id, ben.id]
        .into_iter()
        .map(|id| {
            let repo = repo.clone();
            let change = ContactChange::Email(contested.clone());
            tokio::spawn(async move { repo.change_contact(id, &change, None, at, None, &[]).await })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(true) => won += 1,
            Err(CreateUserError::Duplicate(UniqueField::Email)) => {}
            other => panic!("racing change: {other:?}"),
        }
    }
    assert_eq!(won, 1, "exactly one account holds the address");
}
