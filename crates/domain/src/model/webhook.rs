//! Webhooks (issue 20): the account events Tessera tells other applications
//! about, the endpoints that subscribe to them, and each delivery's attempts.
//!
//! Deliveries follow the Standard Webhooks specification
//! (<https://www.standardwebhooks.com/>, `spec/standard-webhooks.md`): a
//! message id (`webhook-id`), its time (`webhook-timestamp`) and an
//! HMAC-SHA256 signature (`webhook-signature`, `v1,<base64>`) over
//! `id.timestamp.body` with the endpoint's `whsec_` secret. The wire format
//! is the delivering adapter's; the domain decides which events exist, when
//! they are queued and when a delivery is tried again.

use std::fmt;

use chrono::{DateTime, Duration, Utc};

use crate::model::UserId;
use crate::secret::redacted_string;

/// What happened to an account: the `type` of a webhook message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    /// An account was created (registration, sign-up, an upstream sign-in;
    /// not an import: those accounts existed before).
    UserCreated,
    /// An account's e-mail address was verified.
    UserEmailVerified,
    /// An account's e-mail address was changed.
    UserEmailChanged,
    /// A session was opened (a login that passed every step).
    UserSignedIn,
    /// A login of an existing account failed; `detail` is the reason.
    UserSignInFailed,
    /// The account's holder changed their password.
    UserPasswordChanged,
    /// A password was reset with a code or link.
    UserPasswordReset,
    /// An administrator disabled the account.
    UserDisabled,
    /// An administrator enabled the account.
    UserEnabled,
    /// The account was deleted.
    UserDeleted,
    /// One or more sessions of the account were ended by someone or
    /// something other than a logout (`detail` says what).
    SessionRevoked,
    /// A second factor was enrolled; `detail` is its kind.
    FactorEnrolled,
    /// A second factor was removed; `detail` is its kind.
    FactorRemoved,
    /// A role was granted; `detail` is the role.
    RoleGranted,
    /// A role was revoked; `detail` is the role.
    RoleRevoked,
}

impl EventType {
    /// Every type, in the order the docs and the console list them.
    pub const ALL: [Self; 15] = [
        Self::UserCreated,
        Self::UserEmailVerified,
        Self::UserEmailChanged,
        Self::UserSignedIn,
        Self::UserSignInFailed,
        Self::UserPasswordChanged,
        Self::UserPasswordReset,
        Self::UserDisabled,
        Self::UserEnabled,
        Self::UserDeleted,
        Self::SessionRevoked,
        Self::FactorEnrolled,
        Self::FactorRemoved,
        Self::RoleGranted,
        Self::RoleRevoked,
    ];

    /// The type's name on the wire and in storage (`user.created`, …).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UserCreated => "user.created",
            Self::UserEmailVerified => "user.email_verified",
            Self::UserEmailChanged => "user.email_changed",
            Self::UserSignedIn => "user.signed_in",
            Self::UserSignInFailed => "user.sign_in_failed",
            Self::UserPasswordChanged => "user.password_changed",
            Self::UserPasswordReset => "user.password_reset",
            Self::UserDisabled => "user.disabled",
            Self::UserEnabled => "user.enabled",
            Self::UserDeleted => "user.deleted",
            Self::SessionRevoked => "session.revoked",
            Self::FactorEnrolled => "factor.enrolled",
            Self::FactorRemoved => "factor.removed",
            Self::RoleGranted => "role.granted",
            Self::RoleRevoked => "role.revoked",
        }
    }

    /// The type named `name` ([`Self::as_str`]).
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// What the event's `detail` holds, as the key the payload's `data`
    /// gives it (`role`, `factor`, `reason`); `None` when it has none.
    #[must_use]
    pub fn detail_key(self) -> Option<&'static str> {
        match self {
            Self::RoleGranted | Self::RoleRevoked => Some("role"),
            Self::FactorEnrolled | Self::FactorRemoved => Some("factor"),
            Self::UserSignInFailed | Self::SessionRevoked => Some("reason"),
            Self::UserEmailChanged => Some("change"),
            _ => None,
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event a change is about to cause, before the store knows its account
/// id (an account being created has none yet): the store that makes the
/// change queues it with the account, in the change's transaction, and only
/// when the change happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEvent {
    /// What happened.
    pub kind: EventType,
    /// When.
    pub at: DateTime<Utc>,
    /// The role, factor kind or reason ([`EventType::detail_key`]), at most
    /// 64 characters.
    pub detail: Option<String>,
}

impl PendingEvent {
    /// An event without detail.
    #[must_use]
    pub fn new(kind: EventType, at: DateTime<Utc>) -> Self {
        Self {
            kind,
            at,
            detail: None,
        }
    }

    /// The event with `detail`, cut to 64 characters.
    #[must_use]
    pub fn detail(mut self, detail: &str) -> Self {
        self.detail = Some(detail.chars().take(64).collect());
        self
    }

