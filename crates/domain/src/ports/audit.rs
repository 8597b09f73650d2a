//! The audit trail.

use std::future::Future;

use crate::error::StoreError;
use crate::model::{AuditEvent, AuditPage, AuditQuery};

/// Where the audit trail goes.
pub trait AuditLog: Send + Sync + 'static {
    /// Records one event. The use cases go on when this fails (an adapter
    /// should log the event before it tries a store that may be down).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn record(&self, event: &AuditEvent) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Reads the trail back, newest first: the events that pass `query`'s
    /// filters, `query.limit` of them after `query.offset`, and how many pass
    /// in all. A trail that only writes (a log shipper, say) keeps this
    /// default, which refuses: the admin console then says it cannot show it.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails, or the trail cannot be read back.
    fn query(
        &self,
        query: &AuditQuery,
    ) -> impl Future<Output = Result<AuditPage, StoreError>> + Send {
        let _ = query;
        async {
            Err(StoreError::Unavailable(
                "this audit trail is written, not read back".to_owned(),
            ))
        }
    }
}
