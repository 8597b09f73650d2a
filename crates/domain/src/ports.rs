//! Port traits: everything the use cases need from the outside world.
//!
//! Async ports return `impl Future<Output = Result<T, E>> + Send` so that
//! adapters need no boxing and the service stays `Send` on multi-threaded
//! runtimes. Every adapter must be `Send + Sync + 'static`.

use std::future::Future;

use chrono::{DateTime, Utc};

use crate::audit::AuditEvent;
use crate::clock::{Clock, IdSource};
use crate::code::{AttemptGrant, CodePurpose, VerificationCode};
use crate::error::{CreateUserError, HashError, SigningError, StoreError, TokenProblem};
use crate::newtypes::{Login, PasswordAttempt, RoleName};
use crate::permissions::RoleCatalogue;
use crate::session::{Session, SessionId};
use crate::token::{
    AccessClaims, RefreshToken, RefreshTokenParts, RevocationKey, TokenFingerprint,
};
use crate::user::{NewUser, PasswordHash, User, UserId, UserPage, UserQuery};

/// Where users live.
pub trait UserRepository: Send + Sync + 'static {
    /// Stores a new user and returns it with its id.
    ///
    /// # Errors
    /// [`CreateUserError::Duplicate`] when the username (ignoring ASCII case),
    /// email or phone is taken — decided by the store's own unique constraints,
    /// so that concurrent registrations cannot both win;
    /// [`CreateUserError::Store`] when the store fails. Nothing is stored on error.
    ///
    /// `mail`, when given, is queued in the outbox in the same transaction.
    fn create(
        &self,
        user: NewUser,
        mail: Option<&OutgoingMail>,
    ) -> impl Future<Output = Result<User, CreateUserError>> + Send;

    /// The user with this id, if any.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn find_by_id(
        &self,
        id: UserId,
    ) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;

    /// The user a login identifier names: usernames match without regard to
    /// ASCII case, emails and phones by their normalised form.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn find_by_login(
        &self,
        login: &Login,
    ) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;

    /// Replaces a user's password hash and sets `updated_at`; `mail`, when
    /// given, is queued in the outbox in the same transaction.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails. Updating a missing user is not an error.
    fn update_password(
        &self,
        id: UserId,
        hash: &PasswordHash,
        at: DateTime<Utc>,
        mail: Option<&OutgoingMail>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Removes the user's phone number (idempotent): a phone set by whoever
    /// registered an address is dropped when the address's owner claims the
    /// account (issue 12, item 3).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn clear_phone(
        &self,
        id: UserId,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Marks the user's email as confirmed; true when it was not yet.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn mark_email_verified(
        &self,
        id: UserId,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// What administrators need from the user store besides [`UserRepository`]:
/// listing, enabling and disabling, roles, and the role catalogue.
pub trait UserDirectory: Send + Sync + 'static {
    /// Users matching `query`, ordered by id, with the total count.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn list(&self, query: &UserQuery) -> impl Future<Output = Result<UserPage, StoreError>> + Send;

    /// Enables or disables a user; true when that changed something.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails. A missing user is not an error (false).
    fn set_active(
        &self,
        id: UserId,
        active: bool,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Grants `role` (which the caller has checked against the catalogue);
    /// true when the user did not hold it yet.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails. A missing user is not an error (false).
    fn grant_role(
        &self,
        id: UserId,
        role: &RoleName,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Takes `role` away; true when the user held it. When it was the primary
    /// role, the first other granted role becomes primary, or `fallback` when
    /// there is none (so a user always holds at least one role). Atomic.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails. A missing user is not an error (false).
    fn revoke_role(
        &self,
        id: UserId,
        role: &RoleName,
        fallback: &RoleName,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Every role and its permissions.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn catalogue(&self) -> impl Future<Output = Result<RoleCatalogue, StoreError>> + Send;

    /// Deletes a user with their granted roles (and, in stores that keep
    /// them with the user, their sessions); true when the user existed. Atomic.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn delete(&self, id: UserId) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// [`Self::delete`], but only while the account's address is still
    /// unverified (one conditional statement, so a verification racing with
    /// it wins or loses whole); true when it deleted. Used to replace or
    /// remove a pending account (issue 12, item 3).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn delete_unverified(
        &self,
        id: UserId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Ids of up to `limit` accounts whose address is unverified and that
    /// were created before `cutoff`, oldest first (`UNVERIFIED_ACCOUNT_TTL`).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn unverified_before(
        &self,
        cutoff: DateTime<Utc>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<UserId>, StoreError>> + Send;
}

/// Where the audit trail goes.
pub trait AuditLog: Send + Sync + 'static {
    /// Records one event. The use cases go on when this fails (an adapter
    /// should log the event before it tries a store that may be down).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn record(&self, event: &AuditEvent) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Where sessions (refresh-token families) live.
pub trait SessionStore: Send + Sync + 'static {
    /// Stores a new session.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn create(&self, session: &Session) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The session with this id, revoked or not.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn get(
        &self,
        id: SessionId,
    ) -> impl Future<Output = Result<Option<Session>, StoreError>> + Send;

    /// Compare-and-swap rotation: if the session is unrevoked and still at
    /// `from_generation`, moves it to `from_generation + 1` with the new
    /// fingerprint, sets `rotated_at` and `last_used_at` to `at`, and returns
    /// true. Otherwise changes nothing and returns false. Exactly one of many
    /// concurrent callers with the same `from_generation` gets true.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn rotate(
        &self,
        id: SessionId,
        from_generation: u32,
        new_fingerprint: &TokenFingerprint,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The live sessions of `user` at `now` (unrevoked, before their absolute
    /// end), oldest first.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn list_for_user(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<Session>, StoreError>> + Send;

    /// Sets `last_used_at` of an unrevoked session to `at` (a refresh that
    /// does not rotate, seed 004's). Missing or revoked sessions are left alone.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn touch(
        &self,
        id: SessionId,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Marks a session revoked (idempotent); true when this call revoked it
    /// (it existed and was not revoked yet), so that of many concurrent
    /// callers exactly one learns it did (one audit event per eviction).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn revoke(
        &self,
        id: SessionId,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Revokes every unrevoked session of `user` except `keep`, and returns the
    /// ids it revoked (so their access tokens can be denied too). Idempotent.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn revoke_all_for_user(
        &self,
        user: UserId,
        keep: Option<SessionId>,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<SessionId>, StoreError>> + Send;
}

/// Revoked access tokens and sessions, until their tokens would have expired anyway.
pub trait TokenDenylist: Send + Sync + 'static {
    /// Denies `key` until `until` (after which the entry may be forgotten). Idempotent.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn deny(
        &self,
        key: RevocationKey,
        until: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// True if any of `keys` is denied at `now`.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails; callers must then refuse the token
    /// (fail closed), never accept it.
    fn any_denied(
        &self,
        keys: &[RevocationKey],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Password hashing. Implementations must keep the work off the async executor.
pub trait PasswordHasher: Send + Sync + 'static {
    /// Hashes a password into a PHC string.
    ///
    /// # Errors
    /// [`HashError::Busy`] when too many hashes are waiting; [`HashError::Failed`] otherwise.
    fn hash(
        &self,
        password: &PasswordAttempt,
    ) -> impl Future<Output = Result<PasswordHash, HashError>> + Send;

    /// True when `password` matches `hash`.
    ///
    /// # Errors
    /// [`HashError::Busy`] when too many hashes are waiting; [`HashError::Failed`]
    /// when `hash` cannot be read.
    fn verify(
        &self,
        password: &PasswordAttempt,
        hash: &PasswordHash,
    ) -> impl Future<Output = Result<bool, HashError>> + Send;

    /// A valid hash of a random password, with the same cost as real ones. The
    /// service verifies against it when the user is unknown, so that unknown
    /// users and wrong passwords take the same time.
    fn dummy_hash(&self) -> &PasswordHash;

    /// True when `hash` should be replaced at the next successful login: a
    /// legacy format, or argon2 with other parameters than the configured ones.
    fn needs_rehash(&self, hash: &PasswordHash) -> bool;

    /// True when `hash` is in a format this hasher can verify (used to refuse
    /// unusable hashes at import).
    fn can_verify(&self, hash: &PasswordHash) -> bool;
}

/// Signs and checks access tokens.
pub trait AccessTokenSigner: Send + Sync + 'static {
    /// Encodes and signs `claims` as an access token.
    ///
    /// # Errors
    /// [`SigningError`] on a key problem.
    fn sign(&self, claims: &AccessClaims) -> Result<String, SigningError>;

    /// Checks the signature, the algorithm (from configuration, never from the
    /// token), the token type, issuer and audience, and returns the claims. The
    /// caller checks the times against its clock.
    ///
    /// # Errors
    /// [`TokenProblem::Malformed`] for anything that is not a JWT,
    /// [`TokenProblem::BadSignature`] for a JWT no key of ours signed, and
    /// [`TokenProblem::Invalid`] for a well-signed token that is not one of
    /// our access tokens.
    fn verify(&self, token: &str) -> Result<AccessClaims, TokenProblem>;

    /// The public keys that verify tokens, as JWKs (for `/.well-known/jwks.json`);
    /// none for symmetric keys.
    fn public_keys(&self) -> Vec<serde_json::Value> {
        Vec::new()
    }
}

/// Issues and reads refresh tokens.
pub trait RefreshTokenCodec: Send + Sync + 'static {
    /// The refresh token of `session` at `generation`. The same inputs always
    /// give the same token, so the live token can be handed out again within
    /// the reuse interval without storing it.
    fn issue(&self, session: SessionId, generation: u32) -> RefreshToken;

    /// Reads a token and checks its MAC; `None` for anything not issued by [`Self::issue`].
    fn parse(&self, token: &str) -> Option<RefreshTokenParts>;

    /// The fingerprint stored in place of the token.
    fn fingerprint(&self, token: &RefreshToken) -> TokenFingerprint;

    /// A keyed fingerprint of a short secret (a verification code or link
    /// secret): without the server's key, a leaked store does not let anyone
    /// try the million six-digit codes offline.
    fn keyed_fingerprint(&self, secret: &str) -> TokenFingerprint;
}

