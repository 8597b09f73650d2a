use chrono::{DateTime, Utc};
use tessera_domain::error::StoreError;
use tessera_domain::model::RevocationKey;
use tessera_domain::ports::TokenDenylist;

use crate::MemoryDenylist;

/// A denylist whose checks are answered from memory while every write also
/// goes to a durable `primary` store.
///
/// Correct only while this process is the primary's sole writer (the embedded
/// SQLite default): other writers' entries would not be seen. Fill it from the
/// primary's live entries at start-up with [`MirroredDenylist::preload`].
#[derive(Debug, Clone)]
pub struct MirroredDenylist<D> {
    primary: D,
    mirror: MemoryDenylist,
}

impl<D: TokenDenylist> MirroredDenylist<D> {
    /// Mirrors `primary`, starting empty.
    #[must_use]
    pub fn new(primary: D) -> Self {
        Self {
            primary,
            mirror: MemoryDenylist::default(),
        }
    }

    /// Adds entries already held by the primary (read at start-up).
    pub fn preload(&self, entries: impl IntoIterator<Item = (RevocationKey, DateTime<Utc>)>) {
        for (key, until) in entries {
            self.mirror.insert(key, until);
        }
    }

    /// The durable store.
    pub fn primary(&self) -> &D {
        &self.primary
    }
}

impl<D: TokenDenylist> TokenDenylist for MirroredDenylist<D> {
    async fn deny(&self, key: RevocationKey, until: DateTime<Utc>) -> Result<(), StoreError> {
        // Durable first: a failure leaves nothing that a restart would forget.
        self.primary.deny(key, until).await?;
        self.mirror.deny(key, until).await
    }

    async fn any_denied(
        &self,
        keys: &[RevocationKey],
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.mirror.any_denied(keys, now).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use uuid::Uuid;

    #[tokio::test]
    async fn writes_through_and_reads_from_memory() {
        let primary = MemoryDenylist::default();
        let d = MirroredDenylist::new(primary.clone());
        let now = Utc::now();
        let k = RevocationKey::Token(Uuid::new_v4());
        d.deny(k, now + Duration::minutes(1)).await.unwrap();
        assert!(
            primary.any_denied(&[k], now).await.unwrap(),
            "written through"
        );
        assert!(d.any_denied(&[k], now).await.unwrap());

        let preloaded = RevocationKey::Token(Uuid::new_v4());
        let fresh = MirroredDenylist::new(MemoryDenylist::default());
        assert!(!fresh.any_denied(&[preloaded], now).await.unwrap());
        fresh.preload([(preloaded, now + Duration::minutes(1))]);
        assert!(fresh.any_denied(&[preloaded], now).await.unwrap());
    }
}
