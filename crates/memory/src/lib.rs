//! # tessera-memory
//!
//! In-memory stores for every storage port of Tessera: real, thread-safe
//! implementations. The server uses two of them in production:
//! [`MirroredDenylist`] as its in-process cache of a durable denylist and
//! [`MemoryRateLimiter`] for one instance. `tessera-embed`'s memory store is
//! made of all of them and is for demos and tests: the audit trail, the
//! outbox's sent mail and ended sessions are not pruned.
//! [`MemoryUsers::with_outbox`] queues mail in the same store, so a mail and
//! the change that causes it are one step.
//!
//! Test fakes (hashers, signers, clocks) and the port contract suites live in
//! `tessera-testkit`. Every store is cheap to clone; clones share state.

mod clients;
mod coherence;
mod extra;
mod factors;
mod identities;
mod mirror;
mod recent;
mod stores;
mod webhooks;

pub use clients::MemoryClients;
pub use coherence::{CacheBudget, Coherence, CoherentDenylist, CoherentUsers};
pub use extra::{
    MemoryAudit, MemoryCodes, MemoryOutbox, MemoryRateLimiter, MemoryTasks, MemoryUserCache,
};
pub use factors::MemoryFactors;
pub use identities::{MemoryIdentities, ScriptedUpstream};
pub use mirror::MirroredDenylist;
pub use recent::RecentSessions;
pub use stores::{
    AccountData, MemoryDenylist, MemoryMailer, MemorySessions, MemorySms, MemoryUsers,
};
pub use webhooks::{MemoryWebhooks, RecordingTransport, ScriptedTokenHook};
