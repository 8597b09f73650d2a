//! In-process user cache, code store and rate limiter.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use chrono::Utc;
use tessera_domain::error::StoreError;
use tessera_domain::model::{AttemptGrant, CodePurpose, VerificationCode};
use tessera_domain::model::{User, UserId};
use tessera_domain::ports::{
    CodeStore, MailOutbox, OutgoingMail, QueuedMail, RateDecision, RateLimiter, RateWindow,
    UserCache,
};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Users by id, each kept for `ttl`.
#[derive(Debug, Clone)]
pub struct MemoryUserCache {
    ttl: Duration,
    entries: Arc<Mutex<HashMap<UserId, (Instant, User)>>>,
}

impl MemoryUserCache {
    /// A cache whose entries live `ttl`.
    #[must_use]
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Arc::default(),
        }
    }
}

impl UserCache for MemoryUserCache {
    async fn get(&self, id: UserId) -> Result<Option<User>, StoreError> {
        let mut e = lock(&self.entries);
        match e.get(&id) {
            Some((until, user)) if *until > Instant::now() => Ok(Some(user.clone())),
            Some(_) => {
                e.remove(&id);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    async fn put(&self, user: &User) -> Result<(), StoreError> {
        lock(&self.entries).insert(user.id, (Instant::now() + self.ttl, user.clone()));
        Ok(())
    }

    async fn invalidate(&self, id: UserId) -> Result<(), StoreError> {
        lock(&self.entries).remove(&id);
        Ok(())
    }
}

/// Verification codes in a map; expired ones are dropped when read.
#[derive(Debug, Clone, Default)]
pub struct MemoryCodes {
    entries: Arc<Mutex<HashMap<(CodePurpose, String), VerificationCode>>>,
}

impl MemoryCodes {
    fn live(&self, purpose: CodePurpose, recipient: &str) -> Option<VerificationCode> {
        let mut e = lock(&self.entries);
        let key = (purpose, recipient.to_owned());
        match e.get(&key) {
            Some(c) if c.expires_at > Utc::now() => Some(c.clone()),
            Some(_) => {
                e.remove(&key);
                None
            }
            None => None,
        }
    }
}

impl CodeStore for MemoryCodes {
    async fn put(&self, code: &VerificationCode) -> Result<(), StoreError> {
        lock(&self.entries).insert((code.purpose, code.recipient.clone()), code.clone());
        Ok(())
    }

    async fn get(
        &self,
        purpose: CodePurpose,
        recipient: &str,
    ) -> Result<Option<VerificationCode>, StoreError> {
        Ok(self.live(purpose, recipient))
    }

    async fn claim_attempt(
        &self,
        purpose: CodePurpose,
        recipient: &str,
    ) -> Result<AttemptGrant, StoreError> {
        let mut e = lock(&self.entries);
        let key = (purpose, recipient.to_owned());
        Ok(match e.get_mut(&key) {
            None => AttemptGrant::NoCode,
            Some(c) if c.expires_at <= Utc::now() => {
                e.remove(&key);
                AttemptGrant::NoCode
            }
            Some(c) if c.attempts >= c.max_attempts => AttemptGrant::Exhausted,
            Some(c) => {
                c.attempts += 1;
                AttemptGrant::Granted(c.clone())
            }
        })
    }

    async fn take(
        &self,
        purpose: CodePurpose,
        recipient: &str,
    ) -> Result<Option<VerificationCode>, StoreError> {
        let taken = lock(&self.entries).remove(&(purpose, recipient.to_owned()));
        Ok(taken.filter(|c| c.expires_at > Utc::now()))
    }
}

/// Fixed-window counters in a map.
#[derive(Debug, Clone, Default)]
pub struct MemoryRateLimiter {
    windows: Arc<Mutex<HashMap<String, (Instant, u32)>>>,
}

impl RateLimiter for MemoryRateLimiter {
    async fn hit(&self, key: &str, window: RateWindow) -> Result<RateDecision, StoreError> {
        let length = Duration::from_secs(window.window_secs);
        let now = Instant::now();
        let mut w = lock(&self.windows);
        if w.len() > 10_000 {
            w.retain(|_, (end, _)| *end > now);
        }
        let slot = w.entry(key.to_owned()).or_insert((now + length, 0));
        if slot.0 <= now {
            *slot = (now + length, 0);
        }
        slot.1 = slot.1.saturating_add(1);
        let reset = slot.0.saturating_duration_since(now).as_secs_f64().ceil();
        Ok(window.decision(slot.1, reset as u64))
    }

    async fn open_for(&self, key: &str) -> Result<Option<u64>, StoreError> {
        let now = Instant::now();
        Ok(lock(&self.windows)
            .get(key)
            .filter(|(end, _)| *end > now)
            .map(|(end, _)| end.saturating_duration_since(now).as_secs_f64().ceil() as u64))
    }

    async fn clear(&self, key: &str) -> Result<(), StoreError> {
        lock(&self.windows).remove(key);
        Ok(())
    }
}

#[derive(Debug, Clone)]
struct OutboxRow {
    mail: OutgoingMail,
    attempts: u32,
    next_attempt_at: chrono::DateTime<Utc>,
    locked_until: Option<chrono::DateTime<Utc>>,
    sent_at: Option<chrono::DateTime<Utc>>,
}

/// Queued mail in a list.
#[derive(Debug, Clone, Default)]
pub struct MemoryOutbox {
    rows: Arc<Mutex<Vec<OutboxRow>>>,
}

impl MemoryOutbox {
    /// Drops every mail to `to`, sent or not (its account was deleted).
    pub(crate) fn forget_recipient(&self, to: &tessera_domain::values::Email) {
        lock(&self.rows).retain(|r| r.mail.to != *to);
    }

    pub(crate) fn push(&self, mail: &OutgoingMail, now: chrono::DateTime<Utc>) {
        lock(&self.rows).push(OutboxRow {
            mail: mail.clone(),
            attempts: 0,
            next_attempt_at: now,
            locked_until: None,
            sent_at: None,
        });
    }

    fn update(&self, id: i64, change: impl FnOnce(&mut OutboxRow)) {
        let mut rows = lock(&self.rows);
        if let Some(row) = usize::try_from(id).ok().and_then(|i| rows.get_mut(i)) {
            change(row);
        }
    }

    /// Every mail ever queued, sent or not, oldest first.
    #[must_use]
    pub fn all(&self) -> Vec<OutgoingMail> {
        lock(&self.rows).iter().map(|r| r.mail.clone()).collect()
    }
}

fn row_id(i: usize) -> i64 {
    i64::try_from(i).unwrap_or(i64::MAX)
}

impl MailOutbox for MemoryOutbox {
    async fn enqueue(
        &self,
        mail: &OutgoingMail,
        now: chrono::DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.push(mail, now);
        Ok(())
    }

    async fn claim_due(
        &self,
        now: chrono::DateTime<Utc>,
        limit: usize,
        lease: chrono::Duration,
    ) -> Result<Vec<QueuedMail>, StoreError> {
        let mut rows = lock(&self.rows);
        let mut claimed = Vec::new();
        for (i, r) in rows.iter_mut().enumerate() {
            if claimed.len() >= limit {
                break;
            }
            if r.sent_at.is_none()
                && r.next_attempt_at <= now
                && r.locked_until.is_none_or(|t| t <= now)
            {
                r.locked_until = Some(now + lease);
                claimed.push(QueuedMail {
                    id: row_id(i),
                    mail: r.mail.clone(),
                    attempts: r.attempts,
                });
            }
        }
        Ok(claimed)
    }

    async fn mark_sent(&self, id: i64, at: chrono::DateTime<Utc>) -> Result<(), StoreError> {
        self.update(id, |r| {
            r.sent_at = Some(at);
            r.locked_until = None;
        });
        Ok(())
    }

    async fn mark_failed(
        &self,
        id: i64,
        attempts: u32,
        retry_at: chrono::DateTime<Utc>,
        _error: &str,
    ) -> Result<(), StoreError> {
        self.update(id, |r| {
            r.attempts = attempts;
            r.next_attempt_at = retry_at;
            r.locked_until = None;
        });
        Ok(())
    }

    async fn pending(&self) -> Result<usize, StoreError> {
        Ok(lock(&self.rows)
            .iter()
            .filter(|r| r.sent_at.is_none())
            .count())
    }
}

/// The audit trail in a list (tests read it back with [`MemoryAudit::events`]).
#[derive(Debug, Clone, Default)]
pub struct MemoryAudit {
    events: Arc<Mutex<Vec<tessera_domain::model::AuditEvent>>>,
}

impl MemoryAudit {
    /// Strips the entries `user` made, and those about it no administrator
    /// made, to their time, kind and ids (its account was deleted; as the
    /// SQL store does).
    pub(crate) fn anonymise(&self, user: tessera_domain::model::UserId) {
        for e in lock(&self.events).iter_mut() {
            if e.actor == Some(user) || (e.subject == Some(user) && e.actor.is_none()) {
                e.identifier = None;
                e.client = tessera_domain::model::ClientInfo::without_peer(None);
                e.detail = None;
            }
        }
    }

    /// Every event recorded, oldest first.
    #[must_use]
    pub fn events(&self) -> Vec<tessera_domain::model::AuditEvent> {
        lock(&self.events).clone()
    }
}

impl tessera_domain::ports::AuditLog for MemoryAudit {
    async fn record(&self, event: &tessera_domain::model::AuditEvent) -> Result<(), StoreError> {
        lock(&self.events).push(event.clone());
        Ok(())
    }

    async fn query(
        &self,
        query: &tessera_domain::model::AuditQuery,
    ) -> Result<tessera_domain::model::AuditPage, StoreError> {
        let events = lock(&self.events);
        let matching: Vec<_> = events.iter().rev().filter(|e| query.matches(e)).collect();
        Ok(tessera_domain::model::AuditPage {
            total: matching.len() as u64,
            events: matching
                .into_iter()
                .skip(usize::try_from(query.offset).unwrap_or(usize::MAX))
                .take(query.limit as usize)
                .cloned()
                .collect(),
        })
    }
}

/// Deferred tasks in a bounded in-process queue (the server uses it too: a
/// task lost in a crash is a resend the person asks for again).
#[derive(Debug, Clone)]
pub struct MemoryTasks {
    queue: Arc<Mutex<std::collections::VecDeque<tessera_domain::ports::DeferredTask>>>,
    capacity: usize,
}

impl Default for MemoryTasks {
    fn default() -> Self {
        Self::with_capacity(10_000)
    }
}

impl MemoryTasks {
    /// A queue that holds at most `capacity` tasks.
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            queue: Arc::default(),
            capacity,
        }
    }

    /// Tasks waiting.
    #[must_use]
    pub fn len(&self) -> usize {
        lock(&self.queue).len()
    }

    /// True when no task waits.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl tessera_domain::ports::TaskQueue for MemoryTasks {
    fn defer(&self, task: tessera_domain::ports::DeferredTask) -> Result<(), StoreError> {
        let mut q = lock(&self.queue);
        if q.len() >= self.capacity {
            return Err(StoreError::Unavailable(
                "deferred task queue is full".into(),
            ));
        }
        q.push_back(task);
        Ok(())
    }

    fn take_ready(&self) -> Vec<tessera_domain::ports::DeferredTask> {
        lock(&self.queue).drain(..).collect()
    }
}
