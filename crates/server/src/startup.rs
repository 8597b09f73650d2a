//! Building and running the application.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use tessera_crypto::Argon2Hasher;
use tessera_crypto::keyring::{self, KeyAlg, KeyRing};
use tessera_domain::AuthService;
use tessera_domain::import::{ImportSummary, LineOutcome, import_line};
use tessera_domain::ports::Ports;
use tessera_embed::{
    AnySms, BuildError, KeyRingDir, MailEvent, MailSink, Secret, Tessera, WorkerHandles, Workers,
};
use tessera_redis::RedisConfig;
use tessera_smtp::LettreMailer;
use tessera_sql::{Database, DbConfig, DbError, SqlOutbox, SqlUsers};
use thiserror::Error;

use crate::config::{Config, ConfigError, MailTransport};
use crate::http::{self, AppState};
use crate::wiring::{LoggedAudit, ServerAuth, auth_settings};

/// Why the application could not start.
#[derive(Debug, Error)]
pub enum StartupError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Database(#[from] DbError),
    /// A store failed while loading.
    #[error("store: {0}")]
    Store(String),
    /// Mail delivery could not be set up.
    #[error("mail: {0}")]
    Mail(String),
    /// The JWT signing keys could not be read or made.
    #[error("JWT keys: {0}")]
    Keys(String),
    /// The service could not be built (database, hasher, keys, mail, stores).
    #[error(transparent)]
    Build(#[from] BuildError),
    /// The address could not be bound.
    #[error("listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
}

/// The `METRICS_LISTEN` listener: `/metrics` only (with the bearer token
/// when set), one worker; returns the server and its bound port.
fn metrics_server(
    config: &Config,
    addr: &str,
    metrics: web::Data<crate::metrics::Metrics>,
) -> Result<(Server, u16), StartupError> {
    let bind_error = |source| StartupError::Bind {
        addr: addr.to_owned(),
        source,
    };
    let listener = TcpListener::bind(addr).map_err(bind_error)?;
    let port = listener.local_addr().map_err(bind_error)?.port();
    let access = web::Data::new(http::MetricsAccess {
        token: config.metrics_bearer_token.clone(),
        served_here: true,
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(metrics.clone())
            .app_data(access.clone())
            .route("/metrics", web::get().to(http::metrics))
            .default_service(web::to(http::nothing_here))
            .wrap_fn(http::around_request)
    })
    .workers(1)
    .listen(listener)
    .map_err(bind_error)?
    .run();
    tracing::info!(%addr, port, "metrics listening");
    Ok((server, port))
}

/// A built, bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    /// Runs deferred tasks and the expiry of pending accounts; ends with the server.
    housekeeping: tokio::task::JoinHandle<()>,
    /// The `METRICS_LISTEN` server and its port, when configured.
    metrics_server: Option<(Server, u16)>,
    /// The outbox and key-reload workers, stopped at shutdown.
    worker: Option<WorkerHandles>,
}

/// The database settings of a configuration.
#[must_use]
pub fn db_config(config: &Config) -> DbConfig {
    DbConfig {
        url: config.database_url.clone(),
        max_connections: config.database_max_connections,
        acquire_timeout: config.database_timeout,
    }
}

/// Applies pending migrations and canonicalises stored identifiers (what
/// `tessera migrate` runs; phones read in `PHONE_DEFAULT_REGION`); the report
/// lists each row left as it was.
///
/// # Errors
/// [`StartupError::Database`].
pub async fn migrate(config: &Config) -> Result<tessera_sql::MigrationReport, StartupError> {
    Ok(Database::migrate(&db_config(config), config.phone_region).await?)
}

/// The mail transport a configuration names.
///
/// # Errors
/// [`StartupError::Mail`] when the sender or transport settings are invalid.
pub fn mailer(config: &Config) -> Result<LettreMailer, StartupError> {
    let (name, address) = &config.mail_sender;
    match &config.mail_transport {
        MailTransport::Smtp(smtp) => LettreMailer::smtp(smtp, name, address),
        MailTransport::Files(dir) => LettreMailer::file(dir, name, address),
    }
    .map_err(|e| StartupError::Mail(e.to_string()))
}

/// Applies pending migrations when `AUTO_MIGRATE` asks for it, then opens the pool.
async fn open_database(config: &Config) -> Result<Database, StartupError> {
    let db = db_config(config);
    Ok(tessera_embed::open_database(&db, config.auto_migrate, config.phone_region).await?)
}

/// The configured argon2id hasher, built on the blocking pool (it computes a dummy hash).
async fn build_hasher(config: &Config) -> Result<Argon2Hasher, StartupError> {
    Ok(tessera_embed::argon2_hasher(config.argon2, config.hasher_limits).await?)
}

