//! The settings' names, defaults, checks and error messages.

use std::collections::HashMap;
use std::time::Duration;

use tessera_domain::values::PasswordPolicy;

use super::*;

fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Config::from_lookup(&|k| map.get(k).cloned())
}

#[test]
fn a_toml_file_reads_like_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tessera.toml");
    std::fs::write(
        &path,
        "port = 9090\nHOST = \"0.0.0.0\"\nrequire_verified_email = true\nTRUSTED_PROXIES = [\"10.0.0.0/8\", \"::1\"]\n",
    )
    .unwrap();
    let file = read_toml(&path, true).unwrap();
    let c = Config::from_lookup(&|k| file.get(k).cloned()).unwrap();
    assert_eq!((c.server.host.as_str(), c.server.port), ("0.0.0.0", 9090));
    assert!(c.verification.require_verified_email);
    assert_eq!(c.server.trusted_proxies.len(), 2);
    // A table names its keys by its path (issue 19: `[upstream.github]`).
    std::fs::write(
        &path,
        "[upstream.github]\nclient_id = \"gh\"\nscopes = [\"a\", \"b\"]\n",
    )
    .unwrap();
    let file = read_toml(&path, true).unwrap();
    assert_eq!(
        file.get("UPSTREAM_GITHUB_CLIENT_ID").map(String::as_str),
        Some("gh")
    );
    assert_eq!(
        file.get("UPSTREAM_GITHUB_SCOPES").map(String::as_str),
        Some("a,b")
    );
    std::fs::write(&path, "PORT = [{ nested = 1 }]\n").unwrap();
    assert!(read_toml(&path, true).is_err(), "an array of tables");
    std::fs::write(&path, "PORT = \n").unwrap();
    assert!(read_toml(&path, true).is_err(), "not TOML");
    assert!(
        read_toml(&dir.path().join("missing.toml"), false)
            .unwrap()
            .is_empty()
    );
    assert!(read_toml(&dir.path().join("missing.toml"), true).is_err());
}

#[test]
fn max_sessions_per_user_defaults_to_50_and_turns_off() {
    let max = |v: &[(&str, &str)]| config(v).map(|c| c.tokens.max_sessions_per_user);
    assert_eq!(max(&[]).unwrap(), Some(50));
    assert_eq!(max(&[("MAX_SESSIONS_PER_USER", "7")]).unwrap(), Some(7));
    assert_eq!(max(&[("MAX_SESSIONS_PER_USER", "0")]).unwrap(), None);
    assert_eq!(max(&[("MAX_SESSIONS_PER_USER", "OFF")]).unwrap(), None);
    for bad in ["-1", "lots", "5.5"] {
        assert!(max(&[("MAX_SESSIONS_PER_USER", bad)]).is_err(), "{bad}");
    }
}

#[test]
fn defaults() {
    let c = config(&[]).unwrap();
    assert_eq!((c.server.host.as_str(), c.server.port), ("127.0.0.1", 8080));
    assert_eq!(c.environment, Environment::Development);
    assert_eq!(c.tokens.access_ttl, Duration::from_secs(900));
    assert_eq!(c.tokens.refresh_ttl, Duration::from_secs(604_800));
    assert_eq!(c.tokens.refresh_reuse_interval, Duration::from_secs(10));
    assert!(c.database.url.starts_with("sqlite://") && c.database.url.ends_with("tessera.db"));
    assert_eq!(c.accounts.default_role.as_str(), "unauth");
}

#[test]
fn username_min_length_defaults_to_3_and_is_refused_outside_1_to_50() {
    let min = |pairs: &[(&str, &str)]| config(pairs).map(|c| c.accounts.username_policy.min_chars);
    assert_eq!(min(&[]).unwrap(), 3);
    assert_eq!(min(&[("USERNAME_MIN_LENGTH", "2")]).unwrap(), 2);
    assert_eq!(min(&[("USERNAME_MIN_LENGTH", "1")]).unwrap(), 1);
    assert_eq!(min(&[("USERNAME_MIN_LENGTH", "50")]).unwrap(), 50);
    for bad in ["0", "51", "-1", "two", "2.5"] {
        let e = min(&[("USERNAME_MIN_LENGTH", bad)]).unwrap_err();
        assert!(
            matches!(
                e,
                ConfigError::Invalid {
                    name: "USERNAME_MIN_LENGTH",
                    ..
                }
            ),
            "{bad}: {e}"
        );
    }
}

