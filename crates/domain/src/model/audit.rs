//! The audit trail: who did what, from where. Never a password, code or token.

use chrono::{DateTime, Utc};

use crate::model::ClientInfo;
use crate::model::UserId;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditKind {
    /// A login succeeded.
    LoginSucceeded,
    /// A login failed (wrong password, unknown account, disabled, unverified).
    LoginFailed,
    /// A login was refused by the growing delay before any password check.
    LoginThrottled,
    /// A session was logged out.
    Logout,
    /// Every session of a user was logged out by the user.
    LogoutAll,
    /// A user ended one of their other sessions.
    SessionEnded,
    /// A rotated-out refresh token came back: the session was revoked.
    RefreshReused,
    /// A user changed their password.
    PasswordChanged,
    /// A password was reset with a code.
    PasswordReset,
    /// An administrator disabled a user.
    UserDisabled,
    /// An administrator enabled a user.
    UserEnabled,
    /// An administrator deleted a user.
    UserDeleted,
    /// An administrator granted a role.
    RoleGranted,
    /// An administrator revoked a role.
    RoleRevoked,
    /// An administrator revoked every session of a user.
    SessionsRevoked,
    /// An address was verified (every session opened before it ended).
    EmailVerified,
    /// A pending account (unverified address) was removed: replaced by a new
    /// registration of its address, rejected by the address's owner ("this
    /// wasn't me") or expired (`detail` says which).
    PendingAccountRemoved,
    /// A login went over `MAX_SESSIONS_PER_USER`: the user's least recently
    /// used session was revoked (issue 12, item 11). One event per session.
    SessionEvicted,
    /// A second factor was enrolled (confirmed); `detail` names its kind.
    FactorEnrolled,
    /// A second factor was removed; `detail` names its kind.
    FactorRemoved,
    /// A new set of recovery codes was issued (the old set is void).
    RecoveryCodesIssued,
    /// A recovery code answered a second-factor step.
    RecoveryCodeUsed,
    /// A login's password was right and a second-factor step was asked for
    /// (`detail` names the challenge).
    SecondFactorChallenged,
    /// A second-factor step succeeded; `detail` names the factor's kind.
    SecondFactorSucceeded,
    /// A factor check failed (a login's second-factor step, or an
    /// enrolment change); `detail` names the factor's kind and the reason.
    SecondFactorFailed,
    /// An OAuth client was registered; `detail` names it (issue 18).
    ClientRegistered,
    /// An OAuth client's secret was replaced, or it was disabled or
    /// enabled; `detail` names the client and the change.
    ClientUpdated,
    /// An OAuth client was deleted; `detail` names it.
    ClientDeleted,
    /// An authorization code was presented again: the session its first
    /// use opened was ended (RFC 6749 §4.1.2); `detail` names the client.
    AuthorizationCodeReused,
    /// An upstream identity was linked to an account; `detail` names the
    /// provider (issue 19).
    IdentityLinked,
    /// An upstream identity was unlinked; `detail` names the provider.
    IdentityUnlinked,
    /// A sign-in through an upstream provider passed its checks; `detail`
    /// names the provider (the login's own events follow).
    UpstreamSignIn,
    /// A sign-in through an upstream provider failed; `detail` names the
    /// provider and the reason.
    UpstreamSignInFailed,
    /// An upstream provider was added or changed in the console; `detail`
    /// names it.
    ProviderSaved,
    /// An upstream provider was removed from the console; `detail` names it.
    ProviderDeleted,
    /// A webhook endpoint was subscribed (issue 20); `detail` names it.
    WebhookCreated,
    /// A webhook endpoint was enabled or disabled; `detail` says which.
    WebhookUpdated,
    /// A webhook endpoint was removed.
    WebhookDeleted,
    /// The account's holder exported its data (issue 20).
    AccountExported,
    /// The account's holder asked for its deletion; `detail` is when it is due.
    AccountDeletionRequested,
    /// A sign-in cancelled the account's scheduled deletion.
    AccountDeletionCancelled,
    /// The holder asked to change the account's e-mail address or phone
    /// number; a code went to the new one (issue 20). Detail: `email` or `phone`.
    ContactChangeRequested,
    /// The account's e-mail address or phone number changed (detail: `email`
    /// or `phone`); the previous one was sent a revert link.
    ContactChanged,
    /// A revert link restored the previous address or number and ended every
    /// session (detail: `email` or `phone`).
    ContactChangeReverted,
}