/// `tessera users import FILE`: imports JSON-lines users with their password
/// hashes into the configured database, reporting each skipped or refused line
/// on stdout and going on. Returns the counts.
///
/// # Errors
/// [`StartupError`] when the database, the hasher or the file cannot be opened.
pub async fn import_users(
    config: &Config,
    file: &std::path::Path,
) -> Result<ImportSummary, StartupError> {
    let users = SqlUsers::new(open_database(config).await?);
    let hasher = build_hasher(config).await?;
    let text = tokio::fs::read_to_string(file)
        .await
        .map_err(|e| StartupError::Store(format!("{}: {e}", file.display())))?;
    let mut summary = ImportSummary::default();
    let now = chrono::Utc::now();
    for (n, line) in text.lines().enumerate() {
        let Some(outcome) = import_line(
            &users,
            &hasher,
            line,
            now,
            &config.default_role,
            config.phone_region,
        )
        .await
        else {
            continue;
        };
        match &outcome {
            LineOutcome::Imported => {}
            LineOutcome::Skipped(why) => println!("line {}: skipped: {why}", n + 1),
            LineOutcome::Failed(why) => println!("line {}: error: {why}", n + 1),
        }
        summary.add(&outcome);
    }
    println!(
        "imported {}, skipped {}, failed {}",
        summary.imported, summary.skipped, summary.failed
    );
    Ok(summary)
}

/// `tessera user create`: makes an account with any role (the only way to a
/// `super_admin`: no default admin account exists). The password must satisfy
/// the policy; the email counts as verified, since an operator created it.
///
/// # Errors
/// A message naming the refused field or the taken one, or a startup error.
pub async fn create_user(
    config: &Config,
    username: &str,
    email: &str,
    phone: Option<&str>,
    role: &str,
    password: &str,
) -> Result<tessera_domain::model::User, String> {
    use tessera_domain::ports::{PasswordHasher as _, UserRepository as _};
    use tessera_domain::values::{Email, Password, PasswordAttempt, Phone, RoleName, Username};
    let field = |name: &str, e: tessera_domain::validation::FieldIssue| format!("{name}: {e}");
    let username =
        Username::parse(username, &config.username_policy).map_err(|e| field("username", e))?;
    let email = Email::parse(email).map_err(|e| field("email", e))?;
    let phone = phone
        .map(|p| Phone::parse(p, config.phone_region))
        .transpose()
        .map_err(|e| field("phone", e))?;
    let role = RoleName::parse(role).map_err(|e| field("role", e))?;
    let password =
        Password::parse(password, &config.password_policy).map_err(|e| field("password", e))?;
    password
        .screen(&config.password_policy, username.as_str(), email.as_str())
        .map_err(|e| field("password", e))?;
    let users = SqlUsers::new(open_database(config).await.map_err(|e| e.to_string())?);
    let hasher = build_hasher(config).await.map_err(|e| e.to_string())?;
    let hash = hasher
        .hash(&PasswordAttempt::from(password))
        .await
        .map_err(|e| e.to_string())?;
    let now = chrono::Utc::now();
    let new = tessera_domain::model::NewUser {
        public_id: uuid::Uuid::new_v4(),
        username,
        email,
        phone,
        password_hash: hash,
        role,
        email_verified: true,
        created_at: now,
    };
    let user = users.create(new, None).await.map_err(|e| e.to_string())?;
    users
        .mark_email_verified(user.id, now)
        .await
        .map_err(|e| e.to_string())?;
    Ok(tessera_domain::model::User {
        email_verified: true,
        ..user
    })
}

/// The Redis settings of a configuration, when Redis is configured.
#[must_use]
pub fn redis_config(config: &Config) -> Option<RedisConfig> {
    (config.redis_url.is_some() || !config.redis_cluster_urls.is_empty()).then(|| RedisConfig {
        url: config.redis_url.clone(),
        cluster_urls: config.redis_cluster_urls.clone(),
        key_prefix: config.redis_key_prefix.clone(),
        pool_size: config.redis_pool_size,
        timeout: config.redis_timeout,
    })
}

/// The service for `config`: migrates (unless `AUTO_MIGRATE=false`), connects
/// and wires every adapter through `tessera-embed`'s SQL store (see
/// [`tessera_embed::SqlStack`] for which), with its workers not yet running.
///
/// # Errors
/// [`StartupError`] when any part cannot be built.
pub async fn build_service(
    config: &Config,
) -> Result<(ServerAuth, Workers<SqlOutbox>), StartupError> {
    let sink = MailSink::from(mailer(config)?);
    build_service_with_probes(config, std::sync::Arc::default(), sink)
        .await
        .map(|(service, workers, _)| (service, workers))
}