#[test]
fn password_min_score_and_its_reject_common_alias() {
    let score = |pairs: &[(&str, &str)]| config(pairs).map(|c| c.passwords.policy.min_score);
    assert_eq!(score(&[]).unwrap(), PasswordPolicy::DEFAULT_MIN_SCORE);
    assert_eq!(score(&[("PASSWORD_MIN_SCORE", "4")]).unwrap(), 4);
    assert_eq!(score(&[("PASSWORD_MIN_SCORE", "0")]).unwrap(), 0);
    assert_eq!(score(&[("PASSWORD_REJECT_COMMON", "false")]).unwrap(), 0);
    assert_eq!(
        score(&[("PASSWORD_REJECT_COMMON", "true")]).unwrap(),
        PasswordPolicy::DEFAULT_MIN_SCORE
    );
    assert_eq!(
        score(&[
            ("PASSWORD_REJECT_COMMON", "false"),
            ("PASSWORD_MIN_SCORE", "2")
        ])
        .unwrap(),
        2,
        "an explicit score wins over the alias"
    );
    for bad in ["5", "-1", "three"] {
        assert!(
            matches!(
                score(&[("PASSWORD_MIN_SCORE", bad)]),
                Err(ConfigError::Invalid {
                    name: "PASSWORD_MIN_SCORE",
                    ..
                })
            ),
            "{bad}"
        );
    }
}

#[test]
fn admin_login_roles_default_to_super_admin_and_take_a_list() {
    let names = |c: Config| {
        c.accounts
            .admin_login_roles
            .iter()
            .map(|r| r.as_str().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(config(&[]).unwrap()), ["super_admin"]);
    assert_eq!(
        names(config(&[("ADMIN_LOGIN_ROLES", " admin , super_admin ")]).unwrap()),
        ["admin", "super_admin"]
    );
    for bad in [",", "not a role!", "admin, regulator", "unauth"] {
        assert!(
            matches!(
                config(&[("ADMIN_LOGIN_ROLES", bad)]),
                Err(ConfigError::Invalid {
                    name: "ADMIN_LOGIN_ROLES",
                    ..
                })
            ),
            "{bad}"
        );
    }
}

#[test]
fn production_refuses_a_missing_or_short_key() {
    assert!(matches!(
        config(&[("TESSERA_ENV", "production")])
            .unwrap()
            .resolve_jwt_secret(),
        Err(ConfigError::MissingProductionKey)
    ));
    assert_eq!(
        config(&[("TESSERA_ENV", "production"), ("JWT_SECRET_KEY", "short")]).err(),
        Some(ConfigError::MissingProductionKey)
    );
    let key = "k".repeat(32);
    let c = config(&[("TESSERA_ENV", "production"), ("JWT_SECRET_KEY", &key)]).unwrap();
    assert_eq!(c.resolve_jwt_secret().unwrap(), key.as_bytes());
}

#[test]
fn development_generates_and_keeps_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let var = dir.path().join("var");
    let c = config(&[("TESSERA_VAR_DIR", var.to_str().unwrap())]).unwrap();
    let first = c.resolve_jwt_secret().unwrap();
    assert_eq!(first.len(), 64);
    assert_eq!(
        c.resolve_jwt_secret().unwrap(),
        first,
        "the same key after a restart"
    );
}

#[test]
fn bad_values_name_the_variable() {
    let e = config(&[("ACCESS_TOKEN_TTL", "soon")]).unwrap_err();
    assert!(
        matches!(
            e,
            ConfigError::Invalid {
                name: "ACCESS_TOKEN_TTL",
                ..
            }
        ),
        "{e}"
    );
    assert!(matches!(
        config(&[("TESSERA_ENV", "staging")]),
        Err(ConfigError::Invalid {
            name: "TESSERA_ENV",
            ..
        })
    ));
    assert!(matches!(
        config(&[("REGISTRATION_ROLES", "a,super_admin")]),
        Err(ConfigError::Invalid { .. })
    ));
    assert!(matches!(
        config(&[("PHONE_DEFAULT_REGION", "XX")]),
        Err(ConfigError::Invalid {
            name: "PHONE_DEFAULT_REGION",
            ..
        })
    ));
}

