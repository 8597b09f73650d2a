//! The database: `DATABASE_URL` (or seed 001's `DB_*`), `DATABASE_TLS`,
//! `AUTO_MIGRATE`, `DATABASE_MAX_CONNECTIONS`, `DATABASE_TIMEOUT`.

use std::path::Path;
use std::time::Duration;

use tessera_sql::DbConfig;

use super::ConfigError;
use super::compat;
use super::source::Reader;

/// Which database and how to use it. `Debug` hides the URL's password.
#[derive(Clone)]
pub struct DatabaseSettings {
    /// `DATABASE_URL`, default `sqlite://<var>/tessera.db`; without it, seed 001's
    /// `DB_HOST`/`DB_PORT`/`DB_USER`/`DB_PASSWORD`/`DB_NAME` build a MySQL URL.
    /// `DATABASE_TLS` (`off`, `required`, `verify-ca`, `verify-identity`) adds
    /// the driver's TLS parameters.
    pub url: String,
    /// `AUTO_MIGRATE`, default true: `serve` applies pending migrations first.
    pub auto_migrate: bool,
    /// `DATABASE_MAX_CONNECTIONS`, default 8.
    pub max_connections: usize,
    /// `DATABASE_TIMEOUT` seconds, default 5: the wait for a pooled connection.
    pub timeout: Duration,
}

impl std::fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &tessera_domain::secret::redact_url(&self.url))
            .field("auto_migrate", &self.auto_migrate)
            .field("max_connections", &self.max_connections)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl DatabaseSettings {
    /// Reads and checks the section; `var_dir` holds the default SQLite file.
    pub(crate) fn read(r: &Reader<'_>, var_dir: &Path) -> Result<Self, ConfigError> {
        let url = match (r.string("DATABASE_URL"), r.string("DB_HOST")) {
            (Some(url), _) => url,
            (None, Some(host)) => compat::mysql_url_from_parts(r, &host)?,
            (None, None) => format!("sqlite://{}", var_dir.join("tessera.db").display()),
        };
        r.default_shown("DATABASE_URL", &url);
        Ok(Self {
            url: with_database_tls(url, r.string("DATABASE_TLS").as_deref())?,
            auto_migrate: r.bool("AUTO_MIGRATE", true)?,
            max_connections: r.parse(
                "DATABASE_MAX_CONNECTIONS",
                DbConfig::DEFAULT_MAX_CONNECTIONS,
            )?,
            timeout: r.seconds("DATABASE_TIMEOUT", DbConfig::DEFAULT_ACQUIRE_TIMEOUT_SECS)?,
        })
    }
}

/// Adds the MySQL driver's TLS parameters for `DATABASE_TLS`.
fn with_database_tls(url: String, tls: Option<&str>) -> Result<String, ConfigError> {
    let params = match tls.map(str::to_ascii_lowercase).as_deref() {
        None | Some("off" | "disabled" | "false") => return Ok(url),
        Some("required" | "require" | "on" | "true") => {
            "require_ssl=true&verify_ca=false&verify_identity=false"
        }
        Some("verify-ca" | "verify_ca") => "require_ssl=true&verify_ca=true&verify_identity=false",
        Some("verify-identity" | "verify_identity" | "verify-full") => {
            "require_ssl=true&verify_ca=true&verify_identity=true"
        }
        Some(other) => {
            return Err(ConfigError::Invalid {
                name: "DATABASE_TLS",
                reason: format!("{other:?}: expected off, required, verify-ca or verify-identity"),
            });
        }
    };
    if !(url.starts_with("mysql://") || url.starts_with("mariadb://")) {
        return Err(ConfigError::Invalid {
            name: "DATABASE_TLS",
            reason: "applies to MySQL/MariaDB URLs only".into(),
        });
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    Ok(format!("{url}{sep}{params}"))
}
