//! Fault injection and soak runs against the release binary (not part of the
//! test suite; `scripts/faults.sh` and `scripts/soak.sh` run them).
//!
//! `proof faults`: starts private MariaDB, Redis (AOF, as production should
//! run it) and an SMTP sink, then Tessera on them, and drives a mixed load
//! (`/me`, refresh, login, register, logout) while it kills and restarts
//! Redis, then MariaDB, then the SMTP sink. It reports answers by phase and
//! class, how long each recovery took, revoked tokens accepted (must be 0)
//! and mails lost (must be 0), and exits 1 when either is not 0 or any
//! answer was a 500.
//!
//! `proof soak`: Tessera on the embedded default; measures the capacity of a
//! mix (90% `/me`, 9% refresh, 1% login) for 15 s with 64 connections, then
//! holds half of it for `SOAK_SECS` (600) and reports 5xx answers, latency
//! and RSS over time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tessera_testkit::{PrivateMariaDb, PrivateRedis, PrivateSmtpSink, free_port};

const PASSWORD: &str = "Proof-Load-Pass-7";

struct Server {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(env: &[(&str, String)]) -> Self {
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

    fn rss_kib(&self, field: &str) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{field}:")))
            .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    fn new(base: &str) -> Self {
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
    async fn call(
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

    async fn register(&self, name: &str) -> u16 {
        self.call(
            "POST",
            "/api/auth/register",
            None,
            Some(json!({"username": name, "email": format!("{name}@proof.example"), "password": PASSWORD})),
        )
        .await
        .0
    }

    async fn login(&self, name: &str) -> Option<(String, String)> {
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
struct Tally(Mutex<BTreeMap<(String, &'static str, u16), u64>>);

impl Tally {
    fn add(&self, phase: &str, op: &'static str, status: u16) {
        *self
            .0
            .lock()
            .unwrap()
            .entry((phase.to_owned(), op, status))
            .or_default() += 1;
    }
}

fn class(status: u16) -> &'static str {
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

async fn faults() -> bool {
    println!("starting MariaDB, Redis (AOF, appendfsync always) and an SMTP sink…");
    let mut db = PrivateMariaDb::start();
    let mut redis = PrivateRedis::start_persistent();
    let mut smtp = PrivateSmtpSink::start();
    let server = Server::start(&[
        ("DATABASE_URL", db.url("tessera_proof")),
        ("REDIS_URL", redis.url()),
        ("SMTP_URL", smtp.url()),
        ("OUTBOX_POLL_MS", "200".into()),
        ("OUTBOX_RETRY_BASE_MS", "500".into()),
        ("OUTBOX_RETRY_MAX_SECS", "5".into()),
        ("ARGON2_MEMORY_KIB", "1024".into()),
        ("ARGON2_ITERATIONS", "1".into()),
        ("DATABASE_TIMEOUT", "2".into()),
        ("REDIS_TIMEOUT_MS", "1000".into()),
    ]);
    let client = Client::new(&server.base);
    let users = 32;
    let mut registered = Vec::new();
    for i in 0..users {
        let name = format!("base{i}");
        assert_eq!(client.register(&name).await, 201, "set-up registration");
        registered.push(name);
    }
    let registered = Arc::new(Mutex::new(registered));
    let phase = Arc::new(Mutex::new("baseline".to_owned()));
    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let revoked: Arc<Mutex<Vec<String>>> = Arc::default();
    let revoked_accepted = Arc::new(AtomicU64::new(0));
    let counter = Arc::new(AtomicU64::new(0));

    let mut tasks = Vec::new();
    for w in 0..16_usize {
        let (client, phase, tally, stop, revoked, accepted, registered, counter) = (
            client.clone(),
            phase.clone(),
            tally.clone(),
            stop.clone(),
            revoked.clone(),
            revoked_accepted.clone(),
            registered.clone(),
            counter.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let me = format!("base{}", w % users);
            let mut tokens = client.login(&me).await;
            while !stop.load(Ordering::Relaxed) {
                let now_phase = phase.lock().unwrap().clone();
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let Some((access, refresh)) = tokens.clone() else {
                    tokens = client.login(&me).await;
                    tally.add(
                        &now_phase,
                        "login",
                        if tokens.is_some() { 200 } else { 503 },
                    );
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let status = match n % 20 {
                    0 if n % 100 == 0 => {
                        let name = format!("user{n}");
                        let status = client.register(&name).await;
                        tally.add(&now_phase, "register", status);
                        if status == 201 {
                            registered.lock().unwrap().push(name);
                        }
                        status
                    }
                    1 => {
                        let (status, body) = client
                            .call("POST", "/api/auth/refresh", Some(&refresh), None)
                            .await;
                        tally.add(&now_phase, "refresh", status);
                        if status == 200 {
                            tokens = Some((
                                body["access_token"].as_str().unwrap().to_owned(),
                                body["refresh_token"].as_str().unwrap().to_owned(),
                            ));
                        } else if status == 401 {
                            tokens = None; // log in again
                        }
                        status
                    }
                    2 => {
                        // End a session and remember its access token: it
                        // must never be accepted again, whatever fails later.
                        if let Some((a, _)) = client.login(&me).await {
                            let (status, _) = client
                                .call("POST", "/api/auth/logout", Some(&a), None)
                                .await;
                            tally.add(&now_phase, "logout", status);
                            if status == 200 {
                                revoked.lock().unwrap().push(a);
                            }
                            status
                        } else {
                            503
                        }
                    }
                    3 => {
                        let probe = {
                            let r = revoked.lock().unwrap();
                            r.get((n as usize / 20) % r.len().max(1)).cloned()
                        };
                        if let Some(t) = probe {
                            let (status, _) =
                                client.call("GET", "/api/auth/me", Some(&t), None).await;
                            tally.add(&now_phase, "me (revoked token)", status);
                            if status == 200 {
                                accepted.fetch_add(1, Ordering::Relaxed);
                            }
                            status
                        } else {
                            200
                        }
                    }
                    _ => {
                        let (status, _) = client
                            .call("GET", "/api/auth/me", Some(&access), None)
                            .await;
                        tally.add(&now_phase, "me", status);
                        if status == 401 {
                            tokens = None;
                        }
                        status
                    }
                };
                if !(200..300).contains(&status) {
                    // Back off a little while something is down.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }));
    }

    let set = |p: &str| {
        println!("  {p}");
        *phase.lock().unwrap() = p.to_owned();
    };
    let hold = Duration::from_secs(8);
    let mut recoveries = Vec::new();
    async fn recovered(client: &Client, token: &str, since: Instant) -> Duration {
        loop {
            let ok_me = client
                .call("GET", "/api/auth/me", Some(token), None)
                .await
                .0
                == 200;
            let ok_ready = client.call("GET", "/ready", None, None).await.0 == 200;
            if ok_me && ok_ready {
                return since.elapsed();
            }
            if since.elapsed() > Duration::from_secs(120) {
                return since.elapsed();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let (probe, _) = client.login("base0").await.unwrap();
    tokio::time::sleep(hold).await;
    set("redis down");
    redis.stop();
    tokio::time::sleep(hold).await;
    redis.restart();
    let t = Instant::now();
    set("redis back");
    recoveries.push(("redis", recovered(&client, &probe, t).await));
    tokio::time::sleep(hold).await;
    set("mariadb down");
    db.stop();
    tokio::time::sleep(hold).await;
    db.restart();
    let t = Instant::now();
    set("mariadb back");
    recoveries.push(("mariadb", recovered(&client, &probe, t).await));
    tokio::time::sleep(hold).await;
    set("smtp down");
    smtp.stop();
    tokio::time::sleep(hold).await;
    smtp.restart();
    let t = Instant::now();
    set("smtp back");
    recoveries.push(("smtp", recovered(&client, &probe, t).await));
    tokio::time::sleep(hold).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }

    // Every registration that answered 201 owes exactly one verification mail.
    let expected: Vec<String> = registered.lock().unwrap().clone();
    // The outbox drains at the sink's pace: wait while mail keeps arriving.
    let mut missing = expected.len();
    let mut duplicates = 0;
    let mut last_progress = (Instant::now(), usize::MAX);
    while last_progress.0.elapsed() < Duration::from_secs(30) {
        let mails = smtp.messages();
        let mut per: BTreeMap<&str, usize> = BTreeMap::new();
        for name in &expected {
            per.insert(name.as_str(), 0);
        }
        for m in &mails {
            if let Some(to) = m.lines().find_map(|l| l.strip_prefix("To: "))
                && let Some(name) = to.trim().strip_suffix("@proof.example")
                && let Some(c) = per.get_mut(name)
            {
                *c += 1;
            }
        }
        missing = per.values().filter(|c| **c == 0).count();
        if missing < last_progress.1 {
            last_progress = (Instant::now(), missing);
        }
        duplicates = per.values().map(|c| c.saturating_sub(1)).sum();
        if missing == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    println!("\nanswers by phase, operation and class:");
    let mut by: BTreeMap<(String, &'static str, &'static str), u64> = BTreeMap::new();
    for ((p, op, status), n) in tally.0.lock().unwrap().iter() {
        *by.entry((p.clone(), op, class(*status))).or_default() += n;
    }
    let order = [
        "baseline",
        "redis down",
        "redis back",
        "mariadb down",
        "mariadb back",
        "smtp down",
        "smtp back",
    ];
    let mut five_hundreds = 0;
    for p in order {
        let row: Vec<String> = by
            .iter()
            .filter(|((ph, _, _), _)| ph == p)
            .map(|((_, op, c), n)| {
                if *c == "500" || *c == "other 5xx" {
                    five_hundreds += n;
                }
                format!("{op} {c}: {n}")
            })
            .collect();
        println!("  {p:<13} {}", row.join(", "));
    }
    println!("\nrecovery (first /me 200 and /ready 200 after the restart):");
    for (what, d) in &recoveries {
        println!("  {what:<8} {:.1} s", d.as_secs_f64());
    }
    let accepted = revoked_accepted.load(Ordering::Relaxed);
    let revoked_n = revoked.lock().unwrap().len();
    println!(
        "\nrevoked tokens: {revoked_n} logged out, accepted afterwards: {accepted} (must be 0)"
    );
    println!(
        "mails: {} registrations answered 201, mails lost: {missing} (must be 0), delivered twice: {duplicates}",
        expected.len()
    );
    println!("HTTP 500 or other non-503 5xx answers: {five_hundreds} (must be 0)");
    accepted == 0 && missing == 0 && five_hundreds == 0
}

async fn soak() -> bool {
    let secs: u64 = std::env::var("SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let server = Server::start(&[]);
    let client = Client::new(&server.base);
    assert_eq!(client.register("soak").await, 201);
    let tokens: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    for _ in 0..64 {
        let pair = client.login("soak").await.unwrap();
        tokens.lock().unwrap().push(pair);
    }
    let tally = Arc::new(Tally::default());
    let latencies: Arc<Mutex<Vec<f64>>> = Arc::default();

    // One request of the mix, on connection slot `slot`.
    async fn one(
        client: &Client,
        tokens: &Mutex<Vec<(String, String)>>,
        slot: usize,
        n: u64,
        tally: &Tally,
        lat: &Mutex<Vec<f64>>,
    ) {
        let (access, refresh) = tokens.lock().unwrap()[slot].clone();
        let t = Instant::now();
        let (op, status) = match n % 100 {
            0 => ("login", client.login("soak").await.map_or(503, |_| 200)),
            1..=9 => {
                let (status, body) = client
                    .call("POST", "/api/auth/refresh", Some(&refresh), None)
                    .await;
                if status == 200 {
                    tokens.lock().unwrap()[slot] = (
                        body["access_token"].as_str().unwrap().to_owned(),
                        body["refresh_token"].as_str().unwrap().to_owned(),
                    );
                }
                ("refresh", status)
            }
            _ => (
                "me",
                client
                    .call("GET", "/api/auth/me", Some(&access), None)
                    .await
                    .0,
            ),
        };
        lat.lock().unwrap().push(t.elapsed().as_secs_f64() * 1000.0);
        tally.add("soak", op, status);
    }

    // Capacity: 64 connections in a closed loop for 15 s.
    let counter = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs(15);
    let capacity_tally = Arc::new(Tally::default());
    let mut tasks = Vec::new();
    for slot in 0..64 {
        let (client, tokens, counter, tally, lat) = (
            client.clone(),
            tokens.clone(),
            counter.clone(),
            capacity_tally.clone(),
            latencies.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while Instant::now() < until {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                one(&client, &tokens, slot, n, &tally, &lat).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let capacity = counter.load(Ordering::Relaxed) as f64 / 15.0;
    let rate = (capacity / 2.0).max(1.0);
    latencies.lock().unwrap().clear();
    let rss_start = server.rss_kib("VmRSS");
    println!(
        "capacity of the mix (90% /me, 9% refresh, 1% login): {capacity:.0} req/s; soaking at {rate:.0} req/s for {secs} s"
    );
    println!(
        "RSS after the capacity run: {:.1} MiB",
        rss_start as f64 / 1024.0
    );

    // Half capacity, open loop: one request every 1/rate s, at most 64 in flight.
    let slots = Arc::new(tokio::sync::Semaphore::new(64));
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let start = Instant::now();
    let mut next_sample = Duration::from_secs(60);
    let mut samples = vec![(0_u64, rss_start)];
    let mut n = 0_u64;
    let mut shed = 0_u64;
    while start.elapsed() < Duration::from_secs(secs) {
        ticker.tick().await;
        n += 1;
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            shed += 1; // the server fell behind: counted, not queued
            continue;
        };
        let slot = (n % 64) as usize;
        let (client, tokens, tally, lat) = (
            client.clone(),
            tokens.clone(),
            tally.clone(),
            latencies.clone(),
        );
        tokio::spawn(async move {
            one(&client, &tokens, slot, n, &tally, &lat).await;
            drop(permit);
        });
        if start.elapsed() >= next_sample {
            samples.push((next_sample.as_secs(), server.rss_kib("VmRSS")));
            next_sample += Duration::from_secs(60);
        }
    }
    let _ = slots.acquire_many(64).await;
    samples.push((start.elapsed().as_secs(), server.rss_kib("VmRSS")));

    let mut by: BTreeMap<&'static str, u64> = BTreeMap::new();
    for ((_, _, status), count) in tally.0.lock().unwrap().iter() {
        *by.entry(class(*status)).or_default() += count;
    }
    let total: u64 = by.values().sum();
    let fives = by
        .iter()
        .filter(|(c, _)| c.starts_with('5') || c.contains("5xx"))
        .map(|(_, n)| n)
        .sum::<u64>();
    let mut lat = latencies.lock().unwrap().clone();
    lat.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 - 1.0) * p) as usize)
            .copied()
            .unwrap_or(0.0)
    };
    println!(
        "\n{total} requests in {:.0} s ({:.0}/s); by class: {by:?}; not sent because 64 were in flight: {shed}",
        start.elapsed().as_secs_f64(),
        total as f64 / start.elapsed().as_secs_f64()
    );
    println!(
        "latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    println!(
        "RSS by minute (MiB): {}",
        samples
            .iter()
            .map(|(s, k)| format!("{s}s {:.1}", *k as f64 / 1024.0))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let (first, last) = (
        samples[1.min(samples.len() - 1)].1,
        samples[samples.len() - 1].1,
    );
    println!(
        "RSS growth from the first minute to the end: {:+.1} MiB",
        (last as f64 - first as f64) / 1024.0
    );
    println!("5xx answers: {fives} (must be 0)");
    fives == 0
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let ok = match std::env::args().nth(1).as_deref() {
        Some("faults") => faults().await,
        Some("soak") => soak().await,
        _ => {
            eprintln!(
                "usage: proof faults | proof soak   (see scripts/faults.sh, scripts/soak.sh)"
            );
            return std::process::ExitCode::from(2);
        }
    };
    if ok {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
