//! Metrics and traces: `METRICS_BEARER_TOKEN`, `METRICS_LISTEN`,
//! `OTEL_EXPORTER_OTLP_ENDPOINT`.

use tessera_domain::secret::Secret;

use super::ConfigError;
use super::source::Reader;

/// Who may read `/metrics` and where; where traces go.
#[derive(Debug, Clone)]
pub struct ObservabilitySettings {
    /// `METRICS_BEARER_TOKEN` (16 characters or more): when set, `GET
    /// /metrics` asks for `Authorization: Bearer <token>` (compared in
    /// constant time) and answers 401 without it. Redacted in `Debug`.
    pub metrics_bearer_token: Option<Secret>,
    /// `METRICS_LISTEN` (`host:port`, e.g. `127.0.0.1:9100`): `/metrics` is
    /// served only on this address, and the main port answers 404 for it.
    pub metrics_listen: Option<String>,
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` (e.g. `http://collector:4318`): spans are
    /// exported there over OTLP/HTTP (protobuf) to `<endpoint>/v1/traces`.
    /// Unset (default): no trace export at all.
    pub otlp_endpoint: Option<String>,
}

impl ObservabilitySettings {
    /// Reads and checks the section.
    pub(crate) fn read(r: &Reader<'_>) -> Result<Self, ConfigError> {
        let settings = Self {
            metrics_bearer_token: r.string("METRICS_BEARER_TOKEN").map(Secret::new),
            metrics_listen: r.string("METRICS_LISTEN"),
            otlp_endpoint: r.string("OTEL_EXPORTER_OTLP_ENDPOINT"),
        };
        Ok(settings)
    }

    /// The checks run once everything is read.
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        if self
            .metrics_bearer_token
            .as_ref()
            .is_some_and(|t| t.expose().len() < 16)
        {
            return Err(ConfigError::Invalid {
                name: "METRICS_BEARER_TOKEN",
                reason: "must be at least 16 characters".into(),
            });
        }
        if let Some(addr) = &self.metrics_listen
            && addr.parse::<std::net::SocketAddr>().is_err()
        {
            return Err(ConfigError::Invalid {
                name: "METRICS_LISTEN",
                reason: format!("{addr:?}: expected host:port, for example 127.0.0.1:9100"),
            });
        }
        if let Some(endpoint) = &self.otlp_endpoint
            && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
        {
            return Err(ConfigError::Invalid {
                name: "OTEL_EXPORTER_OTLP_ENDPOINT",
                reason: format!("{endpoint:?}: expected an http:// or https:// URL"),
            });
        }
        Ok(())
    }
}
