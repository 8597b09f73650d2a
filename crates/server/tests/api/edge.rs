//! The HTTP edge (issue 12, items 7, 8, 10, 13 and the body limits):
//! `Cache-Control: no-store` on every answer that carries a token, a code or
//! account data; bounded metric labels; `HEAD` wherever `GET` is answered;
//! `Vary: Origin` whenever CORS depends on the origin; slow bodies time out
//! (408) and oversized declared lengths are refused before reading (413), in
//! each dialect's shape; `/metrics` behind a token or its own listener.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::helpers::{TestApp, parts, s, spawn_app, spawn_app_with};

/// Asserts `r` may not be stored by any cache (RFC 6749 §5.1, RFC 9111 §5.2.2.5).
fn assert_no_store(what: &str, r: &reqwest::Response) {
    let h = r.headers();
    assert_eq!(
        h.get("cache-control").map(|v| v.to_str().unwrap()),
        Some("no-store"),
        "{what}: {h:?}"
    );
    assert_eq!(
        h.get("pragma").map(|v| v.to_str().unwrap()),
        Some("no-cache"),
        "{what}: {h:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn token_and_account_answers_are_no_store_in_every_dialect() {
    let app = spawn_app().await;
    let login = app.alice().await;
    let at = s(&login["access_token"]).to_owned();
    let rt = s(&login["refresh_token"]).to_owned();
    let c = &app.client;
    let mut checks: Vec<(&str, reqwest::Response)> = vec![
        (
            "POST /api/auth/login",
            c.post(app.url("/api/auth/login"))
                .json(&json!({"username": "alice", "password": "Secret123"}))
                .send()
                .await
                .unwrap(),
        ),
        (
            "POST /api/v1/auth/login",
            c.post(app.url("/api/v1/auth/login"))
                .json(&json!({"email": "a@b.com", "password": "Secret123"}))
                .send()
                .await
                .unwrap(),
        ),
        (
            "POST /Auth/Login",
            c.post(app.url("/Auth/Login"))
                .json(&json!({"Email": "a@b.com", "Password": "Secret123"}))
                .send()
                .await
                .unwrap(),
        ),
        (
            "POST /api/auth/refresh",
            c.post(app.url("/api/auth/refresh"))
                .bearer_auth(&rt)
                .send()
                .await
                .unwrap(),
        ),
        (
            "GET /api/auth/me",
            c.get(app.url("/api/auth/me"))
                .bearer_auth(&at)
                .send()
                .await
                .unwrap(),
        ),
        (
            "GET /CheckJWTToken",
            c.get(app.url("/CheckJWTToken"))
                .bearer_auth(&at)
                .send()
                .await
                .unwrap(),
        ),
        (
            "GET /api/v1/auth/profile",
            c.get(app.url("/api/v1/auth/profile"))
                .bearer_auth(&at)
                .send()
                .await
                .unwrap(),
        ),
        (
            "POST /api/auth/login (wrong password)",
            c.post(app.url("/api/auth/login"))
                .json(&json!({"username": "alice", "password": "wrong-one"}))
                .send()
                .await
                .unwrap(),
        ),
        (
            "POST /api/v1/auth/login (wrong password)",
            c.post(app.url("/api/v1/auth/login"))
                .json(&json!({"email": "a@b.com", "password": "wrong-one"}))
                .send()
                .await
                .unwrap(),
        ),
        (
            "POST /Auth/Login (wrong password, HTTP 200 with Code 501)",
            c.post(app.url("/Auth/Login"))
                .json(&json!({"Email": "a@b.com", "Password": "wrong-one"}))
                .send()
                .await
                .unwrap(),
        ),
        (
            "GET /api/admin/users (no permission)",
            c.get(app.url("/api/admin/users"))
                .bearer_auth(&at)
                .send()
                .await
                .unwrap(),
        ),
        (
            "POST /api/auth/request-reset-code (debug_code)",
            c.post(app.url("/api/auth/request-reset-code"))
                .json(&json!({"identifier": "alice", "channel": "email", "contact": "a@b.com"}))
                .send()
                .await
                .unwrap(),
        ),
    ];
    for (what, r) in checks.drain(..) {
        assert_no_store(what, &r);
        let (status, body) = parts(r).await;
        let want = if what.contains("no permission") {
            StatusCode::FORBIDDEN
        } else if what.contains("wrong") && !what.contains("HTTP 200") {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::OK
        };
        assert_eq!(status, want, "{what}: {body}");
    }
    // The public keys stay cacheable for a minute.
    let jwks = c
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(jwks.headers()["cache-control"], "public, max-age=60");
}

#[tokio::test(flavor = "multi_thread")]
async fn invented_methods_do_not_grow_the_metrics() {
    let app = spawn_app().await;
    let before = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for worker in 0..8 {
        let (client, url) = (app.client.clone(), app.url("/health"));
        tasks.push(tokio::spawn(async move {
            for i in 0..250 {
                let n = worker * 250 + i;
                let name = if n % 10 == 0 {
                    format!("M{n}{}", "X".repeat(500))
                } else {
                    format!("INVENTED{n}")
                };
                let r = client
                    .request(Method::from_bytes(name.as_bytes()).unwrap(), &url)
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_client_error(), "{name}: {}", r.status());
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let after = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    println!(
        "scrape before: {} bytes; after 2,000 invented methods: {} bytes",
        before.len(),
        after.len()
    );
    let series: Vec<&str> = after
        .lines()
        .filter(|l| l.starts_with("tessera_http_requests_total{"))
        .collect();
    assert!(
        series.len() <= 8,
        "2,000 invented methods made {} series",
        series.len()
    );
    for line in &series {
        let method = line.split("method=\"").nth(1).unwrap().split('"').next();
        assert!(matches!(method, Some("GET" | "HEAD" | "other")), "{line}");
    }
    assert!(
        after.contains(
            r#"tessera_http_requests_total{method="other",route="/health",status="405"} 2000"#
        ),
        "{after}"
    );
    assert!(
        after.len() < before.len() + 8 * 1024,
        "the scrape grew from {} to {} bytes",
        before.len(),
        after.len()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn head_is_answered_wherever_get_is() {
    let app = spawn_app().await;
    let login = app.alice().await;
    let at = s(&login["access_token"]).to_owned();
    for (path, token) in [("/health", None), ("/api/auth/me", Some(&at))] {
        let with = |m: Method| {
            let r = app.client.request(m, app.url(path));
            match token {
                Some(t) => r.bearer_auth(t),
                None => r,
            }
        };
        let get = with(Method::GET).send().await.unwrap();
        let head = with(Method::HEAD).send().await.unwrap();
        assert_eq!(head.status(), StatusCode::OK, "HEAD {path}");
        assert_eq!(head.status(), get.status(), "HEAD {path}");
        for name in ["content-type", "content-length", "cache-control"] {
            assert_eq!(
                head.headers().get(name),
                get.headers().get(name),
                "HEAD {path}: {name}"
            );
        }
        assert!(
            !get.bytes().await.unwrap().is_empty(),
            "GET {path} has a body"
        );
        assert!(
            head.bytes().await.unwrap().is_empty(),
            "HEAD {path} has none"
        );
    }
    // Without a token, HEAD is refused as GET is (401), still without a body.
    let head = app
        .client
        .head(app.url("/api/auth/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::UNAUTHORIZED);
    // A POST-only route: 405, and `Allow` does not offer HEAD.
    let head = app
        .client
        .head(app.url("/api/auth/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(head.headers()["allow"], "POST, OPTIONS");
    assert!(head.bytes().await.unwrap().is_empty());
    // A GET route called with another method lists HEAD beside GET.
    let (status, body) = parts(app.client.patch(app.url("/health")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body}");
    let r = app.client.patch(app.url("/health")).send().await.unwrap();
    assert_eq!(r.headers()["allow"], "GET, HEAD, OPTIONS");
    // Metrics count HEAD as HEAD.
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(
            r#"tessera_http_requests_total{method="HEAD",route="/health",status="200"} 1"#
        ),
        "{text}"
    );
}

fn vary(r: &reqwest::Response) -> Vec<String> {
    r.headers()
        .get_all("vary")
        .iter()
        .flat_map(|v| v.to_str().unwrap().split(','))
        .map(|v| v.trim().to_ascii_lowercase())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn vary_origin_whenever_cors_depends_on_the_origin() {
    let app = spawn_app_with(&[
        ("CORS_ALLOWED_ORIGINS", "https://app.example"),
        ("CORS_ALLOW_CREDENTIALS", "true"),
    ])
    .await;
    for origin in [
        Some("https://app.example"),
        Some("https://evil.example"),
        None,
    ] {
        let mut get = app.client.get(app.url("/health"));
        let mut err = app.client.post(app.url("/api/auth/login")).json(&json!({}));
        let mut pre = app
            .client
            .request(Method::OPTIONS, app.url("/api/auth/login"))
            .header("access-control-request-method", "POST");
        if let Some(o) = origin {
            get = get.header("origin", o);
            err = err.header("origin", o);
            pre = pre.header("origin", o);
        }
        for (what, r) in [
            ("GET /health", get.send().await.unwrap()),
            ("an error", err.send().await.unwrap()),
            ("a preflight", pre.send().await.unwrap()),
        ] {
            let v = vary(&r);
            assert_eq!(
                v.iter().filter(|v| *v == "origin").count(),
                1,
                "{what} from {origin:?}: Vary {v:?}"
            );
            if what == "a preflight" && origin == Some("https://app.example") {
                assert!(
                    v.contains(&"access-control-request-headers".to_owned()),
                    "the preflight's own Vary is kept: {v:?}"
                );
            }
        }
    }
    // `*` without credentials: the answer is the same for every origin.
    let open = spawn_app().await;
    let r = open
        .client
        .get(open.url("/health"))
        .header("origin", "https://any.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    assert!(!vary(&r).contains(&"origin".to_owned()), "{:?}", vary(&r));
}

/// Sends `head` (and `body`, possibly short of what it declares) on a raw
/// connection; returns the status and the JSON body of the answer. The
/// 60 s guard only stops a hung test: it is not what the test measures.
pub(crate) async fn raw(app: &TestApp, head: &str, body: &[u8]) -> (u16, String, Value) {
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(body).await.unwrap();
    let read = async {
        let mut got = Vec::new();
        let mut buf = [0_u8; 4096];
        loop {
            let n = conn.read(&mut buf).await.unwrap();
            got.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&got).into_owned();
            if let Some((headers, rest)) = text.split_once("\r\n\r\n") {
                let len = headers
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse::<usize>().unwrap())
                    })
                    .unwrap_or(0);
                if rest.len() >= len {
                    return (headers.to_owned(), rest[..len].to_owned());
                }
            }
            assert!(n > 0, "connection closed without an answer: {text:?}");
        }
    };
    let (headers, body) = tokio::time::timeout(std::time::Duration::from_secs(60), read)
        .await
        .expect("no answer: the server is still waiting for the body");
    let status = headers.split(' ').nth(1).unwrap().parse::<u16>().unwrap();
    (
        status,
        headers.to_ascii_lowercase(),
        serde_json::from_str(&body).unwrap_or_else(|_| panic!("not JSON: {body}")),
    )
}

fn post_head(path: &str, content_length: u64, content_type: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: {content_type}\r\nContent-Length: {content_length}\r\n\r\n"
    )
}

/// Every dialect's answer to a body refused with `status`.
fn assert_body_refusal(path: &str, status: u16, body: &Value, modern_code: &str) {
    if path.starts_with("/Auth/") {
        assert_eq!(body["Code"], status, "{path}: {body}");
        assert!(
            body["Msg"].as_str().is_some_and(|m| !m.is_empty()),
            "{body}"
        );
    } else if path.starts_with("/api/v1/") {
        assert!(
            body["error"].is_string() && body["message"].is_string(),
            "{path}: {body}"
        );
        assert!(body.get("code").is_none(), "{path}: {body}");
    } else {
        crate::helpers::assert_error(body, modern_code);
    }
}

const BODY_ROUTES: [&str; 6] = [
    "/api/auth/login",
    "/api/auth/verify-email/confirm",
    "/api/v1/auth/login",
    "/Auth/Login",
    "/api/admin/users/1/roles",
    "/api/auth/register",
];

#[tokio::test(flavor = "multi_thread")]
async fn a_declared_length_over_the_limit_is_refused_before_reading() {
    let app = spawn_app_with(&[("MAX_BODY_BYTES", "1024")]).await;
    for path in BODY_ROUTES {
        let ctype = if path.ends_with("/confirm") {
            "application/x-www-form-urlencoded"
        } else {
            "application/json"
        };
        // A gigabyte declared, nothing sent: the answer cannot wait for it.
        let (status, headers, body) = raw(&app, &post_head(path, 1 << 30, ctype), b"").await;
        assert_eq!(status, 413, "{path}: {body}");
        assert!(headers.contains("connection: close"), "{path}: {headers}");
        assert!(
            headers.contains("cache-control: no-store"),
            "{path}: {headers}"
        );
        assert_body_refusal(path, 413, &body, "body_too_large");
        crate::contract::check(path, status, &body);
    }
    // Refused before the request's language scope is entered, yet in its
    // language: `DEFAULT_LOCALE` (zh-CN) without `Accept-Language`, English
    // when asked for.
    let (_, _, body) = raw(
        &app,
        &post_head("/Auth/Login", 1 << 30, "application/json"),
        b"",
    )
    .await;
    assert_eq!(body["Msg"], "请求体过大", "{body}");
    // A preflight (OPTIONS, answered before routing) with a body is held to
    // the same limits: too large is 413 and closes, not JSON is refused as
    // the same POST is (each dialect's own status and body).
    for path in ["/api/auth/login", "/Auth/Login", "/api/v1/auth/login"] {
        let head = post_head(path, 1 << 30, "application/json").replacen("POST", "OPTIONS", 1);
        let (status, headers, body) = raw(&app, &head, b"").await;
        assert_eq!(status, 413, "OPTIONS {path}: {body}");
        assert!(headers.contains("connection: close"), "{path}: {headers}");
        let post = post_head(path, 5, "text/plain");
        let (post_status, _, post_body) = raw(&app, &post, b"hello").await;
        let head = post.replacen("POST", "OPTIONS", 1);
        let (status, _, body) = raw(&app, &head, b"hello").await;
        assert_ne!(
            status, 204,
            "OPTIONS {path} was answered as a preflight: {body}"
        );
        assert_eq!((status, &body), (post_status, &post_body), "OPTIONS {path}");
    }
    let english = post_head("/Auth/Login", 1 << 30, "application/json").replace(
        "Host: localhost\r\n",
        "Host: localhost\r\nAccept-Language: en\r\n",
    );
    let (_, _, body) = raw(&app, &english, b"").await;
    assert_eq!(body["Msg"], "Request body too large", "{body}");
    // At the limit it is read as usual.
    let (status, _, body) = raw(
        &app,
        &post_head("/api/auth/login", 2, "application/json"),
        b"{}",
    )
    .await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stalled_body_is_answered_408() {
    let app = spawn_app_with(&[("REQUEST_BODY_TIMEOUT", "1")]).await;
    // (The admin route refuses the missing token before it reads a body.)
    for path in BODY_ROUTES.iter().filter(|p| !p.starts_with("/api/admin")) {
        let ctype = if path.ends_with("/confirm") {
            "application/x-www-form-urlencoded"
        } else {
            "application/json"
        };
        // 100 bytes declared, 10 sent, then silence.
        let (status, headers, body) = raw(&app, &post_head(path, 100, ctype), b"{\"usernam").await;
        assert_eq!(status, 408, "{path}: {body}");
        assert!(headers.contains("connection: close"), "{path}: {headers}");
        assert_body_refusal(path, 408, &body, "body_timeout");
        if !path.ends_with("/confirm") {
            crate::contract::check(path, status, &body);
        }
    }
    // A body that arrives in time is served as before.
    let (status, _, body) = raw(
        &app,
        &post_head("/api/auth/login", 2, "application/json"),
        b"{}",
    )
    .await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_can_ask_for_a_bearer_token() {
    let token = "scrape-token-0123456789";
    let app = spawn_app_with(&[("METRICS_BEARER_TOKEN", token)]).await;
    let get = |t: Option<&str>| {
        let r = app.client.get(app.url("/metrics"));
        match t {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
        .send()
    };
    for bad in [None, Some("scrape-token-0123456788"), Some("x")] {
        let r = get(bad).await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{bad:?}");
        assert!(
            r.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer")
        );
        assert!(!r.text().await.unwrap().contains("tessera_"), "{bad:?}");
    }
    let r = get(Some(token)).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("tessera_http_requests_total")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_can_move_to_their_own_listener() {
    let dir = tempfile::tempdir().unwrap();
    let mut env: std::collections::HashMap<String, String> = [
        ("HOST", "127.0.0.1"),
        ("PORT", "0"),
        ("METRICS_LISTEN", "127.0.0.1:0"),
        ("JWT_SECRET_KEY", crate::helpers::SECRET),
        ("ARGON2_MEMORY_KIB", "64"),
        ("ARGON2_ITERATIONS", "1"),
        ("WORKERS", "1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    env.extend(crate::helpers::store_env(dir.path()));
    let config = tessera_server::Config::from_lookup(&|k| env.get(k).cloned()).unwrap();
    let app = tessera_server::Application::build(config).await.unwrap();
    let (port, metrics_port) = (app.port(), app.metrics_port().unwrap());
    let handle = app.handle();
    let running = tokio::spawn(app.run_until_stopped());
    let client = crate::helpers::http_client();
    let main = client
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .unwrap();
    let (status, body) = parts(main).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["code"], "not_found");
    let own = client
        .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::OK);
    assert!(
        own.text()
            .await
            .unwrap()
            .contains("tessera_http_requests_total")
    );
    let other = client
        .get(format!("http://127.0.0.1:{metrics_port}/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND, "only /metrics there");
    handle.stop(true).await;
    running.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_confirm_page_cannot_be_framed() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(app.url("/api/auth/verify-email?token=abc"))
        .send()
        .await
        .unwrap();
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(r.headers()["cache-control"], "no-store");
}
