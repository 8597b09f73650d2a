//! Errors: what ports report, and what the use cases report to their callers.

use thiserror::Error;

use crate::model::UniqueField;
use crate::validation::ValidationErrors;

/// A store (database, cache) could not do what was asked. The message is for
/// logs only; callers answer "service unavailable" without repeating it.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The store could not be reached or failed; retrying later may work.
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

/// Creating a user failed.
#[derive(Debug, Error)]
pub enum CreateUserError {
    /// Another user already has this username, email or phone (a unique constraint held).
    #[error("{} already taken", .0.as_str())]
    Duplicate(UniqueField),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Hashing or verifying a password failed.
#[derive(Debug, Error)]
pub enum HashError {
    /// More hashes are waiting than the configured cap allows; retry later.
    #[error("password hashing is saturated")]
    Busy,
    /// The hash could not be computed or the stored hash could not be read.
    #[error("password hashing failed: {0}")]
    Failed(String),
}

/// Why an access token was refused. Each case is one answer a client may
/// branch on (issue 13, item 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum TokenProblem {
    /// No `Authorization` header, or an empty token.
    #[error("missing authorization header")]
    Missing,
    /// An `Authorization` header of another scheme than `Bearer` (e.g.
    /// `Basic …`, `Token …`).
    #[error("authorization header of another scheme than bearer")]
    WrongScheme,
    /// Not a JWT at all: not three base64url segments, or a header that is
    /// not JSON.
    #[error("malformed token")]
    Malformed,
    /// Shaped like a JWT, but its signature does not verify with any key of
    /// ours (another key, a tampered token, an unknown `kid`).
    #[error("signature verification failed")]
    BadSignature,
    /// One of our refresh tokens, presented where an access token belongs.
    #[error("refresh token presented as an access token")]
    RefreshTokenPresented,
    /// Well signed, but not an access token of ours: wrong issuer, audience,
    /// `typ` or `token_use`, or claims that do not read.
    #[error("invalid token")]
    Invalid,
    /// Past its expiry.
    #[error("token has expired")]
    Expired,
    /// Not valid yet.
    #[error("token not yet valid")]
    NotYetValid,
    /// Logged out, or its session was revoked.
    #[error("token has been revoked")]
    Revoked,
}

/// Signing a token failed (a key problem, never the caller's fault).
#[derive(Debug, Error)]
#[error("token signing failed: {0}")]
pub struct SigningError(pub String);

/// The broad class of an [`AuthError`]: what a caller that does not care
/// about the details (an embedder's HTTP layer, a CLI) needs to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input was refused (HTTP 400 or 422).
    InvalidInput,
    /// The caller is not authenticated, or proved the wrong credentials (401).
    Unauthenticated,
    /// The caller is authenticated but may not do this (403).
    Forbidden,
    /// The thing asked for does not exist (404).
    NotFound,
    /// The request conflicts with the current state (409).
    Conflict,
    /// Asked too often; retry later (429).
    RateLimited,
    /// A dependency is down or saturated; retry later (503).
    Unavailable,
    /// A bug or a broken key; not the caller's fault (500).
    Internal,
}

impl ErrorKind {
    /// The HTTP status that usually answers this kind (400, 401, 403, 404,
    /// 409, 429, 503, 500).
    #[must_use]
    pub const fn http_status(self) -> u16 {
        match self {
            Self::InvalidInput => 400,
            Self::Unauthenticated => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::Conflict => 409,
            Self::RateLimited => 429,
            Self::Unavailable => 503,
            Self::Internal => 500,
        }
    }
}

