//! # tessera-memory
//!
//! In-memory stores for every storage port of Tessera: real, thread-safe
//! implementations used in production. `tessera-embed`'s memory store is
//! made of them, and the server uses [`MirroredDenylist`] as its in-process
//! cache of a durable denylist and [`MemoryRateLimiter`] for one instance.
//! [`MemoryUsers::with_outbox`] queues mail in the same store, so a mail and
//! the change that causes it are one step.
//!
//! Test fakes (hashers, signers, clocks) and the port contract suites live in
//! `tessera-testkit`. Every store is cheap to clone; clones share state.

mod extra;
mod mirror;
mod stores;

pub use extra::{
    MemoryAudit, MemoryCodes, MemoryOutbox, MemoryRateLimiter, MemoryTasks, MemoryUserCache,
};
pub use mirror::MirroredDenylist;
pub use stores::{MemoryDenylist, MemoryMailer, MemorySessions, MemorySms, MemoryUsers};
