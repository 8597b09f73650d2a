//! Second factors in maps (issue 17): every decision under one lock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use tessera_domain::error::StoreError;
use tessera_domain::model::{
    FactorOverview, Passkey, PasskeyAdded, SealedSecret, StoredCredential, TokenFingerprint,
    TotpFactor, UserId,
};
use tessera_domain::ports::FactorStore;
use uuid::Uuid;

#[derive(Debug, Default)]
struct Tables {
    totp: HashMap<UserId, TotpFactor>,
    /// Per user: fingerprint → used at.
    recovery: HashMap<UserId, HashMap<String, Option<DateTime<Utc>>>>,
    /// Every account's passkeys, in registration order.
    passkeys: Vec<Passkey>,
}

impl Tables {
    /// Whether `user` holds any factor (a confirmed TOTP factor, a passkey).
    fn has_factor(&self, user: UserId) -> bool {
        self.totp.get(&user).is_some_and(TotpFactor::is_confirmed)
            || self.passkeys.iter().any(|p| p.user_id == user)
    }
}

/// TOTP factors and recovery codes in maps, for tests and the in-memory
/// stack.
#[derive(Debug, Clone, Default)]
pub struct MemoryFactors {
    tables: Arc<Mutex<Tables>>,
}

impl MemoryFactors {
    fn with<T>(&self, f: impl FnOnce(&mut Tables) -> T) -> T {
        // Every update below is a single map operation: a panic cannot leave
        // the tables half-updated.
        f(&mut self.tables.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Drops every factor, recovery code and passkey of `user` (its
    /// account was deleted).
    pub(crate) fn forget_user(&self, user: UserId) {
        self.with(|t| {
            t.totp.remove(&user);
            t.recovery.remove(&user);
            t.passkeys.retain(|p| p.user_id != user);
        });
    }
}

impl FactorStore for MemoryFactors {
    async fn overview(&self, user: UserId) -> Result<FactorOverview, StoreError> {
        Ok(self.with(|t| {
            let totp = t.totp.get(&user);
            FactorOverview {
                totp_confirmed_at: totp.and_then(|f| f.confirmed_at),
                totp_pending: totp.is_some_and(|f| f.confirmed_at.is_none()),
                passkeys: u32::try_from(t.passkeys.iter().filter(|p| p.user_id == user).count())
                    .unwrap_or(u32::MAX),
                recovery_codes_left: t.recovery.get(&user).map_or(0, |codes| {
                    u32::try_from(codes.values().filter(|used| used.is_none()).count())
                        .unwrap_or(u32::MAX)
                }),
            }
        }))
    }

    async fn totp(&self, user: UserId) -> Result<Option<TotpFactor>, StoreError> {
        Ok(self.with(|t| t.totp.get(&user).cloned()))
    }

    async fn begin_totp(&self, factor: &TotpFactor) -> Result<bool, StoreError> {
        Ok(self.with(|t| {
            if t.totp
                .get(&factor.user_id)
                .is_some_and(TotpFactor::is_confirmed)
            {
                return false;
            }
            t.totp.insert(factor.user_id, factor.clone());
            true
        }))
    }

    async fn confirm_totp(
        &self,
        user: UserId,
        sealed_secret: &SealedSecret,
        step: u64,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        Ok(self.with(|t| match t.totp.get_mut(&user) {
            Some(f) if !f.is_confirmed() && &f.sealed_secret == sealed_secret => {
                f.confirmed_at = Some(at);
                f.last_used_step = Some(step);
                true
            }
            _ => false,
        }))
    }

    async fn use_totp_step(&self, user: UserId, step: u64) -> Result<bool, StoreError> {
        Ok(self.with(|t| match t.totp.get_mut(&user) {
            Some(f) if f.is_confirmed() && f.last_used_step.is_none_or(|last| last < step) => {
                f.last_used_step = Some(step);
                true
            }
            _ => false,
        }))
    }

    async fn remove_totp(&self, user: UserId) -> Result<bool, StoreError> {
        Ok(self.with(|t| {
            let removed = t.totp.remove(&user).is_some();
            if !t.has_factor(user) {
                t.recovery.remove(&user);
            }
            removed
        }))
    }

    async fn replace_recovery_codes(
        &self,
        user: UserId,
        fingerprints: &[TokenFingerprint],
        _at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.with(|t| {
            t.recovery.insert(
                user,
                fingerprints.iter().map(|f| (f.0.clone(), None)).collect(),
            );
        });
        Ok(())
    }

    async fn use_recovery_code(
        &self,
        user: UserId,
        fingerprint: &TokenFingerprint,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        Ok(self.with(|t| {
            match t
                .recovery
                .get_mut(&user)
                .and_then(|c| c.get_mut(&fingerprint.0))
            {
                Some(used @ None) => {
                    *used = Some(at);
                    true
                }
                _ => false,
            }
        }))
    }

    async fn passkeys(&self, user: UserId) -> Result<Vec<Passkey>, StoreError> {
        Ok(self.with(|t| {
            t.passkeys
                .iter()
                .filter(|p| p.user_id == user)
                .cloned()
                .collect()
        }))
    }

    async fn passkey_by_credential(
        &self,
        credential_id: &str,
    ) -> Result<Option<Passkey>, StoreError> {
        Ok(self.with(|t| {
            t.passkeys
                .iter()
                .find(|p| p.credential_id == credential_id)
                .cloned()
        }))
    }

    async fn add_passkey(
        &self,
        passkey: &Passkey,
        max_per_account: usize,
        recovery_codes: &[TokenFingerprint],
    ) -> Result<PasskeyAdded, StoreError> {
        Ok(self.with(|t| {
            if t.passkeys
                .iter()
                .any(|p| p.credential_id == passkey.credential_id)
            {
                return PasskeyAdded::CredentialTaken;
            }
            let user = passkey.user_id;
            let held = t.passkeys.iter().filter(|p| p.user_id == user).count();
            if held >= max_per_account {
                return PasskeyAdded::AccountFull;
            }
            t.passkeys.push(passkey.clone());
            let has_codes = t
                .recovery
                .get(&user)
                .is_some_and(|codes| codes.values().any(Option::is_none));
            if !has_codes {
                t.recovery.insert(
                    user,
                    recovery_codes.iter().map(|f| (f.0.clone(), None)).collect(),
                );
            }
            PasskeyAdded::Added {
                recovery_codes_issued: !has_codes,
            }
        }))
    }

    async fn rename_passkey(&self, user: UserId, id: Uuid, name: &str) -> Result<bool, StoreError> {
        Ok(self.with(|t| {
            match t
                .passkeys
                .iter_mut()
                .find(|p| p.id == id && p.user_id == user)
            {
                Some(p) => {
                    name.clone_into(&mut p.name);
                    true
                }
                None => false,
            }
        }))
    }

    async fn remove_passkey(&self, user: UserId, id: Uuid) -> Result<bool, StoreError> {
        Ok(self.with(|t| {
            let before = t.passkeys.len();
            t.passkeys.retain(|p| !(p.id == id && p.user_id == user));
            let removed = t.passkeys.len() < before;
            if removed && !t.has_factor(user) {
                t.recovery.remove(&user);
            }
            removed
        }))
    }

    async fn record_passkey_use(
        &self,
        id: Uuid,
        previous: &StoredCredential,
        updated: Option<(&StoredCredential, bool)>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        Ok(self.with(|t| {
            let Some(p) = t.passkeys.iter_mut().find(|p| p.id == id) else {
                return false;
            };
            if let Some((credential, backup_eligible)) = updated {
                if &p.credential != previous {
                    return false;
                }
                p.credential = credential.clone();
                p.backup_eligible = backup_eligible;
            }
            p.last_used_at = Some(at);
            true
        }))
    }

    async fn remove_all_factors(&self, user: UserId) -> Result<bool, StoreError> {
        Ok(self.with(|t| {
            let before = t.passkeys.len();
            t.passkeys.retain(|p| p.user_id != user);
            let passkeys = t.passkeys.len() < before;
            let totp = t.totp.remove(&user).is_some();
            let codes = t.recovery.remove(&user).is_some();
            passkeys || totp || codes
        }))
    }
}