/// [`build_service`] delivering to `sink`, plus the handles `/ready` checks
/// (database, Redis) and the pool and hasher gauges in `metrics`.
///
/// # Errors
/// [`StartupError`] when any part cannot be built.
pub async fn build_service_with_probes(
    config: &Config,
    metrics: std::sync::Arc<crate::metrics::Metrics>,
    sink: MailSink,
) -> Result<(ServerAuth, Workers<SqlOutbox>, crate::ready::Readiness), StartupError> {
    let secret = config.resolve_jwt_secret()?;
    let secret = match config.environment {
        crate::config::Environment::Production => Secret::from_bytes(secret)?,
        crate::config::Environment::Development => Secret::development(secret),
    };
    let sms = match &config.sms_webhook_url {
        Some(url) => AnySms::Webhook(
            tessera_smtp::WebhookSms::new(url, std::time::Duration::from_secs(10))
                .map_err(StartupError::Mail)?,
        ),
        None => AnySms::File(tessera_smtp::FileSms::new(config.var_dir.join("sms.log"))),
    };
    let audit_metrics = std::sync::Arc::clone(&metrics);
    let mut builder = Tessera::builder()
        .database(db_config(config))
        .migrate(config.auto_migrate)
        .audit(move |table| LoggedAudit(table, audit_metrics))
        .secret(secret)
        .issuer(config.jwt_issuer.clone())
        .audience(config.jwt_audience.clone())
        .settings(auth_settings(config)?)
        .argon2(config.argon2, config.hasher_limits)
        .mail(sink)
        .delivery(config.delivery, config.outbox_poll)
        .sms(sms);
    if let Some(alg) = config.jwt_algorithm {
        builder = builder.signing_keys(key_dir(config, alg));
    }
    if let Some(rc) = redis_config(config) {
        builder = builder.redis_config(rc, config.user_cache_ttl);
    }
    let tessera = builder.build().await?;
    let readiness = crate::ready::Readiness {
        database: tessera.database().cloned(),
        redis: tessera.redis().cloned(),
        ..crate::ready::Readiness::default()
    };
    gauges(&metrics, &tessera);
    let (service, workers) = tessera.into_parts();
    Ok((service, workers, readiness))
}

/// The hasher's and the database pool's gauges.
fn gauges(metrics: &crate::metrics::Metrics, tessera: &Tessera<crate::wiring::ServerPorts>) {
    let h = tessera.hasher().clone();
    metrics.gauge(
        "tessera_password_hashes_in_flight",
        "Password hashes being computed now.",
        move || h.in_flight() as f64,
    );
    let h = tessera.hasher().clone();
    metrics.gauge(
        "tessera_password_hashes_admitted",
        "Password hashes computing or waiting for a slot.",
        move || h.admitted() as f64,
    );
    let Some(db) = tessera.database() else {
        return;
    };
    for (name, help, pick) in [
        (
            "tessera_db_pool_connections",
            "Open database connections.",
            0_usize,
        ),
        ("tessera_db_pool_idle", "Idle database connections.", 1),
        (
            "tessera_db_pool_max",
            "Most database connections the pool opens.",
            2,
        ),
        (
            "tessera_db_pool_waiting",
            "Requests waiting for a database connection.",
            3,
        ),
    ] {
        let d = db.clone();
        metrics.gauge(name, help, move || {
            let (size, idle, max, waiting) = d.pool_status();
            [size, idle, max, waiting][pick] as f64
        });
    }
}

/// How long a retired key must keep verifying: the longest access-token life.
fn key_keep(config: &Config) -> chrono::Duration {
    let longest = config
        .access_ttl
        .max(config.legacy_access_ttl)
        .max(config.v1_access_ttl)
        + config.jwt_leeway;
    chrono::Duration::from_std(longest).unwrap_or(chrono::Duration::days(2))
}

/// The key folder `JWT_KEYS_DIR` for `alg`. In development an empty folder
/// gets its first key; production refuses to start without one.
fn key_dir(config: &Config, alg: KeyAlg) -> KeyRingDir {
    KeyRingDir {
        dir: config.jwt_keys_dir.clone(),
        alg,
        keep: key_keep(config),
        create_when_empty: config.environment != crate::config::Environment::Production,
    }
}

/// The key ring of `JWT_KEYS_DIR` as it is now; `None` while no key signs.
fn read_active_ring(config: &Config, alg: KeyAlg) -> Result<Option<KeyRing>, StartupError> {
    Ok(key_dir(config, alg).read_active()?)
}

