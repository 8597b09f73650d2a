//! The parity suite: request/response fixtures recorded from the real seed
//! projects (`crates/server/tests/parity/seed-00N.json`), replayed against
//! Tessera. One file per seed; each holds scenarios (a configuration and a
//! sequence of steps), each step a request and what its answer must hold:
//! the HTTP status, the keys a client reads, and the values it branches on.
//! Recording them needed the peers (see `../shared/docs/peer-facts.md`,
//! "Measured side by side"); replaying them needs none.
//!
//! The format, step by step (all keys but `request`/`expect` optional):
//!
//! ```json
//! {"name": "…", "source": "where the expectation comes from",
//!  "request": {"method": "POST", "path": "/Auth/Login",
//!              "headers": {"Authorization": "Bearer {{token}}"},
//!              "json": {"Email": "{{email}}"}  |  "body": "raw text"},
//!  "expect": {"status": 200, "keys": ["/Code", "/Msg"], "absent": ["/Token"],
//!             "values": {"/Code": 501, "/Token": null}, "not_values": {"/msg": "…"}},
//!  "save": {"token": "/Token"}}
//! ```
//!
//! Other steps: `{"mail": {"to": "{{email}}", "after": "code is ", "count": 1,
//! "save": "code"}}` reads the six digits after `after` in the newest of
//! `count` mails (`"take": "hex"`: the hex digits there, a link's token);
//! `{"create_user": {"username", "email", "password", "role"}}`
//! makes an account through the `tessera` command (for roles no one may pick).
//! Keys and values are JSON pointers (RFC 6901). `{{name}}` in any string is
//! replaced by a saved value or a built-in: `email`, `email2`, `run` (unique
//! per replay), `foreign_token` (an access token signed with another key).

use std::collections::HashMap;
use std::path::PathBuf;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, parts, spawn_app_with};

fn fixture(seed: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/parity")
        .join(format!("seed-{seed}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// An access token with Tessera's claims, signed with a key that is not the app's.
fn foreign_token() -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "sub": "1", "sid": uuid::Uuid::new_v4(), "jti": uuid::Uuid::new_v4(),
        "role": "unauth", "token_use": "access", "iss": "tessera", "aud": "tessera",
        "iat": now, "nbf": now, "exp": now + 600,
    });
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.typ = Some("at+jwt".to_owned());
    jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(b"another-key-that-is-at-least-32-bytes-long"),
    )
    .unwrap()
}

