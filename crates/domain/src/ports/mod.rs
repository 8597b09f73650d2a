//! Port traits: everything the use cases need from the outside world.
//!
//! Async ports return `impl Future<Output = Result<T, E>> + Send` so that
//! adapters need no boxing and the service stays `Send` on multi-threaded
//! runtimes. Every adapter must be `Send + Sync + 'static`.

use crate::clock::{Clock, IdSource};

mod audit;
mod changes;
mod clients;
mod codes;
mod credentials;
mod factors;
mod messages;
mod passkeys;
mod sessions;
mod tasks;
mod token_hook;
mod upstream;
mod users;
mod webhooks;

pub use audit::*;
pub use changes::*;
pub use clients::*;
pub use codes::*;
pub use credentials::*;
pub use factors::*;
pub use messages::*;
pub use passkeys::*;
pub use sessions::*;
pub use tasks::*;
pub use token_hook::*;
pub use upstream::*;
pub use users::*;
pub use webhooks::*;

/// The adapters one program chose: one associated type per port.
///
/// ```ignore
/// struct MyPorts;
/// impl Ports for MyPorts {
///     type Users = MyUserTable;
///     // ...
/// }
/// let service = AuthService::<MyPorts>::new(adapters, settings);
/// ```
pub trait Ports: Send + Sync + 'static {
    /// User repository (and directory, for administrators).
    type Users: UserRepository + UserDirectory;
    /// Session store.
    type Sessions: SessionStore;
    /// Access-token denylist.
    type Denylist: TokenDenylist;
    /// Password hasher.
    type Hasher: PasswordHasher;
    /// Access-token signer, also the ID-token signer of the OpenID Provider.
    type Signer: AccessTokenSigner + IdTokenSigner + ClientAssertionVerifier;
    /// Refresh-token codec.
    type Codec: RefreshTokenCodec;
    /// Clock.
    type Clock: Clock;
    /// Id source.
    type Ids: IdSource;
    /// Verification codes.
    type Codes: CodeStore;
    /// Rate-limit counters.
    type Limiter: RateLimiter;
    /// Queued mail (mail that accompanies no other change).
    type Outbox: MailOutbox;
    /// Text messages.
    type Sms: SmsSender;
    /// The audit trail.
    type Audit: AuditLog;
    /// Deferred work.
    type Tasks: TaskQueue;
    /// Second factors (issue 17).
    type Factors: FactorStore;
    /// TOTP arithmetic and the sealing of its secrets.
    type Otp: OneTimePasswords;
    /// The WebAuthn relying party (passkeys).
    type RelyingParty: RelyingParty;
    /// The OpenID Provider's clients, consents and grants (issue 18).
    type Clients: ClientRegistry;
    /// Identities linked to accounts, and the console's upstream providers (issue 19).
    type Identities: IdentityLinks;
    /// The relying party of upstream providers (issue 19).
    type Upstream: UpstreamRelyingParty;
    /// Webhook endpoints, queued events and deliveries (issue 20).
    type Webhooks: WebhookStore;
    /// What posts a webhook message.
    type WebhookTransport: WebhookTransport;
    /// What asks the access-token hook for custom claims (issue 20).
    type TokenHook: AccessTokenHook;
}

/// One instance of every port of `P`.
pub struct Adapters<P: Ports> {
    /// Users.
    pub users: P::Users,
    /// Sessions.
    pub sessions: P::Sessions,
    /// Denylist.
    pub denylist: P::Denylist,
    /// Hasher.
    pub hasher: P::Hasher,
    /// Signer.
    pub signer: P::Signer,
    /// Codec.
    pub codec: P::Codec,
    /// Clock.
    pub clock: P::Clock,
    /// Ids.
    pub ids: P::Ids,
    /// Codes.
    pub codes: P::Codes,
    /// Limiter.
    pub limiter: P::Limiter,
    /// Outbox.
    pub outbox: P::Outbox,
    /// SMS.
    pub sms: P::Sms,
    /// Audit trail.
    pub audit: P::Audit,
    /// Deferred work.
    pub tasks: P::Tasks,
    /// Second factors.
    pub factors: P::Factors,
    /// TOTP arithmetic.
    pub otp: P::Otp,
    /// The WebAuthn relying party.
    pub relying_party: P::RelyingParty,
    /// The OpenID Provider's registry.
    pub clients: P::Clients,
    /// Linked identities and the console's upstream providers.
    pub identities: P::Identities,
    /// The relying party of upstream providers.
    pub upstream: P::Upstream,
    /// Webhook endpoints, events and deliveries.
    pub webhooks: P::Webhooks,
    /// What posts webhook messages.
    pub webhook_transport: P::WebhookTransport,
    /// The access-token hook.
    pub token_hook: P::TokenHook,
}

impl<P: Ports> Clone for Adapters<P>
where
    P::Users: Clone,
    P::Sessions: Clone,
    P::Denylist: Clone,
    P::Hasher: Clone,
    P::Signer: Clone,
    P::Codec: Clone,
    P::Clock: Clone,
    P::Ids: Clone,
    P::Codes: Clone,
    P::Limiter: Clone,
    P::Outbox: Clone,
    P::Sms: Clone,
    P::Audit: Clone,
    P::Tasks: Clone,
    P::Factors: Clone,
    P::Otp: Clone,
    P::RelyingParty: Clone,
    P::Clients: Clone,
    P::Identities: Clone,
    P::Upstream: Clone,
    P::Webhooks: Clone,
    P::WebhookTransport: Clone,
    P::TokenHook: Clone,
{
    fn clone(&self) -> Self {
        Self {
            users: self.users.clone(),
            sessions: self.sessions.clone(),
            denylist: self.denylist.clone(),
            hasher: self.hasher.clone(),
            signer: self.signer.clone(),
            codec: self.codec.clone(),
            clock: self.clock.clone(),
            ids: self.ids.clone(),
            codes: self.codes.clone(),
            limiter: self.limiter.clone(),
            outbox: self.outbox.clone(),
            sms: self.sms.clone(),
            audit: self.audit.clone(),
            tasks: self.tasks.clone(),
            factors: self.factors.clone(),
            otp: self.otp.clone(),
            relying_party: self.relying_party.clone(),
            clients: self.clients.clone(),
            identities: self.identities.clone(),
            upstream: self.upstream.clone(),
            webhooks: self.webhooks.clone(),
            webhook_transport: self.webhook_transport.clone(),
            token_hook: self.token_hook.clone(),
        }
    }
}
