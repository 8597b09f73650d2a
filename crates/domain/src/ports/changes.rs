//! The change feed: how a store tells every instance what other writers changed.

use std::future::Future;
use std::time::Duration;

use crate::error::StoreError;
use crate::model::Change;

/// The changes committed to a shared store, in the order a reader can rely
/// on, so that in-process caches in front of the store stay coherent across
/// instances and processes (issue 15).
///
/// The promise every implementation keeps: **every change committed before a
/// call to [`ChangeFeed::changes`] began is in what that call returns or in
/// what an earlier call returned.** A reader that applies each answer before
/// the next call may therefore treat the start of its last successful call
/// as the time its caches are known to be current. A feed that cannot keep
/// the promise (its history was pruned past the reader) answers
/// [`Change::Everything`].
///
/// The feed is a cursor: it remembers how far its reader got. The first call
/// positions it at the store's present and returns nothing (a reader starts
/// with empty caches).
pub trait ChangeFeed: Send + 'static {
    /// The changes committed since the previous call; when there are none, the
    /// call may wait up to `wait` for one before answering with none.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be read; the cursor is kept, and
    /// the reader must not trust its caches until a later call succeeds.
    fn changes(
        &mut self,
        wait: Duration,
    ) -> impl Future<Output = Result<Vec<Change>, StoreError>> + Send;
}
