//! Mail and text messages: `SMTP_URL` (or the seeds' names, see
//! [`super::compat`]), `SMTP_TIMEOUT`, `MAIL_SENDER_*`, `MAIL_PRODUCT_NAME`,
//! `PUBLIC_BASE_URL`, `DEFAULT_LOCALE`, `OUTBOX_*`, `SMS_WEBHOOK_URL`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tessera_domain::mail::{DeliveryPolicy, Locale, MailSettings};

use super::source::Reader;
use super::{ConfigError, ServerSettings, compat};

/// Where mail goes.
#[derive(Debug, Clone)]
pub enum MailTransport {
    /// An SMTP server.
    Smtp(tessera_smtp::SmtpConfig),
    /// `.eml` files in a folder (the embedded default).
    Files(PathBuf),
}

/// What mail and text messages say, who sends them and how.
#[derive(Debug, Clone)]
pub struct MessagingSettings {
    /// `MAIL_PRODUCT_NAME` (default `Tessera`), `PUBLIC_BASE_URL` (default
    /// `http://HOST:PORT`, no trailing `/`), `DEFAULT_LOCALE` (`zh-CN` or `en`,
    /// default `zh-CN`).
    pub mail: MailSettings,
    /// Where mail goes: `SMTP_URL`; or seed 002's `MAIL_SERVER`, `MAIL_PORT`,
    /// `MAIL_USE_TLS`, `MAIL_USE_SSL`, `MAIL_USERNAME`, `MAIL_PASSWORD`; or seed
    /// 001's `EMAIL_SMTP_SERVER`, `EMAIL_SMTP_PORT`, `EMAIL_SENDER`,
    /// `EMAIL_PASSWORD`; without any, `.eml` files under `<var>/mail/`.
    /// (`Debug` shows the SMTP user, never the password.)
    pub transport: MailTransport,
    /// (name, address) of `From:`: `MAIL_SENDER_NAME` (default: the product
    /// name) and `MAIL_SENDER_EMAIL` (default: `EMAIL_SENDER`, `MAIL_USERNAME`
    /// if an address, else `no-reply@localhost`).
    pub sender: (String, String),
    /// `OUTBOX_RETRY_BASE_MS` (5000), `OUTBOX_RETRY_MAX_SECS` (3600).
    pub delivery: DeliveryPolicy,
    /// `OUTBOX_POLL_MS` (default 1000): how often the outbox worker looks for due mail.
    pub outbox_poll: Duration,
    /// `SMS_WEBHOOK_URL`: text messages are POSTed there as `{to, text}`; without
    /// it they are appended to `<var>/sms.log`. A secret (such URLs often
    /// carry a token in the path): `Debug` and `config check` hide it.
    pub sms_webhook_url: Option<tessera_domain::secret::Secret>,
}

impl MessagingSettings {
    /// Reads the section; links default to the server's own address.
    pub(crate) fn read(r: &Reader<'_>, server: &ServerSettings) -> Result<Self, ConfigError> {
        let transport = transport(r, &server.var_dir)?;
        let outbox_poll = r.millis("OUTBOX_POLL_MS", tessera_embed::DEFAULT_MAIL_POLL_MS)?;
        let delivery = DeliveryPolicy {
            retry_base: chrono::Duration::milliseconds(r.parse("OUTBOX_RETRY_BASE_MS", 5000)?),
            retry_max: chrono::Duration::seconds(r.parse("OUTBOX_RETRY_MAX_SECS", 3600)?),
            ..DeliveryPolicy::default()
        };
        let mail = MailSettings {
            product_name: r.string_or("MAIL_PRODUCT_NAME", "Tessera"),
            public_base_url: r
                .string_or(
                    "PUBLIC_BASE_URL",
                    &format!("http://{}:{}", server.host, server.port),
                )
                .trim_end_matches('/')
                .to_owned(),
            default_locale: match r.string("DEFAULT_LOCALE") {
                None => {
                    r.default_shown("DEFAULT_LOCALE", "zh-CN");
                    Locale::ZhCn
                }
                Some(tag) => Locale::from_tag(&tag).ok_or(ConfigError::Invalid {
                    name: "DEFAULT_LOCALE",
                    reason: format!("{tag:?}: expected zh-CN or en"),
                })?,
            },
        };
        let sender_email = r
            .string("MAIL_SENDER_EMAIL")
            .or_else(|| r.string("EMAIL_SENDER"))
            .or_else(|| r.string("MAIL_USERNAME").filter(|u| u.contains('@')))
            .unwrap_or_else(|| "no-reply@localhost".into());
        let sender_name = r.string_or("MAIL_SENDER_NAME", &mail.product_name);
        Ok(Self {
            mail,
            transport,
            sender: (sender_name, sender_email),
            delivery,
            outbox_poll,
            sms_webhook_url: r
                .string("SMS_WEBHOOK_URL")
                .map(tessera_domain::secret::Secret::new),
        })
    }
}

/// The mail transport the settings name (see [`MessagingSettings::transport`]).
fn transport(r: &Reader<'_>, var_dir: &Path) -> Result<MailTransport, ConfigError> {
    let timeout = r.seconds("SMTP_TIMEOUT", 10)?;
    if let Some(url) = r.string("SMTP_URL") {
        return tessera_smtp::SmtpConfig::from_url(&url, timeout)
            .map(MailTransport::Smtp)
            .map_err(|e| ConfigError::Invalid {
                name: "SMTP_URL",
                reason: e.to_string(),
            });
    }
    if let Some(smtp) = compat::seed_smtp(r, timeout)? {
        return Ok(MailTransport::Smtp(smtp));
    }
    Ok(MailTransport::Files(var_dir.join("mail")))
}
