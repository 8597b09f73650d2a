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

const KEY: &str = "0123456789abcdef0123456789abcdef-very-secret";

#[test]
fn config_check_prints_a_redacted_config_and_rejects_bad_ones() {
    let (code, out, err) = check(&[("TESSERA_ENV", "production"), ("JWT_SECRET_KEY", KEY)]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains("configuration OK") && out.contains("Production"),
        "{out}"
    );
    assert!(!out.contains("very-secret"), "the key is redacted: {out}");

    for (env, needle) in [
        (vec![("PORT", "eighty")], "PORT"),
        (vec![("TESSERA_ENV", "production")], "JWT_SECRET_KEY"),
        (vec![("RATE_LIMIT_LOGIN", "lots")], "RATE_LIMIT_LOGIN"),
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
        out.contains("port: 9999") && out.contains("\"0.0.0.0\""),
        "{out}"
    );
    let (_, out, _) = check(&[("TESSERA_CONFIG", path), ("PORT", "7777")]);
    assert!(out.contains("port: 7777"), "the environment wins: {out}");
    let (code, _, err) = check(&[("TESSERA_CONFIG", "/nonexistent/tessera.toml")]);
    assert_eq!(code, Some(2), "{err}");
}
