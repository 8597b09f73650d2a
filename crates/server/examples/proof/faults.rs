//! `proof faults`: kills and restarts Redis, MariaDB and the SMTP sink under a
//! mixed load; see the crate documentation in `main.rs`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tessera_testkit::{PrivateMariaDb, PrivateRedis, PrivateSmtpSink};

use crate::harness::{Client, Server, Tally, class};

pub(crate) async fn faults() -> bool {
    println!("starting MariaDB, Redis (AOF, appendfsync always) and an SMTP sink…");
    let mut db = PrivateMariaDb::start();
    let mut redis = PrivateRedis::start_persistent();
    let mut smtp = PrivateSmtpSink::start();
    let env = [
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
    ];
    let server = Server::start(&env);
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
    // An account no load worker uses (workers log in as base0..base15): one
    // password check per account and address is in flight at a time.
    let (probe, _) = client.login(&format!("base{}", users - 1)).await.unwrap();
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

    // A second instance on the same stores: revocations made on A, probed on
    // B after B cached the token as good; first with B's change stream
    // intact, then while its connection is killed over and over.
    println!("  second instance: revocations on A, probes on B (feed intact, then cut)");
    let second = Server::start(&env);
    let b = Client::new(&second.base);
    let intact = revocations_across(&client, &b, None).await;
    let cut = revocations_across(&client, &b, Some(redis.url())).await;
    // Stopped as an orchestrator would: B's mail worker may hold claimed
    // mail (it delivers the backlog too), which a SIGKILL would leave to the
    // claim's expiry, long after this run's wait.
    tokio::task::spawn_blocking(move || second.stop_gracefully())
        .await
        .unwrap();

    // Every registration that answered 201 owes exactly one verification mail.
    let expected: Vec<String> = registered.lock().unwrap().clone();
    // The outbox drains at the sink's pace: wait while mail keeps arriving.
    let mut missing = expected.len();
    let mut duplicates = 0;
    let mut last_progress = (Instant::now(), usize::MAX);
    // A mail claimed by a delivery step that an outage cut short is retried
    // once its claim's lease (DeliveryPolicy::lease, 120 s) runs out: wait
    // past it before calling anything lost.
    let waiting_since = Instant::now();
    while last_progress.0.elapsed() < Duration::from_secs(30)
        || waiting_since.elapsed() < Duration::from_secs(130)
    {
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
    println!("\nrevocations on A probed on B {LATE_MS} ms later (CACHE_MAX_LAG_MS is 100):");
    for (what, r) in [("feed intact", &intact), ("feed cut", &cut)] {
        println!(
            "  {what:<11} {} revoked, {} accepted by B at once (allowed within the bound), {} accepted {LATE_MS} ms later (must be 0); {} kills of B's change stream connection",
            r.revoked, r.accepted_at_once, r.accepted_late, r.kills
        );
    }
    let accepted =
        revoked_accepted.load(Ordering::Relaxed) + intact.accepted_late + cut.accepted_late;
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

/// How long after a logout on A its token is probed on B: past the default
/// `CACHE_MAX_LAG_MS` (100) with a margin.
const LATE_MS: u64 = 150;

#[derive(Default)]
struct CrossRevocations {
    revoked: u64,
    accepted_at_once: u64,
    accepted_late: u64,
    kills: u64,
}

/// For 8 s, 8 workers: log in on A, `/me` on B (B caches the token as
/// good), log out on A, `/me` on B at once and again [`LATE_MS`] later. With
/// `cut` (a Redis URL), B's change stream connection (client name
/// `tessera-changes`) is killed every 20 ms meanwhile.
async fn revocations_across(a: &Client, b: &Client, cut: Option<String>) -> CrossRevocations {
    let running = Arc::new(AtomicBool::new(true));
    let cutter = cut.map(|url| {
        let running = running.clone();
        tokio::task::spawn_blocking(move || {
            let mut kills = 0;
            while running.load(Ordering::Relaxed) {
                let list = std::process::Command::new("redis-cli")
                    .args(["-u", &url, "CLIENT", "LIST"])
                    .output()
                    .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                    .unwrap_or_default();
                for line in list
                    .lines()
                    .filter(|l| l.contains(" name=tessera-changes "))
                {
                    if let Some(id) = line.split(' ').find_map(|f| f.strip_prefix("id=")) {
                        let killed = std::process::Command::new("redis-cli")
                            .args(["-u", &url, "CLIENT", "KILL", "ID", id])
                            .output()
                            .is_ok_and(|o| o.status.success());
                        kills += u64::from(killed);
                    }
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            kills
        })
    });
    let deadline = Instant::now() + Duration::from_secs(8);
    let mut workers = Vec::new();
    for w in 0..8 {
        let (a, b) = (a.clone(), b.clone());
        workers.push(tokio::spawn(async move {
            let mut r = CrossRevocations::default();
            let me = format!("base{w}");
            while Instant::now() < deadline {
                let Some((access, _)) = a.login(&me).await else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                if b.call("GET", "/api/auth/me", Some(&access), None).await.0 != 200 {
                    continue; // B could not read it: nothing cached to test
                }
                if a.call("POST", "/api/auth/logout", Some(&access), None)
                    .await
                    .0
                    != 200
                {
                    continue;
                }
                r.revoked += 1;
                if b.call("GET", "/api/auth/me", Some(&access), None).await.0 == 200 {
                    r.accepted_at_once += 1;
                }
                tokio::time::sleep(Duration::from_millis(LATE_MS)).await;
                if b.call("GET", "/api/auth/me", Some(&access), None).await.0 == 200 {
                    r.accepted_late += 1;
                }
            }
            r
        }));
    }
    let mut total = CrossRevocations::default();
    for w in workers {
        let r = w.await.unwrap();
        total.revoked += r.revoked;
        total.accepted_at_once += r.accepted_at_once;
        total.accepted_late += r.accepted_late;
    }
    running.store(false, Ordering::Relaxed);
    if let Some(c) = cutter {
        total.kills = c.await.unwrap();
    }
    total
}
