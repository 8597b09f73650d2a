//! Logging and traces. Logs (standard output): readable in development,
//! JSON in production; `RUST_LOG` filters; ANSI colours only when standard
//! output is a terminal (a log file or a pipe gets plain text). Traces: when `OTEL_EXPORTER_OTLP_ENDPOINT` is set,
//! every span (one per request, see `http::around_request`) is also exported
//! over OTLP/HTTP with protobuf bodies (`POST <endpoint>/v1/traces`, or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as written), in batches from a
//! background thread; unset, no exporter is built and nothing is sent.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig as _};
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

use crate::config::{Config, Environment};

/// The installed trace pipeline, if any: [`Telemetry::shutdown`] sends the
/// spans still buffered.
#[derive(Debug, Default)]
#[must_use = "call shutdown() before exiting, or buffered spans are lost"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Whether spans are exported.
    #[must_use]
    pub fn exports_traces(&self) -> bool {
        self.provider.is_some()
    }

    /// Exports the buffered spans and stops the exporter (waits for the
    /// collector up to the exporter's timeout, 10 s by default).
    pub fn shutdown(self) {
        if let Some(provider) = self.provider
            && let Err(e) = provider.shutdown()
        {
            tracing::warn!(error = %e, "trace export did not shut down cleanly");
        }
    }
}

/// The OTLP/HTTP traces URL for a base endpoint: `<endpoint>/v1/traces`
/// (OpenTelemetry's "Endpoint URLs for OTLP/HTTP").
#[must_use]
pub fn traces_url(endpoint: &str) -> String {
    format!("{}/v1/traces", endpoint.trim_end_matches('/'))
}

/// Installs the global subscriber once (later calls do nothing and export
/// nothing) and, with `OTEL_EXPORTER_OTLP_ENDPOINT`, the trace exporter.
pub fn init(config: &Config) -> Telemetry {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn"));
    let logs = match config.environment {
        Environment::Production => tracing_subscriber::fmt::layer()
            .with_target(false)
            .json()
            .flatten_event(true)
            .boxed(),
        Environment::Development => tracing_subscriber::fmt::layer()
            .with_target(false)
            .with_ansi(colours(
                std::io::IsTerminal::is_terminal(&std::io::stdout()),
                std::env::var_os("NO_COLOR").as_deref(),
            ))
            .boxed(),
    };
    let (provider, error) = match config.observability.otlp_endpoint.as_deref() {
        None => (None, None),
        Some(endpoint) => match tracer_provider(endpoint) {
            Ok(provider) => (Some(provider), None),
            Err(e) => (None, Some(e)),
        },
    };
    let traces = provider.as_ref().map(|p| {
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer("tessera"))
            .boxed()
    });
    let installed = tracing_subscriber::registry()
        .with(filter)
        .with(logs)
        .with(traces)
        .try_init()
        .is_ok();
    if let Some(e) = error {
        tracing::error!(error = %e, "trace export is off: the OTLP exporter could not be built");
    }
    let provider = provider.filter(|_| installed);
    if let (Some(_), Some(endpoint)) = (&provider, &config.observability.otlp_endpoint) {
        let endpoint = tessera_domain::secret::redact_url(endpoint);
        tracing::info!(%endpoint, "exporting traces over OTLP/HTTP");
    }
    Telemetry { provider }
}

/// Whether log lines get ANSI colours: only on a terminal, and not when
/// `NO_COLOR` is set to a non-empty value (<https://no-color.org>).
fn colours(stdout_is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    stdout_is_terminal && no_color.is_none_or(std::ffi::OsStr::is_empty)
}

/// A batch exporter to `endpoint` (the signal-specific variable, when set, wins).
fn tracer_provider(endpoint: &str) -> Result<SdkTracerProvider, String> {
    // The exporter's reqwest client uses rustls, which needs a crypto provider.
    tessera_smtp::use_aws_lc_for_rustls();
    let builder = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary);
    let builder = if std::env::var_os("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some() {
        builder
    } else {
        builder.with_endpoint(traces_url(endpoint))
    };
    let exporter = builder.build().map_err(|e| e.to_string())?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name("tessera")
                .build(),
        )
        .build())
}

#[cfg(test)]
mod tests {
    use super::{colours, traces_url};

    #[test]
    fn colours_only_on_a_terminal_without_no_color() {
        assert!(colours(true, None));
        assert!(colours(true, Some("".as_ref())));
        assert!(!colours(true, Some("1".as_ref())));
        assert!(!colours(false, None));
    }

    #[test]
    fn the_traces_url_appends_the_signal_path_once() {
        assert_eq!(
            traces_url("http://collector:4318"),
            "http://collector:4318/v1/traces"
        );
        assert_eq!(
            traces_url("http://collector:4318/"),
            "http://collector:4318/v1/traces"
        );
    }
}
