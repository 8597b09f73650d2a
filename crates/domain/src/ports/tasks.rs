//! Deferred work.

use crate::error::StoreError;

/// Work that a request hands off instead of doing it itself, so that what
/// the request costs does not depend on secret state (which addresses have
/// accounts: issue 12, item 12). A worker runs the tasks with
/// [`crate::AuthService::run_deferred`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeferredTask {
    /// Mail a new verification code and link to `email` if an unverified
    /// account has that address; do nothing otherwise.
    ResendVerification {
        /// The address asked for.
        email: crate::values::Email,
        /// The language of the mail.
        locale: crate::mail::Locale,
    },
    /// Send a sign-in code for `login` if it names an active account with a
    /// verified address (issue 20, `PASSWORDLESS_LOGIN`); otherwise keep a
    /// code bound to nobody, so that guesses answer alike.
    SendSignInCode {
        /// The identifier asked for.
        login: crate::values::Login,
        /// The language of the mail or text message.
        locale: crate::mail::Locale,
    },
}

/// Where deferred tasks wait for the worker.
pub trait TaskQueue: Send + Sync + 'static {
    /// Queues `task`; never waits for the worker.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the queue is full.
    fn defer(&self, task: DeferredTask) -> Result<(), StoreError>;

    /// Every queued task, oldest first, leaving the queue empty.
    fn take_ready(&self) -> Vec<DeferredTask>;
}