/// Everything a use case can answer instead of success. New cases may be
/// added: match on [`AuthError::kind`] where a coarse answer will do.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AuthError {
    /// One or more fields were refused.
    #[error("validation failed")]
    Validation(ValidationErrors),
    /// A unique field is taken.
    #[error("{} already taken", .0.as_str())]
    Conflict(UniqueField),
    /// Unknown user or wrong password (deliberately indistinguishable).
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The credentials were right, and a second factor must follow
    /// ([`crate::usecase::LoginStep::SecondFactor`]).
    #[error("second factor required")]
    SecondFactorRequired,
    /// The second-factor challenge (`mfa_token`) is unknown, expired, used
    /// up or forged: the login must start again with the password.
    #[error("second-factor challenge invalid or expired")]
    ChallengeInvalid,
    /// The account already holds a confirmed factor of that kind.
    #[error("factor already enrolled")]
    FactorAlreadyEnrolled,
    /// The action needs a more recent authentication of the caller
    /// (`REAUTH_MAX_AGE`): sign in again, then retry.
    #[error("reauthentication required")]
    ReauthenticationRequired,
    /// The account holds no (confirmed, or pending) factor of that kind.
    #[error("factor not enrolled")]
    FactorNotEnrolled,
    /// A passkey ceremony's answer was refused: the ceremony is unknown,
    /// expired or used, or the response failed a WebAuthn check (another
    /// origin or RP id, a replayed challenge, an unknown passkey, a
    /// signature counter that went back). Start the ceremony again.
    #[error("passkey refused")]
    PasskeyRefused,
    /// The account holds [`PASSKEYS_PER_ACCOUNT`](crate::model::PASSKEYS_PER_ACCOUNT) passkeys already.
    #[error("too many passkeys")]
    TooManyPasskeys,
    /// The account holds a role of `MFA_REQUIRED_ROLES` and this would
    /// remove its last second factor: add another first (409; issue 17).
    #[error("a second factor is required")]
    FactorRequired,
    /// The account was disabled.
    #[error("account disabled")]
    AccountDisabled,
    /// The access token was refused.
    #[error("token refused: {0}")]
    Token(TokenProblem),
    /// A refresh token that was already rotated out came back after the reuse
    /// interval: the whole session has been revoked.
    #[error("refresh token reused; session revoked")]
    RefreshReused,
    /// The current password given to change-password is wrong.
    #[error("current password is wrong")]
    WrongPassword,
    /// The new password equals the current one.
    #[error("new password equals the current one")]
    SamePassword,
    /// The caller lacks the permission a route needs (403).
    #[error("permission {0} required")]
    Forbidden(&'static str),
    /// The caller holds the permission, but the account or role it would
    /// change ranks above the caller's highest role, or is `super_admin`
    /// and the caller is not (403; issue 12, item 5; see
    /// [`crate::usecase::Actor::may_change`]).
    #[error("the target ranks above the caller")]
    Outranked,
    /// An administrator tried to disable their own account or take away
    /// their own last administrative role.
    #[error("refusing to lock the caller out")]
    SelfLockout,
    /// No such live session of the caller's.
    #[error("session not found")]
    SessionNotFound,
    /// The user behind a valid token no longer exists.
    #[error("user not found")]
    UserNotFound,
    /// No OAuth client has this id (issue 18).
    #[error("client not found")]
    ClientNotFound,
    /// Password reset: no account has this identifier.
    #[error("account not found")]
    AccountNotFound,
    /// Password reset: the contact is not the account's email or phone.
    #[error("contact does not match the account")]
    ContactMismatch,
    /// No live code: never issued, already used, or expired.
    #[error("code expired or unknown")]
    CodeExpired,
    /// A wrong code; it still accepts `remaining` guesses.
    #[error("wrong code")]
    CodeWrong {
        /// Guesses left.
        remaining: u32,
    },
    /// Too many wrong guesses: the code is dead; ask for a new one.
    #[error("code exhausted")]
    CodeExhausted,
    /// A wrong, expired, used-up or never-issued e-mail verification code:
    /// deliberately one answer, so that it does not tell whether the address
    /// has a pending registration (issue 12).
    #[error("code wrong or expired")]
    CodeInvalid,
    /// Asked too often; retry after the given seconds.
    #[error("too many requests")]
    TooManyRequests {
        /// Seconds until a retry can succeed.
        retry_after_secs: u64,
        /// The limit that was reached (for `RateLimit-Limit`).
        limit: u32,
    },
    /// Sign-in by a one-time code is off (`PASSWORDLESS_LOGIN`; issue 20).
    #[error("passwordless login is off")]
    PasswordlessLoginDisabled,
    /// Login needs a confirmed email address (`REQUIRE_VERIFIED_EMAIL`).
    #[error("email not verified")]
    EmailNotVerified,
    /// Too many password hashes are waiting; retry shortly.
    #[error("busy")]
    Busy,
    /// A store is down; retry later. The text is for logs.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A bug or a key problem. The text is for logs.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for AuthError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(m) => Self::Unavailable(m),
        }
    }
}

