//! The audit trail.

use std::future::Future;

use crate::error::StoreError;
use crate::model::AuditEvent;

/// Where the audit trail goes.
pub trait AuditLog: Send + Sync + 'static {
    /// Records one event. The use cases go on when this fails (an adapter
    /// should log the event before it tries a store that may be down).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn record(&self, event: &AuditEvent) -> impl Future<Output = Result<(), StoreError>> + Send;
}
