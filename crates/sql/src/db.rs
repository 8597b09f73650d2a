use std::time::Duration;

use deadpool::managed::{Object, Pool};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection as _, ConnectionError};
#[cfg(feature = "mysql")]
use diesel_async::AsyncMysqlConnection;
use diesel_async::SimpleAsyncConnection as _;
#[cfg(feature = "mysql")]
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness as _, embed_migrations};
#[cfg(feature = "mysql")]
use mysql_async::prelude::Queryable as _;
use tessera_domain::error::StoreError;
use tessera_domain::secret::redact_url;
use tessera_domain::values::PhoneRegion;
use thiserror::Error;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
#[cfg(feature = "mysql")]
const MYSQL_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/mysql");

pub(crate) type SqliteConn = SyncConnectionWrapper<SqliteConnection>;
pub(crate) type SqlitePool = Pool<Connections<SqliteConn>>;
#[cfg(feature = "mysql")]
pub(crate) type MysqlPool = Pool<Connections<AsyncMysqlConnection>>;

/// How long after it was last taken from the pool a connection is tested
/// (`SELECT 1`) before it is handed out again. A connection in steady use is
/// never tested: after a failed body it is tested at once, and dropped when
/// the test fails too (see [`settle`]).
const VERIFY_AFTER_IDLE: Duration = Duration::from_secs(2);

/// The pools' connection manager: diesel-async's, which opens connections,
/// with another recycling rule. diesel-async's default sends a test query
/// before every use, which costs a round trip to MySQL (a thread hop for
/// SQLite) on every statement Tessera runs; here only a connection taken
/// [`VERIFY_AFTER_IDLE`] or longer ago is tested, and one whose body failed is
/// tested by [`settle`] and dropped if dead, so a restarted database costs
/// each pooled connection at most one failed statement.
pub struct Connections<C: diesel_async::pooled_connection::PoolableConnection + 'static> {
    opener: AsyncDieselConnectionManager<C>,
}

impl<C> deadpool::managed::Manager for Connections<C>
where
    C: diesel_async::pooled_connection::PoolableConnection + Send + 'static,
    AsyncDieselConnectionManager<C>:
        deadpool::managed::Manager<Type = C, Error = diesel_async::pooled_connection::PoolError>,
{
    type Type = C;
    type Error = diesel_async::pooled_connection::PoolError;

    async fn create(&self) -> Result<C, Self::Error> {
        self.opener.create().await
    }

    async fn recycle(
        &self,
        conn: &mut C,
        metrics: &deadpool::managed::Metrics,
    ) -> deadpool::managed::RecycleResult<Self::Error> {
        if metrics.last_used() < VERIFY_AFTER_IDLE {
            // The broken-transaction check alone (diesel-async's `Fast`).
            if conn.is_broken() {
                return Err(deadpool::managed::RecycleError::message(
                    "broken connection",
                ));
            }
            return Ok(());
        }
        self.opener.recycle(conn, metrics).await
    }
}

/// The SQLite pools: readers, and one writer. SQLite lets one connection
/// write at a time and makes the others wait in its busy handler, which
/// sleeps (1, 2, 5, 10 … ms); with every write on one connection, writers
/// queue in the pool instead (first come, first served) and readers, which
/// never wait for a writer under WAL, keep their own connections.
#[derive(Clone)]
pub struct SqlitePools {
    pub(crate) readers: SqlitePool,
    pub(crate) writer: SqlitePool,
    /// Rotations waiting for the writer, committed together
    /// ([`crate::group_commit`]).
    pub(crate) rotations: std::sync::Arc<crate::group_commit::RotationQueue>,
}

/// Returns a connection to its pool after a body ran on it. When the body
/// failed, the error alone cannot tell a refusal (a duplicate, a deadlock) from
/// a lost server (diesel-async reports both as `DatabaseError(Unknown, …)` on
/// MySQL), so the connection is tested (`SELECT 1`): one that fails the test
/// is dropped instead of pooled again. A success costs nothing.
pub(crate) async fn settle<C>(mut conn: Object<Connections<C>>, failed: bool)
where
    C: diesel_async::pooled_connection::PoolableConnection + Send + 'static,
    Connections<C>: deadpool::managed::Manager<Type = C>,
    for<'a> diesel::dsl::select<diesel::dsl::AsExprOf<i32, diesel::sql_types::Integer>>:
        diesel_async::methods::LoadQuery<'a, C, i32>,
    diesel::query_builder::SqlQuery: diesel_async::methods::ExecuteDsl<C>,
{
    if failed
        && conn
            .ping(&diesel_async::pooled_connection::RecyclingMethod::Verified)
            .await
            .is_err()
    {
        drop(Object::take(conn));
    }
}