#[test]
fn the_phone_region_defaults_to_cn() {
    assert_eq!(config(&[]).unwrap().accounts.phone_region.as_str(), "CN");
    assert_eq!(
        config(&[("PHONE_DEFAULT_REGION", " de ")])
            .unwrap()
            .accounts
            .phone_region
            .as_str(),
        "DE"
    );
}

#[test]
fn seed_001_db_variables_build_a_mysql_url() {
    let c = config(&[
        ("DB_HOST", "db.local"),
        ("DB_PORT", "3307"),
        ("DB_USER", "dream"),
        ("DB_PASSWORD", "p@ss word"),
        ("DB_NAME", "dream"),
    ])
    .unwrap();
    assert_eq!(
        c.database.url,
        "mysql://dream:p%40ss%20word@db.local:3307/dream"
    );
    let c = config(&[("DATABASE_URL", "mysql://a@b/c"), ("DB_HOST", "ignored")]).unwrap();
    assert_eq!(c.database.url, "mysql://a@b/c");
    assert!(matches!(
        config(&[("DB_HOST", "h")]),
        Err(ConfigError::Invalid {
            name: "DB_NAME",
            ..
        })
    ));
}

#[test]
fn database_tls_adds_driver_parameters() {
    let c = config(&[
        ("DATABASE_URL", "mysql://a@b/c"),
        ("DATABASE_TLS", "verify-identity"),
    ])
    .unwrap();
    assert_eq!(
        c.database.url,
        "mysql://a@b/c?require_ssl=true&verify_ca=true&verify_identity=true"
    );
    assert!(
        config(&[("DATABASE_TLS", "required")]).is_err(),
        "not for SQLite"
    );
    assert!(config(&[("DATABASE_URL", "mysql://a@b/c"), ("DATABASE_TLS", "maybe")]).is_err());
}

#[test]
fn redis_settings() {
    let c = config(&[
        ("REDIS_CLUSTER_URLS", "redis://a:1, redis://b:2"),
        ("REDIS_KEY_PREFIX", "x:"),
    ])
    .unwrap();
    assert_eq!(
        c.redis.connection.cluster_urls,
        ["redis://a:1", "redis://b:2"]
    );
    assert_eq!(c.redis.connection.key_prefix, "x:");
    assert_eq!(config(&[]).unwrap().redis.connection.key_prefix, "tessera:");
}

#[test]
fn mail_settings_from_each_seed() {
    use tessera_smtp::Security;
    let c = config(&[("SMTP_URL", "smtps://u:p@mail.x.com")]).unwrap();
    assert!(
        matches!(&c.messaging.transport, MailTransport::Smtp(s) if s.security == Security::ImplicitTls && s.port == 465)
    );
    let c = config(&[
        ("MAIL_SERVER", "smtp.uscre.com"),
        ("MAIL_USE_TLS", "true"),
        ("MAIL_USERNAME", "bot@uscre.com"),
        ("MAIL_PASSWORD", "pw"),
        ("MAIL_SENDER_NAME", "USCRE"),
    ])
    .unwrap();
    assert!(
        matches!(&c.messaging.transport, MailTransport::Smtp(s) if s.security == Security::StartTls && s.port == 587)
    );
    assert_eq!(
        c.messaging.sender,
        ("USCRE".to_owned(), "bot@uscre.com".to_owned())
    );
    let c = config(&[
        ("EMAIL_SMTP_SERVER", "smtp.qq.com"),
        ("EMAIL_SENDER", "dream@qq.com"),
        ("EMAIL_PASSWORD", "x"),
    ])
    .unwrap();
    assert!(
        matches!(&c.messaging.transport, MailTransport::Smtp(s) if s.host == "smtp.qq.com" && s.security == Security::ImplicitTls)
    );
    assert_eq!(c.messaging.sender.1, "dream@qq.com");
    assert!(
        matches!(config(&[]).unwrap().messaging.transport, MailTransport::Files(p) if p.ends_with("mail"))
    );
    assert!(config(&[("SMTP_URL", "http://nope")]).is_err());
}

