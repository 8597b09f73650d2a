//! The user directory: listing, roles, the role catalogue.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[allow(unused_imports)]
use super::prelude::*;
#[allow(unused_imports)]
use super::{login_of, new_user, rand_u16, tag};

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
                &[],
            )
            .await
            .unwrap();
        assert_eq!(u.roles, vec![role("unauth")], "a new user holds its role");
        ids.push(u.id);
    }
    let id = ids[0];

    // Grant: idempotent, primary first, visible to every lookup.
    assert!(repo.grant_role(id, &role("admin"), now, &[]).await.unwrap());
    assert!(!repo.grant_role(id, &role("admin"), now, &[]).await.unwrap());
    assert!(
        !repo
            .grant_role(id, &role("unauth"), now, &[])
            .await
            .unwrap(),
        "the primary role is held"
    );
    assert!(
        repo.grant_role(id, &role("regulator"), now, &[])
            .await
            .unwrap()
    );
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
            .grant_role(UserId(i64::MAX), &role("admin"), now, &[])
            .await
            .unwrap()
    );

    // Revoke: a granted role; then the primary (the next granted role takes its place).
    assert!(
        repo.revoke_role(id, &role("admin"), &role("unauth"), now, &[])
            .await
            .unwrap()
    );
    assert!(
        !repo
            .revoke_role(id, &role("admin"), &role("unauth"), now, &[])
            .await
            .unwrap()
    );
    assert!(
        repo.revoke_role(id, &role("unauth"), &role("unauth"), now, &[])
            .await
            .unwrap()
    );
    assert_eq!(
        roles_of(&repo, id).await,
        ("regulator".into(), vec!["regulator".into()])
    );
    // The last role falls back to the default.
    assert!(
        repo.revoke_role(id, &role("regulator"), &role("unauth"), now, &[])
            .await
            .unwrap()
    );
    assert_eq!(
        roles_of(&repo, id).await,
        ("unauth".into(), vec!["unauth".into()])
    );
    assert!(
        !repo
            .revoke_role(id, &role("unauth"), &role("unauth"), now, &[])
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
    assert!(repo.set_active(ids[1], false, now, &[]).await.unwrap());
    assert!(!repo.set_active(ids[1], false, now, &[]).await.unwrap());
    assert!(!repo.find_by_id(ids[1]).await.unwrap().unwrap().is_active);
    assert!(repo.set_active(ids[1], true, now, &[]).await.unwrap());
    assert!(
        !repo
            .set_active(UserId(i64::MAX), false, now, &[])
            .await
            .unwrap()
    );

    // Search (username or email, any case) and paging by id.
    let q = |search: &str, offset, limit| UserQuery {
        search: Some(search.to_owned()),
        offset,
        limit,
        order: UserOrder::Id,
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
            order: UserOrder::Id,
        })
        .await
        .unwrap();
    assert!(all.total >= 3 && all.users.windows(2).all(|w| w[0].id < w[1].id));
    // The other orders, each whole and ties by id.
    let sorted = |order| UserQuery {
        search: Some(format!("{t}@b.com")),
        offset: 0,
        limit: 1000,
        order,
    };
    let newest = repo.list(&sorted(UserOrder::Newest)).await.unwrap();
    assert!(
        newest.users.windows(2).all(|w| w[0].id > w[1].id),
        "newest first"
    );
    let by_name = repo.list(&sorted(UserOrder::Username)).await.unwrap();
    let names: Vec<String> = by_name
        .users
        .iter()
        .map(|u| u.username.as_str().to_owned())
        .collect();
    let mut expected = names.clone();
    expected.sort();
    assert_eq!(names, expected, "by username");
    let by_email = repo.list(&sorted(UserOrder::Email)).await.unwrap();
    let emails: Vec<String> = by_email
        .users
        .iter()
        .map(|u| u.email.as_str().to_owned())
        .collect();
    let mut expected = emails.clone();
    expected.sort();
    assert_eq!(emails, expected, "by email");
    let second = repo
        .list(&UserQuery {
            offset: 1,
            limit: 1,
            ..sorted(UserOrder::Newest)
        })
        .await
        .unwrap();
    assert_eq!(
        second.users[0].id, newest.users[1].id,
        "paging follows the order"
    );

    // Delete: gone from every lookup, its roles with it; a second delete is a no-op.
    repo.grant_role(ids[2], &role("admin"), now, &[])
        .await
        .unwrap();
    assert!(repo.delete(ids[2], &[]).await.unwrap());
    assert!(!repo.delete(ids[2], &[]).await.unwrap());
    assert_eq!(repo.find_by_id(ids[2]).await.unwrap(), None);
    let gone = login_of(&format!("dir2{t}@b.com"));
    assert_eq!(repo.find_by_login(&gone).await.unwrap(), None);
    let again = repo
        .create(
            new_user(&format!("dir2{t}"), &format!("dir2{t}@b.com"), None),
            None,
            &[],
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