/// A cache of users by id (cache-aside: readers fill it, every change empties it).
pub trait UserCache: Send + Sync + 'static {
    /// The cached user, if present.
    ///
    /// # Errors
    /// [`StoreError`] when the cache fails.
    fn get(&self, id: UserId) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;

    /// Caches `user` for the cache's configured lifetime.
    ///
    /// # Errors
    /// [`StoreError`] when the cache fails.
    fn put(&self, user: &User) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Forgets the user (idempotent).
    ///
    /// # Errors
    /// [`StoreError`] when the cache fails; the caller must then fail too, or a
    /// stale copy could outlive the change.
    fn invalidate(&self, id: UserId) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Where verification codes wait to be used. At most one code exists per
/// (purpose, recipient); entries vanish at their expiry.
pub trait CodeStore: Send + Sync + 'static {
    /// Stores `code`, replacing any code of the same purpose and recipient.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn put(&self, code: &VerificationCode) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The live code for (purpose, recipient), if any.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn get(
        &self,
        purpose: CodePurpose,
        recipient: &str,
    ) -> impl Future<Output = Result<Option<VerificationCode>, StoreError>> + Send;

    /// Grants one comparison against the live code of (purpose, recipient),
    /// counting it first, in one atomic step: when fewer than `max_attempts`
    /// comparisons were granted, `attempts` goes up by one and the code is
    /// returned ([`AttemptGrant::Granted`]); otherwise nothing changes
    /// ([`AttemptGrant::Exhausted`]). Of any number of concurrent callers, at
    /// most `max_attempts - attempts` are granted (issue 12, item 1).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn claim_attempt(
        &self,
        purpose: CodePurpose,
        recipient: &str,
    ) -> impl Future<Output = Result<AttemptGrant, StoreError>> + Send;

    /// Removes the code and returns it: of concurrent callers, exactly one gets
    /// `Some` (single use).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn take(
        &self,
        purpose: CodePurpose,
        recipient: &str,
    ) -> impl Future<Output = Result<Option<VerificationCode>, StoreError>> + Send;
}

