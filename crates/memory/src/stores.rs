use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use tessera_domain::error::{CreateUserError, StoreError};
use tessera_domain::model::RevocationKey;
use tessera_domain::model::UserOrder;
use tessera_domain::model::{ContactChange, RoleCatalogue};
use tessera_domain::model::{
    NewUser, PasswordHash, PendingEvent, UniqueField, User, UserId, UserPage, UserQuery,
};
use tessera_domain::model::{Session, SessionId, SessionRotation};
use tessera_domain::ports::{
    Mailer, OutgoingMail, SessionStore, TokenDenylist, UserDirectory, UserRepository,
};
use tessera_domain::values::Login;
use tessera_domain::values::RoleName;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave these maps half-updated
    // (every update is a single insert or field write), so keep going.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Debug, Default)]
struct UserTable {
    next_id: i64,
    rows: BTreeMap<i64, User>,
    /// `None` until replaced: the seeded catalogue.
    catalogue: Option<RoleCatalogue>,
    /// Scheduled deletions: account → due at.
    deletions: HashMap<i64, DateTime<Utc>>,
}

/// The other stores that keep data about an account, emptied of it when the
/// account is deleted ([`MemoryUsers::with_account_data`]).
#[derive(Debug, Clone, Default)]
pub struct AccountData {
    /// Second factors, recovery codes and passkeys.
    pub factors: crate::MemoryFactors,
    /// Linked upstream identities.
    pub identities: crate::MemoryIdentities,
    /// Consents and grants.
    pub clients: crate::MemoryClients,
    /// The audit trail, whose entries of the account are stripped.
    pub audit: crate::MemoryAudit,
}

impl AccountData {
    fn forget(&self, id: UserId) {
        self.factors.forget_user(id);
        self.identities.forget_user(id);
        self.clients.forget_user(id);
        self.audit.anonymise(id);
    }
}

/// Users in a map; usernames unique by their canonical form (RFC 8265
/// `UsernameCaseMapped`, [`tessera_domain::values::Username::canonical`]). Mail that
/// accompanies a change goes to [`MemoryUsers::outbox`] under the same lock.
#[derive(Debug, Clone, Default)]
pub struct MemoryUsers {
    table: Arc<Mutex<UserTable>>,
    outbox: crate::MemoryOutbox,
    webhooks: crate::MemoryWebhooks,
    account_data: AccountData,
}

impl MemoryUsers {
    /// Users whose accompanying mail goes to `outbox`.
    #[must_use]
    pub fn with_outbox(outbox: crate::MemoryOutbox) -> Self {
        Self {
            table: Arc::default(),
            outbox,
            webhooks: crate::MemoryWebhooks::default(),
            account_data: AccountData::default(),
        }
    }

    /// These users, whose deletion empties `data`'s stores of the account
    /// (as the SQL store's does in its transaction).
    #[must_use]
    pub fn with_account_data(mut self, data: AccountData) -> Self {
        self.account_data = data;
        self
    }

    /// Where the events of this store's changes are queued, under the
    /// lock of each change.
    #[must_use]
    pub fn webhooks(&self) -> &crate::MemoryWebhooks {
        &self.webhooks
    }

    /// The outbox that receives mail accompanying changes.
    #[must_use]
    pub fn outbox(&self) -> &crate::MemoryOutbox {
        &self.outbox
    }

    /// Replaces the role catalogue (by default [`RoleCatalogue::builtin`]).
    pub fn set_catalogue(&self, catalogue: RoleCatalogue) {
        lock(&self.table).catalogue = Some(catalogue);
    }

    /// Number of stored users.
    #[must_use]
    pub fn len(&self) -> usize {
        lock(&self.table).rows.len()
    }

