//! Building and running the application.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use tessera_crypto::keyring::{self, KeyAlg, KeyRing};
use tessera_crypto::{Argon2Hasher, HmacRefreshCodec, JwtConfig, JwtSigner};
use tessera_domain::AuthService;
use tessera_domain::cache::CachedUsers;
use tessera_domain::clock::{RandomIds, SystemClock};
use tessera_domain::mail::{DeliveryPolicy, deliver_due};
use tessera_domain::ports::{Adapters, Ports};
use tessera_memory::{MemoryRateLimiter, MirroredDenylist};
use tessera_redis::{
    Redis, RedisCodes, RedisConfig, RedisDenylist, RedisRateLimiter, RedisSessions, RedisUserCache,
};
use tessera_smtp::LettreMailer;
use tessera_sql::{
    Database, DbConfig, DbError, SqlCodes, SqlDenylist, SqlOutbox, SqlSessions, SqlUsers,
};
use thiserror::Error;

use crate::config::{Config, ConfigError, MailTransport};
use crate::http::{self, AppState};
use crate::wiring::{
    AnyCodes, AnyDenylist, AnyLimiter, AnySessions, AnySms, AnyUserCache, ServerAuth, ServerPorts,
    auth_settings,
};

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
    /// The password hasher could not be built.
    #[error("password hasher: {0}")]
    Hasher(String),
    /// Mail delivery could not be set up.
    #[error("mail: {0}")]
    Mail(String),
    /// The JWT signing keys could not be read or made.
    #[error("JWT keys: {0}")]
    Keys(String),
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
    /// The `METRICS_LISTEN` server and its port, when configured.
    metrics_server: Option<(Server, u16)>,
    /// The outbox worker: a stop signal and its task, awaited at shutdown.
    worker: Option<(
        tokio::sync::watch::Sender<bool>,
        tokio::task::JoinHandle<()>,
    )>,
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
/// [`StartupError::Database`].
pub async fn migrate(config: &Config) -> Result<tessera_sql::MigrationReport, StartupError> {
    Ok(Database::migrate(&db_config(config), config.accounts.phone_region).await?)
}

/// The mail transport a configuration names.
///
/// # Errors
/// [`StartupError::Mail`] when the sender or transport settings are invalid.
pub fn mailer(config: &Config) -> Result<LettreMailer, StartupError> {
    let (name, address) = &config.messaging.sender;
    match &config.messaging.transport {
        MailTransport::Smtp(smtp) => LettreMailer::smtp(smtp, name, address),
        MailTransport::Files(dir) => LettreMailer::file(dir, name, address),
    }
    .map_err(|e| StartupError::Mail(e.to_string()))
}

/// Sends due outbox mail every `poll`, for as long as the runtime lives. A
/// failed mail is retried with `policy`'s backoff; nothing is dropped.
pub async fn deliver_forever(
    outbox: SqlOutbox,
    mailer: LettreMailer,
    policy: DeliveryPolicy,
    poll: std::time::Duration,
    metrics: std::sync::Arc<crate::metrics::Metrics>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    // The stop signal is checked between steps only: a step that has begun
    // (mails claimed, being sent) is finished and recorded first.
    while !*stop.borrow() {
        match deliver_due(&outbox, &mailer, chrono::Utc::now(), &policy).await {
            Ok(report) if report.sent + report.failed > 0 => {
                metrics.observe_delivery(report.sent, report.failed);
                tracing::info!(
                    sent = report.sent,
                    failed = report.failed,
                    "outbox delivery"
                );
                if report.failed == 0 && report.sent == policy.batch {
                    continue; // more may be due right away
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "outbox unavailable"),
        }
        if let Ok(n) = tessera_domain::ports::MailOutbox::pending(&outbox).await {
            metrics.set_mail_queued(n);
        }
        tokio::select! {
            () = tokio::time::sleep(poll) => {}
            _ = stop.changed() => {}
        }
    }
    tracing::info!("outbox worker stopped");
}

/// Runs the deferred tasks requests hand off (every 100 ms) and removes
/// expired pending accounts (every minute), for as long as the server runs.
async fn housekeep<P: Ports>(state: web::Data<AppState<P>>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for n in 0_u64.. {
        tick.tick().await;
        state.auth.run_deferred().await;
        if n % 600 == 0 {
            match state.auth.expire_unverified_accounts().await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "expired pending accounts removed"),
                Err(e) => tracing::warn!(error = %e, "expiring pending accounts failed"),
            }
        }
    }
}

/// Applies pending migrations when `AUTO_MIGRATE` asks for it, then opens the pool.
pub(crate) async fn open_database(config: &Config) -> Result<Database, StartupError> {
    if config.database.auto_migrate {
        let report = migrate(config).await?;
        if report.applied > 0 {
            tracing::info!(migrations = report.applied, "applied database migrations");
        }
    }
    Ok(Database::connect(&db_config(config))?)
}

