//! # tessera-smtp
//!
//! [`LettreMailer`] implements Tessera's `Mailer` port with lettre: SMTP
//! (implicit TLS, STARTTLS or plain, with optional authentication, pooled
//! connections, rustls) or, for the embedded default, `.eml` files in a folder.

mod sms;

pub use sms::{FileSms, WebhookSms};

use std::path::{Path, PathBuf};

/// Makes aws-lc-rs the process-wide rustls provider (idempotent). The HTTP
/// client needs one installed; aws-lc-rs is the only one this workspace
/// compiles (a second one would make rustls refuse to choose).
pub fn use_aws_lc_for_rustls() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tessera_domain::error::StoreError;
use tessera_domain::ports::{Mailer, OutgoingMail};
use thiserror::Error;

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte (`smtps://`, usually port 465).
    ImplicitTls,
    /// STARTTLS, required (usually port 587).
    StartTls,
    /// STARTTLS when the server offers it, plain otherwise (local relays and mail catchers).
    Opportunistic,
    /// Never TLS.
    Plain,
}

/// An SMTP server to deliver through.
#[derive(Clone)]
pub struct SmtpConfig {
    /// Host name (also the TLS server name).
    pub host: String,
    /// Port.
    pub port: u16,
    /// Connection protection.
    pub security: Security,
    /// User name and password, when the server wants them.
    pub credentials: Option<(String, String)>,
    /// Connect and command timeout.
    pub timeout: Duration,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.credentials.as_ref().map(|(u, _)| u))
            .finish_non_exhaustive()
    }
}

/// A mail setting could not be used.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum MailSetupError {
    /// Not an SMTP URL.
    #[error("SMTP_URL: {0}")]
    Url(String),
    /// The sender address is not an address.
    #[error("sender address {0:?} is not valid")]
    Sender(String),
    /// The transport could not be built.
    #[error("mail transport: {0}")]
    Transport(String),
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl SmtpConfig {
    /// Reads `smtps://user:pass@host:465` (implicit TLS),
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS),
    /// `smtp://host:1025?tls=none` (plain) or `smtp://host` (STARTTLS when offered).
    ///
    /// # Errors
    /// [`MailSetupError::Url`] when the URL is not of that form.
    pub fn from_url(url: &str, timeout: Duration) -> Result<Self, MailSetupError> {
        let bad = |why: &str| MailSetupError::Url(format!("{why} (expected smtp:// or smtps://)"));
        let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("no scheme"))?;
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let rest = rest.trim_end_matches('/');
        let (auth, hostport) = match rest.rsplit_once('@') {
            Some((a, h)) => (Some(a), h),
            None => (None, rest),
        };
        let tls_param = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("tls="))
            .map(str::to_ascii_lowercase);
        let (security, default_port) = match (scheme, tls_param.as_deref()) {
            ("smtps", _) => (Security::ImplicitTls, 465),
            ("smtp", Some("required" | "starttls")) => (Security::StartTls, 587),
            ("smtp", Some("none" | "off")) => (Security::Plain, 25),
            ("smtp", None | Some("opportunistic")) => (Security::Opportunistic, 25),
            ("smtp", Some(other)) => return Err(bad(&format!("unknown tls={other}"))),
            (other, _) => return Err(bad(&format!("scheme {other}"))),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().map_err(|_| bad("bad port"))?),
            None => (hostport, default_port),
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let credentials = auth.map(|a| match a.split_once(':') {
            Some((u, p)) => (decode(u), decode(p)),
            None => (decode(a), String::new()),
        });
        Ok(Self {
            host: host.to_owned(),
            port,
            security,
            credentials,
            timeout,
        })
    }
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>, PathBuf),
}

/// Sends mail through SMTP, or writes it as `.eml` files.
pub struct LettreMailer {
    transport: Transport,
    from: Mailbox,
}

impl std::fmt::Debug for LettreMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.transport {
            Transport::Smtp(_) => "smtp".to_owned(),
            Transport::File(_, dir) => format!("file:{}", dir.display()),
        };
        f.debug_struct("LettreMailer")
            .field("transport", &kind)
            .field("from", &self.from.to_string())
            .finish()
    }
}

fn mailbox(name: &str, address: &str) -> Result<Mailbox, MailSetupError> {
    let email = address
        .parse()
        .map_err(|_| MailSetupError::Sender(address.to_owned()))?;
    Ok(Mailbox::new(
        (!name.is_empty()).then(|| name.to_owned()),
        email,
    ))
}