    /// The event about `user`.
    #[must_use]
    pub fn about(&self, user: UserId) -> AccountEvent {
        AccountEvent {
            kind: self.kind,
            user,
            at: self.at,
            detail: self.detail.clone(),
        }
    }
}

/// An event about an account, as queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountEvent {
    /// What happened.
    pub kind: EventType,
    /// Whose account.
    pub user: UserId,
    /// When.
    pub at: DateTime<Utc>,
    /// The role, factor kind or reason ([`EventType::detail_key`]).
    pub detail: Option<String>,
}

/// A webhook endpoint's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WebhookId(pub i64);

impl fmt::Display for WebhookId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

redacted_string!(
    /// An endpoint's signing secret: `whsec_` and the base64 of 32 random
    /// bytes (the Standard Webhooks format). Its `Debug` prints
    /// `WebhookSecret(***)`.
    WebhookSecret,
    "Wraps a `whsec_` secret.",
    "The secret. Call sites that use this are the places to review."
);

/// A subscription: where to send which events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    /// Its id.
    pub id: WebhookId,
    /// Where messages are posted: `https://`, or `http://` on a loopback
    /// host ([`check_endpoint_url`]); at most 2,000 characters.
    pub url: String,
    /// The event types it receives (at least one).
    pub events: Vec<EventType>,
    /// A note for administrators, at most 200 characters.
    pub description: String,
    /// Whether messages are sent; a disabled endpoint gets no new deliveries.
    pub enabled: bool,
    /// The signing secret (never shown again after creation).
    pub secret: WebhookSecret,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl WebhookEndpoint {
    /// Whether events of `kind` go to this endpoint.
    #[must_use]
    pub fn wants(&self, kind: EventType) -> bool {
        self.enabled && self.events.contains(&kind)
    }
}

/// The longest endpoint URL, in characters.
pub const MAX_WEBHOOK_URL_CHARS: usize = 2_000;
/// The longest endpoint description, in characters.
pub const MAX_WEBHOOK_DESCRIPTION_CHARS: usize = 200;

/// Why an endpoint's URL is refused ([`check_endpoint_url`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointUrlProblem {
    /// Not an absolute `http(s)` URL with a host, or too long.
    Malformed,
    /// `http://` to a host that is not loopback: events would travel in clear.
    NotHttps,
    /// It carries a `user:password@` part or a `#fragment`.
    Credentials,
}

/// Checks an endpoint URL: absolute, `https://` (or `http://` to
/// `localhost`, `127.0.0.0/8` or `[::1]`, for a receiver on the same
/// machine), no credentials or fragment, at most
/// [`MAX_WEBHOOK_URL_CHARS`] characters.
///
/// # Errors
/// The [`EndpointUrlProblem`].
pub fn check_endpoint_url(raw: &str) -> Result<(), EndpointUrlProblem> {
    if raw.chars().count() > MAX_WEBHOOK_URL_CHARS
        || raw
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || is_direction_control(c))
    {
        return Err(EndpointUrlProblem::Malformed);
    }
    let (scheme, rest) = raw.split_once("://").ok_or(EndpointUrlProblem::Malformed)?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return Err(EndpointUrlProblem::Malformed);
    }
    if raw.contains('#') {
        return Err(EndpointUrlProblem::Credentials);
    }
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(EndpointUrlProblem::Credentials);
    }
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    };
    if host.is_empty() {
        return Err(EndpointUrlProblem::Malformed);
    }
    if scheme == "http" && !is_loopback(host) {
        return Err(EndpointUrlProblem::NotHttps);
    }
    Ok(())
}

/// The Unicode formatting characters that change the direction text is
/// shown in (U+200E, U+200F, U+202A–U+202E, U+2066–U+2069): in a URL or a
/// note an administrator reads, they can make it look like another.
#[must_use]
pub fn is_direction_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// Not yet accepted by the endpoint; tried again at its due time.
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Given up: the endpoint did not accept it within
    /// [`RetryPolicy::give_up_after_secs`] of the event.
    Failed,
}

impl DeliveryState {
    /// The stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    /// The state stored as `name`.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Pending, Self::Delivered, Self::Failed]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
}

/// One message to one endpoint, as the console lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    /// Its id.
    pub id: i64,
    /// The endpoint.
    pub endpoint: WebhookId,
    /// The message id (`webhook-id`): the same on every attempt, so a
    /// receiver can drop a duplicate.
    pub message_id: String,
    /// The event.
    pub event: AccountEvent,
    /// Where it stands.
    pub state: DeliveryState,
    /// Attempts so far.
    pub attempts: u32,
    /// When it is tried next (while pending).
    pub next_attempt_at: DateTime<Utc>,
    /// Each attempt, oldest first.
    pub history: Vec<DeliveryAttempt>,
}

/// One attempt of a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    /// When it was made.
    pub at: DateTime<Utc>,
    /// The endpoint's HTTP status; `None` when no answer came.
    pub status: Option<u16>,
    /// Why it failed, when it did (a transport error, cut to 200 characters).
    pub error: Option<String>,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
}

