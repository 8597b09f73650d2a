//! Building and running the application.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use tessera_crypto::Argon2Hasher;
use tessera_crypto::keyring::{KeyAlg, KeyRing};
use tessera_domain::AuthService;
use tessera_domain::ports::Ports;
use tessera_embed::{
    AnySms, BuildError, KeyRingDir, MailEvent, MailSink, Secret, Tessera, WorkerHandles, Workers,
};
use tessera_redis::RedisConfig;
use tessera_smtp::LettreMailer;
use tessera_sql::{Database, DbConfig, SqlOutbox};
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
    /// The service or one of its parts could not be built or opened: the
    /// database, a store, the hasher, mail, the JWT keys (one variant per
    /// cause, kept by [`BuildError`]).
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
        token: config.observability.metrics_bearer_token.clone(),
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
    /// Delivers webhook messages (issue 20); ends with the server.
    webhooks: tokio::task::JoinHandle<()>,
    /// The `METRICS_LISTEN` server and its port, when configured.
    metrics_server: Option<(Server, u16)>,
    /// The outbox and key-reload workers, stopped at shutdown.
    worker: Option<WorkerHandles>,
}

/// The database settings of a configuration.
#[must_use]
pub fn db_config(config: &Config) -> DbConfig {
    DbConfig {
        url: config.database.url.clone(),
        max_connections: config.database.max_connections,
        acquire_timeout: config.database.timeout,
    }
}

/// Applies pending migrations and canonicalises stored identifiers (what
/// `tessera migrate` runs; phones read in `PHONE_DEFAULT_REGION`); the report
/// lists each row left as it was.
///
/// # Errors
/// [`BuildError::Database`].
pub async fn migrate(config: &Config) -> Result<tessera_sql::MigrationReport, StartupError> {
    Database::migrate(&db_config(config), config.accounts.phone_region)
        .await
        .map_err(|e| BuildError::from(e).into())
}

/// The mail transport a configuration names.
///
/// # Errors
/// [`BuildError::Mail`] when the sender or transport settings are invalid.
pub fn mailer(config: &Config) -> Result<LettreMailer, StartupError> {
    let (name, address) = &config.messaging.sender;
    match &config.messaging.transport {
        MailTransport::Smtp(smtp) => LettreMailer::smtp(smtp, name, address),
        MailTransport::Files(dir) => LettreMailer::file(dir, name, address),
    }
    .map_err(|e| BuildError::Mail(e.to_string()).into())
}

/// Applies pending migrations when `AUTO_MIGRATE` asks for it, then opens the pool.
pub(crate) async fn open_database(config: &Config) -> Result<Database, StartupError> {
    let db = db_config(config);
    Ok(tessera_embed::open_database(
        &db,
        config.database.auto_migrate,
        config.accounts.phone_region,
    )
    .await?)
}

/// The configured argon2id hasher, built on the blocking pool (it computes a dummy hash).
pub(crate) async fn build_hasher(config: &Config) -> Result<Argon2Hasher, StartupError> {
    Ok(
        tessera_embed::argon2_hasher(config.passwords.argon2, config.passwords.hasher_limits)
            .await?,
    )
}

/// The Redis settings of a configuration, when Redis is configured.
#[must_use]
pub fn redis_config(config: &Config) -> Option<RedisConfig> {
    config
        .redis
        .is_configured()
        .then(|| config.redis.connection.clone())
}

