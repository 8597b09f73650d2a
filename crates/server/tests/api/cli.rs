//! `tessera config check`: the effective configuration, redacted, and a
//! non-zero exit for an invalid one; `tessera.toml` below the environment.

fn check(env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tessera"));
    cmd.env_clear()
        .current_dir(dir.path())
        .env("TESSERA_VAR_DIR", dir.path().join("var"))
        .env("RUST_LOG", "error")
        .args(["config", "check"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Whether `out` has `line` as one of its lines.
fn has_line(out: &str, line: &str) -> bool {
    out.lines().any(|l| l == line)
}

const KEY: &str = "0123456789abcdef0123456789abcdef-very-secret";

#[test]
fn config_check_prints_a_redacted_config_and_rejects_bad_ones() {
    let (code, out, err) = check(&[("TESSERA_ENV", "production"), ("JWT_SECRET_KEY", KEY)]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains("configuration OK") && has_line(&out, "TESSERA_ENV = production"),
        "{out}"
    );
    assert!(!out.contains("very-secret"), "the key is redacted: {out}");
    assert!(has_line(&out, "JWT_SECRET_KEY = (redacted)"), "{out}");
    // One `NAME = value` line per setting, no Rust `Debug` shapes.
    for line in out.lines().filter(|l| *l != "configuration OK") {
        let (name, value) = line.split_once(" = ").unwrap_or_else(|| panic!("{line:?}"));
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'),
            "{line:?}"
        );
        assert!(!value.is_empty(), "{line:?}");
    }
    assert!(!out.contains("Config {") && !out.contains("Some("), "{out}");
    assert!(has_line(&out, "ACCESS_TOKEN_TTL = 900"), "{out}");
    assert!(has_line(&out, "REDIS_URL = (unset)"), "{out}");
    let token = "metrics-token-very-secret-42";
    let (code, out, err) = check(&[("METRICS_BEARER_TOKEN", token)]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(!out.contains(token), "the metrics token is redacted: {out}");
    assert!(has_line(&out, "METRICS_BEARER_TOKEN = (redacted)"), "{out}");
    // Defaults a section applies show as the value in force.
    for line in [
        "TESSERA_ENV = development",
        "CORS_ALLOWED_ORIGINS = *",
        "RATE_LIMIT_LOGIN = 30/60",
        "JWT_ALGORITHM = HS256",
        "REDIS_KEY_PREFIX = tessera:",
    ] {
        assert!(has_line(&out, line), "{line}: {out}");
    }
    let (code, out, err) = check(&[("DATABASE_URL", "mysql://tessera:hunter2@db:3306/auth")]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        has_line(&out, "DATABASE_URL = mysql://tessera:***@db:3306/auth"),
        "the URL's password is redacted: {out}"
    );
    // `null` without credentials is only an origin like any other.
    let (code, out, err) = check(&[("CORS_ALLOWED_ORIGINS", "null")]);
    assert_eq!(code, Some(0), "{out}{err}");

    for (env, needle) in [
        (vec![("PORT", "eighty")], "PORT"),
        (vec![("TESSERA_ENV", "production")], "JWT_SECRET_KEY"),
        (vec![("RATE_LIMIT_LOGIN", "lots")], "RATE_LIMIT_LOGIN"),
        (
            vec![
                ("CORS_ALLOWED_ORIGINS", "https://app.example, null"),
                ("CORS_ALLOW_CREDENTIALS", "true"),
            ],
            "null",
        ),
        (vec![("REQUEST_BODY_TIMEOUT", "0")], "REQUEST_BODY_TIMEOUT"),
        (vec![("METRICS_LISTEN", "somewhere")], "METRICS_LISTEN"),
        (
            vec![("METRICS_BEARER_TOKEN", "short")],
            "METRICS_BEARER_TOKEN",
        ),
        (
            vec![
                ("TESSERA_ENV", "production"),
                ("JWT_SECRET_KEY", KEY),
                ("JWT_ALGORITHM", "EdDSA"),
            ],
            "tessera keys rotate",
        ),
    ] {
        let (code, out, err) = check(&env);
        assert_eq!(code, Some(2), "{env:?}: {out}{err}");
        assert!(err.contains(needle), "{env:?}: {err}");
    }
}

#[test]
fn tessera_toml_sits_below_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tessera.toml");
    std::fs::write(&file, "PORT = 9999\nhost = \"0.0.0.0\"\n").unwrap();
    let path = file.to_str().unwrap();
    let (code, out, err) = check(&[("TESSERA_CONFIG", path)]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        has_line(&out, "PORT = 9999") && has_line(&out, "HOST = 0.0.0.0"),
        "{out}"
    );
    let (_, out, _) = check(&[("TESSERA_CONFIG", path), ("PORT", "7777")]);
    assert!(has_line(&out, "PORT = 7777"), "the environment wins: {out}");
    let (code, _, err) = check(&[("TESSERA_CONFIG", "/nonexistent/tessera.toml")]);
    assert_eq!(code, Some(2), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn user_grant_revoke_disable_enable_from_the_command_line() {
    use reqwest::StatusCode;
    let app = crate::helpers::spawn_app().await;
    app.register("alice", "alice@example.com", "Secret123")
        .await;
    let login = app.login("alice", "Secret123").await;
    let at = crate::helpers::s(&login["access_token"]).to_owned();
    let dir = tempfile::tempdir().unwrap();
    // The commands deliver no mail, so a mail folder that cannot be created
    // (a file stands where it would be) must not stop them.
    std::fs::create_dir_all(dir.path().join("var")).unwrap();
    std::fs::write(dir.path().join("var").join("mail"), "not a folder").unwrap();
    let run = |args: &[&str]| {
        let out = app
            .tessera_cli(dir.path())
            .arg("user")
            .args(args)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // The server caches the account; another process's change reaches it
    // through the change feed within CACHE_MAX_LAG_MS (100 ms): poll for it.
    let me_until = async |pred: &dyn Fn(StatusCode, &serde_json::Value) -> bool| {
        let started = std::time::Instant::now();
        loop {
            let (status, body) = app.get_bearer("/api/auth/me", &at).await;
            if pred(status, &body) || started.elapsed() > std::time::Duration::from_secs(5) {
                return (status, body, started.elapsed());
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    };
    let has_user_read = |_: StatusCode, me: &serde_json::Value| {
        me["user"]["permissions"]
            .as_array()
            .is_some_and(|p| p.contains(&serde_json::json!("user:read")))
    };
    let (_, me) = app.get_bearer("/api/auth/me", &at).await;
    assert!(!has_user_read(StatusCode::OK, &me), "{me}");
    let (ok, out, err) = run(&["grant", "--user", "alice", "--role", "admin"]);
    assert!(ok && out.contains("roles unauth,admin"), "{out}{err}");
    let (_, me, _) = me_until(&has_user_read).await;
    assert!(
        has_user_read(StatusCode::OK, &me),
        "the grant reached the server: {me}"
    );
    let (ok, _, err) = run(&["grant", "--user", "alice", "--role", "wizard"]);
    assert!(!ok && err.contains("role"), "{err}");
    let (ok, out, _) = run(&["revoke", "--user", "alice@example.com", "--role", "admin"]);
    assert!(ok && out.contains("roles unauth,"), "{out}");
    let (_, me, _) = me_until(&|s, me| !has_user_read(s, me)).await;
    assert!(
        !has_user_read(StatusCode::OK, &me),
        "the revoke reached the server: {me}"
    );
    let (ok, out, _) = run(&["disable", "--user", "alice"]);
    assert!(ok && out.contains("disabled"), "{out}");
    // Refused at once: 403 account_disabled (the account change arrived
    // first) or 401 (the session's denial did); and soon 401 on every store,
    // the denial reaching the server's cache through the change feed.
    let (status, body, _) = me_until(&|s, _| s != StatusCode::OK).await;
    assert!(
        status == StatusCode::UNAUTHORIZED || body["code"] == "account_disabled",
        "disabling refused the token: {status} {body}"
    );
    let (status, body, _) = me_until(&|s, _| s == StatusCode::UNAUTHORIZED).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "disabling ended the session: {body}"
    );
    let (status, _) = app
        .post_bearer(
            "/api/auth/refresh",
            crate::helpers::s(&login["refresh_token"]),
            None,
        )
        .await;
    assert_ne!(status, StatusCode::OK, "the refresh token is dead too");
    let (ok, out, _) = run(&["enable", "--user", "alice"]);
    assert!(ok && out.contains("active"), "{out}");
    app.login("alice", "Secret123").await;
    let (ok, _, err) = run(&["disable", "--user", "nobody"]);
    assert!(!ok && err.contains("no user"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn user_import_and_its_hidden_users_import_alias() {
    let app = crate::helpers::spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.jsonl");
    let hash = bcrypt::hash("password123", 4).unwrap();
    let line = |name: &str| {
        serde_json::json!({"username": name, "email": format!("{name}@example.com"), "password_hash": hash})
            .to_string()
    };
    std::fs::write(&file, [line("carol"), line("dave")].join("\n")).unwrap();
    let import = |group: &str| {
        let out = app
            .tessera_cli(dir.path())
            .args([group, "import"])
            .arg(&file)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, out) = import("user");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("imported 2, skipped 0, failed 0"), "{out}");
    let (code, out) = import("users");
    assert_eq!(code, Some(0), "the alias still works: {out}");
    assert!(out.contains("imported 0, skipped 2, failed 0"), "{out}");
    app.login("carol", "password123").await;

    let help = std::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("user ") && !help.contains("users "),
        "one user group is listed, the alias hidden: {help}"
    );
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["user", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for command in ["create", "import", "grant", "revoke", "disable", "enable"] {
        assert!(help.contains(command), "{command}: {help}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn user_create_refuses_a_weak_password_in_words() {
    let app = crate::helpers::spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let create = |locale: Option<&str>| {
        let mut cmd = app.tessera_cli(dir.path());
        if let Some(l) = locale {
            cmd.env("DEFAULT_LOCALE", l);
        }
        let out = cmd
            .args(["user", "create", "--username", "carolyn", "--email"])
            .args(["carolyn@example.com", "--role", "unauth", "--password"])
            .arg("Zq7!carolynXv93#Lm")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, err) = create(None);
    assert!(!ok, "{err}");
    assert!(err.contains("password: 密码不能包含用户名或邮箱"), "{err}");
    assert!(!err.contains("password_contains_identity"), "{err}");
    let (ok, err) = create(Some("en"));
    assert!(!ok, "{err}");
    assert!(
        err.contains("password: Password must not contain the username or email"),
        "{err}"
    );
}
