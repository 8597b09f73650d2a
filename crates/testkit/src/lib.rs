//! # tessera-testkit
//!
//! Test support for Tessera's crates and for anyone writing an adapter:
//!
//! - [`fakes`]: fast, deterministic stand-ins for the cryptographic and
//!   time ports ([`PlainHasher`], [`FakeSigner`], [`FakeRefreshCodec`],
//!   [`ManualClock`], [`SequentialIds`]) and a denylist that fails on demand
//!   ([`FlakyDenylist`]). They provide **no security**.
//! - [`contract`]: the behaviour every adapter of a port must show; the
//!   in-memory, SQL and Redis crates run the same suites.
//! - [`MemoryPorts`] / [`memory_adapters`]: the in-memory stores of
//!   `tessera-memory` with the fakes, the fastest wiring of the use cases;
//!   [`test_client`], the caller of a test request.
//! - Throw-away servers ([`PrivateRedis`], [`PrivateMariaDb`],
//!   [`PrivateSmtpSink`]) for fault tests.
//!
//! Meant for `[dev-dependencies]` only.

pub mod contract;
pub mod fakes;
mod servers;

pub use fakes::{
    FakeRefreshCodec, FakeSigner, FlakyDenylist, ManualClock, PlainHasher, SequentialIds,
};
pub use servers::*;

use tessera_domain::model::RoleCatalogue;
use tessera_domain::ports::{Adapters, Ports};
use tessera_memory::{
    MemoryAudit, MemoryCodes, MemoryDenylist, MemoryOutbox, MemoryRateLimiter, MemorySessions,
    MemorySms, MemoryTasks, MemoryUsers,
};

/// The caller of a test request: `192.0.2.1` (TEST-NET-1, RFC 5737) with
/// the `User-Agent` `tessera-test`. Every test request shares this address,
/// and with it one throttle bucket, as requests from one machine would.
#[must_use]
pub fn test_client() -> tessera_domain::model::ClientInfo {
    tessera_domain::model::ClientInfo::new(
        Some(std::net::IpAddr::from([192, 0, 2, 1])),
        Some("tessera-test"),
    )
}

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

/// The roles the SQL migrations seed besides the domain's neutral ones
/// (seed 003's; `migrations/*/2026-11-22-000004_roles`), each with
/// [`BASE_PERMISSIONS`](tessera_domain::model::BASE_PERMISSIONS) at rank 0.
pub const SEEDED_ROLES: &[&str] = &["pharmacy", "supplier", "logistics", "regulator", "unauth"];

/// The catalogue the SQL migrations create: [`RoleCatalogue::builtin`]
/// with [`SEEDED_ROLES`], for in-memory stores that should hold what a
/// migrated database holds ([`tessera_memory::MemoryUsers::set_catalogue`]).
#[must_use]
pub fn migrated_catalogue() -> RoleCatalogue {
    let builtin = RoleCatalogue::builtin();
    let ranks: Vec<(String, i32)> = builtin
        .names()
        .map(|n| (n.to_owned(), builtin.rank_of(n)))
        .collect();
    let mut pairs: Vec<(String, Option<String>)> = Vec::new();
    for name in builtin.names() {
        pairs.push((name.to_owned(), None));
        for p in builtin.permissions_of(name) {
            pairs.push((name.to_owned(), Some(p.clone())));
        }
    }
    for role in SEEDED_ROLES {
        for p in tessera_domain::model::BASE_PERMISSIONS {
            pairs.push(((*role).to_owned(), Some((*p).to_owned())));
        }
    }
    RoleCatalogue::from_pairs(pairs).with_ranks(ranks)
}

/// Every port served by `tessera-memory`'s stores and this crate's fakes:
/// the fastest wiring for tests.
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
    type Factors = tessera_memory::MemoryFactors;
    type Otp = tessera_crypto::TotpAuthenticator;
    type RelyingParty = tessera_crypto::WebAuthnRelyingParty;
    type Clients = tessera_memory::MemoryClients;
    type Identities = tessera_memory::MemoryIdentities;
    type Upstream = tessera_memory::ScriptedUpstream;
    type Webhooks = tessera_memory::MemoryWebhooks;
    type WebhookTransport = tessera_memory::RecordingTransport;
    type TokenHook = tessera_memory::ScriptedTokenHook;
}

/// Fresh adapters for [`MemoryPorts`], sharing `clock` so a test can move time.
/// The users' store queues mail into the returned outbox and holds the
/// catalogue of a migrated database ([`migrated_catalogue`]).
#[must_use]
pub fn memory_adapters(clock: ManualClock) -> Adapters<MemoryPorts> {
    let outbox = MemoryOutbox::default();
    let data = tessera_memory::AccountData::default();
    let users = MemoryUsers::with_outbox(outbox.clone()).with_account_data(data.clone());
    users.set_catalogue(migrated_catalogue());
    Adapters {
        webhooks: users.webhooks().clone(),
        webhook_transport: tessera_memory::RecordingTransport::default(),
        token_hook: tessera_memory::ScriptedTokenHook::default(),
        users,
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
        audit: data.audit,
        tasks: MemoryTasks::default(),
        factors: data.factors,
        otp: tessera_crypto::TotpAuthenticator::new(b"testkit server secret"),
        relying_party: test_relying_party(),
        clients: data.clients,
        identities: data.identities,
        upstream: tessera_memory::ScriptedUpstream::default(),
    }
}

/// The relying party of the test ports: RP id `localhost`, origin
/// [`TEST_ORIGIN`] (any port).
///
/// # Panics
/// Never: the configuration is fixed and valid.
#[must_use]
pub fn test_relying_party() -> tessera_crypto::WebAuthnRelyingParty {
    let origin = url::Url::parse(TEST_ORIGIN).unwrap_or_else(|e| unreachable!("{e}"));
    tessera_crypto::WebAuthnRelyingParty::new("localhost", "Tessera", &[origin])
        .unwrap_or_else(|e| unreachable!("the test relying party is valid: {e}"))
}

/// The origin passkey ceremonies of the test ports come from.
pub const TEST_ORIGIN: &str = "http://localhost:8080";
