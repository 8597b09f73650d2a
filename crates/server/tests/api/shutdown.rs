//! SIGTERM during a request: the request finishes, then the process stops
//! (the outbox worker last) and exits cleanly.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_lets_the_request_in_flight_finish() {
    let dir = tempfile::tempdir().unwrap();
    let port = tessera_testkit::free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .env_clear()
        .env("TESSERA_VAR_DIR", dir.path().join("var"))
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("RUST_LOG", "info")
        // A slow hash makes a login take long enough to be caught in flight.
        .env("ARGON2_MEMORY_KIB", "16384")
        .env("ARGON2_ITERATIONS", "6")
        .env("RATE_LIMIT_LOGIN", "off")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = crate::helpers::http_client();
    let up = crate::helpers::eventually(200, || async {
        client
            .get(format!("{base}/health"))
            .send()
            .await
            .ok()
            .map(|_| ())
    })
    .await;
    assert!(up.is_some(), "the server came up");
    let resp = client
        .post(format!("{base}/api/auth/register"))
        .json(&json!({"username": "alice", "email": "a@b.com", "password": "Kite-Runner-9"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);

    let login = {
        let client = client.clone();
        let url = format!("{base}/api/auth/login");
        tokio::spawn(async move {
            let started = Instant::now();
            let r = client
                .post(url)
                .json(&json!({"username": "alice", "password": "Kite-Runner-9"}))
                .send()
                .await
                .unwrap();
            (r.status(), started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let (status, took) = login.await.unwrap();
    assert_eq!(
        status,
        StatusCode::OK,
        "the login in flight finished (after {took:?})"
    );
    assert!(
        took > Duration::from_millis(150),
        "SIGTERM arrived while it ran: {took:?}"
    );

    let deadline = Instant::now() + Duration::from_secs(40);
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "tessera did not stop");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let out = child.wait_with_output().unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(exit.success(), "{exit:?}: {log}");
    assert!(
        log.contains("outbox worker stopped") && log.contains("tessera stopped"),
        "{log}"
    );
    assert!(
        client.get(format!("{base}/health")).send().await.is_err(),
        "no longer listening"
    );
}
