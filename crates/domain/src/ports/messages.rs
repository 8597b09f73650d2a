//! Mail (the outbox and the mailer) and text messages.

use std::future::Future;

use chrono::{DateTime, Utc};

use crate::error::StoreError;

/// One mail to send. Bodies may contain codes and links: adapters must not log them.
#[derive(Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// Recipient address.
    pub to: crate::values::Email,
    /// Subject line.
    pub subject: String,
    /// Plain-text part.
    pub text: String,
    /// HTML part.
    pub html: String,
}

impl std::fmt::Debug for OutgoingMail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutgoingMail")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// A queued mail with its delivery state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMail {
    /// Outbox id.
    pub id: i64,
    /// The mail.
    pub mail: OutgoingMail,
    /// Failed attempts so far.
    pub attempts: u32,
}

/// Mail waiting to be sent (written by the stores in the same transaction as
/// the change that causes it; see [`UserRepository::create`](crate::ports::UserRepository::create)).
pub trait MailOutbox: Send + Sync + 'static {
    /// Queues a mail that no other change accompanies.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn enqueue(
        &self,
        mail: &OutgoingMail,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Reserves up to `limit` mails due at `now` for `lease` and returns them;
    /// a mail reserved by another sender is skipped until its lease ends.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        lease: chrono::Duration,
    ) -> impl Future<Output = Result<Vec<QueuedMail>, StoreError>> + Send;

    /// Records a successful delivery: the mail is never sent again.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn mark_sent(
        &self,
        id: i64,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records a failed attempt and when to try again.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn mark_failed(
        &self,
        id: i64,
        attempts: u32,
        retry_at: DateTime<Utc>,
        error: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Mails not yet sent.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn pending(&self) -> impl Future<Output = Result<usize, StoreError>> + Send;
}

/// Sends mail (verification codes, reset links, notices).
pub trait Mailer: Send + Sync + 'static {
    /// Delivers one mail.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the mail server cannot be reached or
    /// refuses the mail; the caller keeps the mail and retries later.
    fn send(&self, mail: &OutgoingMail) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Sends text messages (the phone channel of password reset). No SMS provider
/// is assumed: adapters write to a file or call a webhook.
pub trait SmsSender: Send + Sync + 'static {
    /// Sends `text` to `to`.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the message could not be handed over.
    fn send(
        &self,
        to: &crate::values::Phone,
        text: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}
