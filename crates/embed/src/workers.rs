//! The background work a service needs: mail delivery, housekeeping and
//! key-ring reload.

use std::sync::Arc;
use std::time::Duration;

use tessera_crypto::RingHandle;
use tessera_domain::AuthService;
use tessera_domain::error::StoreError;
use tessera_domain::mail::{DeliveryPolicy, DeliveryReport, deliver_due};
use tessera_domain::ports::{MailOutbox, Ports};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::{KeyRingDir, MailSink};

/// How often the mail worker looks for due mail unless
/// [`crate::Builder::delivery`] says otherwise, in milliseconds (the server's
/// `OUTBOX_POLL_MS` default too).
pub const DEFAULT_MAIL_POLL_MS: u64 = 1_000;

/// How often the key folder is read again.
const KEY_RELOAD_EVERY: Duration = Duration::from_secs(10);
/// How long [`WorkerHandles::stop`] lets a delivery step in progress finish.
const STOP_GRACE: Duration = Duration::from_secs(30);

/// What the mail worker reports, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MailEvent {
    /// One delivery step sent or rescheduled mail.
    Delivered(DeliveryReport),
    /// Mails still queued after a step.
    Queued(usize),
}

type Observer = Arc<dyn Fn(MailEvent) + Send + Sync>;

/// The workers of a built service, not running yet: mail delivery from the
/// store's outbox to the [`MailSink`], and (with a key folder) key reload.
/// Housekeeping needs the service itself: see [`housekeep`].
pub struct Workers<O> {
    outbox: O,
    sink: MailSink,
    policy: DeliveryPolicy,
    poll: Duration,
    observer: Option<Observer>,
    keys: Option<(KeyRingDir, RingHandle)>,
}

impl<O> std::fmt::Debug for Workers<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workers")
            .field("sink", &self.sink)
            .field("policy", &self.policy)
            .field("poll", &self.poll)
            .field("keys", &self.keys.as_ref().map(|(dir, _)| dir))
            .finish_non_exhaustive()
    }
}

impl<O: MailOutbox + Clone> Workers<O> {
    pub(crate) fn new(
        outbox: O,
        sink: MailSink,
        policy: DeliveryPolicy,
        poll: Duration,
        keys: Option<(KeyRingDir, RingHandle)>,
    ) -> Self {
        Self {
            outbox,
            sink,
            policy,
            poll,
            observer: None,
            keys,
        }
    }