/// `{{name}}` replaced in every string of `v`.
fn fill(v: &Value, vars: &HashMap<String, String>) -> Value {
    match v {
        Value::String(s) => {
            let mut out = s.clone();
            while let Some(start) = out.find("{{") {
                let end = out[start..]
                    .find("}}")
                    .map(|e| start + e)
                    .unwrap_or_else(|| panic!("unclosed {{{{ in {s:?}"));
                let name = &out[start + 2..end];
                let value = vars
                    .get(name)
                    .unwrap_or_else(|| panic!("{{{{{name}}}}} is not saved yet ({s:?})"));
                out.replace_range(start..end + 2, value);
            }
            Value::String(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| fill(x, vars)).collect()),
        Value::Object(o) => {
            Value::Object(o.iter().map(|(k, x)| (k.clone(), fill(x, vars))).collect())
        }
        other => other.clone(),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

async fn send(app: &TestApp, request: &Value) -> (reqwest::StatusCode, Value) {
    let method =
        Method::from_bytes(request["method"].as_str().unwrap_or("GET").as_bytes()).expect("method");
    let path = request["path"].as_str().expect("request.path");
    let mut r = app.client.request(method, app.url(path));
    if let Some(headers) = request["headers"].as_object() {
        for (k, v) in headers {
            r = r.header(k.as_str(), text(v));
        }
    }
    if let Some(j) = request.get("json") {
        r = r.json(j);
    } else if let Some(b) = request["body"].as_str() {
        r = r.body(b.to_owned());
    }
    parts(r.send().await.unwrap()).await
}

/// Panics on a step the runner would not fully check: an unknown key (a
/// misspelt `expect` asserts nothing) or a request step without `status`.
fn well_formed(step: &Value) {
    const STEP: &[&str] = &[
        "name",
        "source",
        "request",
        "expect",
        "save",
        "mail",
        "create_user",
    ];
    const REQUEST: &[&str] = &["method", "path", "headers", "json", "body"];
    const EXPECT: &[&str] = &["status", "keys", "absent", "values", "not_values"];
    let name = step["name"].as_str().unwrap_or("?");
    let known = |v: &Value, allowed: &[&str], what: &str| {
        for key in v.as_object().into_iter().flatten().map(|(k, _)| k) {
            assert!(
                allowed.contains(&key.as_str()),
                "step {name:?}: unknown {what} key {key:?}"
            );
        }
    };
    known(step, STEP, "step");
    if step.get("mail").is_some() || step.get("create_user").is_some() {
        return;
    }
    known(&step["request"], REQUEST, "request");
    known(&step["expect"], EXPECT, "expect");
    assert!(
        step["expect"]["status"].is_u64(),
        "step {name:?}: every request step names the status"
    );
}

/// What in the answer differs from `expect`, one line per difference.
fn differences(expect: &Value, status: reqwest::StatusCode, body: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(want) = expect["status"].as_u64()
        && u64::from(status.as_u16()) != want
    {
        out.push(format!("status {} (want {want})", status.as_u16()));
    }
    for key in expect["keys"].as_array().into_iter().flatten() {
        let key = key.as_str().unwrap();
        if body.pointer(key).is_none() {
            out.push(format!("no {key}"));
        }
    }
    for key in expect["absent"].as_array().into_iter().flatten() {
        let key = key.as_str().unwrap();
        if body.pointer(key).is_some() {
            out.push(format!("{key} present"));
        }
    }
    for (key, want) in expect["values"].as_object().into_iter().flatten() {
        if body.pointer(key) != Some(want) {
            out.push(format!("{key} is {:?} (want {want})", body.pointer(key)));
        }
    }
    for (key, unwanted) in expect["not_values"].as_object().into_iter().flatten() {
        if body.pointer(key) == Some(unwanted) {
            out.push(format!("{key} is {unwanted} (want anything else)"));
        }
    }
    out
}

async fn replay(seed: &str) {
    let file = fixture(seed);
    let scenarios = file["scenarios"].as_array().expect("scenarios");
    assert!(!scenarios.is_empty());
    // Every step runs; the differences are reported together at the end.
    let mut failures = Vec::new();
    for scenario in scenarios {
        let scenario_name = scenario["name"].as_str().unwrap_or("?");
        let settings: Vec<(String, String)> = scenario["settings"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), text(v)))
            .collect();
        let settings: Vec<(&str, &str)> = settings
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let app = spawn_app_with(&settings).await;
        let run = uuid::Uuid::new_v4().simple().to_string()[..10].to_owned();
        let mut vars: HashMap<String, String> = HashMap::from([
            ("run".to_owned(), run.clone()),
            ("email".to_owned(), format!("p{run}@example.com")),
            ("email2".to_owned(), format!("q{run}@example.com")),
            ("foreign_token".to_owned(), foreign_token()),
        ]);
        for (i, step) in scenario["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .enumerate()
        {
            well_formed(step);
            let step = fill(step, &vars);
            let name = format!(
                "seed {seed}, {scenario_name}, step {}: {}",
                i + 1,
                step["name"].as_str().unwrap_or("")
            );
            if let Some(mail) = step.get("mail") {
                let to = mail["to"].as_str().unwrap();
                let after = mail["after"].as_str().unwrap();
                let count = mail["count"].as_u64().unwrap_or(1);
                let mails = app.mails(to, after, usize::try_from(count).unwrap()).await;
                let last = mails.last().unwrap();
                let at = last.find(after).unwrap() + after.len();
                let value: String = if mail["take"] == "hex" {
                    last[at..]
                        .chars()
                        .take_while(char::is_ascii_hexdigit)
                        .collect()
                } else {
                    last[at..at + 6].to_owned()
                };
                vars.insert(mail["save"].as_str().unwrap_or("code").to_owned(), value);
                continue;
            }
            if let Some(user) = step.get("create_user") {
                let body = app
                    .create_with_role(
                        user["username"].as_str().unwrap(),
                        user["email"].as_str().unwrap(),
                        user["password"].as_str().unwrap(),
                        user["role"].as_str().unwrap(),
                    )
                    .await;
                assert!(body.get("access_token").is_some(), "{name}: {body}");
                continue;
            }
            let (status, body) = send(&app, &step["request"]).await;
            let found = differences(&step["expect"], status, &body);
            if !found.is_empty() {
                failures.push(format!(
                    "{name}:\n    {}\n    body: {body}",
                    found.join("\n    ")
                ));
            }
            for (var, pointer) in step["save"].as_object().into_iter().flatten() {
                // A value that is not there is reported above (its step
                // names it in `keys`); later steps then fail on the stand-in.
                let found = body
                    .pointer(pointer.as_str().unwrap())
                    .map_or_else(|| format!("<no {pointer}>"), text);
                vars.insert(var.clone(), found);
            }
        }
        app.handle.stop(true).await;
    }
    assert!(
        failures.is_empty(),
        "{} step(s) differ from the recorded answers:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn seed_000_readme_examples() {
    replay("000").await;
}

#[tokio::test]
async fn seed_001_dream() {
    replay("001").await;
}

#[tokio::test]
async fn seed_002_uscre() {
    replay("002").await;
}

#[tokio::test]
async fn seed_003_sh_drug() {
    replay("003").await;
}

#[tokio::test]
async fn seed_004_readme_examples() {
    replay("004").await;
}
