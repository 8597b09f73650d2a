//! The ports of the in-memory store.

use tessera_crypto::{Argon2Hasher, HmacRefreshCodec, JwtSigner};
use tessera_domain::clock::{RandomIds, SystemClock};
use tessera_domain::ports::Ports;
use tessera_memory::{
    MemoryAudit, MemoryCodes, MemoryDenylist, MemoryOutbox, MemoryRateLimiter, MemorySessions,
    MemoryTasks, MemoryUsers,
};

use crate::AnySms;

/// Everything in this process's memory (lost when it ends) with the real
/// hasher, signer and clock: for demos and tests of an embedding, not for
/// real traffic (the audit trail, sent mail and ended sessions are never
/// pruned). Built by [`crate::Builder::memory`].
#[derive(Debug, Clone, Copy)]
pub struct MemoryStack;

impl Ports for MemoryStack {
    type Users = MemoryUsers;
    type Sessions = MemorySessions;
    type Denylist = MemoryDenylist;
    type Hasher = Argon2Hasher;
    type Signer = JwtSigner;
    type Codec = HmacRefreshCodec;
    type Clock = SystemClock;
    type Ids = RandomIds;
    type Codes = MemoryCodes;
    type Limiter = MemoryRateLimiter;
    type Outbox = MemoryOutbox;
    type Sms = AnySms;
    type Audit = MemoryAudit;
    type Tasks = MemoryTasks;
    type Factors = tessera_memory::MemoryFactors;
    type Otp = tessera_crypto::TotpAuthenticator;
    type RelyingParty = tessera_crypto::WebAuthnRelyingParty;
    type Clients = tessera_memory::MemoryClients;
    type Identities = tessera_memory::MemoryIdentities;
    type Upstream = tessera_federation::UpstreamClient;
    type Webhooks = tessera_memory::MemoryWebhooks;
    type WebhookTransport = tessera_webhooks::HttpWebhookTransport;
    type TokenHook = tessera_webhooks::HttpAccessTokenHook;
}