    /// True when no user is stored.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl UserRepository for MemoryUsers {
    async fn create(
        &self,
        user: NewUser,
        mail: Option<&OutgoingMail>,
        events: &[PendingEvent],
    ) -> Result<User, CreateUserError> {
        let mut t = lock(&self.table);
        for u in t.rows.values() {
            if u.username.canonical() == user.username.canonical() {
                return Err(CreateUserError::Duplicate(UniqueField::Username));
            }
            if u.email == user.email {
                return Err(CreateUserError::Duplicate(UniqueField::Email));
            }
            if user.phone.is_some() && u.phone == user.phone {
                return Err(CreateUserError::Duplicate(UniqueField::Phone));
            }
            if u.public_id == user.public_id {
                return Err(CreateUserError::Duplicate(UniqueField::PublicId));
            }
        }
        t.next_id += 1;
        let stored = user.with_id(UserId(t.next_id));
        t.rows.insert(stored.id.0, stored.clone());
        if let Some(m) = mail {
            self.outbox.push(m, stored.created_at);
        }
        self.webhooks.queue(stored.id, events);
        Ok(stored)
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        Ok(lock(&self.table).rows.get(&id.0).cloned())
    }

    async fn mark_email_verified(
        &self,
        id: UserId,
        at: DateTime<Utc>,
        events: &[PendingEvent],
    ) -> Result<bool, StoreError> {
        Ok(lock(&self.table).rows.get_mut(&id.0).is_some_and(|u| {
            let changed = !u.email_verified;
            u.email_verified = true;
            if changed {
                u.updated_at = at;
                self.webhooks.queue(id, events);
            }
            changed
        }))
    }

    async fn clear_phone(&self, id: UserId, at: DateTime<Utc>) -> Result<(), StoreError> {
        if let Some(u) = lock(&self.table).rows.get_mut(&id.0)
            && u.phone.is_some()
        {
            u.phone = None;
            u.updated_at = at;
        }
        Ok(())
    }

    async fn change_contact(
        &self,
        id: UserId,
        change: &ContactChange,
        expected: Option<&ContactChange>,
        at: DateTime<Utc>,
        mail: Option<&OutgoingMail>,
        events: &[PendingEvent],
    ) -> Result<bool, CreateUserError> {
        let mut t = lock(&self.table);
        for u in t.rows.values().filter(|u| u.id != id) {
            match change {
                ContactChange::Email(e) if &u.email == e => {
                    return Err(CreateUserError::Duplicate(UniqueField::Email));
                }
                ContactChange::Phone(Some(p)) if u.phone.as_ref() == Some(p) => {
                    return Err(CreateUserError::Duplicate(UniqueField::Phone));
                }
                _ => {}
            }
        }
        let Some(u) = t.rows.get_mut(&id.0) else {
            return Ok(false);
        };
        let holds = match expected {
            None => true,
            Some(ContactChange::Email(e)) => &u.email == e,
            Some(ContactChange::Phone(p)) => &u.phone == p,
        };
        if !holds || expected.is_some_and(|e| e.kind() != change.kind()) {
            return Ok(false);
        }
        match change {
            ContactChange::Email(e) => {
                u.email = e.clone();
                u.email_verified = true;
            }
            ContactChange::Phone(p) => u.phone = p.clone(),
        }
        u.updated_at = at;
        if let Some(m) = mail {
            self.outbox.push(m, at);
        }
        self.webhooks.queue(id, events);
        Ok(true)
    }

    async fn find_by_login(&self, login: &Login) -> Result<Option<User>, StoreError> {
        let t = lock(&self.table);
        Ok(t.rows
            .values()
            .find(|u| match login {
                Login::Username(n) => u.username.canonical() == n.canonical(),
                Login::Email(e) => &u.email == e,
                Login::Phone(p) => u.phone.as_ref() == Some(p),
            })
            .cloned())
    }

    async fn update_password(
        &self,
        id: UserId,
        hash: &PasswordHash,
        at: DateTime<Utc>,
        mail: Option<&OutgoingMail>,
        events: &[PendingEvent],
    ) -> Result<(), StoreError> {
        let mut t = lock(&self.table);
        if let Some(u) = t.rows.get_mut(&id.0) {
            u.password_hash = hash.clone();
            u.updated_at = at;
            if let Some(m) = mail {
                self.outbox.push(m, at);
            }
            self.webhooks.queue(id, events);
        }
        Ok(())
    }
}

