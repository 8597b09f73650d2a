//! The background work a service needs: mail delivery, housekeeping and
//! key-ring reload.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tessera_crypto::RingHandle;
use tessera_domain::AuthService;
use tessera_domain::error::StoreError;
use tessera_domain::mail::{DeliveryPolicy, DeliveryReport, deliver_due};
use tessera_domain::ports::{ChangeFeed, MailOutbox, Ports};
use tessera_memory::{CacheBudget, Coherence};
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

/// A task that runs until aborted (change feed followers).
pub(crate) type Background = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// The in-process caches of a SQL store (issue 15): how stale they may be
/// and how big they may grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheSettings {
    /// Caches answer only while their change feed proved them current at
    /// most this long ago (the server's `CACHE_MAX_LAG_MS`, default 100 ms):
    /// the bound on how late another instance's change is seen. The feed is
    /// read every quarter of it.
    pub max_lag: Duration,
    /// Users with their roles (`USER_CACHE_MAX_BYTES`, default 8 MiB; 0 = off).
    pub users: CacheBudget,
    /// Denylist answers (`DENYLIST_CACHE_MAX_BYTES`, default 2 MiB; 0 = off).
    pub denylist: CacheBudget,
    /// Recent copies of sessions for the refresh's first read
    /// (`SESSION_CACHE_MAX_BYTES`, default 4 MiB; 0 = off). They need no
    /// feed: see [`tessera_memory::RecentSessions`].
    pub sessions: CacheBudget,
}

impl CacheSettings {
    /// [`CacheSettings::max_lag`] by default, in milliseconds.
    pub const DEFAULT_MAX_LAG_MS: u64 = 100;
    /// [`CacheSettings::users`]' bytes by default.
    pub const DEFAULT_USER_BYTES: u64 = 8 * 1024 * 1024;
    /// [`CacheSettings::denylist`]'s bytes by default.
    pub const DEFAULT_DENYLIST_BYTES: u64 = 2 * 1024 * 1024;
    /// [`CacheSettings::sessions`]' bytes by default.
    pub const DEFAULT_SESSION_BYTES: u64 = 4 * 1024 * 1024;
    /// The longest a cached entry lives by default, in seconds (`USER_CACHE_TTL`).
    pub const DEFAULT_TTL_SECS: u64 = 60;
}

impl Default for CacheSettings {
    fn default() -> Self {
        let ttl = Duration::from_secs(Self::DEFAULT_TTL_SECS);
        Self {
            max_lag: Duration::from_millis(Self::DEFAULT_MAX_LAG_MS),
            users: CacheBudget {
                max_bytes: Self::DEFAULT_USER_BYTES,
                time_to_live: ttl,
            },
            denylist: CacheBudget {
                max_bytes: Self::DEFAULT_DENYLIST_BYTES,
                time_to_live: ttl,
            },
            sessions: CacheBudget {
                max_bytes: Self::DEFAULT_SESSION_BYTES,
                time_to_live: ttl,
            },
        }
    }
}