/// The answer of a rate limiter to one hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    /// Whether this hit is within the limit.
    pub allowed: bool,
    /// Hits counted in the current window, this one included.
    pub count: u32,
    /// The limit of the window.
    pub limit: u32,
    /// Hits left in the current window.
    pub remaining: u32,
    /// Seconds until the window resets.
    pub reset_after_secs: u64,
}

/// Fixed-window counters, shared by every instance when the store is shared.
pub trait RateLimiter: Send + Sync + 'static {
    /// Counts a hit on `key` and says whether it is within `limit` hits per `window_secs`.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn hit(
        &self,
        key: &str,
        limit: u32,
        window_secs: u64,
    ) -> impl Future<Output = Result<RateDecision, StoreError>> + Send;

    /// Seconds until the open window of `key` ends (rounded up), without
    /// counting a hit; `None` when no window is open.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn open_for(&self, key: &str) -> impl Future<Output = Result<Option<u64>, StoreError>> + Send;

    /// Forgets the window of `key` (idempotent).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn clear(&self, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// One mail to send. Bodies may contain codes and links: adapters must not log them.
#[derive(Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// Recipient address.
    pub to: crate::newtypes::Email,
    /// Subject line.
    pub subject: String,
    /// Plain-text part.
    pub text: String,
    /// HTML part.
    pub html: String,
}

