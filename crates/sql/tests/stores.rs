//! The SQL adapters pass every port contract, on SQLite and on MySQL/MariaDB.
//!
//! SQLite runs in a temp dir. MySQL needs `TEST_DATABASE_URL` (a server URL
//! such as `mysql://root@127.0.0.1:3306`); each test creates and drops its own
//! database. `scripts/test.sh` provides a server; without one these tests fail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use chrono::{Duration as Span, Utc};
use tessera_domain::model::RevocationKey;
use tessera_domain::model::SessionId;
use tessera_domain::ports::{TokenDenylist, UserRepository};
use tessera_domain::values::PhoneRegion;
use tessera_memory::MirroredDenylist;
use tessera_sql::{Database, DbConfig, SqlCodes, SqlDenylist, SqlOutbox, SqlSessions, SqlUsers};
use tessera_testkit::contract;
use uuid::Uuid;

enum Kind {
    Sqlite,
    Mysql,
}

/// A migrated, empty database; dropped (MySQL) or deleted (SQLite) with the guard.
struct Fresh {
    config: DbConfig,
    db: Database,
    _dir: Option<tempfile::TempDir>,
}

impl Fresh {
    async fn new(kind: Kind) -> Self {
        let (url, dir) = match kind {
            Kind::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                (
                    format!("sqlite://{}", dir.path().join("nested/t.db").display()),
                    Some(dir),
                )
            }
            Kind::Mysql => {
                let base = std::env::var("TEST_DATABASE_URL").expect(
                    "TEST_DATABASE_URL is not set (e.g. mysql://root@127.0.0.1:3306): run scripts/test.sh, which provides MariaDB",
                );
                let name = format!("tessera_test_{}", Uuid::new_v4().simple());
                (format!("{}/{name}", base.trim_end_matches('/')), None)
            }
        };
        let config = DbConfig {
            url,
            max_connections: 8,
            acquire_timeout: Duration::from_secs(10),
        };
        // Every migration folder (counted, so that parallel branches that
        // each add one merge without editing this line).
        let folders = std::fs::read_dir(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../migrations/sqlite"
        ))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_dir())
        .count();
        let region = PhoneRegion::default();
        assert_eq!(
            Database::migrate(&config, region).await.unwrap().applied,
            folders
        );
        assert_eq!(
            Database::migrate(&config, region).await.unwrap().applied,
            0,
            "migrations are applied once"
        );
        let db = Database::connect(&config).unwrap();
        db.ping().await.unwrap();
        Self {
            config,
            db,
            _dir: dir,
        }
    }

    async fn drop(self) {
        Database::drop_database(&self.config.url).await.unwrap();
    }
}