/// Reads `feed` forever and keeps `coherence`'s caches current: each
/// successful read's changes are applied, then the read's start is recorded
/// as the caches' proof ([`Coherence::synced`]). A failed read is logged
/// once (until the feed is back), and the caches are emptied when it
/// recovers, since what it missed is unknown; meanwhile they go stale and
/// are bypassed ([`Coherence::is_fresh`]). Spawn it and abort it at shutdown.
pub async fn follow_changes<F: ChangeFeed>(mut feed: F, coherence: Coherence) {
    let wait = coherence.max_lag() / 4;
    let mut failing = false;
    loop {
        let began = Instant::now();
        match feed.changes(wait).await {
            Ok(changes) => {
                if failing {
                    coherence.flush();
                    tracing::info!("change feed back; caches emptied and in use again");
                    failing = false;
                }
                coherence.apply(&changes);
                coherence.synced(began);
            }
            Err(e) => {
                if !failing {
                    tracing::warn!(error = %e, "change feed unavailable; caches bypassed until it is back");
                    failing = true;
                }
                // At once, not only when the bound runs out: a failed read
                // stops answers from memory now.
                coherence.flush();
                tokio::time::sleep(wait).await;
            }
        }
    }
}

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
    /// In a mutex only so that `Workers` stays `Sync` (never contended).
    background: std::sync::Mutex<Vec<Background>>,
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
            background: std::sync::Mutex::default(),
        }
    }

    /// Adds a task [`Workers::spawn`] starts beside the others.
    pub(crate) fn add_background(&mut self, task: Background) {
        if let Ok(tasks) = self.background.get_mut() {
            tasks.push(task);
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

    /// Starts mail delivery (every `poll`), key reload (every 10 s) and the
    /// change feed followers of a SQL store ([`follow_changes`]) on the
    /// current Tokio runtime.
    #[must_use]
    pub fn spawn(self) -> WorkerHandles {
        let (stop, stopped) = watch::channel(false);
        let mut others: Vec<JoinHandle<()>> = self
            .keys
            .as_ref()
            .map(|(dir, handle)| tokio::spawn(reload_keys_forever(dir.clone(), handle.clone())))
            .into_iter()
            .collect();
        let background = self
            .background
            .lock()
            .map(|mut tasks| std::mem::take(&mut *tasks))
            .unwrap_or_default();
        others.extend(background.into_iter().map(tokio::spawn));
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

/// How often the webhook worker looks for queued events and due deliveries.
pub const WEBHOOK_POLL: Duration = Duration::from_millis(250);
/// The most webhook deliveries attempted at once.
pub const WEBHOOK_CONCURRENCY: usize = 16;

/// One step of the webhook worker: queued events become deliveries, and up
/// to [`WEBHOOK_CONCURRENCY`] due deliveries are attempted at once; returns
/// how many were attempted.
///
/// # Errors
/// [`StoreError`] when the store cannot be read or updated.
pub async fn deliver_webhooks<P: Ports>(service: &AuthService<P>) -> Result<usize, StoreError> {
    service.dispatch_webhook_events().await?;
    let due = service
        .claim_webhook_deliveries(WEBHOOK_CONCURRENCY)
        .await?;
    let attempts = due.iter().map(|d| service.attempt_webhook_delivery(d));
    for done in futures_util::future::join_all(attempts).await {
        if let Err(e) = done {
            tracing::warn!(error = %e, "recording a webhook attempt failed");
        }
    }
    Ok(due.len())
}

/// Runs [`deliver_webhooks`] forever: again at once after a full step,
/// otherwise every [`WEBHOOK_POLL`]. A failing store is logged once until
/// it is back. Spawn it beside the service and abort it at shutdown (an
/// attempt cut short is made again when its lease ends).
pub async fn deliver_webhooks_forever<P: Ports>(service: &AuthService<P>) {
    let mut failing = false;
    loop {
        match deliver_webhooks(service).await {
            Ok(n) => {
                if failing {
                    tracing::info!("webhook outbox available again");
                    failing = false;
                }
                if n == WEBHOOK_CONCURRENCY {
                    continue;
                }
            }
            Err(e) => {
                if !failing {
                    tracing::warn!(error = %e, "webhook outbox unavailable");
                    failing = true;
                }
            }
        }
        tokio::time::sleep(WEBHOOK_POLL).await;
    }
}

/// Runs the deferred tasks requests hand off (every 100 ms), deletes the
/// accounts whose deletion grace period ended (every 5 s) and removes
/// expired pending accounts (every minute), forever: spawn it beside the
/// service and abort it at shutdown.
pub async fn housekeep<P: Ports>(service: &AuthService<P>) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for n in 0_u64.. {
        tick.tick().await;
        service.run_deferred().await;
        if n % 50 == 0 {
            match service.delete_due_accounts().await {
                Ok(0) => {}
                Ok(deleted) => tracing::info!(deleted, "accounts deleted after their grace period"),
                Err(e) => tracing::warn!(error = %e, "deleting due accounts failed"),
            }
        }
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
    webhooks: JoinHandle<()>,
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
        let webhooks = {
            let service = Arc::clone(&service);
            tokio::spawn(async move { deliver_webhooks_forever(&service).await })
        };
        Self {
            service,
            workers: workers.spawn(),
            housekeeping,
            webhooks,
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
        // An attempt cut short is made again when its lease ends (the
        // receiver may see it twice, with the same webhook-id).
        self.webhooks.abort();
        self.workers.stop().await;
    }
}

impl<P: Ports> std::ops::Deref for Running<P> {
    type Target = AuthService<P>;

    fn deref(&self) -> &AuthService<P> {
        &self.service
    }
}
