//! Where mail and text messages go.

use std::future::Future;
use std::pin::Pin;

use tessera_domain::error::StoreError;
use tessera_domain::ports::{Mailer, OutgoingMail, SmsSender};
use tessera_domain::values::Phone;
use tessera_memory::{MemoryMailer, MemorySms};

/// A mailer behind a box (the [`Mailer`] port returns an opaque future).
trait DynMailer: Send + Sync + 'static {
    fn send_boxed<'a>(
        &'a self,
        mail: &'a OutgoingMail,
    ) -> Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + 'a>>;
}

impl<M: Mailer> DynMailer for M {
    fn send_boxed<'a>(
        &'a self,
        mail: &'a OutgoingMail,
    ) -> Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + 'a>> {
        Box::pin(self.send(mail))
    }
}

enum Sink {
    Memory(MemoryMailer),
    #[cfg(feature = "smtp")]
    Lettre(tessera_smtp::LettreMailer),
    Custom(Box<dyn DynMailer>),
}

/// Where the delivery worker sends queued mail: SMTP, `.eml` files, memory
/// (tests, examples) or any [`Mailer`]. A failed send is retried with the
/// delivery policy's backoff; nothing is dropped.
pub struct MailSink(Sink);

impl std::fmt::Debug for MailSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Sink::Memory(_) => f.write_str("MailSink::Memory"),
            #[cfg(feature = "smtp")]
            Sink::Lettre(m) => write!(f, "MailSink::{m:?}"),
            Sink::Custom(_) => f.write_str("MailSink::Custom"),
        }
    }
}

impl MailSink {
    /// Keeps every mail in `mailer` (read them with [`MemoryMailer::sent`]).
    #[must_use]
    pub fn memory(mailer: MemoryMailer) -> Self {
        Self(Sink::Memory(mailer))
    }

    /// Any other [`Mailer`] (an HTTP mail API, a test double).
    #[must_use]
    pub fn custom(mailer: impl Mailer) -> Self {
        Self(Sink::Custom(Box::new(mailer)))
    }

    /// Delivers through an SMTP server, as `from_name <from_address>`.
    ///
    /// # Errors
    /// [`crate::BuildError::Mail`] when the sender or TLS settings are invalid.
    #[cfg(feature = "smtp")]
    pub fn smtp(
        server: &tessera_smtp::SmtpConfig,
        from_name: &str,
        from_address: &str,
    ) -> Result<Self, crate::BuildError> {
        tessera_smtp::use_aws_lc_for_rustls();
        tessera_smtp::LettreMailer::smtp(server, from_name, from_address)
            .map(Self::from)
            .map_err(|e| crate::BuildError::Mail(e.to_string()))
    }

    /// Writes each mail as `<dir>/<uuid>.eml` (made when missing).
    ///
    /// # Errors
    /// [`crate::BuildError::Mail`] when the folder cannot be made or the sender is invalid.
    #[cfg(feature = "smtp")]
    pub fn files(
        dir: impl AsRef<std::path::Path>,
        from_name: &str,
        from_address: &str,
    ) -> Result<Self, crate::BuildError> {
        tessera_smtp::LettreMailer::file(dir.as_ref(), from_name, from_address)
            .map(Self::from)
            .map_err(|e| crate::BuildError::Mail(e.to_string()))
    }
}

#[cfg(feature = "smtp")]
impl From<tessera_smtp::LettreMailer> for MailSink {
    fn from(mailer: tessera_smtp::LettreMailer) -> Self {
        Self(Sink::Lettre(mailer))
    }
}

impl Mailer for MailSink {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), StoreError> {
        match &self.0 {
            Sink::Memory(m) => m.send(mail).await,
            #[cfg(feature = "smtp")]
            Sink::Lettre(m) => m.send(mail).await,
            Sink::Custom(m) => m.send_boxed(mail).await,
        }
    }
}

/// Where text messages (the phone channel of password reset) go.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AnySms {
    /// Kept in memory (read them with [`MemorySms::sent`]); the builder's
    /// default, since no SMS provider is named.
    Memory(MemorySms),
    /// Appended to a file (the server's `<var>/sms.log`).
    #[cfg(feature = "smtp")]
    File(tessera_smtp::FileSms),
    /// Posted to a webhook (`SMS_WEBHOOK_URL`).
    #[cfg(feature = "smtp")]
    Webhook(tessera_smtp::WebhookSms),
}

impl Default for AnySms {
    fn default() -> Self {
        Self::Memory(MemorySms::default())
    }
}

impl SmsSender for AnySms {
    async fn send(&self, to: &Phone, text: &str) -> Result<(), StoreError> {
        match self {
            Self::Memory(s) => s.send(to, text).await,
            #[cfg(feature = "smtp")]
            Self::File(s) => s.send(to, text).await,
            #[cfg(feature = "smtp")]
            Self::Webhook(s) => s.send(to, text).await,
        }
    }
}