    /// Calls `observer` after each delivery step that did something, and
    /// with the queue length after every step.
    #[must_use]
    pub fn observe_mail(mut self, observer: impl Fn(MailEvent) + Send + Sync + 'static) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    /// Sends every mail due now, once (tests and examples that cannot wait
    /// for the worker's next poll).
    ///
    /// # Errors
    /// [`StoreError`] when the outbox cannot be read or updated.
    pub async fn deliver_mail_now(&self) -> Result<DeliveryReport, StoreError> {
        deliver_due(&self.outbox, &self.sink, chrono::Utc::now(), &self.policy).await
    }

    /// Starts mail delivery (every `poll`) and key reload (every 10 s) on
    /// the current Tokio runtime.
    #[must_use]
    pub fn spawn(self) -> WorkerHandles {
        let (stop, stopped) = watch::channel(false);
        let others = self
            .keys
            .as_ref()
            .map(|(dir, handle)| tokio::spawn(reload_keys_forever(dir.clone(), handle.clone())))
            .into_iter()
            .collect();
        WorkerHandles {
            stop,
            mail: tokio::spawn(self.deliver_forever(stopped)),
            others,
        }
    }

    /// Sends due mail every `poll` until `stop` says so. A failed mail is
    /// retried with the policy's backoff; nothing is dropped.
    async fn deliver_forever(self, mut stop: watch::Receiver<bool>) {
        let observe = |event| {
            if let Some(observer) = &self.observer {
                observer(event);
            }
        };
        // The stop signal is checked between steps only: a step that has
        // begun (mails claimed, being sent) is finished and recorded first.
        while !*stop.borrow() {
            match self.deliver_mail_now().await {
                Ok(report) if report.sent + report.failed > 0 => {
                    observe(MailEvent::Delivered(report));
                    tracing::info!(
                        sent = report.sent,
                        failed = report.failed,
                        "outbox delivery"
                    );
                    if report.failed == 0 && report.sent == self.policy.batch {
                        continue; // more may be due right away
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "outbox unavailable"),
            }
            if let Ok(n) = self.outbox.pending().await {
                observe(MailEvent::Queued(n));
            }
            tokio::select! {
                () = tokio::time::sleep(self.poll) => {}
                _ = stop.changed() => {}
            }
        }
        tracing::info!("outbox worker stopped");
    }
}

/// Re-reads the key folder every 10 s (off the async executor), so
/// rotations reach running instances; a folder without an active key keeps
/// the previous ring.
async fn reload_keys_forever(dir: KeyRingDir, handle: RingHandle) {
    let dir = Arc::new(dir);
    loop {
        tokio::time::sleep(KEY_RELOAD_EVERY).await;
        let read = {
            let dir = Arc::clone(&dir);
            tokio::task::spawn_blocking(move || dir.read_active()).await
        };
        match read {
            Ok(Ok(Some(ring))) => handle.replace(ring),
            Ok(Ok(None)) => {
                tracing::error!("JWT key folder has no active key; keeping the previous ring");
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "JWT key folder unreadable; keeping the previous ring");
            }
            Err(e) => tracing::error!(error = %e, "JWT key reload task failed"),
        }
    }
}

/// Runs the deferred tasks requests hand off (every 100 ms) and removes
/// expired pending accounts (every minute), forever: spawn it beside the
/// service and abort it at shutdown.
pub async fn housekeep<P: Ports>(service: &AuthService<P>) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for n in 0_u64.. {
        tick.tick().await;
        service.run_deferred().await;
        if n % 600 == 0 {
            match service.expire_unverified_accounts().await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "expired pending accounts removed"),
                Err(e) => tracing::warn!(error = %e, "expiring pending accounts failed"),
            }
        }
    }
}

/// Running workers; [`WorkerHandles::stop`] ends them.
#[derive(Debug)]
pub struct WorkerHandles {
    stop: watch::Sender<bool>,
    mail: JoinHandle<()>,
    others: Vec<JoinHandle<()>>,
}

impl WorkerHandles {
    /// Stops the workers: the mail worker finishes the step it is in (up to
    /// 30 s, then it is left behind with a warning); the others end at once.
    pub async fn stop(self) {
        for task in &self.others {
            task.abort();
        }
        let _ = self.stop.send(true);
        if tokio::time::timeout(STOP_GRACE, self.mail).await.is_err() {
            tracing::warn!("outbox worker still busy after 30 s; stopping anyway");
        }
    }
}

/// A service with every worker running ([`crate::Tessera::spawn_workers`]).
pub struct Running<P: Ports> {
    service: Arc<AuthService<P>>,
    workers: WorkerHandles,
    housekeeping: JoinHandle<()>,
}

impl<P: Ports> std::fmt::Debug for Running<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running")
            .field("workers", &self.workers)
            .finish_non_exhaustive()
    }
}

impl<P: Ports> Running<P>
where
    P::Outbox: Clone,
{
    pub(crate) fn start(service: AuthService<P>, workers: Workers<P::Outbox>) -> Self {
        let service = Arc::new(service);
        let housekeeping = {
            let service = Arc::clone(&service);
            tokio::spawn(async move { housekeep(&service).await })
        };
        Self {
            service,
            workers: workers.spawn(),
            housekeeping,
        }
    }

    /// The service, to share with request handlers.
    #[must_use]
    pub fn service(&self) -> Arc<AuthService<P>> {
        Arc::clone(&self.service)
    }

    /// Stops every worker (see [`WorkerHandles::stop`]).
    pub async fn stop(self) {
        self.housekeeping.abort();
        self.workers.stop().await;
    }
}

impl<P: Ports> std::ops::Deref for Running<P> {
    type Target = AuthService<P>;

    fn deref(&self) -> &AuthService<P> {
        &self.service
    }
}