impl std::fmt::Debug for OutgoingMail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutgoingMail")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// A queued mail with its delivery state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMail {
    /// Outbox id.
    pub id: i64,
    /// The mail.
    pub mail: OutgoingMail,
    /// Failed attempts so far.
    pub attempts: u32,
}

/// Mail waiting to be sent (written by the stores in the same transaction as
/// the change that causes it; see [`UserRepository::create`]).
pub trait MailOutbox: Send + Sync + 'static {
    /// Queues a mail that no other change accompanies.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn enqueue(
        &self,
        mail: &OutgoingMail,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Reserves up to `limit` mails due at `now` for `lease` and returns them;
    /// a mail reserved by another sender is skipped until its lease ends.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        lease: chrono::Duration,
    ) -> impl Future<Output = Result<Vec<QueuedMail>, StoreError>> + Send;

    /// Records a successful delivery: the mail is never sent again.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn mark_sent(
        &self,
        id: i64,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records a failed attempt and when to try again.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn mark_failed(
        &self,
        id: i64,
        attempts: u32,
        retry_at: DateTime<Utc>,
        error: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Mails not yet sent.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    fn pending(&self) -> impl Future<Output = Result<usize, StoreError>> + Send;
}

/// Sends mail (verification codes, reset links, notices).
pub trait Mailer: Send + Sync + 'static {
    /// Delivers one mail.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the mail server cannot be reached or
    /// refuses the mail; the caller keeps the mail and retries later.
    fn send(&self, mail: &OutgoingMail) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Sends text messages (the phone channel of password reset). The seeds name
/// no SMS provider: adapters write to a file or call a webhook.
pub trait SmsSender: Send + Sync + 'static {
    /// Sends `text` to `to`.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the message could not be handed over.
    fn send(
        &self,
        to: &crate::newtypes::Phone,
        text: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Work that a request hands off instead of doing it itself, so that what
/// the request costs does not depend on secret state (which addresses have
/// accounts: issue 12, item 12). A worker runs the tasks with
/// [`crate::AuthService::run_deferred`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeferredTask {
    /// Mail a new verification code and link to `email` if an unverified
    /// account has that address; do nothing otherwise.
    ResendVerification {
        /// The address asked for.
        email: crate::newtypes::Email,
        /// The language of the mail.
        locale: crate::mail::Locale,
    },
}

/// Where deferred tasks wait for the worker.
pub trait TaskQueue: Send + Sync + 'static {
    /// Queues `task`; never waits for the worker.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the queue is full.
    fn defer(&self, task: DeferredTask) -> Result<(), StoreError>;

    /// Every queued task, oldest first, leaving the queue empty.
    fn take_ready(&self) -> Vec<DeferredTask>;
}

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
    /// Access-token signer.
    type Signer: AccessTokenSigner;
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
}