fn no_active_key(config: &Config, alg: KeyAlg) -> StartupError {
    key_dir(config, alg).no_active_key().into()
}

/// What `tessera user grant|revoke|disable|enable` does.
#[derive(Debug, Clone)]
pub enum UserAction {
    /// Grant a role of the catalogue.
    Grant(String),
    /// Take a role away.
    Revoke(String),
    /// Disable the account and end every session.
    Disable,
    /// Enable the account.
    Enable,
}

/// Applies `action` to the user a login identifier names, as the operator
/// (audited with the `tessera-cli` user agent), through the same use cases as
/// the admin API — so caches are invalidated and sessions revoked.
///
/// # Errors
/// A readable reason.
pub async fn user_action(
    config: &Config,
    login: &str,
    action: UserAction,
) -> Result<tessera_domain::model::User, String> {
    use tessera_domain::ports::UserRepository as _;
    let (service, _) = build_service(config).await.map_err(|e| e.to_string())?;
    let parsed = tessera_domain::values::Login::parse(login, config.phone_region)
        .map_err(|e| format!("--user {login:?}: {e}"))?;
    let user = service
        .ports()
        .users
        .find_by_login(&parsed)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no user {login:?}"))?;
    let actor = tessera_domain::usecase::Actor::operator();
    let done = match action {
        UserAction::Grant(role) => service.grant_role(&actor, user.id, &role).await,
        UserAction::Revoke(role) => service.revoke_role(&actor, user.id, &role).await,
        UserAction::Disable => service.set_user_active(&actor, user.id, false).await,
        UserAction::Enable => service.set_user_active(&actor, user.id, true).await,
    };
    done.map_err(|e| match e {
        tessera_domain::AuthError::Validation(v) => format!("{v:?}"),
        other => other.to_string(),
    })
}

/// `tessera config check`: what start-up would refuse, without starting
/// (and without writing anything, not even a development key).
///
/// # Errors
/// [`StartupError`] naming the first problem.
pub fn check_config(config: &Config) -> Result<(), StartupError> {
    auth_settings(config)?;
    // In production resolving the key only checks it (development would
    // generate one, which a check must not do).
    if config.environment == crate::config::Environment::Production {
        config.resolve_jwt_secret()?;
        if let Some(alg) = config.jwt_algorithm {
            read_active_ring(config, alg)?.ok_or_else(|| no_active_key(config, alg))?;
        }
    }
    mailer(config)?;
    Ok(())
}

/// `tessera keys rotate`: a new key that signs after `JWT_KEY_ACTIVATION_DELAY`.
///
/// # Errors
/// [`StartupError::Keys`] for HS256 or when the folder cannot be written.
pub fn rotate_keys(
    config: &Config,
) -> Result<(String, chrono::DateTime<chrono::Utc>), StartupError> {
    let alg = config.jwt_algorithm.ok_or_else(|| {
        StartupError::Keys(
            "JWT_ALGORITHM is HS256: its key is JWT_SECRET_KEY (rotating it ends every session); set EdDSA or RS256 to use a key ring".into(),
        )
    })?;
    let delay = chrono::Duration::from_std(config.jwt_key_activation_delay)
        .map_err(|e| StartupError::Keys(e.to_string()))?;
    let now = chrono::Utc::now();
    let kid = keyring::rotate(&config.jwt_keys_dir, alg, now, delay, key_keep(config))
        .map_err(|e| StartupError::Keys(e.to_string()))?;
    Ok((kid, now + delay))
}