/// A statement kept in the connection's prepared-statement cache although
/// diesel would prepare it anew on every run. Diesel never caches an `UPDATE`
/// (its changeset could change the SQL between runs), so SQLite parses and
/// plans it, and MySQL prepares and closes it, every time; wrapped, it is
/// cached by its SQL text (`HAS_STATIC_QUERY_ID` is false), so a different
/// text is a different entry and the cache stays correct.
///
/// Only for statements whose text takes a bounded number of forms: no
/// `eq_any` over a list whose length varies, which would add an entry per
/// length.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reused<Q>(pub(crate) Q);

impl<Q, DB> diesel::query_builder::QueryFragment<DB> for Reused<Q>
where
    Q: diesel::query_builder::QueryFragment<DB>,
    DB: diesel::backend::Backend,
{
    fn walk_ast<'b>(
        &'b self,
        pass: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> diesel::QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> diesel::QueryResult<bool> {
        Ok(true)
    }
}

// Runs on a blocking connection too (SQLite's batches, `crate::group_commit`).
impl<Q, Conn> diesel::RunQueryDsl<Conn> for Reused<Q> {}

impl<Q> diesel::query_builder::QueryId for Reused<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

/// Connection settings. `Debug` shows the URL without its credentials
/// ([`redact_url`]).
#[derive(Clone)]
pub struct DbConfig {
    /// `mysql://user:pass@host:port/db` (also `mariadb://`), `sqlite://path`,
    /// `sqlite:path` or a bare file path. MySQL TLS is set by the URL's
    /// `require_ssl=true` (plus `verify_ca`, `verify_identity`) parameters.
    pub url: String,
    /// Most pooled connections.
    pub max_connections: usize,
    /// How long to wait for a pooled connection before answering "unavailable".
    pub acquire_timeout: Duration,
}

impl std::fmt::Debug for DbConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbConfig")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .finish()
    }
}

impl DbConfig {
    /// The default of [`DbConfig::max_connections`] (the server's
    /// `DATABASE_MAX_CONNECTIONS` too).
    pub const DEFAULT_MAX_CONNECTIONS: usize = 8;
    /// The default of [`DbConfig::acquire_timeout`] in seconds (the server's
    /// `DATABASE_TIMEOUT` too).
    pub const DEFAULT_ACQUIRE_TIMEOUT_SECS: u64 = 5;

    /// Settings for `url` (see [`DbConfig::url`] for the forms) with
    /// [`Self::DEFAULT_MAX_CONNECTIONS`] pooled connections and
    /// [`Self::DEFAULT_ACQUIRE_TIMEOUT_SECS`] to get one.
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
            acquire_timeout: Duration::from_secs(Self::DEFAULT_ACQUIRE_TIMEOUT_SECS),
        }
    }

    /// Settings for the SQLite file at `path` (made, with its folder, when
    /// missing), with the defaults of [`Self::new`]. The path is taken as it
    /// is, never read as a URL.
    ///
    /// # Errors
    /// [`DbError::UnsupportedUrl`] when `path` is not UTF-8 (SQLite's driver
    /// opens files by UTF-8 name).
    pub fn sqlite(path: &std::path::Path) -> Result<Self, DbError> {
        let path = path
            .to_str()
            .ok_or_else(|| DbError::UnsupportedUrl(format!("{} (not UTF-8)", path.display())))?;
        Ok(Self::new(format!("sqlite://{path}")))
    }
}

/// What [`Database::migrate`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationReport {
    /// Schema migrations applied.
    pub applied: usize,
    /// What the identifier backfill did and left.
    pub identifiers: crate::identifiers::BackfillReport,
}

/// A database could not be opened or migrated.
#[derive(Debug, Error)]
pub enum DbError {
    /// The URL names no supported database.
    #[error("unsupported database URL (expected mysql://, mariadb:// or sqlite://): {0}")]
    UnsupportedUrl(String),
    /// Opening or migrating failed.
    #[error("database: {0}")]
    Open(String),
}

