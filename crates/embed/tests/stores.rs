//! Each store the builder offers registers, delivers the verification mail,
//! logs in and refreshes. MySQL needs `TEST_DATABASE_URL` (a server URL such
//! as `mysql://root@127.0.0.1:3306`), Redis `TEST_REDIS_URL`; scripts/test.sh
//! provides both.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use tessera_embed::tessera_domain::mail::Locale;
use tessera_embed::tessera_domain::ports::Ports;
use tessera_embed::tessera_domain::settings::LinkKind;
use tessera_embed::tessera_domain::usecase::{LoginStep, LoginTerms, RegistrationForm};
use tessera_embed::tessera_domain::values::PasswordInput;
use tessera_embed::tessera_memory::MemoryMailer;
use tessera_embed::{BuildError, MailSink, Secret, Tessera, client};

/// Registers, delivers the verification mail, logs in and refreshes.
async fn walk<P: Ports>(tessera: &Tessera<P>, mailer: &MemoryMailer)
where
    P::Outbox: Clone,
{
    let auth = tessera.service();
    let name = format!("u{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let email = format!("{name}@example.com");
    auth.register(
        &RegistrationForm {
            username: Some(name.clone()),
            email: Some(email.clone()),
            password: Some("correct horse battery".into()),
            ..RegistrationForm::default()
        },
        Locale::En,
        LinkKind::Page,
    )
    .await
    .unwrap();
    let report = tessera.workers().deliver_mail_now().await.unwrap();
    assert_eq!(report.sent, 1, "{report:?}");
    let sent = mailer.sent();
    assert!(
        sent.iter().any(|m| m.to.as_str() == email),
        "the verification mail reached the sink: {sent:?}"
    );
    let me = client("192.0.2.1".parse().unwrap(), Some("test"));
    let login = auth
        .verify_credentials(
            &email,
            PasswordInput::Plain("correct horse battery"),
            me.clone(),
            LoginTerms::default(),
        )
        .await
        .and_then(LoginStep::done)
        .unwrap();
    let who = auth
        .authenticate(Some(login.tokens.access.token.expose()), me.clone())
        .await
        .unwrap();
    assert_eq!(
        auth.current_user(&who).await.unwrap().username.as_str(),
        name
    );
    let (_, pair) = auth
        .refresh(login.tokens.refresh.expose(), me.clone())
        .await
        .unwrap();
    assert_ne!(pair.refresh.expose(), login.tokens.refresh.expose());
    auth.authenticate(Some(pair.access.token.expose()), me)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn memory() {
    let mailer = MemoryMailer::default();
    let tessera = Tessera::builder()
        .memory()
        .secret(Secret::generate().unwrap())
        .mail(MailSink::memory(mailer.clone()))
        .build()
        .await
        .unwrap();
    walk(&tessera, &mailer).await;
}

#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread")]
async fn sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let mailer = MemoryMailer::default();
    let tessera = Tessera::builder()
        .sqlite(dir.path().join("t.db"))
        .secret(Secret::generate().unwrap())
        .mail(MailSink::memory(mailer.clone()))
        .build()
        .await
        .unwrap();
    walk(&tessera, &mailer).await;
}

#[cfg(feature = "mysql")]
#[tokio::test(flavor = "multi_thread")]
async fn mysql() {
    let base = std::env::var("TEST_DATABASE_URL")
        .expect("TEST_DATABASE_URL is not set (e.g. mysql://root@127.0.0.1:3306): run scripts/test.sh, which provides MariaDB");
    let url = format!(
        "{}/tessera_test_{}",
        base.trim_end_matches('/'),
        uuid::Uuid::new_v4().simple()
    );
    let mailer = MemoryMailer::default();
    let tessera = Tessera::builder()
        .mysql(url.clone())
        .secret(Secret::generate().unwrap())
        .mail(MailSink::memory(mailer.clone()))
        .build()
        .await
        .unwrap();
    walk(&tessera, &mailer).await;
    drop(tessera);
    tessera_embed::tessera_sql::Database::drop_database(&url)
        .await
        .unwrap();
}

#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread")]
async fn redis_with_sqlite() {
    let redis = std::env::var("TEST_REDIS_URL")
        .expect("TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379): run scripts/test.sh, which provides Redis");
    let dir = tempfile::tempdir().unwrap();
    let mailer = MemoryMailer::default();
    let tessera = Tessera::builder()
        .sqlite(dir.path().join("t.db"))
        .redis_config(tessera_embed::tessera_redis::RedisConfig {
            url: Some(redis),
            cluster_urls: Vec::new(),
            key_prefix: format!("tessera-embed-test-{}:", uuid::Uuid::new_v4().simple()),
            pool_size: 4,
            timeout: Duration::from_secs(2),
        })
        .secret(Secret::generate().unwrap())
        .mail(MailSink::memory(mailer.clone()))
        .build()
        .await
        .unwrap();
    assert!(tessera.redis().is_some());
    walk(&tessera, &mailer).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_running_worker_delivers_mail() {
    let mailer = MemoryMailer::default();
    let running = Tessera::builder()
        .memory()
        .secret(Secret::generate().unwrap())
        .mail(MailSink::memory(mailer.clone()))
        .delivery(Default::default(), Duration::from_millis(20))
        .build()
        .await
        .unwrap()
        .spawn_workers();
    running
        .register(
            &RegistrationForm {
                username: Some("bob".into()),
                email: Some("bob@example.com".into()),
                password: Some("correct horse battery".into()),
                ..RegistrationForm::default()
            },
            Locale::En,
            LinkKind::Page,
        )
        .await
        .unwrap();
    for _ in 0..250 {
        if !mailer.sent().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(mailer.sent().len(), 1, "delivered by the worker within 5 s");
    running.stop().await;
}

#[tokio::test]
async fn building_without_mail_or_secret_is_refused() {
    let no_mail = Tessera::builder()
        .memory()
        .secret(Secret::generate().unwrap())
        .build()
        .await;
    assert!(matches!(no_mail, Err(BuildError::NoMail)), "{no_mail:?}");
    let no_secret = Tessera::builder()
        .memory()
        .mail(MailSink::memory(MemoryMailer::default()))
        .build()
        .await;
    assert!(
        matches!(no_secret, Err(BuildError::NoSecret)),
        "{no_secret:?}"
    );
    assert!(matches!(
        Secret::from_bytes(*b"short"),
        Err(BuildError::ShortSecret(5))
    ));
    assert!(Secret::from_bytes([7_u8; 32]).is_ok());
}

/// `.sqlite(path)` takes the path as a path: a name a URL would misread is
/// the file made, and a path that is not UTF-8 is refused (it used to be
/// turned into another file's name).
#[cfg(all(feature = "sqlite", unix))]
#[tokio::test(flavor = "multi_thread")]
async fn a_sqlite_path_is_a_path() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let odd = dir.path().join("sqlite:a?b#c.db");
    let tessera = Tessera::builder()
        .sqlite(&odd)
        .secret(Secret::generate().unwrap())
        .mail(MailSink::memory(MemoryMailer::default()))
        .build()
        .await
        .unwrap();
    assert!(odd.is_file(), "the file is made under its own name");
    drop(tessera);
    let not_utf8 = dir.path().join(std::ffi::OsStr::from_bytes(b"\xffauth.db"));
    let refused = Tessera::builder()
        .sqlite(&not_utf8)
        .secret(Secret::generate().unwrap())
        .mail(MailSink::memory(MemoryMailer::default()))
        .build()
        .await;
    assert!(
        matches!(refused, Err(BuildError::Database(_))),
        "{refused:?}"
    );
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let name = entry.unwrap().file_name();
        assert!(
            name.as_bytes().starts_with(b"sqlite:a?b#c.db"),
            "only the first database (and its journal) exists: {name:?}"
        );
    }
}
