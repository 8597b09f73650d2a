//! Correctness under concurrency and across instances, on MySQL + Redis.

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{SECRET, Stores, assert_error, parts, s, spawn_mysql_redis_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_registrations_of_one_name_give_one_201() {
    // The hash queue must hold the whole burst here: by default a burst beyond
    // 32 waiting hashes per CPU is shed with 503, which is not what this tests.
    let app = Arc::new(
        spawn_mysql_redis_app(&[
            ("WORKERS", "2"),
            ("HASH_MAX_WAITING", "1000"),
            ("DATABASE_MAX_CONNECTIONS", "16"),
            // 200 registrations from one address: the per-IP limit is not under test.
            ("RATE_LIMIT_REGISTER", "off"),
        ])
        .await,
    );
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                app.post("/api/auth/register", &json!({"username": "crowd", "email": format!("c{i}@b.com"), "password": "password123"}))
                    .await
            })
        })
        .collect();
    let (mut created, mut conflicts) = (0, 0);
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => {
                assert_error(&body, "username_taken");
                conflicts += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!((created, conflicts), (1, 199));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_refreshes_with_one_token_rotate_once() {
    let app = Arc::new(spawn_mysql_redis_app(&[("WORKERS", "2")]).await);
    let login = app.alice().await;
    let r0 = s(&login["refresh_token"]).to_owned();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (app, r0) = (app.clone(), r0.clone());
            tokio::spawn(async move { app.post_bearer("/api/auth/refresh", &r0, None).await })
        })
        .collect();
    let mut current = HashSet::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            StatusCode::OK => {
                current.insert(s(&body["refresh_token"]).to_owned());
            }
            StatusCode::UNAUTHORIZED => {}
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(
        current.len(),
        1,
        "one rotation: every success carries the same current token"
    );
    let r1 = current.into_iter().next().unwrap();
    assert_ne!(r1, r0);
    // The family continues from that one token.
    let (status, next) = app.post_bearer("/api/auth/refresh", &r1, None).await;
    assert_eq!(status, StatusCode::OK, "{next}");
    let (status, _) = app
        .get_bearer("/api/auth/me", s(&next["access_token"]))
        .await;
    assert_eq!(status, StatusCode::OK);
}

/// A `tessera` process of the binary under test.
struct Instance {
    child: Child,
    base: String,
}

impl Instance {
    async fn start(stores: &[(String, String)], var_dir: &std::path::Path) -> Self {
        let port = tessera_testkit::free_port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
        cmd.env_clear()
            .envs(stores.iter().cloned())
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("JWT_SECRET_KEY", SECRET)
            .env("ARGON2_MEMORY_KIB", "64")
            .env("ARGON2_ITERATIONS", "1")
            .env("PASSWORD_MIN_SCORE", "0")
            .env("WORKERS", "1")
            .env("TESSERA_VAR_DIR", var_dir)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null());
        let this = Self {
            child: cmd.spawn().unwrap(),
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = crate::helpers::http_client();
        for _ in 0..200 {
            if client
                .get(format!("{}/health", this.base))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return this;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("tessera on {port} did not become healthy");
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_processes_share_users_sessions_and_revocations() {
    let stores = Stores::fresh().env();
    let dir = tempfile::tempdir().unwrap();
    let a = Instance::start(&stores, &dir.path().join("a")).await;
    let b = Instance::start(&stores, &dir.path().join("b")).await;
    let c = crate::helpers::http_client();

    let r = c
        .post(format!("{}/api/auth/register", a.base))
        .json(&json!({"username": "alice", "email": "a@b.com", "password": "Secret123"}));
    assert_eq!(r.send().await.unwrap().status(), StatusCode::CREATED);
    let (status, login) = parts(
        c.post(format!("{}/api/auth/login", a.base))
            .json(&json!({"username": "alice", "password": "Secret123"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let at = s(&login["access_token"]);

    let (status, me) = parts(
        c.get(format!("{}/api/auth/me", b.base))
            .bearer_auth(at)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "logged in on A, /me on B: {me}");
    assert_eq!(me["user"]["username"], "alice");

    let (status, _) = parts(
        c.post(format!("{}/api/auth/logout", b.base))
            .bearer_auth(at)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = parts(
        c.get(format!("{}/api/auth/me", a.base))
            .bearer_auth(at)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "logged out on B, refused on A at once"
    );
    assert_error(&body, "token_revoked");
    let (status, _) = parts(
        c.post(format!("{}/api/auth/refresh", a.base))
            .bearer_auth(s(&login["refresh_token"]))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// A refresh first reads the session from the instance's recent copy
/// (`SESSION_CACHE_MAX_BYTES`); that copy can be behind what another
/// instance did. A session revoked on B, or rotated on B, is still judged
/// from the store on A: the revoked one refuses, and the rotated-out token
/// counts as reuse (which ends the session on both).
#[tokio::test]
async fn a_refresh_on_one_instance_honours_rotations_and_revocations_on_another() {
    let mut stores = Stores::fresh().env();
    stores.push(("REFRESH_REUSE_INTERVAL".into(), "0".into()));
    let dir = tempfile::tempdir().unwrap();
    let a = Instance::start(&stores, &dir.path().join("a")).await;
    let b = Instance::start(&stores, &dir.path().join("b")).await;
    let c = crate::helpers::http_client();
    let r = c
        .post(format!("{}/api/auth/register", a.base))
        .json(&json!({"username": "carol", "email": "c@b.com", "password": "Secret123"}));
    assert_eq!(r.send().await.unwrap().status(), StatusCode::CREATED);
    let login = || async {
        let (status, body) = parts(
            c.post(format!("{}/api/auth/login", a.base))
                .json(&json!({"username": "carol", "password": "Secret123"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    };
    let refresh = |base: &str, token: &str| {
        let request = c
            .post(format!("{base}/api/auth/refresh"))
            .bearer_auth(token.to_owned());
        async move { parts(request.send().await.unwrap()).await }
    };

    // Revoked on B after A kept a copy of it.
    let first = login().await;
    let (status, on_a) = refresh(&a.base, s(&first["refresh_token"])).await;
    assert_eq!(status, StatusCode::OK, "{on_a}");
    let (status, _) = parts(
        c.post(format!("{}/api/auth/logout", b.base))
            .bearer_auth(s(&on_a["access_token"]))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = refresh(&a.base, s(&on_a["refresh_token"])).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "revoked on B, refreshed on A: {body}"
    );

    // Rotated on B after A kept a copy of it: the token A last saw is now
    // a rotated-out one, and presenting it again is reuse.
    let second = login().await;
    let (status, on_a) = refresh(&a.base, s(&second["refresh_token"])).await;
    assert_eq!(status, StatusCode::OK, "{on_a}");
    let (status, on_b) = refresh(&b.base, s(&on_a["refresh_token"])).await;
    assert_eq!(status, StatusCode::OK, "{on_b}");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, body) = refresh(&a.base, s(&on_a["refresh_token"])).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_error(&body, "refresh_token_reused");
    let (status, body) = refresh(&b.base, s(&on_b["refresh_token"])).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "reuse ended the session: {body}"
    );

    // And the common case still rotates from the copy, again and again.
    let third = login().await;
    let mut token = s(&third["refresh_token"]).to_owned();
    for round in 0..3 {
        let (status, body) = refresh(&a.base, &token).await;
        assert_eq!(status, StatusCode::OK, "round {round}: {body}");
        assert_ne!(s(&body["refresh_token"]), token);
        token = s(&body["refresh_token"]).to_owned();
    }
    let (status, body) = refresh(&b.base, &token).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the latest token works on B too: {body}"
    );
}