impl From<HashError> for AuthError {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Busy => Self::Busy,
            HashError::Failed(m) => Self::Internal(m),
        }
    }
}

impl From<SigningError> for AuthError {
    fn from(e: SigningError) -> Self {
        Self::Internal(e.0)
    }
}

impl From<CreateUserError> for AuthError {
    fn from(e: CreateUserError) -> Self {
        match e {
            CreateUserError::Duplicate(f) => Self::Conflict(f),
            CreateUserError::Store(s) => s.into(),
        }
    }
}

impl From<ValidationErrors> for AuthError {
    fn from(e: ValidationErrors) -> Self {
        Self::Validation(e)
    }
}

impl AuthError {
    /// The broad class of this error.
    #[must_use]
    pub const fn kind(&self) -> ErrorKind {
        match self {
            Self::Validation(_)
            | Self::WrongPassword
            | Self::SamePassword
            | Self::ContactMismatch
            | Self::CodeExpired
            | Self::CodeWrong { .. }
            | Self::CodeExhausted
            | Self::CodeInvalid => ErrorKind::InvalidInput,
            Self::ChallengeInvalid => ErrorKind::Unauthenticated,
            Self::FactorAlreadyEnrolled => ErrorKind::Conflict,
            Self::ReauthenticationRequired => ErrorKind::Forbidden,
            Self::FactorNotEnrolled => ErrorKind::NotFound,
            Self::PasskeyRefused => ErrorKind::InvalidInput,
            Self::TooManyPasskeys | Self::FactorRequired => ErrorKind::Conflict,
            Self::InvalidCredentials
            | Self::SecondFactorRequired
            | Self::Token(_)
            | Self::RefreshReused
            | Self::UserNotFound => ErrorKind::Unauthenticated,
            Self::AccountDisabled
            | Self::EmailNotVerified
            | Self::Forbidden(_)
            | Self::Outranked
            | Self::SelfLockout
            | Self::PasswordlessLoginDisabled => ErrorKind::Forbidden,
            Self::SessionNotFound | Self::AccountNotFound | Self::ClientNotFound => {
                ErrorKind::NotFound
            }
            Self::Conflict(_) => ErrorKind::Conflict,
            Self::TooManyRequests { .. } => ErrorKind::RateLimited,
            Self::Busy | Self::Unavailable(_) => ErrorKind::Unavailable,
            Self::Internal(_) => ErrorKind::Internal,
        }
    }
}

#[cfg(test)]
mod kind_tests {
    use super::*;

    #[test]
    fn kinds_name_the_usual_status() {
        assert_eq!(AuthError::InvalidCredentials.kind().http_status(), 401);
        assert_eq!(
            AuthError::SecondFactorRequired.kind(),
            ErrorKind::Unauthenticated
        );
        assert_eq!(AuthError::Busy.kind(), ErrorKind::Unavailable);
        assert_eq!(
            AuthError::TooManyRequests {
                retry_after_secs: 1,
                limit: 1
            }
            .kind()
            .http_status(),
            429
        );
        assert_eq!(AuthError::SessionNotFound.kind().http_status(), 404);
        assert_eq!(
            AuthError::Internal(String::new()).kind(),
            ErrorKind::Internal
        );
    }
}
