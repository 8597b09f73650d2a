//! Logging: readable in development, JSON in production; `RUST_LOG` filters.

use tracing_subscriber::EnvFilter;

use crate::config::Environment;

/// Installs the global subscriber once (later calls do nothing).
pub fn init(environment: Environment) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let _ = match environment {
        Environment::Production => builder.json().flatten_event(true).try_init(),
        Environment::Development => builder.try_init(),
    };
}
