//! The admin routes answer in `/api/auth`'s error shape ([`Modern`]); what
//! is their own is which refusal names the target account.

use tessera_domain::error::AuthError;

use crate::http::dialect::DialectError;
use crate::http::modern::Modern;

/// Why an admin handler failed (rendered as `/api/auth` renders it).
pub type AdminError = DialectError<Modern>;

/// Once the caller is authorised, a missing user is the target: 404, not 401.
pub(super) fn target(e: AuthError) -> AdminError {
    match e {
        AuthError::UserNotFound => AuthError::AccountNotFound.into(),
        other => other.into(),
    }
}