impl Application {
    /// Builds the embedded-default application for `config` and binds its port.
    ///
    /// # Errors
    /// [`StartupError`] when configuration, database, hasher or socket fail.
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        tessera_smtp::use_aws_lc_for_rustls();
        if config.password_policy.min_score > 0 {
            // zxcvbn builds its dictionaries on first use (~40 ms): off the
            // request path, in the background.
            drop(tokio::task::spawn_blocking(|| {
                tessera_domain::values::password_score("warm-up", &[])
            }));
        }
        // libphonenumber loads its metadata on first use (~0.4 s): pay it
        // here, on the blocking pool, rather than in the first request.
        let region = config.phone_region;
        let warm = tokio::task::spawn_blocking(move || {
            tessera_domain::values::Phone::parse("+8613800138000", region).is_ok()
        });
        let metrics = std::sync::Arc::new(crate::metrics::Metrics::default());
        let mailer = mailer(&config)?;
        tracing::info!(?mailer, "mail delivery");
        let (service, workers, mut readiness) = build_service_with_probes(
            &config,
            std::sync::Arc::clone(&metrics),
            MailSink::from(mailer),
        )
        .await?;
        let _ = warm.await;
        let probe = self::mailer(&config)?;
        if probe.is_smtp() {
            readiness.mailer = Some(probe);
        }
        let observed = std::sync::Arc::clone(&metrics);
        let worker = workers
            .observe_mail(move |event| match event {
                MailEvent::Delivered(report) => {
                    observed.observe_delivery(report.sent, report.failed);
                }
                MailEvent::Queued(n) => observed.set_mail_queued(n),
                _ => {}
            })
            .spawn();
        let mut app = Self::with_service_and_probes(&config, service, readiness, metrics)?;
        app.worker = Some(worker);
        Ok(app)
    }

    /// Binds and prepares a server around any wiring of the ports (tests use fakes).
    ///
    /// # Errors
    /// [`StartupError::Bind`] when the address cannot be bound.
    pub fn with_service<P: Ports>(
        config: &Config,
        service: AuthService<P>,
    ) -> Result<Self, StartupError> {
        Self::with_service_and_probes(
            config,
            service,
            crate::ready::Readiness::default(),
            std::sync::Arc::default(),
        )
    }

    /// [`Self::with_service`], with the dependencies `/ready` checks.
    ///
    /// # Errors
    /// [`StartupError::Bind`] when the address cannot be bound.
    pub fn with_service_and_probes<P: Ports>(
        config: &Config,
        service: AuthService<P>,
        readiness: crate::ready::Readiness,
        metrics: std::sync::Arc<crate::metrics::Metrics>,
    ) -> Result<Self, StartupError> {
        let addr = format!("{}:{}", config.host, config.port);
        let bind_error = |source| StartupError::Bind {
            addr: addr.clone(),
            source,
        };
        let listener = TcpListener::bind(&addr).map_err(bind_error)?;
        let port = listener.local_addr().map_err(bind_error)?.port();
        let state = web::Data::new(AppState {
            auth: service,
            max_body_bytes: config.max_body_bytes,
            rate_limits: config.rate_limits,
            trusted_proxies: config.trusted_proxies.clone(),
            readiness,
            v1_verify_on_get: config.v1_verify_on_get,
        });
        let housekeeping = {
            let state = state.clone();
            tokio::spawn(async move { tessera_embed::housekeep(&state.auth).await })
        };
        let cors = web::Data::new(config.cors.clone());
        let locale = web::Data::new(http::DefaultLocale(config.mail.default_locale));
        let metrics = web::Data::from(metrics);
        let limits = web::Data::new(http::BodyLimits {
            max_bytes: config.max_body_bytes,
            timeout: config.request_body_timeout,
        });
        let metrics_server = match &config.metrics_listen {
            Some(addr) => Some(metrics_server(config, addr, metrics.clone())?),
            None => None,
        };
        let access = web::Data::new(http::MetricsAccess {
            token: config.metrics_bearer_token.clone(),
            served_here: metrics_server.is_none(),
        });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(cors.clone())
                .app_data(locale.clone())
                .app_data(metrics.clone())
                .app_data(limits.clone())
                .app_data(access.clone())
                .configure(http::routes::<P>)
                .default_service(web::to(http::not_found))
                .wrap_fn(http::around_request)
        })
        .workers(config.workers)
        .listen(listener)
        .map_err(bind_error)?
        .run();
        tracing::info!(%addr, port, "tessera listening");
        Ok(Self {
            port,
            server,
            housekeeping,
            metrics_server,
            worker: None,
        })
    }

    /// The bound port (useful with `PORT=0`).
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the `METRICS_LISTEN` listener, when configured.
    #[must_use]
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_server.as_ref().map(|(_, port)| *port)
    }

    /// A handle that stops the server (gracefully with `stop(true)`).
    #[must_use]
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until the process is asked to stop (SIGINT/SIGTERM).
    ///
    /// # Errors
    /// When the server fails.
    /// On SIGTERM or SIGINT the server stops accepting connections and lets
    /// requests in flight finish (up to 30 s); then the outbox worker finishes
    /// its current step (up to 30 s more) and stops.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let metrics = self.metrics_server.map(|(server, _)| {
            let handle = server.handle();
            (handle, tokio::spawn(server))
        });
        let served = self.server.await;
        self.housekeeping.abort();
        if let Some((handle, task)) = metrics {
            handle.stop(true).await;
            let _ = task.await;
        }
        if let Some(worker) = self.worker {
            worker.stop().await;
        }
        tracing::info!("tessera stopped");
        served
    }
}