/// The service for `config` as the command line uses it: migrates (unless
/// `AUTO_MIGRATE=false`), connects and wires every adapter through
/// `tessera-embed`'s SQL store (see [`tessera_embed::SqlStack`] for which),
/// with its workers not running. It delivers no mail and so never reads the
/// mail settings (a `tessera user disable` must not fail on SMTP settings it
/// does not use): what a command queues waits in the outbox for the server's
/// delivery worker.
///
/// # Errors
/// [`StartupError`] when any part cannot be built.
pub async fn build_service(
    config: &Config,
) -> Result<(ServerAuth, Workers<SqlOutbox>), StartupError> {
    let sink = MailSink::memory(tessera_embed::tessera_memory::MemoryMailer::default());
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
        crate::config::Environment::Development => Secret::unchecked_for_development(secret),
    };
    let sms = match &config.messaging.sms_webhook_url {
        Some(url) => AnySms::Webhook(
            tessera_smtp::WebhookSms::new(url.expose(), std::time::Duration::from_secs(10))
                .map_err(BuildError::Mail)?,
        ),
        None => AnySms::File(tessera_smtp::FileSms::new(
            config.server.var_dir.join("sms.log"),
        )),
    };
    let audit_metrics = std::sync::Arc::clone(&metrics);
    let mut builder = Tessera::builder()
        .database(db_config(config))
        .migrate(config.database.auto_migrate)
        .audit(move |table| LoggedAudit(table, audit_metrics))
        .secret(secret)
        .issuer(config.tokens.issuer.clone())
        .audience(config.tokens.audience.clone())
        .settings(auth_settings(config)?)
        .argon2(config.passwords.argon2, config.passwords.hasher_limits)
        .mail(sink)
        .delivery(config.messaging.delivery, config.messaging.outbox_poll)
        .sms(sms)
        .verified_tokens_max_bytes(config.tokens.verified_cache_max_bytes)
        .id_token_key_file(config.provider.signing_key_file.clone())
        .relying_party(relying_party(config)?);
    if let Some(alg) = config.tokens.algorithm {
        builder = builder.signing_keys(key_dir(config, alg));
    }
    if let Some(rc) = redis_config(config) {
        builder = builder.redis_config(rc);
    }
    if let Some(target) = &config.token_hook.target {
        builder = builder.access_token_hook(
            tessera_webhooks::HttpAccessTokenHook::new(target.clone())
                .map_err(BuildError::Webhooks)?,
        );
    }
    let tessera = builder.caches(config.caches).build().await?;
    let readiness = crate::ready::Readiness {
        database: tessera.database().cloned(),
        redis: tessera.redis().cloned(),
        ..crate::ready::Readiness::default()
    };
    gauges(&metrics, &tessera);
    let (service, workers) = tessera.into_parts();
    warn_of_unknown_roles(&service, config).await;
    Ok((service, workers, readiness))
}