/// A pool of connections to one database (more backends may come: match
/// with a wildcard arm).
#[derive(Clone)]
#[non_exhaustive]
pub enum Database {
    /// SQLite file, the embedded default: readers and one writer.
    Sqlite(SqlitePools),
    /// MySQL or MariaDB, through the pure-Rust `mysql_async` driver (feature `mysql`).
    #[cfg(feature = "mysql")]
    Mysql(MysqlPool),
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(p) => f
                .debug_struct("Database::Sqlite")
                .field("readers", &p.readers.status())
                .field("writer", &p.writer.status())
                .finish(),
            #[cfg(feature = "mysql")]
            Self::Mysql(p) => f
                .debug_struct("Database::Mysql")
                .field("status", &p.status())
                .finish(),
        }
    }
}

/// Which database a URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Backend {
    Sqlite(String),
    Mysql(String),
}

fn backend(url: &str) -> Result<Backend, DbError> {
    let url = url.trim();
    if let Some(rest) = url.strip_prefix("mariadb://") {
        return Ok(Backend::Mysql(format!("mysql://{rest}")));
    }
    if url.starts_with("mysql://") {
        return Ok(Backend::Mysql(url.to_owned()));
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    if path.is_empty() || path.contains("://") {
        return Err(DbError::UnsupportedUrl(redact_url(url)));
    }
    Ok(Backend::Sqlite(path.to_owned()))
}

/// The refusal of a MySQL URL by a build without the `mysql` feature.
#[cfg(not(feature = "mysql"))]
fn mysql_not_compiled(url: &str) -> DbError {
    DbError::Open(format!(
        "{}: this build has no MySQL support (enable the `mysql` feature of tessera-sql)",
        redact_url(url)
    ))
}

fn open_error(e: impl std::fmt::Display) -> DbError {
    DbError::Open(e.to_string())
}

fn make_parent_dir(path: &str) -> Result<(), DbError> {
    match std::path::Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        Some(dir) => std::fs::create_dir_all(dir)
            .map_err(|e| DbError::Open(format!("{}: {e}", dir.display()))),
        None => Ok(()),
    }
}