async fn every_contract(kind: Kind) {
    let f = Fresh::new(kind).await;
    let users = SqlUsers::new(f.db.clone());
    contract::users(users.clone()).await;
    contract::directory(users.clone()).await;
    contract::account_deletion(users.clone()).await;
    contract::contact_change(users.clone()).await;
    let owner = users
        .create(contract::new_user("owner", "owner@b.com", None), None, &[])
        .await
        .unwrap();
    contract::sessions(SqlSessions::new(f.db.clone()), owner.id).await;
    let other = users
        .create(contract::new_user("other", "other@b.com", None), None, &[])
        .await
        .unwrap();
    contract::factors(
        tessera_sql::SqlFactors::new(f.db.clone()),
        owner.id,
        other.id,
    )
    .await;
    contract::passkeys(
        tessera_sql::SqlFactors::new(f.db.clone()),
        owner.id,
        other.id,
    )
    .await;
    contract::clients(tessera_sql::SqlClients::new(f.db.clone()), owner.id).await;
    contract::identities(
        tessera_sql::SqlIdentities::new(f.db.clone()),
        owner.id,
        other.id,
    )
    .await;
    contract::webhooks(
        SqlUsers::new(f.db.clone()),
        tessera_sql::SqlWebhooks::new(f.db.clone()),
    )
    .await;
    contract::denylist(SqlDenylist::new(f.db.clone())).await;
    contract::denylist(MirroredDenylist::new(SqlDenylist::new(f.db.clone()))).await;
    contract::outbox(SqlOutbox::new(f.db.clone())).await;
    contract::audit(tessera_sql::SqlAudit::new(f.db.clone())).await;
    contract::codes(SqlCodes::new(f.db.clone())).await;
    contract::mail_with_changes(SqlUsers::new(f.db.clone()), SqlOutbox::new(f.db.clone())).await;
    f.drop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_passes_every_contract() {
    every_contract(Kind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mysql_passes_every_contract() {
    every_contract(Kind::Mysql).await;
}

async fn denylist_survives_a_reconnect(kind: Kind) {
    let f = Fresh::new(kind).await;
    let now = Utc::now();
    let live = RevocationKey::Session(SessionId(Uuid::new_v4()));
    let gone = RevocationKey::Token(Uuid::new_v4());
    let d = SqlDenylist::new(f.db.clone());
    d.deny(live, now + Span::minutes(15)).await.unwrap();
    d.deny(gone, now + Span::seconds(1)).await.unwrap();
    let reopened = SqlDenylist::new(Database::connect(&f.config).unwrap());
    let entries = reopened.live_entries(now + Span::seconds(2)).await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].0, live);
    assert!(entries[0].1 > now + Span::minutes(14));
    f.drop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_denylist_survives_a_reconnect() {
    denylist_survives_a_reconnect(Kind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mysql_denylist_survives_a_reconnect() {
    denylist_survives_a_reconnect(Kind::Mysql).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_mysql_is_unavailable_not_a_panic() {
    let config = DbConfig {
        url: "mysql://root@127.0.0.1:1/none".into(),
        max_connections: 2,
        acquire_timeout: Duration::from_secs(2),
    };
    assert!(
        Database::migrate(&config, PhoneRegion::default())
            .await
            .is_err()
    );
    let db = Database::connect(&config).unwrap();
    let err = db.ping().await.unwrap_err();
    assert!(err.to_string().contains("unavailable"), "{err}");
    let users = SqlUsers::new(db);
    assert!(
        users
            .find_by_id(tessera_domain::model::UserId(1))
            .await
            .is_err()
    );
}

/// Every write that changes a user or denies a key reaches a reader of the
/// change feed on another pool (another instance, or a `tessera` command),
/// once, in order; writes that change nothing add nothing (issue 15).
async fn writes_reach_the_change_feed(kind: Kind) {
    use tessera_domain::model::{Change, PasswordHash};
    use tessera_domain::ports::{ChangeFeed, UserDirectory};
    use tessera_domain::values::RoleName;
    use tessera_sql::SqlChangeFeed;

    let f = Fresh::new(kind).await;
    let other = Database::connect(&f.config).unwrap();
    let users = SqlUsers::new(other.clone());
    let denylist = SqlDenylist::new(other.clone());
    let mut feed = SqlChangeFeed::new(f.db.clone());
    let now = Utc::now();
    let u = users
        .create(
            contract::new_user("fed", "fed@b.com", Some("13800138000")),
            None,
            &[],
        )
        .await
        .unwrap();
    users.set_active(u.id, false, now, &[]).await.unwrap();
    assert!(
        feed.changes(Duration::ZERO).await.unwrap().is_empty(),
        "the first call only positions the feed"
    );
    assert!(
        feed.changes(Duration::ZERO).await.unwrap().is_empty(),
        "changes before it are not reported"
    );

    let admin = RoleName::parse("admin").unwrap();
    let fallback = RoleName::parse("user").unwrap();
    assert!(users.set_active(u.id, true, now, &[]).await.unwrap());
    users
        .update_password(u.id, &PasswordHash::new("$argon2id$new"), now, None, &[])
        .await
        .unwrap();
    assert!(users.grant_role(u.id, &admin, now, &[]).await.unwrap());
    assert!(
        users
            .revoke_role(u.id, &admin, &fallback, now, &[])
            .await
            .unwrap()
    );
    assert!(users.mark_email_verified(u.id, now, &[]).await.unwrap());
    users.clear_phone(u.id, now).await.unwrap();
    let key = RevocationKey::Session(SessionId(Uuid::new_v4()));
    denylist.deny(key, now + Span::hours(1)).await.unwrap();
    let mut expected = vec![Change::User(u.id); 6];
    expected.push(Change::Denied(key));
    assert_eq!(feed.changes(Duration::ZERO).await.unwrap(), expected);

    // Writes that change nothing: no rows.
    assert!(!users.set_active(u.id, true, now, &[]).await.unwrap());
    assert!(!users.mark_email_verified(u.id, now, &[]).await.unwrap());
    users.clear_phone(u.id, now).await.unwrap();
    assert!(
        !users
            .revoke_role(u.id, &admin, &fallback, now, &[])
            .await
            .unwrap()
    );
    let started = std::time::Instant::now();
    assert!(
        feed.changes(Duration::from_millis(30))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        started.elapsed() >= Duration::from_millis(30),
        "an empty answer waits"
    );

    assert!(users.delete(u.id, &[]).await.unwrap());
    assert_eq!(
        feed.changes(Duration::ZERO).await.unwrap(),
        [Change::User(u.id)]
    );
    assert_eq!(
        SqlChangeFeed::new(f.db.clone())
            .prune(Utc::now() + Span::seconds(1))
            .await
            .unwrap(),
        9,
        "pruning deletes the rows before the cutoff (the one written before the feed was positioned too)"
    );
    drop(other);
    f.drop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_writes_reach_the_change_feed() {
    writes_reach_the_change_feed(Kind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mysql_writes_reach_the_change_feed() {
    writes_reach_the_change_feed(Kind::Mysql).await;
}

/// Ends every MySQL connection to the database `url` names, as a restarted
/// server or a `wait_timeout` would.
async fn kill_connections(url: &str) {
    use mysql_async::prelude::Queryable as _;
    let opts = mysql_async::Opts::from_url(url).unwrap();
    let name = opts.db_name().unwrap().to_owned();
    let admin = mysql_async::OptsBuilder::from_opts(opts).db_name(None::<String>);
    let mut conn = mysql_async::Conn::new(admin).await.unwrap();
    let ids: Vec<u64> = conn
        .exec(
            "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ?",
            (name,),
        )
        .await
        .unwrap();
    assert!(!ids.is_empty(), "the pool holds a connection");
    for id in ids {
        // 1094 (unknown thread): it closed on its own meanwhile.
        match conn.query_drop(format!("KILL CONNECTION {id}")).await {
            Ok(()) => {}
            Err(mysql_async::Error::Server(e)) if e.code == 1094 => {}
            Err(e) => panic!("KILL CONNECTION {id}: {e}"),
        }
    }
    conn.disconnect().await.unwrap();
}

/// Pooled connections are not tested before each use (that costs MySQL a
/// round trip per statement): a connection in steady use that lost its server
/// fails one statement and leaves the pool, and one that sat idle is tested
/// first, so a restarted database costs at most one failed statement per
/// pooled connection, never an outage that outlasts it.
#[tokio::test(flavor = "multi_thread")]
async fn mysql_a_lost_connection_leaves_the_pool() {
    let f = Fresh::new(Kind::Mysql).await;
    let users = SqlUsers::new(f.db.clone());
    let nobody = tessera_domain::model::UserId(1);
    assert!(users.find_by_id(nobody).await.unwrap().is_none());

    // In steady use: at most one failure, then a new connection answers.
    kill_connections(&f.config.url).await;
    let mut failures = 0;
    for _ in 0..5 {
        match users.find_by_id(nobody).await {
            Ok(found) => {
                assert!(found.is_none());
                break;
            }
            Err(_) => failures += 1,
        }
    }
    assert!(failures <= 1, "{failures} statements failed after the kill");
    assert!(users.find_by_id(nobody).await.is_ok(), "the pool recovered");

    // Idle past the check interval: tested on the way out, so no failure at all.
    kill_connections(&f.config.url).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(users.find_by_id(nobody).await.unwrap().is_none());
    f.drop().await;
}

/// SQLite has one writer connection beside the readers: writes queue in the
/// pool rather than sleep in SQLite's busy handler, and many at once all land.
#[tokio::test(flavor = "multi_thread")]
async fn sqlite_writes_share_one_connection_and_all_land() {
    use tessera_domain::ports::SessionStore;
    let f = Fresh::new(Kind::Sqlite).await;
    let (_, _, max, _) = f.db.pool_status();
    assert_eq!(max, f.config.max_connections + 1, "readers and one writer");
    let users = SqlUsers::new(f.db.clone());
    let owner = users
        .create(contract::new_user("owner", "owner@b.com", None), None, &[])
        .await
        .unwrap();
    let sessions = SqlSessions::new(f.db.clone());
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..64 {
        let sessions = sessions.clone();
        tasks.spawn(async move {
            let session = contract::new_session(owner.id);
            sessions.create(&session).await.unwrap();
            session.id
        });
    }
    let mut created = Vec::new();
    while let Some(id) = tasks.join_next().await {
        created.push(id.unwrap());
    }
    let live = sessions.list_for_user(owner.id, Utc::now()).await.unwrap();
    assert_eq!(live.len(), 64);
    for id in created {
        assert!(live.iter().any(|s| s.id == id));
    }
    f.drop().await;
}