impl UserDirectory for MemoryUsers {
    async fn list(&self, query: &UserQuery) -> Result<UserPage, StoreError> {
        let t = lock(&self.table);
        let needle = query.search.as_deref().map(str::to_lowercase);
        let mut matching: Vec<&User> = t
            .rows
            .values()
            .filter(|u| {
                needle.as_deref().is_none_or(|n| {
                    u.username.as_str().to_lowercase().contains(n) || u.email.as_str().contains(n)
                })
            })
            .collect();
        match query.order {
            UserOrder::Id => matching.sort_by_key(|u| u.id),
            UserOrder::Newest => matching.sort_by_key(|u| std::cmp::Reverse(u.id)),
            UserOrder::Username => {
                matching
                    .sort_by(|a, b| (a.username.as_str(), a.id).cmp(&(b.username.as_str(), b.id)));
            }
            UserOrder::Email => {
                matching.sort_by(|a, b| (a.email.as_str(), a.id).cmp(&(b.email.as_str(), b.id)));
            }
        }
        Ok(UserPage {
            total: matching.len() as u64,
            users: matching
                .into_iter()
                .skip(usize::try_from(query.offset).unwrap_or(usize::MAX))
                .take(query.limit as usize)
                .cloned()
                .collect(),
        })
    }

    async fn set_active(
        &self,
        id: UserId,
        active: bool,
        at: DateTime<Utc>,
        events: &[PendingEvent],
    ) -> Result<bool, StoreError> {
        Ok(lock(&self.table).rows.get_mut(&id.0).is_some_and(|u| {
            let changed = u.is_active != active;
            if changed {
                u.is_active = active;
                u.updated_at = at;
                self.webhooks.queue(id, events);
            }
            changed
        }))
    }

    async fn grant_role(
        &self,
        id: UserId,
        role: &RoleName,
        at: DateTime<Utc>,
        events: &[PendingEvent],
    ) -> Result<bool, StoreError> {
        Ok(lock(&self.table).rows.get_mut(&id.0).is_some_and(|u| {
            let changed = !u.roles.contains(role);
            if changed {
                u.roles.push(role.clone());
                u.updated_at = at;
                self.webhooks.queue(id, events);
            }
            changed
        }))
    }

    async fn revoke_role(
        &self,
        id: UserId,
        role: &RoleName,
        fallback: &RoleName,
        at: DateTime<Utc>,
        events: &[PendingEvent],
    ) -> Result<bool, StoreError> {
        Ok(lock(&self.table).rows.get_mut(&id.0).is_some_and(|u| {
            if !u.roles.contains(role) {
                return false;
            }
            let others: Vec<RoleName> = u.roles.iter().filter(|r| *r != role).cloned().collect();
            if &u.role == role {
                match others.split_first() {
                    Some((first, rest)) => {
                        u.role = first.clone();
                        u.roles = User::role_list(first, rest.iter().cloned());
                    }
                    None if fallback == role => return false,
                    None => {
                        u.role = fallback.clone();
                        u.roles = vec![fallback.clone()];
                    }
                }
            } else {
                u.roles = User::role_list(&u.role, others);
            }
            u.updated_at = at;
            self.webhooks.queue(id, events);
            true
        }))
    }

    async fn delete(&self, id: UserId, events: &[PendingEvent]) -> Result<bool, StoreError> {
        let mut t = lock(&self.table);
        let removed = t.rows.remove(&id.0);
        let deleted = removed.is_some();
        if let Some(user) = &removed {
            self.outbox.forget_recipient(&user.email);
        }
        t.deletions.remove(&id.0);
        self.account_data.forget(id);
        if deleted {
            self.webhooks.queue(id, events);
        }
        Ok(deleted)
    }