#[cfg(feature = "mysql")]
/// Creates the database a MySQL URL names when it does not exist yet.
async fn ensure_mysql_database(url: &str) -> Result<(), DbError> {
    let opts = mysql_async::Opts::from_url(url).map_err(open_error)?;
    let Some(name) = opts.db_name().map(str::to_owned) else {
        return Err(DbError::Open(
            "the MySQL URL names no database (mysql://user@host/DATABASE)".into(),
        ));
    };
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
    {
        return Err(DbError::Open(format!("unsupported database name {name:?}")));
    }
    let server = mysql_async::OptsBuilder::from_opts(opts).db_name(None::<String>);
    let mut conn = mysql_async::Conn::new(server).await.map_err(open_error)?;
    conn.query_drop(format!(
        "CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    ))
    .await
    .map_err(open_error)?;
    conn.disconnect().await.map_err(open_error)
}

// busy_timeout first: switching to WAL needs a lock that another process (a
// CLI command, or an instance closing its last connection and checkpointing)
// may hold for a moment, and without a busy handler that fails at once.
const SQLITE_SETUP: &str = "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;";

/// How long SQLite's busy handler waits for a lock another connection holds
/// (`PRAGMA busy_timeout` in [`SQLITE_SETUP`]).
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// What a SQLite pool's connections may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    Write,
}

impl Database {
    /// Opens a pool. Creates the SQLite file and its folder when missing.
    ///
    /// # Errors
    /// [`DbError`] when the URL is not supported or the pool cannot be built.
    pub fn connect(config: &DbConfig) -> Result<Self, DbError> {
        match backend(&config.url)? {
            Backend::Sqlite(path) => Self::connect_sqlite(config, &path),
            #[cfg(not(feature = "mysql"))]
            Backend::Mysql(url) => Err(mysql_not_compiled(&url)),
            #[cfg(feature = "mysql")]
            Backend::Mysql(url) => {
                let opener = AsyncDieselConnectionManager::<AsyncMysqlConnection>::new(url);
                let pool = Pool::builder(Connections { opener })
                    .max_size(config.max_connections.max(1))
                    .wait_timeout(Some(config.acquire_timeout))
                    .create_timeout(Some(config.acquire_timeout))
                    .recycle_timeout(Some(config.acquire_timeout))
                    .runtime(deadpool::Runtime::Tokio1)
                    .build()
                    .map_err(open_error)?;
                Ok(Self::Mysql(pool))
            }
        }
    }

    fn connect_sqlite(config: &DbConfig, path: &str) -> Result<Self, DbError> {
        make_parent_dir(path)?;
        let readers = Self::sqlite_pool(
            Self::sqlite_opener(path, Access::Read),
            config.max_connections.max(1),
            config.acquire_timeout,
        )?;
        // The writer's queue waits as long as SQLite's busy handler would
        // (another process, a `tessera` command, may hold the lock that long).
        let writer = Self::sqlite_pool(
            Self::sqlite_opener(path, Access::Write),
            1,
            config.acquire_timeout.max(SQLITE_BUSY_TIMEOUT),
        )?;
        Ok(Self::Sqlite(SqlitePools {
            readers,
            writer,
            rotations: std::sync::Arc::default(),
        }))
    }

    /// Opens SQLite connections set up with [`SQLITE_SETUP`]; readers are
    /// also `query_only`, so a write missing its `write` mark fails loudly
    /// instead of taking the lock outside the writer's queue.
    fn sqlite_opener(path: &str, access: Access) -> AsyncDieselConnectionManager<SqliteConn> {
        let mut manager_config = ManagerConfig::<SqliteConn>::default();
        manager_config.custom_setup = Box::new(move |url| {
            let url = url.to_owned();
            Box::pin(async move {
                let conn = tokio::task::spawn_blocking(move || SqliteConnection::establish(&url))
                    .await
                    .map_err(|e| ConnectionError::BadConnection(e.to_string()))??;
                let mut conn = SyncConnectionWrapper::new(conn);
                conn.batch_execute(SQLITE_SETUP)
                    .await
                    .map_err(ConnectionError::CouldntSetupConfiguration)?;
                if access == Access::Read {
                    conn.batch_execute("PRAGMA query_only = ON")
                        .await
                        .map_err(ConnectionError::CouldntSetupConfiguration)?;
                }
                Ok(conn)
            })
        });
        AsyncDieselConnectionManager::<SqliteConn>::new_with_config(path, manager_config)
    }

    fn sqlite_pool(
        opener: AsyncDieselConnectionManager<SqliteConn>,
        size: usize,
        wait: Duration,
    ) -> Result<SqlitePool, DbError> {
        Pool::builder(Connections { opener })
            .max_size(size)
            .wait_timeout(Some(wait))
            .create_timeout(Some(wait))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map_err(open_error)
    }

    /// True for MySQL/MariaDB (shared by several instances), false for SQLite.
    #[must_use]
    pub fn is_shared(&self) -> bool {
        #[cfg(feature = "mysql")]
        return matches!(self, Self::Mysql(_));
        #[cfg(not(feature = "mysql"))]
        false
    }

    /// Applies pending migrations, then canonicalises the identifiers of rows
    /// that predate migration `2026-11-29-000007_identifiers`
    /// ([`crate::backfill_identifiers`], phones read in `region`). Each row
    /// left as it was is in the report and logged (warning).
    ///
    /// # Errors
    /// [`DbError::Open`] when the database cannot be opened, a migration fails
    /// or the backfill cannot reach the database.
    pub async fn migrate(
        config: &DbConfig,
        region: PhoneRegion,
    ) -> Result<MigrationReport, DbError> {
        let applied = Self::migrate_schema(config).await?;
        let db = Self::connect(config)?;
        let identifiers = crate::identifiers::backfill_identifiers(&db, region)
            .await
            .map_err(open_error)?;
        for issue in &identifiers.issues {
            tracing::warn!(%issue, "identifier not canonicalised");
        }
        if identifiers.rows > 0 {
            tracing::info!(
                rows = identifiers.rows,
                changed = identifiers.changed,
                left = identifiers.issues.len(),
                "canonicalised stored identifiers"
            );
        }
        Ok(MigrationReport {
            applied,
            identifiers,
        })
    }

    /// Applies pending schema migrations; returns how many ran.
    async fn migrate_schema(config: &DbConfig) -> Result<usize, DbError> {
        match backend(&config.url)? {
            Backend::Sqlite(path) => {
                make_parent_dir(&path)?;
                tokio::task::spawn_blocking(move || {
                    let mut conn = SqliteConnection::establish(&path).map_err(open_error)?;
                    diesel::connection::SimpleConnection::batch_execute(&mut conn, SQLITE_SETUP)
                        .map_err(open_error)?;
                    let ran = conn
                        .run_pending_migrations(SQLITE_MIGRATIONS)
                        .map_err(open_error)?;
                    Ok(ran.len())
                })
                .await
                .map_err(open_error)?
            }
            #[cfg(not(feature = "mysql"))]
            Backend::Mysql(url) => Err(mysql_not_compiled(&url)),
            #[cfg(feature = "mysql")]
            Backend::Mysql(url) => {
                ensure_mysql_database(&url).await?;
                tokio::task::spawn_blocking(move || {
                    let mut conn = AsyncConnectionWrapper::<AsyncMysqlConnection>::establish(&url)
                        .map_err(open_error)?;
                    // Instances starting together take turns; the lock ends with the connection.
                    diesel::connection::SimpleConnection::batch_execute(
                        &mut conn,
                        "DO GET_LOCK('tessera_migrations', 120)",
                    )
                    .map_err(open_error)?;
                    let ran = conn
                        .run_pending_migrations(MYSQL_MIGRATIONS)
                        .map_err(open_error)?
                        .len();
                    diesel::connection::SimpleConnection::batch_execute(
                        &mut conn,
                        "DO RELEASE_LOCK('tessera_migrations')",
                    )
                    .map_err(open_error)?;
                    Ok(ran)
                })
                .await
                .map_err(open_error)?
            }
        }
    }

    /// Drops the MySQL database a URL names (test and tooling helper; SQLite: no-op).
    ///
    /// # Errors
    /// [`DbError::Open`] when the server refuses.
    pub async fn drop_database(url: &str) -> Result<(), DbError> {
        let Backend::Mysql(url) = backend(url)? else {
            return Ok(());
        };
        #[cfg(not(feature = "mysql"))]
        return Err(mysql_not_compiled(&url));
        #[cfg(feature = "mysql")]
        {
            let opts = mysql_async::Opts::from_url(&url).map_err(open_error)?;
            let Some(name) = opts.db_name().map(str::to_owned) else {
                return Ok(());
            };
            if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(DbError::Open(format!("unsupported database name {name:?}")));
            }
            let server = mysql_async::OptsBuilder::from_opts(opts).db_name(None::<String>);
            let mut conn = mysql_async::Conn::new(server).await.map_err(open_error)?;
            conn.query_drop(format!("DROP DATABASE IF EXISTS `{name}`"))
                .await
                .map_err(open_error)?;
            conn.disconnect().await.map_err(open_error)
        }
    }

    /// The pool's connections: (open, idle, max, waiting for one).
    #[must_use]
    pub fn pool_status(&self) -> (usize, usize, usize, usize) {
        let counts = |s: deadpool::managed::Status| (s.size, s.available, s.max_size, s.waiting);
        match self {
            Self::Sqlite(p) => {
                let (r, w) = (counts(p.readers.status()), counts(p.writer.status()));
                (r.0 + w.0, r.1 + w.1, r.2 + w.2, r.3 + w.3)
            }
            #[cfg(feature = "mysql")]
            Self::Mysql(p) => counts(p.status()),
        }
    }

    /// Checks that a connection can be had and answers a query.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] otherwise.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(pools) => {
                let mut conn = sqlite_conn(&pools.readers).await?;
                let answered = conn.batch_execute("SELECT 1").await.map_err(unavailable);
                settle(conn, answered.is_err()).await;
                answered
            }
            #[cfg(feature = "mysql")]
            Self::Mysql(pool) => {
                let mut conn = mysql_conn(pool).await?;
                let answered = conn.batch_execute("DO 1").await.map_err(unavailable);
                settle(conn, answered.is_err()).await;
                answered
            }
        }
    }
}

