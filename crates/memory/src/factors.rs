//! Second factors in maps (issue 17): every decision under one lock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use tessera_domain::error::StoreError;
use tessera_domain::model::{FactorOverview, SealedSecret, TokenFingerprint, TotpFactor, UserId};
use tessera_domain::ports::FactorStore;

#[derive(Debug, Default)]
struct Tables {
    totp: HashMap<UserId, TotpFactor>,
    /// Per user: fingerprint → used at.
    recovery: HashMap<UserId, HashMap<String, Option<DateTime<Utc>>>>,
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
}

impl FactorStore for MemoryFactors {
    async fn overview(&self, user: UserId) -> Result<FactorOverview, StoreError> {
        Ok(self.with(|t| {
            let totp = t.totp.get(&user);
            FactorOverview {
                totp_confirmed_at: totp.and_then(|f| f.confirmed_at),
                totp_pending: totp.is_some_and(|f| f.confirmed_at.is_none()),
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
            t.recovery.remove(&user);
            t.totp.remove(&user).is_some()
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
}