#[test]
fn debug_shows_every_section_and_hides_the_secrets() {
    let c = config(&[
        ("JWT_SECRET_KEY", "a-very-secret-key-that-is-long-enough"),
        ("DATABASE_URL", "mysql://u:dbpassword@h/d"),
        ("REDIS_URL", "redis://:redispassword@h:6379"),
        ("REDIS_CLUSTER_URLS", "redis://:clusterpassword@a:1"),
        ("SMTP_URL", "smtps://bot:smtppassword@mail.example.com"),
        ("METRICS_BEARER_TOKEN", "metrics-token-very-secret"),
        ("RATE_LIMIT_LOGIN", "7/60"),
    ])
    .unwrap();
    let shown = format!("{c:#?}");
    for secret in [
        "a-very-secret",
        "dbpassword",
        "redispassword",
        "clusterpassword",
        "smtppassword",
        "metrics-token",
    ] {
        assert!(!shown.contains(secret), "{secret}: {shown}");
    }
    // Every section and the settings `config check` used to leave out.
    for shown_setting in [
        "server:",
        "database:",
        "redis:",
        "tokens:",
        "passwords:",
        "accounts:",
        "verification:",
        "rate_limits:",
        "login_throttle:",
        "cors:",
        "messaging:",
        "observability:",
        "limit: 7",
        "mail.example.com",
        "user: Some(",
        "otlp_endpoint: None",
    ] {
        assert!(shown.contains(shown_setting), "{shown_setting}: {shown}");
    }
}

#[test]
fn the_otlp_endpoint_is_off_by_default_and_must_be_a_url() {
    assert_eq!(config(&[]).unwrap().observability.otlp_endpoint, None);
    let set = |v: &str| config(&[("OTEL_EXPORTER_OTLP_ENDPOINT", v)]);
    assert_eq!(
        set("http://127.0.0.1:4318")
            .unwrap()
            .observability
            .otlp_endpoint
            .as_deref(),
        Some("http://127.0.0.1:4318")
    );
    assert!(matches!(
        set("collector:4318"),
        Err(ConfigError::Invalid {
            name: "OTEL_EXPORTER_OTLP_ENDPOINT",
            ..
        })
    ));
}

#[test]
fn the_settings_listing_redacts_secrets_and_shows_values_in_force() {
    let c = config(&[
        ("REDIS_CLUSTER_URLS", "redis://:pw1@a:1, redis://u:pw2@b:2"),
        ("DB_HOST", "db"),
        ("DB_NAME", "auth"),
        ("DB_PASSWORD", "pw3"),
        ("MAIL_SERVER", "smtp.example"),
        ("MAIL_USERNAME", "me@example.com"),
        ("MAIL_PASSWORD", "pw4"),
        ("PORT", "8081"),
        (
            "SMS_WEBHOOK_URL",
            "https://hooks.example/T0/pw5?access_token=pw6",
        ),
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "https://pw7@collector.example",
        ),
    ])
    .unwrap();
    let s = &c.settings;
    let text = s.to_string();
    assert!(
        !format!("{c:?}").contains("pw5"),
        "Debug hides the webhook URL"
    );
    for secret in ["pw1", "pw2", "pw3", "pw4", "pw5", "pw6", "pw7"] {
        assert!(!text.contains(secret), "{secret}: {text}");
    }
    assert_eq!(s.get("DB_PASSWORD"), Some("(redacted)"));
    assert_eq!(s.get("MAIL_PASSWORD"), Some("(redacted)"));
    assert_eq!(s.get("SMS_WEBHOOK_URL"), Some("(redacted)"));
    assert_eq!(
        s.get("REDIS_CLUSTER_URLS"),
        Some("redis://:***@a:1, redis://u:***@b:2")
    );
    assert_eq!(s.get("DATABASE_URL"), Some("mysql://root:***@db:3306/auth"));
    assert_eq!(s.get("PORT"), Some("8081"));
    assert_eq!(s.get("PUBLIC_BASE_URL"), Some("http://127.0.0.1:8081"));
    assert_eq!(s.get("REDIS_URL"), None);
    assert!(text.contains("\nREDIS_URL = (unset)\n"), "{text}");
    // Defaults the configuration page names are filled in.
    assert_eq!(s.get("PHONE_DEFAULT_REGION"), Some("CN"));
    assert_eq!(s.get("DATABASE_TLS"), Some("off"));
}

