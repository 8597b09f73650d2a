//! Hashes imported from the seeds verify at login and become argon2id.

use reqwest::StatusCode;
use serde_json::json;
use tessera_domain::model::{NewUser, PasswordHash};
use tessera_domain::ports::UserRepository as _;
use tessera_domain::values::{Email, RoleName, Username, UsernamePolicy};
use tessera_sql::{Database, DbConfig, SqlUsers};

use crate::helpers::{s, spawn_app};

fn hashes() -> Vec<(&'static str, String)> {
    // "password123" in each format; werkzeug values computed with Python's hashlib.
    vec![
        ("sha256", "ef92b778bafe771e89245b89ecbc08a44a4e166c06659911881f383d4473e94f".to_owned()),
        ("sm3", format!("sm3${}", tessera_crypto::legacy::sm3_hex("password123"))),
        (
            "pbkdf2",
            "pbkdf2:sha256:1000$Hx1f2G$0358749ecbe6a56c1a03f2dc9b4d7e6136a4a40d12321f1196d65a2fa6befceb".to_owned(),
        ),
        ("bcrypt", bcrypt::hash("password123", 4).unwrap()),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn each_seed_hash_logs_in_once_and_is_then_argon2id() {
    let app = spawn_app().await;
    let db = Database::connect(&DbConfig {
        url: app.database_url(),
        max_connections: 2,
        acquire_timeout: std::time::Duration::from_secs(5),
    })
    .unwrap();
    let users = SqlUsers::new(db);
    for (name, hash) in hashes() {
        let user = users
            .create(
                NewUser {
                    public_id: uuid::Uuid::new_v4(),
                    username: Username::parse(
                        &format!("imported-{name}"),
                        &UsernamePolicy::EXISTING,
                    )
                    .unwrap(),
                    email: Email::parse(&format!("{name}@seed.example")).unwrap(),
                    phone: None,
                    password_hash: PasswordHash::new(hash),
                    role: RoleName::parse("unauth").unwrap(),
                    email_verified: false,
                    created_at: chrono::Utc::now(),
                },
                None,
                &[],
            )
            .await
            .unwrap();
        let (status, _) = app
            .post(
                "/api/auth/login",
                &json!({"username": user.username.as_str(), "password": "nope-nope"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}: wrong password");
        app.login(user.username.as_str(), "password123").await;
        let after = users.find_by_id(user.id).await.unwrap().unwrap();
        assert!(
            after.password_hash.as_str().starts_with("$argon2id$"),
            "{name}: {:?}",
            after.password_hash
        );
        app.login(user.username.as_str(), "password123").await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn tessera_users_import_is_idempotent_and_reports_bad_lines() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.jsonl");
    let bcrypt_hash = bcrypt::hash("password123", 4).unwrap();
    let lines = [
        json!({"username": "dream", "email": "Dream@Example.com", "password_hash": hashes()[0].1, "created_at": "2024-01-01 08:00:00"}).to_string(),
        json!({"id": "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "username": "uscre", "email": "u@example.com", "phone": 13900139000_u64, "role": "supplier", "password_hash": bcrypt_hash}).to_string(),
        "# a comment, then an empty line".to_owned(),
        String::new(),
        json!({"username": "dream", "email": "other@example.com", "password_hash": hashes()[0].1}).to_string(),
        json!({"username": "bademail", "email": "not-an-email", "password_hash": hashes()[0].1}).to_string(),
        json!({"username": "badhash", "email": "b@example.com", "password_hash": "md5:abc"}).to_string(),
    ];
    std::fs::write(&file, lines.join("\n")).unwrap();
    let run = || {
        app.tessera_cli(dir.path())
            .args(["users", "import"])
            .arg(&file)
            .output()
            .unwrap()
    };
    let out = run();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "a line failed: {stdout}");
    assert!(
        stdout.contains("line 5: skipped: username exists"),
        "{stdout}"
    );
    assert!(stdout.contains("line 6: error: email"), "{stdout}");
    assert!(stdout.contains("line 7: error: password_hash"), "{stdout}");
    assert!(
        stdout.contains("imported 2, skipped 1, failed 2"),
        "{stdout}"
    );

    let body = app.login("dream@example.com", "password123").await;
    assert_eq!(body["user"]["created_at"], "2024-01-01T08:00:00");
    let body = app.login("13900139000", "password123").await;
    assert_eq!(body["user"]["role"], "supplier");
    // Seed 002's UUID id survives the import: its clients see the same id.
    let (status, v1) = app
        .post(
            "/api/v1/auth/login",
            &json!({"email": "u@example.com", "password": "password123"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v1}");
    let (_, profile) = app
        .get_bearer("/api/v1/auth/profile", s(&v1["token"]))
        .await;
    assert_eq!(profile["id"], "3f2504e0-4f89-11d3-9a0c-0305e82c3301");

    let again = run();
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(
        stdout.contains("imported 0, skipped 3, failed 2"),
        "idempotent: {stdout}"
    );
    let (status, _) = app
        .post(
            "/api/auth/login",
            &json!({"username": "uscre", "password": "wrong-one"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn tessera_user_create_makes_the_first_super_admin() {
    use std::io::Write as _;
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let create = |args: &[&str], stdin: Option<&str>| {
        let mut child = app
            .tessera_cli(dir.path())
            .args(["user", "create"])
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        child.wait_with_output().unwrap()
    };
    let out = create(
        &[
            "--username",
            "root",
            "--email",
            "root@example.com",
            "--role",
            "super_admin",
        ],
        Some("Admin-Secret-1\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("created user 1 (root, role super_admin)")
    );

    let login = app.login("root", "Admin-Secret-1").await;
    let (_, me) = app
        .get_bearer("/api/auth/me", s(&login["access_token"]))
        .await;
    assert_eq!(me["user"]["roles"], json!(["super_admin"]));
    assert_eq!(me["user"]["email_verified"], true);
    assert!(
        me["user"]["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("user:delete"))
    );

    let dup = create(
        &[
            "--username",
            "root",
            "--email",
            "x@example.com",
            "--password",
            "Another-Secret-2",
        ],
        None,
    );
    assert_eq!(dup.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&dup.stderr).contains("username already taken"),
        "{}",
        String::from_utf8_lossy(&dup.stderr)
    );
    let weak = create(
        &[
            "--username",
            "weak",
            "--email",
            "w@example.com",
            "--password",
            "short",
        ],
        None,
    );
    assert_eq!(weak.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&weak.stderr).contains("password"),
        "{}",
        String::from_utf8_lossy(&weak.stderr)
    );
}
