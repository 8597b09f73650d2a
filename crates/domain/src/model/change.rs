//! Changes a store reports to the in-process caches of every instance.

use super::{RevocationKey, UserId};

/// Something a write changed that an in-process cache may hold a copy of, as
/// a store's [`crate::ports::ChangeFeed`] reports it to every instance and
/// process that shares the store (issue 15: coherent caches).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Change {
    /// The user's account changed (password, active state, roles, addresses)
    /// or was deleted: cached copies of it are dropped.
    User(UserId),
    /// The key was denied: cached "not denied" answers for it are dropped.
    Denied(RevocationKey),
    /// The feed cannot say what changed (its history was pruned past the
    /// reader's position): every cached copy is dropped.
    Everything,
}
