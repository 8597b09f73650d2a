//! Listening and serving: `TESSERA_ENV`, `HOST`, `PORT`, `WORKERS`,
//! `TESSERA_VAR_DIR`, `MAX_BODY_BYTES`, `REQUEST_BODY_TIMEOUT`, `TRUSTED_PROXIES`.

use std::path::PathBuf;
use std::time::Duration;

use super::ConfigError;
use super::source::Reader;

/// Development (the default) or production.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// Readable logs; a JWT key is generated under the var folder when missing.
    Development,
    /// JSON logs; refuses to start without a JWT key of at least 32 bytes.
    Production,
}

impl Environment {
    /// `TESSERA_ENV`: `development`/`dev` (default) or `production`/`prod`, any case.
    pub(crate) fn read(r: &Reader<'_>) -> Result<Self, ConfigError> {
        let environment = r.string("TESSERA_ENV").map(|v| v.to_ascii_lowercase());
        r.default_shown("TESSERA_ENV", "development");
        match environment.as_deref() {
            None | Some("development" | "dev") => Ok(Self::Development),
            Some("production" | "prod") => Ok(Self::Production),
            Some(other) => Err(ConfigError::Invalid {
                name: "TESSERA_ENV",
                reason: format!("{other:?}: expected development or production"),
            }),
        }
    }
}

/// Where and how the HTTP server listens.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// `HOST`, default `127.0.0.1`.
    pub host: String,
    /// `PORT`, default 8080 (0 picks a free port).
    pub port: u16,
    /// `WORKERS`, default: the number of CPUs (at least 1).
    pub workers: usize,
    /// `TESSERA_VAR_DIR`, default `./var`: the SQLite file, the development
    /// key, the `.eml` and `sms.log` fallbacks.
    pub var_dir: PathBuf,
    /// `MAX_BODY_BYTES`, default 65536: a larger body is refused (413); a
    /// larger declared `Content-Length` is refused before any byte is read.
    pub max_body_bytes: usize,
    /// `REQUEST_BODY_TIMEOUT` seconds, default 10 (at least 1): a request body
    /// that has not fully arrived this long after the request head is
    /// answered 408 and the connection closed (slow-body attacks).
    pub request_body_timeout: Duration,
    /// `TRUSTED_PROXIES`: addresses or CIDR ranges of the reverse proxies whose
    /// `X-Forwarded-For` is believed. Empty (default): the peer address is the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl ServerSettings {
    /// Reads and checks the section.
    pub(crate) fn read(r: &Reader<'_>) -> Result<Self, ConfigError> {
        let cpus = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let settings = Self {
            host: r.string_or("HOST", "127.0.0.1"),
            port: r.parse("PORT", 8080)?,
            workers: r.parse("WORKERS", cpus)?.max(1),
            var_dir: PathBuf::from(r.string_or("TESSERA_VAR_DIR", "./var")),
            max_body_bytes: r.parse("MAX_BODY_BYTES", 64 * 1024)?,
            request_body_timeout: r.seconds("REQUEST_BODY_TIMEOUT", 10)?,
            trusted_proxies: networks(r, "TRUSTED_PROXIES")?,
        };
        if settings.request_body_timeout.is_zero() {
            return Err(ConfigError::Invalid {
                name: "REQUEST_BODY_TIMEOUT",
                reason: "must be at least 1 second".into(),
            });
        }
        Ok(settings)
    }
}

/// A comma-separated list of addresses or CIDR ranges (an address is its /32 or /128).
fn networks(r: &Reader<'_>, name: &'static str) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    r.list(name)
        .unwrap_or_default()
        .iter()
        .map(|s| {
            s.parse::<ipnet::IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|e| ConfigError::Invalid {
                    name,
                    reason: format!("{s:?}: {e}"),
                })
        })
        .collect()
}