impl LettreMailer {
    /// Delivers through `config`, as `from_name <from_address>`.
    ///
    /// # Errors
    /// [`MailSetupError`] when the sender or TLS settings are invalid.
    pub fn smtp(
        config: &SmtpConfig,
        from_name: &str,
        from_address: &str,
    ) -> Result<Self, MailSetupError> {
        let tls = || {
            TlsParameters::new(config.host.clone())
                .map_err(|e| MailSetupError::Transport(e.to_string()))
        };
        let tls = match config.security {
            Security::ImplicitTls => Tls::Wrapper(tls()?),
            Security::StartTls => Tls::Required(tls()?),
            Security::Opportunistic => Tls::Opportunistic(tls()?),
            Security::Plain => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            .port(config.port)
            .tls(tls)
            .timeout(Some(config.timeout));
        if let Some((user, pass)) = &config.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), pass.clone()));
        }
        Ok(Self {
            transport: Transport::Smtp(builder.build()),
            from: mailbox(from_name, from_address)?,
        })
    }

    /// Writes each mail as `<dir>/<uuid>.eml` (the embedded default) and logs its subject.
    ///
    /// # Errors
    /// [`MailSetupError`] when the folder cannot be made or the sender is invalid.
    pub fn file(dir: &Path, from_name: &str, from_address: &str) -> Result<Self, MailSetupError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| MailSetupError::Transport(format!("{}: {e}", dir.display())))?;
        Ok(Self {
            transport: Transport::File(AsyncFileTransport::new(dir), dir.to_owned()),
            from: mailbox(from_name, from_address)?,
        })
    }

    fn message(&self, mail: &OutgoingMail) -> Result<Message, StoreError> {
        let to: Mailbox = mail
            .to
            .as_str()
            .parse()
            .map_err(|e| StoreError::Unavailable(format!("recipient {}: {e}", mail.to)))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(mail.text.clone()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(mail.html.clone()),
                    ),
            )
            .map_err(|e| StoreError::Unavailable(format!("building mail: {e}")))
    }
}

impl LettreMailer {
    /// Whether mail can go out now: the SMTP server answers (a connection
    /// and `NOOP`), or the mail folder can be written.
    ///
    /// # Errors
    /// The reason, without credentials.
    pub async fn check(&self) -> Result<(), String> {
        match &self.transport {
            Transport::Smtp(t) => match t.test_connection().await {
                Ok(true) => Ok(()),
                Ok(false) => Err("smtp: the server did not answer NOOP".into()),
                Err(e) => Err(format!("smtp: {e}")),
            },
            Transport::File(_, dir) => std::fs::create_dir_all(dir)
                .map_err(|e| format!("mail folder {}: {e}", dir.display())),
        }
    }

    /// True when mail goes to an SMTP server (not to files).
    #[must_use]
    pub fn is_smtp(&self) -> bool {
        matches!(self.transport, Transport::Smtp(_))
    }
}

impl Mailer for LettreMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), StoreError> {
        let message = self.message(mail)?;
        match &self.transport {
            Transport::Smtp(t) => {
                t.send(message)
                    .await
                    .map_err(|e| StoreError::Unavailable(format!("smtp: {e}")))?;
            }
            Transport::File(t, dir) => {
                let id = t
                    .send(message)
                    .await
                    .map_err(|e| StoreError::Unavailable(format!("mail file: {e}")))?;
                tracing::info!(to = %mail.to, subject = %mail.subject, file = %dir.join(format!("{id}.eml")).display(), "mail written");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Duration = Duration::from_secs(5);

    #[test]
    fn reads_smtp_urls() {
        let c = SmtpConfig::from_url("smtps://me%40x.com:p%40ss@mail.x.com", T).unwrap();
        assert_eq!(
            (c.host.as_str(), c.port, c.security),
            ("mail.x.com", 465, Security::ImplicitTls)
        );
        assert_eq!(c.credentials, Some(("me@x.com".into(), "p@ss".into())));
        let c = SmtpConfig::from_url("smtp://u:p@h:2525?tls=required", T).unwrap();
        assert_eq!((c.port, c.security), (2525, Security::StartTls));
        let c = SmtpConfig::from_url("smtp://127.0.0.1:1025?tls=none", T).unwrap();
        assert_eq!(
            (c.port, c.security, c.credentials),
            (1025, Security::Plain, None)
        );
        assert_eq!(
            SmtpConfig::from_url("smtp://h", T).unwrap().security,
            Security::Opportunistic
        );
        assert!(SmtpConfig::from_url("http://h", T).is_err());
        assert!(SmtpConfig::from_url("smtp://h?tls=maybe", T).is_err());
        assert!(
            !format!(
                "{:?}",
                SmtpConfig::from_url("smtps://u:secretpw@h", T).unwrap()
            )
            .contains("secretpw")
        );
    }

    #[tokio::test]
    async fn the_file_outbox_writes_a_multipart_eml() {
        let dir = tempfile::tempdir().unwrap();
        let m = LettreMailer::file(
            &dir.path().join("mail"),
            "Tessera",
            "no-reply@tessera.local",
        )
        .unwrap();
        let mail = OutgoingMail {
            to: tessera_domain::values::Email::parse("a@b.com").unwrap(),
            subject: "【Tessera】您的密码已修改".into(),
            text: "plain part\n".into(),
            html: "<p>html part</p>".into(),
        };
        m.send(&mail).await.unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path().join("mail"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1);
        let eml = std::fs::read_to_string(&files[0]).unwrap();
        assert!(eml.contains("To: a@b.com"), "{eml}");
        assert!(
            eml.contains("multipart/alternative")
                && eml.contains("plain part")
                && eml.contains("html part"),
            "{eml}"
        );
    }
}