impl AuditKind {
    /// Every kind, in the order the admin console lists them.
    pub const ALL: [Self; 44] = [
        Self::LoginSucceeded,
        Self::LoginFailed,
        Self::LoginThrottled,
        Self::Logout,
        Self::LogoutAll,
        Self::SessionEnded,
        Self::RefreshReused,
        Self::PasswordChanged,
        Self::PasswordReset,
        Self::UserDisabled,
        Self::UserEnabled,
        Self::UserDeleted,
        Self::RoleGranted,
        Self::RoleRevoked,
        Self::SessionsRevoked,
        Self::EmailVerified,
        Self::PendingAccountRemoved,
        Self::SessionEvicted,
        Self::FactorEnrolled,
        Self::FactorRemoved,
        Self::RecoveryCodesIssued,
        Self::RecoveryCodeUsed,
        Self::SecondFactorChallenged,
        Self::SecondFactorSucceeded,
        Self::SecondFactorFailed,
        Self::ClientRegistered,
        Self::ClientUpdated,
        Self::ClientDeleted,
        Self::AuthorizationCodeReused,
        Self::IdentityLinked,
        Self::IdentityUnlinked,
        Self::UpstreamSignIn,
        Self::UpstreamSignInFailed,
        Self::ProviderSaved,
        Self::ProviderDeleted,
        Self::WebhookCreated,
        Self::WebhookUpdated,
        Self::WebhookDeleted,
        Self::AccountExported,
        Self::AccountDeletionRequested,
        Self::AccountDeletionCancelled,
        Self::ContactChangeRequested,
        Self::ContactChanged,
        Self::ContactChangeReverted,
    ];

    /// The kind whose stored name ([`Self::as_str`]) is `name`.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The stable name stored and logged.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LoginSucceeded => "login_succeeded",
            Self::LoginFailed => "login_failed",
            Self::LoginThrottled => "login_throttled",
            Self::Logout => "logout",
            Self::LogoutAll => "logout_all",
            Self::SessionEnded => "session_ended",
            Self::RefreshReused => "refresh_reused",
            Self::PasswordChanged => "password_changed",
            Self::PasswordReset => "password_reset",
            Self::UserDisabled => "user_disabled",
            Self::UserEnabled => "user_enabled",
            Self::UserDeleted => "user_deleted",
            Self::RoleGranted => "role_granted",
            Self::RoleRevoked => "role_revoked",
            Self::SessionsRevoked => "sessions_revoked",
            Self::EmailVerified => "email_verified",
            Self::PendingAccountRemoved => "pending_account_removed",
            Self::SessionEvicted => "session_evicted",
            Self::FactorEnrolled => "factor_enrolled",
            Self::FactorRemoved => "factor_removed",
            Self::RecoveryCodesIssued => "recovery_codes_issued",
            Self::RecoveryCodeUsed => "recovery_code_used",
            Self::SecondFactorChallenged => "second_factor_challenged",
            Self::SecondFactorSucceeded => "second_factor_succeeded",
            Self::SecondFactorFailed => "second_factor_failed",
            Self::ClientRegistered => "client_registered",
            Self::ClientUpdated => "client_updated",
            Self::ClientDeleted => "client_deleted",
            Self::AuthorizationCodeReused => "authorization_code_reused",
            Self::IdentityLinked => "identity_linked",
            Self::IdentityUnlinked => "identity_unlinked",
            Self::UpstreamSignIn => "upstream_sign_in",
            Self::UpstreamSignInFailed => "upstream_sign_in_failed",
            Self::ProviderSaved => "provider_saved",
            Self::ProviderDeleted => "provider_deleted",
            Self::WebhookCreated => "webhook_created",
            Self::WebhookUpdated => "webhook_updated",
            Self::WebhookDeleted => "webhook_deleted",
            Self::AccountExported => "account_exported",
            Self::AccountDeletionRequested => "account_deletion_requested",
            Self::AccountDeletionCancelled => "account_deletion_cancelled",
            Self::ContactChangeRequested => "contact_change_requested",
            Self::ContactChanged => "contact_changed",
            Self::ContactChangeReverted => "contact_change_reverted",
        }
    }
}

/// One entry of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// When.
    pub at: DateTime<Utc>,
    /// What.
    pub kind: AuditKind,
    /// Who acted (the user themselves, or the administrator), when known.
    pub actor: Option<UserId>,
    /// Whose account it concerns, when known.
    pub subject: Option<UserId>,
    /// The login identifier, only when it names an existing account (a string
    /// typed into the name field of an unknown account could be a password).
    pub identifier: Option<String>,
    /// The client's IP and user agent.
    pub client: ClientInfo,
    /// A short machine-readable detail (a role, a reason, a count).
    pub detail: Option<String>,
}

/// Filters and paging for reading the audit trail back (the admin console).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditQuery {
    /// Events whose actor or subject is this account.
    pub user: Option<UserId>,
    /// Events of this kind.
    pub kind: Option<AuditKind>,
    /// Events at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Events before this time.
    pub until: Option<DateTime<Utc>>,
    /// Events to skip (newest first).
    pub offset: u64,
    /// Events to return at most.
    pub limit: u32,
}

/// One page of the audit trail, newest first, and how many events match.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditPage {
    /// The events of this page.
    pub events: Vec<AuditEvent>,
    /// Events matching the query in all pages.
    pub total: u64,
}

impl AuditQuery {
    /// Whether `event` passes the filters (for stores that filter in memory).
    #[must_use]
    pub fn matches(&self, event: &AuditEvent) -> bool {
        self.user
            .is_none_or(|u| event.actor == Some(u) || event.subject == Some(u))
            && self.kind.is_none_or(|k| event.kind == k)
            && self.since.is_none_or(|t| event.at >= t)
            && self.until.is_none_or(|t| event.at < t)
    }
}
