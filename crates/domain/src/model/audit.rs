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
}

impl AuditKind {
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