#[test]
fn cache_settings_default_and_are_bounded() {
    let caches = |v: &[(&str, &str)]| config(v).map(|c| c.caches);
    let d = caches(&[]).unwrap();
    assert_eq!(d.max_lag, std::time::Duration::from_millis(100));
    assert_eq!(d.users.max_bytes, 8 * 1024 * 1024);
    assert_eq!(d.denylist.max_bytes, 2 * 1024 * 1024);
    assert_eq!(d.sessions.max_bytes, 4 * 1024 * 1024);
    assert_eq!(d.users.time_to_live, std::time::Duration::from_secs(60));
    let set = caches(&[
        ("CACHE_MAX_LAG_MS", "250"),
        ("USER_CACHE_MAX_BYTES", "0"),
        ("DENYLIST_CACHE_MAX_BYTES", "4096"),
        ("SESSION_CACHE_MAX_BYTES", "8192"),
        ("USER_CACHE_TTL", "5"),
    ])
    .unwrap();
    assert_eq!(set.sessions.max_bytes, 8192);
    assert_eq!(set.max_lag, std::time::Duration::from_millis(250));
    assert_eq!((set.users.max_bytes, set.denylist.max_bytes), (0, 4096));
    assert_eq!(set.denylist.time_to_live, std::time::Duration::from_secs(5));
    for bad in ["0", "9", "10001", "abc", "-1"] {
        let err = caches(&[("CACHE_MAX_LAG_MS", bad)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("CACHE_MAX_LAG_MS"), "{bad}: {err}");
    }
    assert!(caches(&[("USER_CACHE_MAX_BYTES", "-1")]).is_err());
    let kept = |v: &[(&str, &str)]| config(v).map(|c| c.tokens.verified_cache_max_bytes);
    assert_eq!(kept(&[]).unwrap(), 1024 * 1024);
    assert_eq!(kept(&[("TOKEN_CACHE_MAX_BYTES", "0")]).unwrap(), 0);
    assert!(kept(&[("TOKEN_CACHE_MAX_BYTES", "lots")]).is_err());
}

#[test]
fn mfa_required_roles_default_to_none_and_reauth_max_age_to_900_seconds() {
    let c = config(&[]).unwrap();
    assert!(c.accounts.mfa_required_roles.is_empty());
    assert_eq!(c.tokens.reauth_max_age.as_secs(), 900);
    let c = config(&[("MFA_REQUIRED_ROLES", " Admin , super_admin ")]).unwrap();
    let names: Vec<_> = c
        .accounts
        .mfa_required_roles
        .iter()
        .map(|r| r.as_str().to_owned())
        .collect();
    assert_eq!(names, ["admin", "super_admin"]);
    assert!(matches!(
        config(&[("MFA_REQUIRED_ROLES", "not a role!")]),
        Err(ConfigError::Invalid {
            name: "MFA_REQUIRED_ROLES",
            ..
        })
    ));
    assert!(matches!(
        config(&[("REAUTH_MAX_AGE", "0")]),
        Err(ConfigError::Invalid {
            name: "REAUTH_MAX_AGE",
            ..
        })
    ));
}

#[test]
fn the_openid_provider_issuer_defaults_to_the_public_url_and_its_settings_are_bounded() {
    let c = config(&[("PUBLIC_BASE_URL", "https://id.example.com/")]).unwrap();
    assert_eq!(c.provider.issuer, "https://id.example.com");
    assert_eq!(c.provider.code_ttl_secs, 60);
    assert!(
        c.provider
            .signing_key_file
            .ends_with("oidc-signing-key.pem")
    );
    let c = config(&[("OIDC_ISSUER", "https://login.example.com/tenant")]).unwrap();
    assert_eq!(c.provider.issuer, "https://login.example.com/tenant");
    for (name, value) in [
        ("OIDC_ISSUER", "https://id.example.com/?x=1"),
        ("OIDC_ISSUER", "ftp://id.example.com"),
        ("OIDC_ISSUER", "not a url"),
        ("OIDC_CODE_TTL", "0"),
        ("OIDC_CODE_TTL", "61"),
    ] {
        match config(&[(name, value)]) {
            Err(ConfigError::Invalid { name: n, .. }) => assert_eq!(n, name, "{value}"),
            other => panic!("{name}={value}: {other:?}"),
        }
    }
}