/// A delivery to make now, with what it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueDelivery {
    /// The delivery's id.
    pub id: i64,
    /// The message id (`webhook-id`).
    pub message_id: String,
    /// The event.
    pub event: AccountEvent,
    /// Attempts made before this one.
    pub attempts: u32,
    /// The endpoint's URL.
    pub url: String,
    /// The endpoint's secret.
    pub secret: WebhookSecret,
}

/// What an endpoint answered to one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptOutcome {
    /// The HTTP status; `None` when no answer came (refused, timed out).
    pub status: Option<u16>,
    /// The transport error, when no answer came.
    pub error: Option<String>,
    /// How long the attempt took, in milliseconds.
    pub duration_ms: u64,
}

impl AttemptOutcome {
    /// Whether the endpoint accepted the message (any 2xx status, as the
    /// Standard Webhooks specification says).
    #[must_use]
    pub fn accepted(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// When a failed delivery is tried again: after `first_retry_secs`, then
/// twice as long each time up to `max_interval_secs`, until
/// `give_up_after_secs` have passed since the event (3 days by default, as
/// issue 20 asks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait after the first failure, in seconds (`WEBHOOK_FIRST_RETRY`, default 5).
    pub first_retry_secs: u64,
    /// The longest wait between attempts, in seconds (default 6 hours).
    pub max_interval_secs: u64,
    /// How long after the event a delivery is given up, in seconds
    /// (`WEBHOOK_GIVE_UP_AFTER`, default 3 days).
    pub give_up_after_secs: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            first_retry_secs: 5,
            max_interval_secs: 6 * 3_600,
            give_up_after_secs: 3 * 86_400,
        }
    }
}

impl RetryPolicy {
    /// When to try again after the `attempts`-th failed attempt (1-based)
    /// at `now` of an event that happened at `event_at`; `None` to give up.
    #[must_use]
    pub fn next_attempt(
        &self,
        attempts: u32,
        now: DateTime<Utc>,
        event_at: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let doubled = self
            .first_retry_secs
            .saturating_mul(1_u64 << attempts.saturating_sub(1).min(40));
        let wait = doubled.min(self.max_interval_secs).max(1);
        let next = now + Duration::seconds(i64::try_from(wait).unwrap_or(i64::MAX / 2_000));
        let deadline = event_at
            + Duration::seconds(i64::try_from(self.give_up_after_secs).unwrap_or(i64::MAX / 2_000));
        (next <= deadline).then_some(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_round_trips_by_name() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
        }
        assert_eq!(EventType::parse("user.Created"), None);
    }

    #[test]
    fn control_and_direction_characters_make_a_url_malformed() {
        for url in [
            "https://example.com/h\u{0}x",
            "https://example.com/\u{202E}kcah",
            "https://example.com/a\u{7}",
        ] {
            assert_eq!(
                check_endpoint_url(url),
                Err(EndpointUrlProblem::Malformed),
                "{url:?}"
            );
        }
    }

    #[test]
    fn endpoint_urls_must_be_https_unless_loopback() {
        assert_eq!(check_endpoint_url("https://hooks.example.com/in"), Ok(()));
        assert_eq!(check_endpoint_url("http://127.0.0.1:9000/in"), Ok(()));
        assert_eq!(check_endpoint_url("http://localhost/in"), Ok(()));
        assert_eq!(check_endpoint_url("http://[::1]:80/x"), Ok(()));
        assert_eq!(
            check_endpoint_url("http://hooks.example.com/in"),
            Err(EndpointUrlProblem::NotHttps)
        );
        assert_eq!(
            check_endpoint_url("http://127.0.0.1.evil.example/in"),
            Err(EndpointUrlProblem::NotHttps)
        );
        assert_eq!(
            check_endpoint_url("https://u:p@hooks.example.com/"),
            Err(EndpointUrlProblem::Credentials)
        );
        assert_eq!(
            check_endpoint_url("ftp://hooks.example.com/"),
            Err(EndpointUrlProblem::Malformed)
        );
        assert_eq!(
            check_endpoint_url("https:///x"),
            Err(EndpointUrlProblem::Malformed)
        );
    }

    #[test]
    fn retries_double_up_to_the_cap_and_stop_after_three_days() {
        let policy = RetryPolicy::default();
        let t0 = DateTime::<Utc>::UNIX_EPOCH;
        assert_eq!(
            policy.next_attempt(1, t0, t0),
            Some(t0 + Duration::seconds(5))
        );
        assert_eq!(
            policy.next_attempt(3, t0, t0),
            Some(t0 + Duration::seconds(20))
        );
        assert_eq!(
            policy.next_attempt(30, t0, t0),
            Some(t0 + Duration::hours(6))
        );
        let late = t0 + Duration::days(3) - Duration::hours(1);
        assert_eq!(policy.next_attempt(30, late, t0), None);
    }
}
