//! # tessera-embed
//!
//! Tessera's authentication use cases ([`AuthService`]) ready to embed in a
//! Rust program: one builder wires every port for a store, owns mail from
//! the queue to the sink, and hands back the background workers. The
//! `tessera` server is built with this same builder.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use tessera_embed::{MailSink, Secret, Tessera, client};
//!
//! let tessera = Tessera::builder()
//!     .sqlite("var/auth.db")
//!     .secret(Secret::from_bytes(std::env::var("AUTH_SECRET")?)?)
//!     .mail(MailSink::files("var/mail", "Example", "no-reply@example.com")?)
//!     .build()
//!     .await?;
//! let running = tessera.spawn_workers(); // mail delivery, housekeeping, key reload
//! let auth = running.service();
//! let ip: std::net::IpAddr = "203.0.113.7".parse()?;
//! # let _ = (auth, client(ip, None));
//! running.stop().await;
//! # Ok(()) }
//! ```
//!
//! | builder | users | sessions, denylist, codes | rate limits | feature |
//! |---|---|---|---|---|
//! | [`Builder::memory`] | memory | memory | memory | (always) |
//! | [`Builder::sqlite`] | SQLite | SQLite (denylist mirrored in memory) | memory | `sqlite` |
//! | [`Builder::mysql`] | MySQL | MySQL (every check a query, so instances agree) | memory | `mysql` |
//! | `.mysql(..).redis(..)` | SQL | Redis (plus a Redis user cache) | Redis | `redis` |
//!
//! Hashing is argon2id ([`tessera_crypto::Argon2Hasher`]), access tokens are
//! JWTs (HS256 from the [`Secret`], or EdDSA/RS256 from a key folder with
//! [`Builder::signing_keys`]), refresh tokens are HMAC-bound to the secret.
//!
//! ## Rules the types keep
//! - Mail: the store that queues mail is the one the delivery worker reads;
//!   [`Builder::build`](Builder) refuses to build without a [`MailSink`].
//! - The client: every login and refresh takes a [`ClientInfo`]; build it
//!   with [`client`] from the caller's IP address. `ClientInfo` has no
//!   `Default`: a client without an address
//!   ([`ClientInfo::without_peer`], for work with no caller) shares one
//!   per-address failure count with every other (after 30 failed logins by
//!   anyone, every such caller's logins are delayed).
//! - The secret: [`Secret::from_bytes`] refuses keys shorter than 32 bytes.

#![warn(missing_docs)]

mod builder;
mod error;
mod keys;
mod mail;
#[cfg(feature = "sqlite")]
mod sql;
mod stacks;
mod workers;

pub use builder::{Builder, MemoryStore, NoStore, argon2_hasher};

/// The bytes of verified access tokens the signer keeps by default
/// ([`Builder::verified_tokens_max_bytes`], the server's
/// `TOKEN_CACHE_MAX_BYTES`): 1 MiB, about 1,500 tokens.
pub const DEFAULT_VERIFIED_TOKENS_BYTES: u64 = 1024 * 1024;
#[cfg(feature = "sqlite")]
pub use builder::{SqlStore, open_database};
pub use error::BuildError;
pub use keys::{KeyRingDir, Secret};
pub use mail::{AnySms, MailSink};
#[cfg(feature = "sqlite")]
pub use sql::{AnyChangeFeed, AnyCodes, AnyDenylist, AnyLimiter, AnySessions, SqlStack};
pub use stacks::MemoryStack;
pub use workers::{
    CacheSettings, DEFAULT_MAIL_POLL_MS, MailEvent, Running, WEBHOOK_CONCURRENCY, WEBHOOK_POLL,
    WorkerHandles, Workers, deliver_webhooks, deliver_webhooks_forever, follow_changes, housekeep,
};

pub use tessera_crypto;
pub use tessera_domain;
pub use tessera_domain::model::ClientInfo;
pub use tessera_domain::{AuthService, AuthSettings};
pub use tessera_memory;
#[cfg(feature = "redis")]
pub use tessera_redis;
#[cfg(feature = "smtp")]
pub use tessera_smtp;
#[cfg(feature = "sqlite")]
pub use tessera_sql;

/// Who is calling, for the session list and the login throttle: `ip` is the
/// address the request came from (behind a proxy, the client address the
/// proxy reports, once you trust it); `user_agent` is the `User-Agent`
/// header, cut to 255 characters as the stores keep it.
#[must_use]
pub fn client(ip: std::net::IpAddr, user_agent: Option<&str>) -> ClientInfo {
    ClientInfo::new(Some(ip), user_agent)
}

/// A built service, its workers (not yet running) and the handles to the
/// stores it opened.
pub struct Tessera<P: tessera_domain::ports::Ports = MemoryStack> {
    service: AuthService<P>,
    workers: Workers<P::Outbox>,
    hasher: tessera_crypto::Argon2Hasher,
    #[cfg(feature = "sqlite")]
    database: Option<tessera_sql::Database>,
    #[cfg(feature = "redis")]
    redis: Option<tessera_redis::Redis>,
}

impl<P: tessera_domain::ports::Ports> std::fmt::Debug for Tessera<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tessera")
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl Tessera {
    /// A builder with no store chosen yet: pick one with
    /// [`Builder::memory`], [`Builder::sqlite`], [`Builder::mysql`] or
    /// [`Builder::database`].
    #[must_use]
    pub fn builder() -> Builder<NoStore> {
        Builder::new()
    }
}

impl<P: tessera_domain::ports::Ports> Tessera<P>
where
    P::Outbox: Clone,
{
    /// The use cases.
    #[must_use]
    pub fn service(&self) -> &AuthService<P> {
        &self.service
    }

    /// The password hasher (its `in_flight`/`admitted` counters are worth a gauge).
    #[must_use]
    pub fn hasher(&self) -> &tessera_crypto::Argon2Hasher {
        &self.hasher
    }

    /// The database pool, for SQL stores (readiness checks, pool gauges).
    #[cfg(feature = "sqlite")]
    #[must_use]
    pub fn database(&self) -> Option<&tessera_sql::Database> {
        self.database.as_ref()
    }

    /// The Redis pool, when Redis holds sessions.
    #[cfg(feature = "redis")]
    #[must_use]
    pub fn redis(&self) -> Option<&tessera_redis::Redis> {
        self.redis.as_ref()
    }

    /// The workers, to inspect or run one step ([`Workers::deliver_mail_now`]).
    #[must_use]
    pub fn workers(&self) -> &Workers<P::Outbox> {
        &self.workers
    }

    /// The service and its workers apart, for a host that runs them itself
    /// (spawn [`Workers::spawn`] and [`housekeep`] over the service).
    #[must_use]
    pub fn into_parts(self) -> (AuthService<P>, Workers<P::Outbox>) {
        (self.service, self.workers)
    }

    /// Starts every background worker on the current Tokio runtime: mail
    /// delivery, housekeeping ([`housekeep`]) and, with a key folder, key
    /// reload. Stop them with [`Running::stop`].
    #[must_use]
    pub fn spawn_workers(self) -> Running<P> {
        Running::start(self.service, self.workers)
    }
}