/// Logs a warning for each role of `MFA_REQUIRED_ROLES` or
/// `ADMIN_LOGIN_ROLES` that the role catalogue lacks: a misspelt role
/// matches nobody, so the rule it was meant for holds for no one.
async fn warn_of_unknown_roles(
    service: &tessera_domain::AuthService<crate::wiring::ServerPorts>,
    config: &Config,
) {
    for (setting, roles) in [
        ("MFA_REQUIRED_ROLES", &config.accounts.mfa_required_roles),
        ("ADMIN_LOGIN_ROLES", &config.accounts.admin_login_roles),
    ] {
        let Ok(missing) = service.roles_missing_from_catalogue(roles).await else {
            return;
        };
        for role in missing {
            tracing::warn!(
                setting,
                role = role.as_str(),
                "a role the catalogue lacks: it matches no account"
            );
        }
    }
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
pub(crate) fn key_keep(config: &Config) -> chrono::Duration {
    let longest = config
        .tokens
        .access_ttl
        .max(config.tokens.legacy_access_ttl)
        .max(config.tokens.v1_access_ttl)
        + config.tokens.leeway;
    chrono::Duration::from_std(longest).unwrap_or(chrono::Duration::days(2))
}

/// The key folder `JWT_KEYS_DIR` for `alg`. In development an empty folder
/// gets its first key; production refuses to start without one.
fn key_dir(config: &Config, alg: KeyAlg) -> KeyRingDir {
    KeyRingDir {
        dir: config.tokens.keys_dir.clone(),
        alg,
        keep: key_keep(config),
        create_when_empty: config.environment != crate::config::Environment::Production,
    }
}

/// The key ring of `JWT_KEYS_DIR` as it is now; `None` while no key signs.
pub(crate) fn read_active_ring(
    config: &Config,
    alg: KeyAlg,
) -> Result<Option<KeyRing>, StartupError> {
    Ok(key_dir(config, alg).read_active()?)
}

pub(crate) fn no_active_key(config: &Config, alg: KeyAlg) -> StartupError {
    key_dir(config, alg).no_active_key().into()
}

impl Application {
    /// Builds the embedded-default application for `config` and binds its port.
    ///
    /// # Errors
    /// [`StartupError`] when configuration, database, hasher or socket fail.
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        tessera_smtp::use_aws_lc_for_rustls();
        if config.passwords.policy.min_score > 0 {
            // zxcvbn builds its dictionaries on first use (~40 ms): off the
            // request path, in the background.
            drop(tokio::task::spawn_blocking(|| {
                tessera_domain::values::password_score("warm-up", &[])
            }));
        }
        // libphonenumber loads its metadata on first use (~0.4 s): pay it
        // here, on the blocking pool, rather than in the first request.
        let region = config.accounts.phone_region;
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
        let addr = format!("{}:{}", config.server.host, config.server.port);
        let bind_error = |source| StartupError::Bind {
            addr: addr.clone(),
            source,
        };
        let listener = TcpListener::bind(&addr).map_err(bind_error)?;
        let port = listener.local_addr().map_err(bind_error)?.port();
        let state = web::Data::new(AppState {
            auth: service,
            max_body_bytes: config.server.max_body_bytes,
            rate_limits: config.rate_limits,
            trusted_proxies: config.server.trusted_proxies.clone(),
            readiness,
            v1_verify_on_get: config.verification.v1_verify_on_get,
        });
        let housekeeping = {
            let state = state.clone();
            tokio::spawn(async move { tessera_embed::housekeep(&state.auth).await })
        };
        let webhooks = {
            let state = state.clone();
            tokio::spawn(async move { tessera_embed::deliver_webhooks_forever(&state.auth).await })
        };
        let cors = web::Data::new(config.cors.clone());
        let pages = web::Data::new(http::pages::PagesState::new(
            config.pages.clone(),
            config.messaging.mail.product_name.clone(),
            config.environment == crate::config::Environment::Development,
        ));
        let locale = web::Data::new(http::DefaultLocale(config.messaging.mail.default_locale));
        let metrics = web::Data::from(metrics);
        let limits = web::Data::new(http::BodyLimits {
            max_bytes: config.server.max_body_bytes,
            timeout: config.server.request_body_timeout,
        });
        let metrics_server = match &config.observability.metrics_listen {
            Some(addr) => Some(metrics_server(config, addr, metrics.clone())?),
            None => None,
        };
        let access = web::Data::new(http::MetricsAccess {
            token: config.observability.metrics_bearer_token.clone(),
            served_here: metrics_server.is_none(),
        });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(cors.clone())
                .app_data(pages.clone())
                .app_data(locale.clone())
                .app_data(metrics.clone())
                .app_data(limits.clone())
                .app_data(access.clone())
                .configure(http::routes::<P>)
                .default_service(web::to(http::not_found))
                .wrap_fn(http::around_request)
        })
        .workers(config.server.workers)
        .listen(listener)
        .map_err(bind_error)?
        .run();
        tracing::info!(%addr, port, "tessera listening");
        Ok(Self {
            port,
            server,
            housekeeping,
            webhooks,
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
        // An attempt cut short is made again when its lease ends (the
        // receiver may see it twice, with the same webhook-id).
        self.webhooks.abort();
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

/// The WebAuthn relying party `WEBAUTHN_RP_ID` and `WEBAUTHN_ORIGINS`
/// describe, named `MAIL_PRODUCT_NAME`.
///
/// # Errors
/// [`ConfigError::Invalid`] when an origin is outside the RP id.
fn relying_party(
    config: &Config,
) -> Result<tessera_crypto::WebAuthnRelyingParty, crate::config::ConfigError> {
    let pages = &config.pages;
    tessera_crypto::WebAuthnRelyingParty::new(
        &pages.webauthn_rp_id,
        &config.messaging.mail.product_name,
        &pages.webauthn_origins,
    )
    .map_err(|reason| crate::config::ConfigError::Invalid {
        name: "WEBAUTHN_RP_ID",
        reason,
    })
}