/// The configured argon2id hasher, built on the blocking pool (it computes a dummy hash).
pub(crate) async fn build_hasher(config: &Config) -> Result<Argon2Hasher, StartupError> {
    let (params, limits) = (config.passwords.argon2, config.passwords.hasher_limits);
    tokio::task::spawn_blocking(move || Argon2Hasher::new(params, limits))
        .await
        .map_err(|e| StartupError::Hasher(e.to_string()))?
        .map_err(|e| StartupError::Hasher(e.to_string()))
}

/// The Redis settings of a configuration, when Redis is configured.
#[must_use]
pub fn redis_config(config: &Config) -> Option<RedisConfig> {
    config.redis.is_configured().then(|| RedisConfig {
        url: config.redis.url.clone(),
        cluster_urls: config.redis.cluster_urls.clone(),
        key_prefix: config.redis.key_prefix.clone(),
        pool_size: config.redis.pool_size,
        timeout: config.redis.timeout,
    })
}

/// The service for `config`: migrates (unless `AUTO_MIGRATE=false`), connects
/// and wires every adapter (see [`crate::wiring`] for which).
///
/// # Errors
/// [`StartupError`] when any part cannot be built.
pub async fn build_service(config: &Config) -> Result<(ServerAuth, SqlOutbox), StartupError> {
    build_service_with_probes(config, std::sync::Arc::default())
        .await
        .map(|(service, outbox, _)| (service, outbox))
}