    async fn delete_unverified(
        &self,
        id: UserId,
        events: &[PendingEvent],
    ) -> Result<bool, StoreError> {
        let mut t = lock(&self.table);
        if t.rows.get(&id.0).is_some_and(|u| !u.email_verified) {
            // The address's codes and mail stay: its owner may be the one
            // replacing the pending registration (as the SQL store).
            t.rows.remove(&id.0);
            t.deletions.remove(&id.0);
            self.account_data.forget(id);
            self.webhooks.queue(id, events);
            return Ok(true);
        }
        Ok(false)
    }

    async fn schedule_deletion(
        &self,
        id: UserId,
        _requested_at: DateTime<Utc>,
        due_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut t = lock(&self.table);
        if !t.rows.contains_key(&id.0) {
            return Ok(false);
        }
        t.deletions.insert(id.0, due_at);
        Ok(true)
    }

    async fn cancel_deletion(&self, id: UserId) -> Result<bool, StoreError> {
        Ok(lock(&self.table).deletions.remove(&id.0).is_some())
    }

    async fn deletion_due_at(&self, id: UserId) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(lock(&self.table).deletions.get(&id.0).copied())
    }

    async fn deletions_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<UserId>, StoreError> {
        let t = lock(&self.table);
        let mut due: Vec<(DateTime<Utc>, i64)> = t
            .deletions
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(id, at)| (*at, *id))
            .collect();
        due.sort_unstable();
        Ok(due
            .into_iter()
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(|(_, id)| UserId(id))
            .collect())
    }

    async fn delete_if_due(
        &self,
        id: UserId,
        now: DateTime<Utc>,
        events: &[PendingEvent],
    ) -> Result<bool, StoreError> {
        let mut t = lock(&self.table);
        if t.deletions.get(&id.0).is_none_or(|at| *at > now) {
            return Ok(false);
        }
        t.deletions.remove(&id.0);
        let removed = t.rows.remove(&id.0);
        let deleted = removed.is_some();
        if let Some(user) = &removed {
            self.outbox.forget_recipient(&user.email);
        }
        self.account_data.forget(id);
        if deleted {
            self.webhooks.queue(id, events);
        }
        Ok(deleted)
    }

    async fn unverified_before(
        &self,
        cutoff: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<UserId>, StoreError> {
        let t = lock(&self.table);
        let mut old: Vec<&User> = t
            .rows
            .values()
            .filter(|u| !u.email_verified && u.created_at < cutoff)
            .collect();
        old.sort_by_key(|u| (u.created_at, u.id));
        Ok(old.into_iter().take(limit as usize).map(|u| u.id).collect())
    }

    async fn catalogue(&self) -> Result<RoleCatalogue, StoreError> {
        Ok(lock(&self.table)
            .catalogue
            .clone()
            .unwrap_or_else(RoleCatalogue::builtin))
    }
}

/// Sessions in a map.
#[derive(Debug, Clone, Default)]
pub struct MemorySessions {
    rows: Arc<Mutex<HashMap<SessionId, Session>>>,
}

impl SessionStore for MemorySessions {
    async fn create(&self, session: &Session) -> Result<(), StoreError> {
        lock(&self.rows).insert(session.id, session.clone());
        Ok(())
    }

    async fn get(&self, id: SessionId) -> Result<Option<Session>, StoreError> {
        Ok(lock(&self.rows).get(&id).cloned())
    }

    async fn touch(&self, id: SessionId, at: DateTime<Utc>) -> Result<(), StoreError> {
        if let Some(s) = lock(&self.rows).get_mut(&id)
            && s.revoked_at.is_none()
        {
            s.last_used_at = at;
        }
        Ok(())
    }

