//! What both runs share: the server under test, an HTTP client that logs in
//! and keeps its tokens, and a tally of answers by phase and class.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tessera_testkit::free_port;

pub(crate) const PASSWORD: &str = "Proof-Load-Pass-7";

pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) base: String,
    pub(crate) _dir: tempfile::TempDir,
}

impl Server {
    pub(crate) fn start(env: &[(&str, String)]) -> Self {
        let bin = std::env::var("TESSERA_BIN").unwrap_or_else(|_| "target/release/tessera".into());
        let port = free_port();
        let dir = tempfile::tempdir().unwrap();
        let log = std::fs::File::create(dir.path().join("tessera.log")).unwrap();
        let mut cmd = Command::new(&bin);
        cmd.env_clear()
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("TESSERA_VAR_DIR", dir.path().join("var"))
            .env("TESSERA_ENV", "production")
            .env(
                "JWT_SECRET_KEY",
                "proof-run-secret-0123456789abcdef0123456789",
            )
            .env("RUST_LOG", "warn")
            .env("RATE_LIMIT_LOGIN", "off")
            .env("RATE_LIMIT_REGISTER", "off")
            .env("RATE_LIMIT_REFRESH", "off")
            .env("PASSWORD_REJECT_COMMON", "false")
            .stdout(Stdio::null())
            .stderr(log);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("{bin}: {e} (build it: cargo build --release)"));
        let this = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "tessera did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        this
    }

    pub(crate) fn rss_kib(&self, field: &str) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{field}:")))
            .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
            .unwrap_or(0)
    }
}

impl Server {
    /// Stops the server as an orchestrator would (SIGTERM, then waits up to
    /// 40 s for it to finish what it started, mail deliveries included).
    pub(crate) fn stop_gracefully(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(40) {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Clone)]
pub(crate) struct Client {
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
}

impl Client {
    pub(crate) fn new(base: &str) -> Self {
        tessera_smtp::use_aws_lc_for_rustls();
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .pool_max_idle_per_host(256)
                .build()
                .unwrap(),
            base: base.to_owned(),
        }
    }

    /// (status, body); status 0 for a transport error.
    pub(crate) async fn call(
        &self,
        method: &str,
        path: &str,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut r = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base));
        if let Some(t) = bearer {
            r = r.bearer_auth(t);
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        match r.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                (status, resp.json().await.unwrap_or(Value::Null))
            }
            Err(_) => (0, Value::Null),
        }
    }

    pub(crate) async fn register(&self, name: &str) -> u16 {
        self.call(
            "POST",
            "/api/auth/register",
            None,
            Some(json!({"username": name, "email": format!("{name}@proof.example"), "password": PASSWORD})),
        )
        .await
        .0
    }

    pub(crate) async fn login(&self, name: &str) -> Option<(String, String)> {
        let (status, body) = self
            .call(
                "POST",
                "/api/auth/login",
                None,
                Some(json!({"username": name, "password": PASSWORD})),
            )
            .await;
        (status == 200).then(|| {
            (
                body["access_token"].as_str().unwrap().to_owned(),
                body["refresh_token"].as_str().unwrap().to_owned(),
            )
        })
    }
}

/// Answers counted by (phase, operation, status).
#[derive(Default)]
pub(crate) struct Tally(pub(crate) Mutex<BTreeMap<(String, &'static str, u16), u64>>);

impl Tally {
    pub(crate) fn add(&self, phase: &str, op: &'static str, status: u16) {
        *self
            .0
            .lock()
            .unwrap()
            .entry((phase.to_owned(), op, status))
            .or_default() += 1;
    }
}

pub(crate) fn class(status: u16) -> &'static str {
    match status {
        0 => "transport error",
        200..=299 => "2xx",
        401 => "401",
        503 => "503",
        500 => "500",
        400..=499 => "other 4xx",
        _ => "other 5xx",
    }
}
