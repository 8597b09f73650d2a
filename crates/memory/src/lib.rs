//! # tessera-memory
//!
//! In-memory implementations of every Tessera port.
//!
//! - Stores ([`MemoryUsers`], [`MemorySessions`], [`MemoryDenylist`]) are real,
//!   thread-safe implementations: a backend team can embed them, and the server
//!   uses [`MirroredDenylist`] as its in-process cache of a durable denylist.
//! - Fakes ([`PlainHasher`], [`FakeSigner`], [`FakeRefreshCodec`], [`ManualClock`],
//!   [`SequentialIds`]) are fast and deterministic for tests. They provide **no
//!   security**: pair the stores with `tessera-crypto` in anything real (see
//!   `examples/embedded.rs`).
//!
//! Every store is cheap to clone; clones share state.

#[cfg(feature = "contract")]
pub mod contract;
mod extra;
mod fakes;
mod mirror;
mod stores;

pub use extra::{
    MemoryAudit, MemoryCodes, MemoryOutbox, MemoryRateLimiter, MemoryTasks, MemoryUserCache,
};
pub use fakes::{FakeRefreshCodec, FakeSigner, ManualClock, PlainHasher, SequentialIds};
pub use mirror::MirroredDenylist;
pub use stores::{MemoryDenylist, MemoryMailer, MemorySessions, MemorySms, MemoryUsers};

use tessera_domain::ports::{Adapters, Ports};

/// A user named `legacy` (`legacy@example.com`) to store directly, for tests
/// that put a hash in place without the registration use case.
#[must_use]
pub fn contract_free_new_user() -> tessera_domain::model::NewUser {
    use tessera_domain::values::{Email, RoleName, Username};
    tessera_domain::model::NewUser {
        public_id: uuid::Uuid::new_v4(),
        username: Username::from_stored("legacy".into()),
        email: Email::from_stored("legacy@example.com".into()),
        phone: None,
        password_hash: tessera_domain::model::PasswordHash::new("plain$"),
        role: RoleName::from_stored("unauth".into()),
        email_verified: false,
        created_at: chrono::Utc::now(),
    }
}

/// Every port served by this crate's fakes and stores: the fastest wiring for tests.
#[derive(Debug, Clone, Copy)]
pub struct MemoryPorts;

impl Ports for MemoryPorts {
    type Users = MemoryUsers;
    type Sessions = MemorySessions;
    type Denylist = MemoryDenylist;
    type Hasher = PlainHasher;
    type Signer = FakeSigner;
    type Codec = FakeRefreshCodec;
    type Clock = ManualClock;
    type Ids = SequentialIds;
    type Codes = MemoryCodes;
    type Limiter = MemoryRateLimiter;
    type Outbox = MemoryOutbox;
    type Sms = MemorySms;
    type Audit = MemoryAudit;
    type Tasks = MemoryTasks;
}

/// Fresh adapters for [`MemoryPorts`], sharing `clock` so a test can move time.
#[must_use]
pub fn memory_adapters(clock: ManualClock) -> Adapters<MemoryPorts> {
    let outbox = MemoryOutbox::default();
    Adapters {
        users: MemoryUsers::with_outbox(outbox.clone()),
        sessions: MemorySessions::default(),
        denylist: MemoryDenylist::default(),
        hasher: PlainHasher::default(),
        signer: FakeSigner,
        codec: FakeRefreshCodec,
        clock,
        ids: SequentialIds::default(),
        codes: MemoryCodes::default(),
        limiter: MemoryRateLimiter::default(),
        outbox,
        sms: MemorySms::default(),
        audit: MemoryAudit::default(),
        tasks: MemoryTasks::default(),
    }
}