pub(crate) async fn sqlite_conn(
    pool: &SqlitePool,
) -> Result<Object<Connections<SqliteConn>>, StoreError> {
    pool.get()
        .await
        .map_err(|e| StoreError::Unavailable(format!("database pool: {e}")))
}

#[cfg(feature = "mysql")]
pub(crate) async fn mysql_conn(
    pool: &MysqlPool,
) -> Result<Object<Connections<AsyncMysqlConnection>>, StoreError> {
    pool.get()
        .await
        .map_err(|e| StoreError::Unavailable(format!("database pool: {e}")))
}

pub(crate) fn unavailable(e: diesel::result::Error) -> StoreError {
    StoreError::Unavailable(format!("database: {e}"))
}

/// Runs `$body` with `$conn` bound to a pooled connection of whichever backend
/// `$db` is; `with_conn!(write db, conn => …)` for a body that writes (on
/// SQLite it runs on the one writer connection, see [`SqlitePools`]). The
/// body is written once and compiled for each backend, and is an async block:
/// `?` and `return` leave the body, whose value (a `Result`) is the macro's.
/// A connection whose body failed and that then fails a test query is dropped
/// ([`settle`]).
macro_rules! with_conn {
    (write $db:expr, $conn:ident => $body:expr) => {
        $crate::db::with_conn!(@on $db, writer, $conn => $body)
    };
    ($db:expr, $conn:ident => $body:expr) => {
        $crate::db::with_conn!(@on $db, readers, $conn => $body)
    };
    (@on $db:expr, $sqlite:ident, $conn:ident => $body:expr) => {
        match $db {
            $crate::db::Database::Sqlite(pools) => {
                $crate::db::with_conn!(@run $crate::db::sqlite_conn(&pools.$sqlite), $conn => $body)
            }
            #[cfg(feature = "mysql")]
            $crate::db::Database::Mysql(pool) => {
                $crate::db::with_conn!(@run $crate::db::mysql_conn(pool), $conn => $body)
            }
        }
    };
    (@run $checkout:expr, $conn:ident => $body:expr) => {{
        let mut pooled = $checkout.await?;
        let outcome = {
            #[allow(unused_mut)]
            let mut $conn = &mut *pooled;
            async { $body }.await
        };
        $crate::db::settle(pooled, ::std::result::Result::is_err(&outcome)).await;
        outcome
    }};
}
pub(crate) use with_conn;

