//! The seeds' own setting names, read when Tessera's are unset: seed 001's
//! `DB_*` and `EMAIL_*`, seed 002's Flask-Mail `MAIL_*`.

use std::time::Duration;

use tessera_smtp::{Security, SmtpConfig};

use super::ConfigError;
use super::source::Reader;

/// Seed 001's `DB_HOST`, `DB_PORT` (3306), `DB_USER` (`root`),
/// `DB_PASSWORD`, `DB_NAME` (required) as a MySQL URL, user-info percent-encoded.
pub(crate) fn mysql_url_from_parts(r: &Reader<'_>, host: &str) -> Result<String, ConfigError> {
    let port: u16 = r.parse("DB_PORT", 3306)?;
    let user = r.string_or("DB_USER", "root");
    let name = r.string("DB_NAME").ok_or(ConfigError::Invalid {
        name: "DB_NAME",
        reason: "required with DB_HOST".into(),
    })?;
    let auth = match r.raw("DB_PASSWORD").filter(|p| !p.is_empty()) {
        Some(p) => format!("{}:{}", url_encode(&user), url_encode(&p)),
        None => url_encode(&user),
    };
    Ok(format!(
        "mysql://{auth}@{host}:{port}/{}",
        url_encode(&name)
    ))
}

/// Percent-encodes a URL user-info part (RFC 3986 unreserved characters kept).
fn url_encode(s: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The SMTP server of seed 002's `MAIL_SERVER`, `MAIL_PORT`, `MAIL_USE_TLS`,
/// `MAIL_USE_SSL`, `MAIL_USERNAME`, `MAIL_PASSWORD`; else of seed 001's
/// `EMAIL_SMTP_SERVER`, `EMAIL_SMTP_PORT` (465), `EMAIL_SENDER`,
/// `EMAIL_PASSWORD`; else none.
pub(crate) fn seed_smtp(
    r: &Reader<'_>,
    timeout: Duration,
) -> Result<Option<SmtpConfig>, ConfigError> {
    if let Some(host) = r.string("MAIL_SERVER") {
        let ssl = r.bool("MAIL_USE_SSL", false)?;
        let tls = r.bool("MAIL_USE_TLS", false)?;
        let (security, default_port) = match (ssl, tls) {
            (true, _) => (Security::ImplicitTls, 465),
            (false, true) => (Security::StartTls, 587),
            (false, false) => (Security::Opportunistic, 25),
        };
        let credentials = r
            .string("MAIL_USERNAME")
            .map(|u| (u, r.raw("MAIL_PASSWORD").unwrap_or_default()));
        return Ok(Some(SmtpConfig {
            host,
            port: r.parse("MAIL_PORT", default_port)?,
            security,
            credentials,
            timeout,
        }));
    }
    if let Some(host) = r.string("EMAIL_SMTP_SERVER") {
        let port: u16 = r.parse("EMAIL_SMTP_PORT", 465)?;
        let security = if port == 465 {
            Security::ImplicitTls
        } else {
            Security::Opportunistic
        };
        let credentials = r
            .string("EMAIL_SENDER")
            .map(|u| (u, r.raw("EMAIL_PASSWORD").unwrap_or_default()));
        return Ok(Some(SmtpConfig {
            host,
            port,
            security,
            credentials,
            timeout,
        }));
    }
    Ok(None)
}