/// [`build_service`], plus the handles `/ready` checks (database, Redis).
///
/// # Errors
/// [`StartupError`] when any part cannot be built.
pub async fn build_service_with_probes(
    config: &Config,
    metrics: std::sync::Arc<crate::metrics::Metrics>,
) -> Result<(ServerAuth, SqlOutbox, crate::ready::Readiness), StartupError> {
    let secret = config.resolve_jwt_secret()?;
    let db = open_database(config).await?;
    let mut readiness = crate::ready::Readiness {
        database: Some(db.clone()),
        ..crate::ready::Readiness::default()
    };
    let store_error = |e: tessera_domain::error::StoreError| StartupError::Store(e.to_string());
    let (sessions, denylist, cache, codes, limiter) = match redis_config(config) {
        Some(rc) => {
            let redis = Redis::connect(&rc).map_err(|e| StartupError::Store(e.to_string()))?;
            readiness.redis = Some(redis.clone());
            if let Err(e) = redis.ping().await {
                // Not fatal: requests answer 503 until Redis is back.
                tracing::warn!(error = %e, "Redis is not reachable yet");
            }
            tracing::info!(redis = ?rc, "sessions, denylist and user cache in Redis");
            (
                AnySessions::Redis(RedisSessions::new(redis.clone())),
                AnyDenylist::Redis(RedisDenylist::new(redis.clone())),
                AnyUserCache::Redis(RedisUserCache::new(
                    redis.clone(),
                    config.redis.user_cache_ttl,
                )),
                AnyCodes::Redis(RedisCodes::new(redis.clone())),
                AnyLimiter::Redis(RedisRateLimiter::new(redis)),
            )
        }
        None if db.is_shared() => (
            AnySessions::Sql(SqlSessions::new(db.clone())),
            AnyDenylist::Sql(SqlDenylist::new(db.clone())),
            AnyUserCache::None,
            AnyCodes::Sql(SqlCodes::new(db.clone())),
            AnyLimiter::Memory(MemoryRateLimiter::default()),
        ),
        None => {
            let durable = SqlDenylist::new(db.clone());
            let live = durable
                .live_entries(chrono::Utc::now())
                .await
                .map_err(store_error)?;
            let mirrored = MirroredDenylist::new(durable);
            mirrored.preload(live);
            (
                AnySessions::Sql(SqlSessions::new(db.clone())),
                AnyDenylist::Mirrored(mirrored),
                AnyUserCache::None,
                AnyCodes::Sql(SqlCodes::new(db.clone())),
                AnyLimiter::Memory(MemoryRateLimiter::default()),
            )
        }
    };
    let hasher = build_hasher(config).await?;
    {
        let h = hasher.clone();
        metrics.gauge(
            "tessera_password_hashes_in_flight",
            "Password hashes being computed now.",
            move || h.in_flight() as f64,
        );
        let h = hasher.clone();
        metrics.gauge(
            "tessera_password_hashes_admitted",
            "Password hashes computing or waiting for a slot.",
            move || h.admitted() as f64,
        );
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
    let jwt = JwtConfig {
        secret: secret.clone(),
        issuer: config.tokens.issuer.clone(),
        audience: config.tokens.audience.clone(),
    };
    let signer = match config.tokens.algorithm {
        None => JwtSigner::new(&jwt),
        Some(alg) => {
            let signer = JwtSigner::with_ring(&jwt, alg, load_ring(config, alg)?);
            if let Some(handle) = signer.ring_handle() {
                tokio::spawn(reload_ring_forever(config.clone(), alg, handle));
            }
            signer
        }
    };
    let adapters = Adapters::<ServerPorts> {
        users: CachedUsers::new(SqlUsers::new(db.clone()), cache),
        sessions,
        denylist,
        hasher,
        signer,
        codec: HmacRefreshCodec::new(&secret),
        clock: SystemClock,
        ids: RandomIds,
        codes,
        limiter,
        outbox: SqlOutbox::new(db.clone()),
        sms: match &config.messaging.sms_webhook_url {
            Some(url) => AnySms::Webhook(
                tessera_smtp::WebhookSms::new(url, std::time::Duration::from_secs(10))
                    .map_err(StartupError::Mail)?,
            ),
            None => AnySms::File(tessera_smtp::FileSms::new(
                config.server.var_dir.join("sms.log"),
            )),
        },
        audit: crate::wiring::LoggedAudit(
            tessera_sql::SqlAudit::new(db.clone()),
            std::sync::Arc::clone(&metrics),
        ),
        tasks: tessera_memory::MemoryTasks::default(),
    };
    Ok((
        AuthService::new(adapters, auth_settings(config)?),
        SqlOutbox::new(db),
        readiness,
    ))
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

/// The key ring of `JWT_KEYS_DIR` as it is now; `None` while no key signs.
pub(crate) fn read_active_ring(
    config: &Config,
    alg: KeyAlg,
) -> Result<Option<KeyRing>, StartupError> {
    let ring = keyring::load_dir(
        &config.tokens.keys_dir,
        alg,
        chrono::Utc::now(),
        key_keep(config),
    )
    .map_err(|e| StartupError::Keys(e.to_string()))?;
    Ok(ring.active.is_some().then_some(ring))
}

pub(crate) fn no_active_key(config: &Config, alg: KeyAlg) -> StartupError {
    StartupError::Keys(format!(
        "no active {} key in {}: run `tessera keys rotate` first",
        alg.as_str(),
        config.tokens.keys_dir.display()
    ))
}

/// The key ring of `JWT_KEYS_DIR`. In development an empty folder gets its
/// first key; production refuses to start without one.
fn load_ring(config: &Config, alg: KeyAlg) -> Result<KeyRing, StartupError> {
    if let Some(ring) = read_active_ring(config, alg)? {
        return Ok(ring);
    }
    if config.environment == crate::config::Environment::Production {
        return Err(no_active_key(config, alg));
    }
    let dir = &config.tokens.keys_dir;
    let kid = keyring::rotate(
        dir,
        alg,
        chrono::Utc::now(),
        chrono::Duration::zero(),
        key_keep(config),
    )
    .map_err(|e| StartupError::Keys(e.to_string()))?;
    tracing::warn!(%kid, dir = %dir.display(), "generated a development JWT signing key");
    read_active_ring(config, alg)?.ok_or_else(|| no_active_key(config, alg))
}

/// Re-reads the key folder every 10 s (off the async executor), so rotations
/// reach running instances.
async fn reload_ring_forever(config: Config, alg: KeyAlg, handle: tessera_crypto::RingHandle) {
    let config = std::sync::Arc::new(config);
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(10)).await;
        let read = {
            let config = std::sync::Arc::clone(&config);
            tokio::task::spawn_blocking(move || read_active_ring(&config, alg)).await
        };
        match read {
            Ok(Ok(Some(ring))) => handle.replace(ring),
            Ok(Ok(None)) => {
                tracing::error!("JWT key folder has no active key; keeping the previous ring");
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "JWT key folder unreadable; keeping the previous ring");
            }
            Err(e) => tracing::error!(error = %e, "JWT key reload task failed"),
        }
    }
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
        let (service, outbox, mut readiness) =
            build_service_with_probes(&config, std::sync::Arc::clone(&metrics)).await?;
        let _ = warm.await;
        let mailer = mailer(&config)?;
        let probe = self::mailer(&config)?;
        if probe.is_smtp() {
            readiness.mailer = Some(probe);
        }
        tracing::info!(?mailer, "mail delivery");
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let worker = tokio::spawn(deliver_forever(
            outbox,
            mailer,
            config.messaging.delivery,
            config.messaging.outbox_poll,
            std::sync::Arc::clone(&metrics),
            stopped,
        ));
        let mut app = Self::with_service_and_probes(&config, service, readiness, metrics)?;
        app.worker = Some((stop, worker));
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
        let housekeeping = tokio::spawn(housekeep(state.clone()));
        let cors = web::Data::new(config.cors.clone());
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
        if let Some((stop, worker)) = self.worker {
            let _ = stop.send(true);
            if tokio::time::timeout(std::time::Duration::from_secs(30), worker)
                .await
                .is_err()
            {
                tracing::warn!("outbox worker still busy after 30 s; stopping anyway");
            }
        }
        tracing::info!("tessera stopped");
        served
    }
}