#[cfg(test)]
mod tests {
    #[test]
    fn debug_hides_the_password() {
        let shown = format!("{:?}", super::DbConfig::new("mysql://u:s3cret@h/db"));
        assert!(
            shown.contains("mysql://u:***@h/db") && !shown.contains("s3cret"),
            "{shown}"
        );
    }

    use super::{Backend, DbConfig, backend};

    /// Diesel prepares every UPDATE anew (it is never "safe to cache");
    /// `Reused` makes one cacheable by its SQL text. If diesel ever caches
    /// updates itself, the first assertion fails and `Reused` can go.
    #[test]
    fn an_update_is_cached_only_when_reused() {
        use diesel::prelude::*;
        use diesel::query_builder::QueryFragment;
        use diesel::sqlite::Sqlite;
        let update = || {
            diesel::update(
                crate::schema::sessions::table.filter(crate::schema::sessions::id.eq("k")),
            )
            .set(crate::schema::sessions::generation.eq(2))
        };
        assert!(!update().is_safe_to_cache_prepared(&Sqlite).unwrap());
        let reused = super::Reused(update());
        assert!(reused.is_safe_to_cache_prepared(&Sqlite).unwrap());
        assert_eq!(
            diesel::debug_query::<Sqlite, _>(&reused).to_string(),
            diesel::debug_query::<Sqlite, _>(&update()).to_string()
        );
    }

    #[test]
    fn a_sqlite_path_is_taken_as_a_path() {
        let config = DbConfig::sqlite(std::path::Path::new("var/sqlite:odd.db")).unwrap();
        assert_eq!(
            backend(&config.url).unwrap(),
            Backend::Sqlite("var/sqlite:odd.db".into())
        );
        assert_eq!(config.max_connections, DbConfig::DEFAULT_MAX_CONNECTIONS);
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            let not_utf8 = std::ffi::OsStr::from_bytes(b"var/\xff.db");
            assert!(DbConfig::sqlite(std::path::Path::new(not_utf8)).is_err());
        }
    }

    #[test]
    fn reads_database_urls() {
        assert_eq!(
            backend("sqlite://./var/t.db").unwrap(),
            Backend::Sqlite("./var/t.db".into())
        );
        assert_eq!(
            backend("sqlite:t.db").unwrap(),
            Backend::Sqlite("t.db".into())
        );
        assert_eq!(
            backend("/tmp/t.db").unwrap(),
            Backend::Sqlite("/tmp/t.db".into())
        );
        assert_eq!(
            backend("mysql://root@localhost/t").unwrap(),
            Backend::Mysql("mysql://root@localhost/t".into())
        );
        assert_eq!(
            backend("mariadb://u:p@h:3306/t").unwrap(),
            Backend::Mysql("mysql://u:p@h:3306/t".into())
        );
        assert!(backend("postgres://h/db").is_err());
    }
}