    async fn list_for_user(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<Session>, StoreError> {
        let mut live: Vec<Session> = lock(&self.rows)
            .values()
            .filter(|s| s.user_id == user && s.is_open(now))
            .cloned()
            .collect();
        live.sort_by_key(|s| (s.created_at, s.id.0));
        Ok(live)
    }

    async fn rotate(&self, rotation: &SessionRotation) -> Result<bool, StoreError> {
        Ok(lock(&self.rows)
            .get_mut(&rotation.id)
            .is_some_and(|s| rotation.apply_to(s)))
    }

    async fn revoke(&self, id: SessionId, at: DateTime<Utc>) -> Result<bool, StoreError> {
        Ok(match lock(&self.rows).get_mut(&id) {
            Some(s) if s.revoked_at.is_none() => {
                s.revoked_at = Some(at);
                true
            }
            _ => false,
        })
    }

    async fn revoke_all_for_user(
        &self,
        user: UserId,
        keep: Option<SessionId>,
        at: DateTime<Utc>,
    ) -> Result<Vec<SessionId>, StoreError> {
        let mut revoked = Vec::new();
        for s in lock(&self.rows).values_mut() {
            if s.user_id == user && Some(s.id) != keep && s.revoked_at.is_none() {
                s.revoked_at = Some(at);
                revoked.push(s.id);
            }
        }
        Ok(revoked)
    }
}

/// Denied keys with their expiry; expired entries are swept as new ones arrive.
#[derive(Debug, Clone, Default)]
pub struct MemoryDenylist {
    entries: Arc<Mutex<HashMap<RevocationKey, DateTime<Utc>>>>,
}

impl MemoryDenylist {
    /// Number of entries held (expired ones included until the next sweep).
    #[must_use]
    pub fn len(&self) -> usize {
        lock(&self.entries).len()
    }

    /// True when empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Records an entry without sweeping (used to load persisted entries).
    pub fn insert(&self, key: RevocationKey, until: DateTime<Utc>) {
        let mut e = lock(&self.entries);
        let slot = e.entry(key).or_insert(until);
        *slot = (*slot).max(until);
    }
}

impl TokenDenylist for MemoryDenylist {
    async fn deny(&self, key: RevocationKey, until: DateTime<Utc>) -> Result<(), StoreError> {
        let mut e = lock(&self.entries);
        if e.len() >= 1024 && e.len().is_power_of_two() {
            let now = Utc::now();
            e.retain(|_, t| *t > now);
        }
        let slot = e.entry(key).or_insert(until);
        *slot = (*slot).max(until);
        Ok(())
    }

    async fn any_denied(
        &self,
        keys: &[RevocationKey],
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let e = lock(&self.entries);
        Ok(keys.iter().any(|k| e.get(k).is_some_and(|t| *t > now)))
    }
}

/// Keeps every text message it is asked to send, for tests and examples to read.
#[derive(Debug, Clone, Default)]
pub struct MemorySms {
    sent: Arc<Mutex<Vec<(String, String)>>>,
}

impl MemorySms {
    /// Every (phone, text) sent so far, oldest first.
    #[must_use]
    pub fn sent(&self) -> Vec<(String, String)> {
        lock(&self.sent).clone()
    }
}

impl tessera_domain::ports::SmsSender for MemorySms {
    async fn send(&self, to: &tessera_domain::values::Phone, text: &str) -> Result<(), StoreError> {
        lock(&self.sent).push((to.as_str().to_owned(), text.to_owned()));
        Ok(())
    }
}

/// Keeps every mail it is asked to send, for tests and examples to read.
#[derive(Debug, Clone, Default)]
pub struct MemoryMailer {
    sent: Arc<Mutex<Vec<OutgoingMail>>>,
}

impl MemoryMailer {
    /// Every mail sent so far, oldest first.
    #[must_use]
    pub fn sent(&self) -> Vec<OutgoingMail> {
        lock(&self.sent).clone()
    }
}

impl Mailer for MemoryMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), StoreError> {
        lock(&self.sent).push(mail.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_domain::values::Email;

    #[tokio::test]
    async fn memory_mailer_records_without_showing_bodies_in_debug() {
        let m = MemoryMailer::default();
        let mail = OutgoingMail {
            to: Email::parse("a@b.com").unwrap(),
            subject: "Verify".into(),
            text: "code 123456".into(),
            html: "<p>code 123456</p>".into(),
        };
        m.send(&mail).await.unwrap();
        assert_eq!(m.sent(), vec![mail.clone()]);
        assert!(!format!("{mail:?}").contains("123456"));
    }
}
